"""Every admin screen, the change log's file and every download made for people speak the
coordinator's words: no attribute of a model and no name or value of an enumeration shows
through (issue #27).

The forbidden words are derived from the models and enums themselves, so a new column or enum
member is checked without anyone adding it here.
"""

import csv
import html as htmllib
import io
import json
import re
from html.parser import HTMLParser

import openpyxl
import pytest
from sqlalchemy import select
from test_admin_html import rule_paths

from registry.db import db
from registry.fields import SCHOOL_FIELDS
from registry.groupings import GROUPINGS
from registry.models import (
    CorrectionRequest,
    CorrectionStatus,
    LocationPrecision,
    School,
    SchoolType,
)

# Attribute names that are words of the interface too, in Dutch or as people write them.
LEGITIMATE = {
    "code",  # "Code" of a support area
    "contact",  # "Contact" of a correction's sender
    "status",  # "Status" of a correction
    "website",  # "Website", the Dutch word
    "cluster",  # "cluster 3", special education's own word
    "brin",  # "BRIN", DUO's own term (case is compared, but a URL may hold it)
    "id",  # too short to tell; record ids show as numbers, never as "id"
    "postcode",  # "Postcode", the Dutch word
    "vestigingscode",  # DUO's word for a school location's code
    "school",  # "school", the Dutch word
    # Words of the support areas' English names, which are data kept in English on purpose.
    "language",
    "pupils",
}
# Enum values that are the interface's words as well: school types are written as DUO and the
# directory write them, levels and 'open' are Dutch.
LEGITIMATE_VALUES = {"BAO", "SBO", "SO", "SO+VSO", "basis", "extra", "open", "bestuur"}


def forbidden_words() -> set[str]:
    """Every mapped attribute and relationship, also as Flask-Admin titles one that has no
    label ('Correction Mail'), and every enum member's name and value."""
    words = set()
    enums = set()
    for mapper in db.Model.registry.mappers:
        for attribute in mapper.attrs:
            if attribute.key not in LEGITIMATE:
                words.add(attribute.key)
                words.add(attribute.key.replace("_", " ").title())
        for column in mapper.columns:
            if isinstance(getattr(column.type, "enum_class", None), type):
                enums.add(column.type.enum_class)
    for cls in enums:
        for member in cls:
            words.update({member.name, str(member.value)} - LEGITIMATE_VALUES)
    return {w for w in words if not w.startswith("_")} - LEGITIMATE


def test_the_forbidden_words_come_from_the_models():
    words = forbidden_words()
    assert {"house_number", "support_profile_url", "changed_at", "SO_VSO", "building"} <= words
    assert {"ACCEPTED", "accepted", "location_precision", "Correction Mail"} <= words
    assert not words & LEGITIMATE


class _Visible(HTMLParser):
    """The text a person reads on a page: text outside scripts, styles and hidden elements
    (Flask-Admin keeps its filter choices as JSON and its inline forms as escaped HTML in
    hidden elements), and the attributes a screen reader, a hover or a script shows."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # each open element and whether it hides

    def hidden(self) -> bool:
        return any(hides for _tag, hides in self.open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        hides = tag in ("script", "style", "template") or "d-none" in classes
        if not self.hidden():
            # Scripts show the texts their data- attributes carry (the map's hint).
            self.parts.extend(
                value
                for name, value in attrs
                if value and (name in self.SHOWN_ATTRIBUTES or name.startswith("data-"))
            )
        if tag not in self.VOID:
            self.open.append((tag, hides))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        if not self.hidden():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def shown_names(text: str, words: set[str]) -> dict[str, str]:
    """The forbidden words that stand as words of their own in the text (case counts), each
    with the text around it."""
    found = {}
    for word in words:
        match = re.search(rf"(?<![\w+\-./@]){re.escape(word)}(?![\w+\-/@]|\.\w)", text)
        if match:
            found[word] = " ".join(text[match.start() - 40 : match.end() + 40].split())
    return found


@pytest.fixture
def beheerder(seeded_app, login):
    """A beheerder, with the kinds of value the admin has to name: a type SO+VSO, a point at the
    building, a changed profile link, a handled address correction."""
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.school_type = SchoolType.SO_VSO
        school.location_precision = LocationPrecision.BUILDING
        school.support_profile_url = "https://www.dearendsvleugel.nl/sop.pdf"
        school.phone = "0522 48 13 45"
        handled = CorrectionRequest(
            school=school,
            field="adres",
            proposed_value="Bleekhof 3, 7961 AW Ruinerwold",
            proposed_street="Bleekhof",
            proposed_house_number="3",
            proposed_postcode="7961 AW",
            proposed_place="Ruinerwold",
        )
        db.session.add(handled)
        db.session.commit()
        correction_id, school_id = handled.id, school.id
    client = login("beheerder")
    # Taken over in the school form, as a coordinator does with a correction in words.
    from helpers import form_fields, with_values

    form_url = f"/admin/school/edit/?id={school_id}&correctie={correction_id}"
    page = client.get(form_url).get_data(as_text=True)
    assert client.post(form_url, data=with_values(form_fields(page))).status_code == 302
    return client


FILTER_MENU = re.compile(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', re.S)


def filter_menu_text(html: str) -> str:
    """What the 'Filter toevoegen' menu shows: each filter's name and its choices' labels (the
    menu's data also holds the values it sends, which nobody reads)."""
    found = FILTER_MENU.search(html)
    if not found:
        return ""
    words = []
    for name, filters in json.loads(htmllib.unescape(found.group(1))).items():
        words.append(name)
        for flt in filters:
            words += [label for _value, label in flt.get("options") or ()]
    return "\n".join(words)


@pytest.mark.sweep
def test_no_admin_page_shows_an_attribute_or_enum_name(seeded_app, beheerder):
    words = forbidden_words()
    shown = {}
    for path in rule_paths(seeded_app):
        response = beheerder.get(path)
        # Refusals and messages speak to people too (the DUO comparison without its file: 400).
        assert response.status_code in (200, 302, 400, 403, 404), (path, response.status_code)
        html = response.get_data(as_text=True)
        found = shown_names(visible_text(html) + "\n" + filter_menu_text(html), words)
        if found:
            shown[path] = found
    assert shown == {}


def test_the_school_lists_name_the_type_and_the_handled_correction_its_fields(beheerder):
    listing = visible_text(beheerder.get("/admin/school/?search=Arendsvleugel").get_data(True))
    assert "SO_VSO" not in listing
    assert "Speciaal en voortgezet speciaal onderwijs" in listing
    menu = filter_menu_text(beheerder.get("/admin/school/").get_data(as_text=True))
    assert "Soort" in menu and "Speciaal en voortgezet speciaal onderwijs" in menu
    corrections = visible_text(beheerder.get("/admin/correction/").get_data(as_text=True))
    assert "huisnummer: 3" in corrections and "house_number" not in corrections


def test_the_change_log_file_has_the_screens_headers_and_times(seeded_app, beheerder):
    screen = beheerder.get("/admin/change/?search=Arendsvleugel").get_data(as_text=True)
    header = r'<th class="column-header[^"]*"[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*<'
    headers = re.findall(header, screen)
    body = beheerder.get("/admin/change/export.csv?search=Arendsvleugel").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == headers and "Tijdstip" in headers and "Toelichting" in headers
    assert not shown_names(body, forbidden_words())
    moments = [row[0] for row in rows[1:]]
    assert moments and all(re.fullmatch(r"\d{1,2} [a-z]{3} \d{4} \d\d:\d\d", m) for m in moments)
    # The screen and the file say the same moment of the same change.
    first_cell = re.search(r'<td class="col-changed_at">\s*([^<]+?)\s*</td>', screen).group(1)
    assert first_cell == moments[0]


def test_a_correction_taken_over_in_the_form_names_what_changed_in_words(seeded_app, beheerder):
    with seeded_app.app_context():
        correction = db.session.scalar(
            select(CorrectionRequest).filter_by(status=CorrectionStatus.ACCEPTED)
        )
        assert correction.applied_value == "huisnummer: 3"  # not "plaats: Ruinerwold"


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_change_log_fits_its_column_and_the_grid_tells_levels_apart(
    seeded_app, live_server, page, login
):
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.support_profile_url = (
            "https://www.dearendsvleugel.nl/documenten/schoolondersteuningsprofiel-2025-2026.pdf"
        )
        db.session.commit()
    cookie = login("beheerder").get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/change/")
    table, column = page.evaluate(
        "() => { const t = document.querySelector('table.model-list');"
        " return [t.scrollWidth, t.parentElement.clientWidth]; }"
    )
    assert table <= column, "Toelichting needs sideways scrolling"
    page.goto("/admin/ondersteuning/bestuur/41196/")
    first = page.locator("table.support-grid tbody tr").first.locator("select")
    first.nth(0).select_option("extra")
    first.nth(1).select_option("basis")
    looks = [
        first.nth(i).evaluate(
            "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor,"
            " s.fontWeight, s.borderTopStyle, e.selectedOptions[0].text]; }"
        )
        for i in (0, 1, 2)
    ]
    assert [look[4] for look in looks] == ["extra", "basis", "geen"]
    # Apart by weight and border as well as by colour, and each readable (WCAG AA).
    assert len({look[1] for look in looks}) == 3
    assert len({(look[2], look[3]) for look in looks}) == 3
    for colour, background, *_rest in looks:
        background = "rgb(255, 255, 255)" if "0, 0, 0, 0" in background else background
        assert contrast(colour, background) >= 4.5, (colour, background)


def _file_text(response) -> str:
    """What a person reads in a download: every cell of a workbook, or the text of a CSV."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return response.get_data(as_text=True)


def people_files() -> list[str]:
    """Every file made for people to read (Dutch spreadsheets, not the JSON or the plain CSV
    that programs read by their codes), with every column a school list can give."""
    every_column = "&".join(f"kolom={f.key}" for f in SCHOOL_FIELDS)
    files = [f"/scholen.{fmt}?{every_column}&postcode=7941AB" for fmt in ("excel.csv", "xlsx")]
    files += [f"/{g.listing}.{fmt}" for g in GROUPINGS.values() for fmt in ("excel.csv", "xlsx")]
    files += [f"/overzichten/{facet}.xlsx" for facet in GROUPINGS]
    files += [f"/admin/school/export.{fmt}?{every_column}" for fmt in ("excel.csv", "xlsx")]
    return files


@pytest.mark.sweep
def test_no_file_for_people_shows_an_attribute_or_enum_name(beheerder):
    words = forbidden_words()
    shown = {}
    for path in people_files():
        response = beheerder.get(path)
        assert response.status_code == 200, path
        text = _file_text(response)
        if "kolom=location_precision" in path:
            # The building point and the SO+VSO type are in the file, in words.
            assert "gebouw (precies)" in text and "SO+VSO" in text, path
        found = shown_names(text, words)
        if found:
            shown[path] = found
    assert shown == {}
