"""The public directory's layout in real Chromium: what a parent sees on a phone and a desktop."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PUBLIC_PAGES = [
    "/",
    "/scholen",
    "/scholen?postcode=7941AB&type=BAO",
    "/scholen/05SX00",
    "/scholen/XX0000",
    "/scholen/05SX00/correctie",
    "/besturen",
    "/besturen/41196",
    "/gemeenten",
    "/gemeenten/staphorst",
    "/netwerken",
    "/netwerken/meppel",
    "/over",
    "/overzichten",
    "/overzichten/gemeente",
]
# Sums the page's layout shifts from its first moment, as Lighthouse's CLS does (without the
# shifts right after the user's own input, which are expected).
LAYOUT_SHIFT = """
window.layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) { window.layoutShift += entry.value; }
  }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture
def open_page(browser, live_server):
    """A page of its own viewport (and with or without scripts), its layout shifts counted."""
    contexts = []

    def opened(viewport, javascript=True):
        context = browser.new_context(
            base_url=live_server, viewport=viewport, locale="nl-NL", java_script_enabled=javascript
        )
        context.add_init_script(LAYOUT_SHIFT)
        contexts.append(context)
        return context.new_page()

    yield opened
    for context in contexts:
        context.close()


def settled_shift(page) -> float:
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # the map and the scripts' own work after the load
    return page.evaluate("window.layoutShift")


@pytest.mark.parametrize("path", ["/scholen", "/scholen?postcode=7941AB"])
def test_the_search_page_does_not_move_on_a_phone(open_page, path):
    page = open_page(PHONE)
    page.goto(path)
    assert settled_shift(page) < 0.05
    # The first school is on the first screen, its name readable without scrolling.
    name = page.locator(".result h3").first.bounding_box()
    assert name["y"] + name["height"] <= PHONE["height"], name
    assert not page.locator("details.filter-panel").evaluate("d => d.open")
    # The map comes after the results; the link near the count leads to it, and it is drawn
    # where its room was kept.
    page.get_by_role("link", name="Naar de kaart").click()
    expect(page.locator(".map path.leaflet-interactive")).to_have_count(25)
    page.wait_for_timeout(500)
    assert page.evaluate("window.layoutShift") < 0.05


def test_the_search_page_does_not_move_on_a_desktop(open_page):
    page = open_page(DESKTOP)
    page.goto("/scholen?postcode=7941AB")
    # Beside the results the filters are open, with the map above the list, drawn in its room.
    expect(page.get_by_role("group", name="Gemeente").get_by_label("Meppel (17)")).to_be_visible()
    expect(page.locator(".map path.leaflet-interactive")).to_have_count(25)
    assert settled_shift(page) < 0.05
    map_top = page.locator(".map").bounding_box()["y"]
    assert map_top < page.locator(".result").first.bounding_box()["y"]


@pytest.mark.parametrize(("viewport", "filters_shown"), [(PHONE, False), (DESKTOP, True)])
def test_without_scripts_the_layout_is_the_same(open_page, viewport, filters_shown):
    page = open_page(viewport, javascript=False)
    page.goto("/scholen")
    box = page.get_by_role("group", name="Gemeente").get_by_label("Meppel (17)")
    assert box.is_visible() is filters_shown
    # No map without scripts, and no empty room for one.
    assert page.locator(".map-section").is_hidden()
    assert page.get_by_role("link", name="Naar de kaart").is_hidden()
    # A filter still applies by the button.
    if filters_shown:
        box.check()
        page.get_by_role("button", name="Filters toepassen").click()
        page.wait_for_url("**gemeente=meppel**")
        assert page.locator(".result-count").inner_text().startswith("17 scholen")


def test_no_public_page_is_wider_than_a_small_phone(open_page):
    page = open_page({"width": 320, "height": 640})
    too_wide = {}
    for path in PUBLIC_PAGES:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[path] = width
    assert too_wide == {}


def test_the_download_panel_is_reached_from_the_result_count(open_page):
    page = open_page(PHONE)
    page.goto("/scholen?gemeente=meppel")
    page.get_by_role("link", name="Downloaden (Excel, CSV)").click()
    columns = page.get_by_role("group", name="Kolommen")
    expect(columns).to_be_visible()
    expect(columns).to_be_in_viewport()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV", exact=True).click()
    assert download.value.suggested_filename.endswith(".csv")


def test_all_schools_on_a_school_page_goes_back_to_the_search(open_page):
    page = open_page(DESKTOP)
    page.goto("/scholen?q=school&gemeente=meppel&sort=plaats")
    search = page.url
    page.locator(".result h3 a").nth(2).click()
    page.wait_for_url("**/scholen/*")
    page.get_by_role("link", name="Alle scholen").click()
    page.wait_for_url(search)
    assert page.get_by_role("searchbox").input_value() == "school"
    # A school page opened without a search before it links to the whole list.
    fresh = open_page(DESKTOP)
    fresh.goto("/scholen/05SX00")
    fresh.get_by_role("link", name="Alle scholen").click()
    fresh.wait_for_url("**/scholen")
    assert fresh.locator(".result-count").inner_text().startswith("117 scholen")
