"""User journeys in real Chromium (Debian's package, driven by Playwright)."""

import json
from pathlib import Path

import pytest
from helpers import serious_axe_violations
from playwright.sync_api import expect

from registry import PROJECT_ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
MAIN_PAGES = [
    "/",
    "/scholen",
    "/scholen?postcode=7941AB&type=BAO",
    "/scholen/05SX00",
    "/besturen",
    "/besturen/41196",
    "/gemeenten/staphorst",
    "/netwerken/meppel",
    "/over",
    "/scholen/XX0000",
    "/scholen/05SX00/correctie",
    "/overzichten",
    "/overzichten/gemeente",
    "/inloggen",
    "/wachtwoord-vergeten",
]


def result_count(page) -> str:
    return page.locator(".result-count").inner_text().strip()


def test_a_parent_searches_by_name_and_opens_the_school(page):
    page.goto("/")
    page.get_by_label("Zoek op naam, plaats, straat, postcode of bestuur").fill("arends")
    page.keyboard.press("Enter")
    page.wait_for_url("**/scholen?q=arends**")
    assert "De Arendsvleugel" in page.locator(".results").inner_text()
    page.get_by_role("link", name="Protestants Christelijke Basisschool De Arendsvleugel").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Protestants Christelijke Basisschool De Arendsvleugel"
    )
    assert "7961 AW Ruinerwold" in page.locator(".facts").inner_text()


def test_filters_apply_on_a_tick_and_counts_match(page):
    page.goto("/scholen")
    assert result_count(page).startswith("117 scholen")
    page.get_by_role("group", name="Gemeente").get_by_label("Meppel (17)").click()
    page.wait_for_url("**gemeente=meppel**")
    assert result_count(page).startswith("17 scholen")
    sbo = page.locator("#facet-type label", has_text="Speciaal basisonderwijs")
    assert sbo.inner_text().endswith("(1)")
    sbo.click()
    page.wait_for_url("**type=SBO**")
    assert result_count(page).startswith("1 school")
    page.get_by_role("link", name="Soort school: Speciaal basisonderwijs weghalen").click()
    page.wait_for_load_state()
    assert result_count(page).startswith("17 scholen")


def test_a_parent_uses_only_the_keyboard(page):
    page.goto("/scholen")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Enter")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    page.keyboard.type("ijhorst")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=ijhorst**")
    assert "IJhorst" in page.locator(".results").inner_text()
    # Tab on to the first filter box and tick it with the space bar.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "checkbox":
            break
    ticked = page.evaluate("[document.activeElement.name, document.activeElement.value]")
    page.keyboard.press("Space")
    page.wait_for_url("**&gemeente=**")
    assert result_count(page)
    # After the reload the focus is back on the box just ticked, not at the top of the page.
    page.wait_for_function(
        "([name, value]) => document.activeElement.name === name"
        " && document.activeElement.value === value && document.activeElement.checked",
        arg=ticked,
    )
    page.keyboard.press("Space")  # and untick it again, still from the keyboard
    page.wait_for_url(lambda url: "gemeente=" not in url)
    page.wait_for_function(
        "([name, value]) => document.activeElement.name === name"
        " && document.activeElement.value === value && !document.activeElement.checked",
        arg=ticked,
    )


def test_a_postcode_lists_the_nearest_schools_with_distances_and_a_map(page):
    page.goto("/scholen")
    page.get_by_label("Uw postcode").fill("7941 AB")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url("**postcode=7941**")
    assert "dichtstbijzijnde eerst" in result_count(page)
    first = page.locator(".result").first
    assert "Meppel" in first.inner_text()
    assert " km" in first.locator(".distance").inner_text()
    map_section = page.locator("[data-map]")
    assert map_section.is_visible()
    # Leaflet is fetched once the map is near the screen: wait for its drawing.
    expect(page.locator(".leaflet-interactive")).to_have_count(25)


def test_the_language_switch_keeps_the_search(page):
    page.goto("/scholen?gemeente=meppel")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert result_count(page).startswith("17 schools")
    assert page.get_by_role("heading", level=1).inner_text() == "Find a school"


def test_axe_finds_no_serious_accessibility_violation_on_any_main_page(browser, live_server):
    """One visitor walks the main pages, as the admin's sweep does: a test per page (a server,
    a database and a browser context each) took 29 s a run for these 15 pages."""
    # axe is added as a script the page did not name, which the site's CSP rightly forbids.
    context = browser.new_context(base_url=live_server, locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    found = {}
    try:
        for path in MAIN_PAGES:
            page.goto(path)
            if serious := serious_axe_violations(page):
                found[path] = serious
    finally:
        context.close()
    assert found == {}, json.dumps(found, indent=2)


def test_the_search_page_fits_a_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, locale="nl-NL"
    )
    page = context.new_page()
    for path in ("/", "/scholen?q=ruinerwold", "/scholen/05SX00", "/gemeenten/meppel"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.goto("/scholen?postcode=7941AB")
    # Filters fold away on a phone until opened.
    assert not page.locator("details.filter-panel").evaluate("d => d.open")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=True)
    assert Path(ARTIFACTS / "search-phone.png").stat().st_size > 10_000
    context.close()


def test_a_parent_opens_the_landing_page_and_switches_to_english(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Een passende school in de buurt"
    assert page.locator(".municipalities li").count() == 7

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    assert skip_link.evaluate("element => element === document.activeElement")
    assert skip_link.is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "A school that fits, close to home"
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_parent_reports_a_correction_from_the_school_page(page):
    page.goto("/scholen/05SX00")
    page.get_by_role("link", name="Klopt er iets niet? Geef een correctie door").click()
    # The form asks what is wrong first, and shows nothing else until it is answered.
    expect(page.get_by_role("group", name="Wat klopt er niet?")).to_be_visible()
    expect(page.get_by_role("button", name="Versturen")).to_be_hidden()
    page.get_by_role("radio", name="Website").check()
    expect(page.get_by_label("Straat")).to_be_hidden()
    page.get_by_role("button", name="Versturen").click()
    # Nothing typed: the form says so next to the field and keeps the choice.
    assert "Schrijf op wat er niet klopt" in page.locator(".field-error").inner_text()
    assert page.get_by_role("radio", name="Website").is_checked()
    page.get_by_label("Wat moet het zijn?").fill("https://www.dearendsvleugel.nl")
    page.get_by_role("button", name="Versturen").click()
    page.wait_for_url("**/scholen/05SX00")
    assert "Dank u wel" in page.locator(".notice.success").inner_text()


@pytest.mark.parametrize("javascript", [True, False])
def test_the_correction_form_shows_the_address_fields_only_for_an_address(
    browser, live_server, javascript
):
    context = browser.new_context(
        base_url=live_server, locale="nl-NL", java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto("/scholen/05SX00/correctie")
    address = page.get_by_role("group", name="Het goede adres (alleen als het adres niet klopt)")
    expect(address).to_be_hidden()
    page.get_by_role("radio", name="Adres", exact=True).check()
    expect(address).to_be_visible()
    # For an address the text below is a remark, and it may stay empty.
    expect(page.get_by_label("Toelichting (niet verplicht)")).to_be_visible()
    page.get_by_label("Straat").fill("Dorpsstraat")
    page.get_by_role("radio", name="Telefoonnummer").check()
    expect(address).to_be_hidden()
    expect(page.get_by_label("Wat moet het zijn?")).to_be_visible()
    page.get_by_role("radio", name="Adres", exact=True).check()
    page.get_by_label("Huisnummer").fill("12a")
    page.get_by_label("Postcode", exact=True).fill("7961 AW")
    page.get_by_label("Plaats").fill("Ruinerwold")
    page.get_by_role("button", name="Versturen").click()
    page.wait_for_url("**/scholen/05SX00")
    assert "Dank u wel" in page.locator(".notice.success").inner_text()
    context.close()
