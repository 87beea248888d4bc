"""A coordinator records support in real Chromium: by keyboard in the grid, then by spreadsheet,
and parents find those schools under the directory's support filter."""

import pytest
from helpers import serious_axe_violations
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import distinct, func, select

from registry.db import db
from registry.models import School, SchoolSupport, SupportArea, SupportLevel

pytestmark = pytest.mark.browser

BOARD = "41196"  # Stichting WIES


def tab_to(page, predicate: str, limit: int = 80) -> int:
    """Press Tab until the focused element satisfies the JavaScript predicate; the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return presses
    raise AssertionError(f"never reached {predicate} by Tab")


def fill_row_by_keyboard(page, letters: str, url: str, day: str):
    """From a row's first select: a letter per area (g, b, e), then link and date."""
    for letter in letters:
        page.keyboard.type(letter)
        page.keyboard.press("Tab")
    page.keyboard.type(url)
    page.keyboard.press("Tab")
    page.keyboard.type(day)


def schools_offering(app, code: str, levels=tuple(SupportLevel)) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(distinct(SchoolSupport.school_id)))
            .where(SchoolSupport.level.in_(levels))
            .join(SchoolSupport.support_area)
            .join(SchoolSupport.school)
            .where(SupportArea.code == code, School.is_open)
        )


def test_a_coordinator_records_a_boards_support_by_keyboard_and_by_spreadsheet(
    seeded_app, admin_page, make_user, tmp_path
):
    page = admin_page(make_user("coordinator", email="sop@example.org"), accept_downloads=True)
    with seeded_app.app_context():
        schools = db.session.scalars(
            select(School)
            .where(School.is_open, School.board.has(board_number=BOARD))
            .order_by(School.name)
        ).all()
        first, second = schools[0], schools[1]
        gedrag_before = schools_offering(seeded_app, "gedrag")

    page.get_by_role("link", name="Ondersteuning invullen").first.click()
    page.get_by_role("link", name="Stichting WIES").click()
    page.wait_for_url(f"**/admin/ondersteuning/bestuur/{BOARD}/")

    # Keyboard only: Tab from the top of the page to the first cell, type, Tab on.
    page.locator("body").focus()
    tab_to(page, f"el.id.startsWith('n-{first.id}-')")
    assert (
        page.evaluate("document.activeElement.labels[0].textContent") == f"Leren voor {first.name}"
    )
    # The date's parts follow the browser's language (day or month first): day == month.
    fill_row_by_keyboard(page, "eeggbg", "www.wies.nl/sop-eerste", "08082025")
    tab_to(page, "el.tagName === 'SELECT'", limit=5)  # out of the date's parts, to the next row
    assert page.evaluate("document.activeElement.labels[0].textContent") == (
        f"Leren voor {second.name}"
    )
    fill_row_by_keyboard(page, "bbgggb", "www.wies.nl/sop-tweede", "03032024")
    # Back up to the Save button at the top, and press it.
    for _press in range(40):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Opslaan":
            break
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Opgeslagen: 10 wijzigingen bij 2 scholen." in page.locator(".alert").first.inner_text()
    with seeded_app.app_context():
        stored = db.session.get(School, first.id)
        levels = {o.support_area.code: o.level.value for o in stored.support_offers}
        assert levels == {"leren": "extra", "gedrag": "extra", "extra-uitdaging": "basis"}
        assert stored.support_profile_url == "www.wies.nl/sop-eerste"
        assert stored.support_profile_adopted_on.isoformat() == "2025-08-08"
        assert db.session.get(School, second.id).support_profile_adopted_on.isoformat() == (
            "2024-03-03"
        )

    # The spreadsheet: download, fill in, upload, preview, apply.
    with page.expect_download() as download:
        page.get_by_role("link", name="Rooster downloaden (xlsx)").first.click()
    path = tmp_path / "rooster.xlsx"
    download.value.save_as(path)
    workbook = load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    gedrag, profile = header.index("Gedrag") + 1, header.index("Link ondersteuningsprofiel") + 1
    for row in range(2, sheet.max_row + 1):
        code = sheet.cell(row, 1).value
        if code not in (first.vestigingscode, second.vestigingscode):
            sheet.cell(row, gedrag).value = "basis"
            sheet.cell(row, profile).value = f"www.wies.nl/sop-{code.lower()}"
    workbook.save(path)
    page.get_by_role("link", name="Ingevuld bestand laden").first.click()
    page.get_by_label("Ingevuld rooster").set_input_files(path)
    page.get_by_role("button", name="Bekijken wat er verandert").click()
    expect(page.locator("body")).to_contain_text(
        "24 wijzigingen bij 12 scholen; 2 scholen in het bestand"
    )
    with seeded_app.app_context():
        assert schools_offering(seeded_app, "gedrag") == gedrag_before + 2  # nothing applied yet
    page.get_by_role("button", name="Alles toepassen").first.click()
    # The preview has notices of its own: wait for the saved page's, not the first at hand.
    expect(page.locator(".alert", has_text="Opgeslagen")).to_contain_text(
        "Opgeslagen: 24 wijzigingen bij 12 scholen."
    )
    gedrag_now = schools_offering(seeded_app, "gedrag")
    assert gedrag_now == gedrag_before + 14

    # Parents: the directory's support filter finds extra support (every school gives basis),
    # and counts what it finds; ?niveau=basis finds basis too.
    extra = schools_offering(seeded_app, "gedrag", (SupportLevel.EXTRA,))
    assert extra == 1  # the first school of the grid; the file gave the others basis
    public = page.context.new_page()
    public.goto("/scholen")
    label = public.locator("#facet-ondersteuning label", has_text="Gedrag")
    assert label.locator(".count").get_attribute("data-count") == str(extra)
    public.goto("/scholen?ondersteuning=gedrag")
    assert public.locator(".result-count").inner_text().strip() == "1 school"
    assert "Gedrag: extra ondersteuning" in public.locator(".results").inner_text()
    public.goto("/scholen?ondersteuning=gedrag&niveau=basis")
    assert public.locator(".result-count").inner_text().strip() == f"{gedrag_now} scholen"
    public.goto(f"/scholen?ondersteuning=gedrag&niveau=basis&bestuur={BOARD}")
    assert public.locator(".result-count").inner_text().strip() == "14 scholen"


def test_axe_finds_nothing_serious_in_the_editors_pages(admin_page, make_user, tmp_path):
    page = admin_page(make_user("coordinator", email="axe@example.org"), bypass_csp=True)
    path = tmp_path / "rooster.csv"
    path.write_text("Vestigingscode;Gedrag\n05SX00;extra\n")

    found = {}
    for url in ("/admin/ondersteuning/", f"/admin/ondersteuning/bestuur/{BOARD}/"):
        page.goto(url)
        found[url] = serious_axe_violations(page)
    page.goto(f"/admin/ondersteuning/bestuur/{BOARD}/bestand")
    page.get_by_label("Ingevuld rooster").set_input_files(path)
    page.get_by_role("button", name="Bekijken wat er verandert").click()
    found["upload with errors"] = serious_axe_violations(page)
    assert {url: v for url, v in found.items() if v} == {}
