"""The support-profile editor: the grid, its spreadsheet, history, conflicts and who may do what."""

import io
import re
from datetime import date

import pytest
from helpers import csrf_from, form_fields, libreoffice_to_xlsx, with_values
from openpyxl import load_workbook
from sqlalchemy import func, select

from registry.db import db
from registry.history import Change, acting_as
from registry.models import School, SchoolSupport, SupportArea, SupportLevel

BOARD = "41196"  # Stichting WIES: 14 open schools, 05SX00 among them
OTHER = "60829"  # one school
GRID = f"/admin/ondersteuning/bestuur/{BOARD}/"
UPLOAD = f"/admin/ondersteuning/bestuur/{BOARD}/bestand"
XLSX = f"/admin/ondersteuning/bestuur/{BOARD}/rooster.xlsx"


def school_of(app, code="05SX00"):
    with app.app_context():
        return db.session.scalar(select(School).filter_by(vestigingscode=code))


def area_ids(app):
    with app.app_context():
        return {a.code: a.id for a in db.session.scalars(select(SupportArea))}


def offers(app, school_id):
    with app.app_context():
        return {
            o.support_area.code: o.level.value
            for o in db.session.scalars(select(SchoolSupport).filter_by(school_id=school_id))
        }


def change_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Change.id)))


def changes_after(app, first_id):
    with app.app_context():
        return db.session.scalars(
            select(Change).where(Change.id > first_id).order_by(Change.id)
        ).all()


def last_change_id(app):
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(Change.id), 0)))


def grid_form(client, url=GRID):
    page = client.get(url)
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True))


def row_ids(fields):
    """The school ids of a grid form's rows, in order."""
    return [int(name[2:]) for name, _value in fields if name.startswith("v-")]


def codes_in_grid(client):
    """The vestigingscodes of the grid's rows, 05SX00 first."""
    codes = re.findall(r'<span class="d-block small text-muted">(\w{6})', client.get(GRID).text)
    return sorted(codes, key=lambda code: code != "05SX00")


def other_school_code(app, board=OTHER):
    with app.app_context():
        return db.session.scalar(
            select(School.vestigingscode)
            .join(School.board)
            .where(School.board.has(board_number=board))
        )


# The grid


def test_the_grid_lists_the_boards_open_schools_with_a_label_per_cell(seeded_app, login):
    html = login("coordinator").get(GRID).get_data(as_text=True)
    school = school_of(seeded_app)
    with seeded_app.app_context():
        open_schools = db.session.scalar(
            select(func.count(School.id)).where(
                School.is_open, School.board.has(board_number=BOARD)
            )
        )
    assert html.count('<th scope="row">') == open_schools == 14
    areas = area_ids(seeded_app)
    cell = f"n-{school.id}-{areas['gedrag']}"
    assert f'<label class="sr-only" for="{cell}">Gedrag voor {school.name}</label>' in html
    assert f'<select class="form-control form-control-sm" id="{cell}" name="{cell}">' in html
    assert html.count(">Opslaan</button>") == 2  # at the top and at the bottom
    assert 'name="csrf_token"' in html


def test_saving_writes_one_history_row_per_changed_cell_credited_to_the_user(seeded_app, login):
    client = login("coordinator")
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    fields = grid_form(client)
    second = next(i for i in row_ids(fields) if i != school.id)
    before = last_change_id(seeded_app)
    response = client.post(
        GRID,
        data=with_values(
            fields,
            **{
                f"n-{school.id}-{areas['gedrag']}": "extra",
                f"n-{school.id}-{areas['leren']}": "basis",
                f"url-{school.id}": "www.dearendsvleugel.nl/sop",
                f"datum-{school.id}": "2025-08-01",
                f"n-{second}-{areas['nt2']}": "basis",
            },
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert offers(seeded_app, school.id) == {"gedrag": "extra", "leren": "basis"}
    assert offers(seeded_app, second) == {"nt2": "basis"}
    saved = school_of(seeded_app)
    assert saved.support_profile_url == "www.dearendsvleugel.nl/sop"
    assert saved.support_profile_adopted_on == date(2025, 8, 1)
    rows = changes_after(seeded_app, before)
    assert sorted((r.record_id, r.field, r.old_value, r.new_value) for r in rows) == sorted(
        [
            (school.id, "ondersteuning: Gedrag", None, "extra"),
            (school.id, "ondersteuning: Leren", None, "basis"),
            (school.id, "support_profile_url", None, "www.dearendsvleugel.nl/sop"),
            (school.id, "support_profile_adopted_on", None, "2025-08-01"),
            (second, "ondersteuning: Nederlands als tweede taal (NT2)", None, "basis"),
        ]
    )
    assert {r.actor for r in rows} == {r.actor for r in rows if r.actor.startswith("coordinator-")}
    assert all(r.user_id for r in rows)
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Opgeslagen: 5 wijzigingen bij 2 scholen." in follow

    # Back to none, and an unchanged grid: the one cell is one row, and saving again nothing.
    fields = grid_form(client)
    before = last_change_id(seeded_app)
    client.post(GRID, data=with_values(fields, **{f"n-{school.id}-{areas['gedrag']}": ""}))
    assert offers(seeded_app, school.id) == {"leren": "basis"}
    rows = changes_after(seeded_app, before)
    assert [(r.field, r.old_value, r.new_value) for r in rows] == [
        ("ondersteuning: Gedrag", "extra", None)
    ]
    before = last_change_id(seeded_app)
    response = client.post(GRID, data=with_values(grid_form(client)))
    assert "Er was niets gewijzigd." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert last_change_id(seeded_app) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "geen adres", "Vul een webadres in"),
        ("url", "www.school.nl/\tsop", "onzichtbaar stuurteken"),
        ("url", "www.school.nl/" + "x" * 600, "er passen er 500"),
        ("datum", "2025-02-30", "is geen datum"),
    ],
)
def test_one_bad_field_saves_nothing_at_all(seeded_app, login, field, value, message):
    client = login("coordinator")
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    fields = grid_form(client)
    second = next(i for i in row_ids(fields) if i != school.id)
    before = change_count(seeded_app)
    response = client.post(
        GRID,
        data=with_values(
            fields,
            **{f"n-{school.id}-{areas['gedrag']}": "extra", f"{field}-{second}": value},
        ),
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Er is niets opgeslagen" in html
    assert "is-invalid" in html
    assert change_count(seeded_app) == before
    assert offers(seeded_app, school.id) == {}


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [("n-{id}-{area}", "heel veel", 400), ("v-12x", "1", 400), ("v-{other}", "1", 403)],
)
def test_crafted_posts_are_refused(seeded_app, login, name, value, status):
    client = login("coordinator")
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    other = school_of(seeded_app, other_school_code(seeded_app))
    fields = grid_form(client)
    before = change_count(seeded_app)
    key = name.format(id=school.id, area=areas["gedrag"], other=other.id)
    response = client.post(GRID, data=with_values(fields, **{key: value}))
    assert response.status_code == status
    assert change_count(seeded_app) == before


def test_a_post_without_csrf_token_is_refused(seeded_app, login):
    client = login("coordinator")
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    fields = [(n, v) for n, v in grid_form(client) if n != "csrf_token"]
    response = client.post(
        GRID, data=with_values(fields, **{f"n-{school.id}-{areas['gedrag']}": "extra"})
    )
    assert response.status_code == 400
    assert offers(seeded_app, school.id) == {}


# Conflicts


def someone_else_sets(app, code, area_code, level, url=None):
    with app.app_context(), acting_as("ander@example.org"):
        school = db.session.scalar(select(School).filter_by(vestigingscode=code))
        area = db.session.scalar(select(SupportArea).filter_by(code=area_code))
        db.session.add(SchoolSupport(school=school, support_area=area, level=SupportLevel(level)))
        if url:
            school.support_profile_url = url
        db.session.commit()


def test_a_row_someone_else_changed_refuses_the_whole_save_naming_their_change(seeded_app, login):
    client = login("coordinator")
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    fields = grid_form(client)
    second = school_of(seeded_app, codes_in_grid(client)[1])
    someone_else_sets(seeded_app, "05SX00", "leren", "basis", url="www.ander.nl")
    before = change_count(seeded_app)
    mine = {
        f"n-{school.id}-{areas['gedrag']}": "extra",
        f"n-{second.id}-{areas['gedrag']}": "basis",
    }
    response = client.post(GRID, data=with_values(fields, **mine))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Er is niets opgeslagen" in html
    assert "ondersteuning: Leren: “” → “basis” (ander@example.org" in html
    assert "Schoolondersteuningsprofiel: “” → “www.ander.nl”" in html
    assert change_count(seeded_app) == before  # not even the row nobody else touched
    assert offers(seeded_app, second.id) == {}
    # The refused page keeps what was typed; saving it again is a deliberate overwrite.
    again = form_fields(html)
    assert (f"n-{school.id}-{areas['gedrag']}", "extra") in again
    response = client.post(GRID, data=with_values(again))
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"gedrag": "extra"}  # their Leren overwritten
    assert offers(seeded_app, second.id) == {"gedrag": "basis"}


def test_a_row_someone_else_changed_but_this_user_did_not_touch_is_kept(seeded_app, login):
    client = login("coordinator")
    areas = area_ids(seeded_app)
    fields = grid_form(client)
    mine = school_of(seeded_app, codes_in_grid(client)[1])
    someone_else_sets(seeded_app, "05SX00", "leren", "extra")
    response = client.post(
        GRID, data=with_values(fields, **{f"n-{mine.id}-{areas['leren']}": "basis"})
    )
    assert response.status_code == 302
    assert offers(seeded_app, school_of(seeded_app).id) == {"leren": "extra"}
    assert offers(seeded_app, mine.id) == {"leren": "basis"}


# Who may do what


def test_a_board_edits_its_own_board_only(seeded_app, login):
    client = login("bestuur", BOARD)
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    assert client.get(GRID).status_code == 200
    index = client.get("/admin/ondersteuning/").get_data(as_text=True)
    assert f"/admin/ondersteuning/bestuur/{BOARD}/" in index
    assert f"/admin/ondersteuning/bestuur/{OTHER}/" not in index
    assert "/admin/ondersteuning/alle/" not in index
    for url in (
        f"/admin/ondersteuning/bestuur/{OTHER}/",
        f"/admin/ondersteuning/bestuur/{OTHER}/rooster.xlsx",
        f"/admin/ondersteuning/bestuur/{OTHER}/bestand",
        "/admin/ondersteuning/alle/",
        "/admin/ondersteuning/alle/rooster.csv",
    ):
        assert client.get(url).status_code == 403, url
    fields = grid_form(client)
    token = dict(fields)["csrf_token"]
    other = school_of(seeded_app, other_school_code(seeded_app))
    before = change_count(seeded_app)
    smuggled = {
        f"v-{other.id}": str(other.version),
        f"was-{other.id}": "",
        f"n-{other.id}-{areas['gedrag']}": "extra",
    }
    # Another board's school in the own grid, and the other board's grid itself.
    assert client.post(GRID, data=with_values(fields, **smuggled)).status_code == 403
    other_grid = f"/admin/ondersteuning/bestuur/{OTHER}/"
    assert client.post(other_grid, data={"csrf_token": token, **smuggled}).status_code == 403
    assert client.post("/admin/ondersteuning/alle/", data={"csrf_token": token}).status_code == 403
    assert change_count(seeded_app) == before
    response = client.post(
        GRID, data=with_values(fields, **{f"n-{school.id}-{areas['gedrag']}": "basis"})
    )
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"gedrag": "basis"}


def test_staff_and_visitors_do_not_get_in(seeded_app, login):
    assert seeded_app.test_client().get(GRID).status_code == 302
    client = login("medewerker")
    for url in ("/admin/ondersteuning/", GRID, XLSX, UPLOAD, "/admin/ondersteuning/alle/"):
        assert client.get(url).status_code == 403, url


def test_unknown_or_malformed_board_numbers_are_not_found(seeded_app, login):
    client = login("coordinator")
    for number in ("99999", "4119", "41196x", "%00", "1" * 40):
        assert client.get(f"/admin/ondersteuning/bestuur/{number}/").status_code in (400, 404)


# The spreadsheet


def download(client, url=XLSX):
    response = client.get(url)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def header_index(sheet, label):
    return [c.value for c in sheet[1]].index(label) + 1


def row_of(sheet, code):
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == code)


def as_bytes(workbook):
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, data, name="ondersteuning.xlsx", url=UPLOAD):
    token = csrf_from(client.get(url).get_data(as_text=True))
    # The test client keeps a large body in a temporary file, which it only closes with the
    # response when it was asked to follow redirects.
    with client.post(
        url,
        data={"csrf_token": token, "bestand": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    ) as response:
        response.get_data()
    return response


def test_the_download_is_the_grid_to_fill_in(seeded_app, login):
    client = login("coordinator")
    workbook = download(client)
    assert workbook.sheetnames == ["Ondersteuning", "Uitleg"]
    sheet = workbook["Ondersteuning"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Vestigingscode", "School", "Plaats", "Bestuur"]
    assert header[-2:] == ["Link ondersteuningsprofiel", "Vastgesteld op"]
    assert "Gedrag" in header
    assert sheet.max_row == 15
    csv = client.get(f"/admin/ondersteuning/bestuur/{BOARD}/rooster.excel.csv")
    assert csv.status_code == 200
    assert csv.get_data(as_text=True).lstrip("\ufeff").startswith("Vestigingscode;School;")
    assert client.get(f"/admin/ondersteuning/bestuur/{BOARD}/rooster.pdf").status_code == 404


def test_a_filled_in_spreadsheet_is_previewed_then_applied_all_at_once(seeded_app, login):
    client = login("coordinator")
    workbook = download(client)
    sheet = workbook.active
    school = school_of(seeded_app)
    row = row_of(sheet, "05SX00")
    sheet.cell(row, header_index(sheet, "Gedrag")).value = "Extra"
    sheet.cell(row, header_index(sheet, "Leren")).value = "basis"
    sheet.cell(row, header_index(sheet, "Link ondersteuningsprofiel")).value = "www.wies.nl/sop"
    sheet.cell(row, header_index(sheet, "Vastgesteld op")).value = date(2025, 3, 1)
    sheet.cell(
        row_of(sheet, other := sheet.cell(3, 1).value), header_index(sheet, "Overig")
    ).value = "basis"
    before = change_count(seeded_app)
    preview = upload(client, as_bytes(workbook))
    assert preview.status_code == 200, preview.get_data(as_text=True)[:3000]
    html = preview.get_data(as_text=True)
    assert "5 wijzigingen bij 2 scholen; 12 scholen in het bestand blijven zoals ze zijn" in html
    assert "Gedrag: <del>—</del> → <ins>extra</ins>" in html
    assert change_count(seeded_app) == before  # a preview changes nothing
    response = client.post(GRID, data=with_values(form_fields(html)))
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"gedrag": "extra", "leren": "basis"}
    assert offers(seeded_app, school_of(seeded_app, other).id) == {"overig": "basis"}
    saved = school_of(seeded_app)
    assert (saved.support_profile_url, saved.support_profile_adopted_on) == (
        "www.wies.nl/sop",
        date(2025, 3, 1),
    )
    rows = changes_after(seeded_app, before)
    assert len(rows) == 5
    assert {r.note for r in rows} == {"uit bestand ondersteuning.xlsx"}
    # The same file again changes nothing.
    again = upload(client, as_bytes(workbook)).get_data(as_text=True)
    assert "Het bestand komt overeen met het register" in again


def test_a_csv_for_excel_works_too(seeded_app, login):
    client = login("coordinator")
    text = client.get(f"/admin/ondersteuning/bestuur/{BOARD}/rooster.excel.csv").get_data(
        as_text=True
    )
    lines = text.lstrip("\ufeff").splitlines()
    header = lines[0].split(";")
    cells = next(line for line in lines if line.startswith("05SX00")).split(";")
    cells[header.index("Gedrag")] = "extra"
    cells[header.index("Vastgesteld op")] = "1-8-2025"
    data = "\n".join([lines[0], ";".join(cells)]).encode("cp1252", errors="replace")
    html = upload(client, data, "rooster.csv").get_data(as_text=True)
    assert "2 wijzigingen bij 1 scholen" in html
    client.post(GRID, data=with_values(form_fields(html)))
    assert offers(seeded_app, school_of(seeded_app).id) == {"gedrag": "extra"}
    assert school_of(seeded_app).support_profile_adopted_on == date(2025, 8, 1)


def test_a_school_changed_between_preview_and_apply_refuses_the_whole_file(seeded_app, login):
    client = login("coordinator")
    workbook = download(client)
    sheet = workbook.active
    for code in ("05SX00", sheet.cell(3, 1).value):
        sheet.cell(row_of(sheet, code), header_index(sheet, "Gedrag")).value = "basis"
    html = upload(client, as_bytes(workbook)).get_data(as_text=True)
    someone_else_sets(seeded_app, "05SX00", "nt2", "extra")
    before = change_count(seeded_app)
    response = client.post(GRID, data=with_values(form_fields(html)))
    assert response.status_code == 409
    assert "ondersteuning: Nederlands als tweede taal (NT2): “” → “extra”" in response.get_data(
        as_text=True
    )
    assert change_count(seeded_app) == before
    assert offers(seeded_app, school_of(seeded_app, sheet.cell(3, 1).value).id) == {}


def edited(client, change):
    """The downloaded grid with `change(sheet)` applied, as XLSX bytes."""
    workbook = download(client)
    change(workbook.active)
    return as_bytes(workbook)


def set_cell(code, column, value):
    def change(sheet, _other=None):
        sheet.cell(row_of(sheet, code), header_index(sheet, column)).value = value

    return change


def add_row(values):
    """A row to append; "OTHER" stands for a school of another board."""
    return lambda sheet, other=None: sheet.append([other if v == "OTHER" else v for v in values])


BAD_FILES = {
    "missing column": (
        lambda sheet, _other: sheet.delete_cols(5),
        "Deze kolommen ontbreken: Leren.",
    ),
    "unknown column": (
        lambda sheet, _other: sheet.cell(1, 30, "Opmerkingen"),
        "Kolom AD (“Opmerkingen”) is onbekend",
    ),
    "twice the same column": (
        lambda sheet, _other: sheet.cell(1, 30, "gedrag"),
        "De kolom “gedrag” staat er twee keer in.",
    ),
    "unknown school": (
        add_row(["99ZZ00"]),
        "Regel 16: vestigingscode 99ZZ00 staat niet in het register.",
    ),
    "no code": (add_row([None, "Een school"]), "Regel 16: de vestigingscode ontbreekt."),
    "school of another board": (
        add_row(["OTHER"]),
        "Regel 16: school OTHER hoort niet bij Stichting WIES.",
    ),
    "school twice": (add_row(["05SX00"]), "Regel 16: school 05SX00 staat ook op regel"),
    "unknown level": (
        set_cell("05SX00", "Gedrag", "veel"),
        "kolom Gedrag: “veel” is geen niveau; vul basis, extra of niets in.",
    ),
    "over-long value": (
        set_cell("05SX00", "School", "x" * 501),
        "kolom School: De waarde is 501 tekens lang; er passen er 500.",
    ),
    "control character": (
        set_cell("05SX00", "Link ondersteuningsprofiel", "www.wies.nl/\tsop"),
        "kolom Link ondersteuningsprofiel: Dit veld bevat een onzichtbaar stuurteken",
    ),
    "bad link": (
        set_cell("05SX00", "Link ondersteuningsprofiel", "javascript:alert(1)"),
        "kolom Link ondersteuningsprofiel: Vul een webadres in",
    ),
    "bad date": (
        set_cell("05SX00", "Vastgesteld op", "volgend jaar"),
        "kolom Vastgesteld op: “volgend jaar” is geen datum",
    ),
    "formula": (
        set_cell("05SX00", "Gedrag", "=1+1"),
        "kolom Gedrag: “=1+1” is geen niveau",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_spreadsheet_is_refused_with_its_line_and_writes_nothing(seeded_app, login, case):
    client = login("coordinator")
    change, message = BAD_FILES[case]
    other = other_school_code(seeded_app)
    message = message.replace("OTHER", other)
    data = edited(client, lambda sheet: change(sheet, other))
    before = change_count(seeded_app)
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:2000]
    assert "Niet ingelezen; er is niets gewijzigd." in html
    assert message in html.replace("&#34;", '"').replace("&#39;", "'"), html[:5000]
    assert change_count(seeded_app) == before


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4\n\x00\x01\x02\xff\xfe binary", "sop.pdf", "Dit is geen XLSX- of CSV-bestand"),
        (b"PK\x03\x04 not really a zip", "rooster.xlsx", "Dit is geen XLSX- of CSV-bestand"),
        (b"", "leeg.xlsx", "Het bestand is leeg."),
        (b"x" * (2 * 1024 * 1024 + 1), "groot.csv", "het maximum is 2 MB"),
        (
            b"Vestigingscode;Gedrag\n05SX00\x00;extra\n",
            "nul.csv",
            "Deze kolommen ontbreken",
        ),
    ],
)
def test_files_that_are_no_grid_are_refused(seeded_app, login, data, name, message):
    client = login("coordinator")
    before = change_count(seeded_app)
    response = upload(client, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert change_count(seeded_app) == before


def test_a_nul_in_a_csv_cell_is_named_with_its_line(seeded_app, login):
    client = login("coordinator")
    text = client.get(f"/admin/ondersteuning/bestuur/{BOARD}/rooster.csv").get_data(as_text=True)
    lines = text.splitlines()
    lines[2] = lines[2].replace(",", ",\x00", 1)
    response = upload(client, "\n".join(lines).encode(), "rooster.csv")
    assert response.status_code == 400
    assert "Regel 3, kolom school: Dit veld bevat een onzichtbaar stuurteken" in response.get_data(
        as_text=True
    )


def test_a_docx_is_no_spreadsheet(seeded_app, login):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    response = upload(login("coordinator"), buffer.getvalue(), "sop.docx")
    assert response.status_code == 400
    assert "Dit is geen XLSX- of CSV-bestand" in response.get_data(as_text=True)


def test_an_upload_over_the_request_limit_gets_a_dutch_413(seeded_app, login):
    client = login("coordinator")
    response = upload(client, b"x" * (22 * 1024 * 1024), "groot.xlsx")
    assert response.status_code == 413
    assert "het maximum is 2 MB" in response.get_data(as_text=True)


def test_an_upload_of_too_many_parts_is_a_413_that_says_so_not_a_file_size(seeded_app, login):
    """A small request of 2,000 form parts (Werkzeug allows 1,000) is not a file too large."""
    client = login("coordinator")
    token = csrf_from(client.get(UPLOAD).get_data(as_text=True))
    parts = {"csrf_token": token, **{f"veld{n}": "x" for n in range(2000)}}
    parts["bestand"] = (io.BytesIO(b"vestigingscode\n"), "klein.csv")
    with client.post(UPLOAD, data=parts, content_type="multipart/form-data") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Het verzoek is te groot: te veel of te lange velden." in page
    assert "Het bestand is te groot" not in page


def test_a_board_cannot_upload_another_boards_school(seeded_app, login):
    client = login("bestuur", BOARD)
    other = other_school_code(seeded_app)
    data = edited(client, add_row([other, None, None, None, "extra"]))
    response = upload(client, data)
    assert response.status_code == 400
    assert f"school {other} hoort niet bij Stichting WIES" in response.get_data(as_text=True)


def test_coordinators_fill_in_all_boards_at_once(seeded_app, login):
    client = login("coordinator")
    html = client.get("/admin/ondersteuning/alle/").get_data(as_text=True)
    with seeded_app.app_context():
        open_schools = db.session.scalar(select(func.count(School.id)).where(School.is_open))
    assert html.count('<th scope="row">') == open_schools
    workbook = download(client, "/admin/ondersteuning/alle/rooster.xlsx")
    sheet = workbook.active
    other = other_school_code(seeded_app)
    sheet.cell(row_of(sheet, other), header_index(sheet, "Gedrag")).value = "basis"
    sheet.cell(row_of(sheet, "05SX00"), header_index(sheet, "Gedrag")).value = "extra"
    preview = upload(client, as_bytes(workbook), url="/admin/ondersteuning/alle/bestand")
    response = client.post(
        "/admin/ondersteuning/alle/", data=with_values(form_fields(preview.get_data(as_text=True)))
    )
    assert response.status_code == 302
    assert offers(seeded_app, school_of(seeded_app, other).id) == {"gedrag": "basis"}
    assert offers(seeded_app, school_of(seeded_app).id) == {"gedrag": "extra"}


@pytest.mark.parametrize("role", ["anonymous", "medewerker", "bestuur", "coordinator"])
def test_hostile_requests_get_no_500_and_write_nothing(seeded_app, login, role):
    client = (
        seeded_app.test_client()
        if role == "anonymous"
        else login(role, BOARD if role == "bestuur" else None)
    )
    token = (
        csrf_from(client.get("/wachtwoord").get_data(as_text=True)) if role != "anonymous" else ""
    )
    school, areas = school_of(seeded_app), area_ids(seeded_app)
    before = change_count(seeded_app)
    gets = [
        f"{GRID}?x=1&x=2",
        "/admin/ondersteuning/bestuur/%00/",
        "/admin/ondersteuning/bestuur/41196%0a/",
        "/admin/ondersteuning/bestuur/" + "9" * 300 + "/",
        f"/admin/ondersteuning/bestuur/{BOARD}/rooster.",
        f"/admin/ondersteuning/bestuur/{BOARD}/rooster.xlsx%00",
        "/admin/ondersteuning/alle/rooster.exe",
    ]
    for url in gets:
        assert client.get(url).status_code < 500, url
    row = {f"v-{school.id}": str(school.version), f"was-{school.id}": ""}
    posts = [
        {**row, f"n-{school.id}-{areas['gedrag']}": "extra\x00"},
        {**row, f"url-{school.id}": "www.school.nl/\x00", f"datum-{school.id}": "\x00"},
        {**row, f"datum-{school.id}": "9999-99-99", f"was-{school.id}": "\x00" * 50},
        {**row, f"v-{school.id}": "9" * 40},
        {"v-" + "9" * 30: "1"},
        {"v-0": "1", "v--1": "1"},
        {**row, "bron": "\x00../../etc/passwd"},
    ]
    for data in posts:
        response = client.post(GRID, data={"csrf_token": token, **data})
        assert response.status_code < 500, data
    assert change_count(seeded_app) == before


def test_the_spreadsheet_offers_the_two_levels_as_a_drop_down(seeded_app, login, tmp_path):
    workbook = download(login("coordinator"))
    sheet = workbook.active
    [choice] = sheet.data_validations.dataValidation
    assert (choice.type, choice.formula1, choice.allow_blank) == ("list", '"basis,extra"', True)
    assert choice.showErrorMessage and "basis of extra" in choice.error
    with seeded_app.app_context():
        areas = db.session.scalar(select(func.count(SupportArea.id)))
    first = header_index(sheet, "Leren")
    last = first + areas - 1
    schools = sheet.max_row - 1
    assert {str(r) for r in choice.sqref.ranges} == {
        f"{sheet.cell(1, c).column_letter}2:{sheet.cell(1, c).column_letter}{schools + 1}"
        for c in range(first, last + 1)
    }
    # LibreOffice, as a board opens the file, keeps the list (saved again, read back).
    source = tmp_path / "rooster.xlsx"
    source.write_bytes(as_bytes(workbook))
    saved = libreoffice_to_xlsx(source, tmp_path / "out")
    [kept] = load_workbook(saved).active.data_validations.dataValidation
    assert kept.type == "list" and kept.formula1 == '"basis,extra"'
