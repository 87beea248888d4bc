"""Support spreadsheets know their version: a file downloaded before someone else changed a
school does not silently undo that change; the preview names it and who made it, and only a
deliberate choice overwrites it."""

import re

from helpers import form_fields, with_values
from sqlalchemy import select
from test_support_editor import (
    GRID,
    as_bytes,
    change_count,
    download,
    header_index,
    offers,
    row_of,
    school_of,
    someone_else_sets,
    upload,
)

from registry.db import db
from registry.history import acting_as
from registry.models import School

OVERWRITE = "Alles overschrijven, ook de"


def filled_in(client, changes: dict[tuple[str, str], str], without_version=False) -> bytes:
    """The board's grid as downloaded now, with (code, column) cells set as a user would."""
    workbook = download(client)
    sheet = workbook.active
    for (code, column), value in changes.items():
        sheet.cell(row_of(sheet, code), header_index(sheet, column)).value = value
    if without_version:
        sheet.delete_cols(header_index(sheet, "Versie"))
    return as_bytes(workbook)


def second_code(client) -> str:
    """A school of the board other than 05SX00 (the grid's order: by name)."""
    sheet = download(client).active
    return next(
        sheet.cell(row, 1).value
        for row in range(2, sheet.max_row + 1)
        if sheet.cell(row, 1).value != "05SX00"
    )


def apply_form(html: str) -> list[tuple[str, str]]:
    """The preview's first form: its rows, the ones to choose for without their version."""
    forms = html.count('action="/admin/ondersteuning/bestuur/41196/"')
    return form_fields(html, -forms)


def test_the_download_carries_each_rows_version_and_explains_it(seeded_app, login):
    client = login("coordinator")
    workbook = download(client)
    sheet = workbook["Ondersteuning"]
    version = sheet.cell(row_of(sheet, "05SX00"), header_index(sheet, "Versie")).value
    assert re.fullmatch(rf"{school_of(seeded_app).version}-[a-p]{{8}}", version)
    explanation = " ".join(c.value for c in workbook["Uitleg"]["A"])
    assert (
        "kolom Versie" in explanation and "alleen overschreven als u daarvoor kiest" in explanation
    )
    csv = client.get(f"{GRID}rooster.excel.csv").text
    assert ";Versie;" in csv.splitlines()[0] and f";{version};" in csv


def test_a_stale_upload_names_the_other_change_and_keeps_it(seeded_app, login):
    client = login("coordinator")
    school, second = school_of(seeded_app), second_code(client)
    mine = {("05SX00", "Gedrag"): "extra", (second, "Gedrag"): "basis"}
    data = filled_in(client, mine)
    # After the download, someone else gives 05SX00 basic support in Leren.
    someone_else_sets(seeded_app, "05SX00", "leren", "basis", url="www.ander.nl")
    before = change_count(seeded_app)
    preview = upload(client, data)
    html = preview.text
    assert preview.status_code == 200, html[:3000]
    assert "Iemand anders heeft 1 van deze scholen gewijzigd nadat u het rooster downloadde" in html
    assert "ondersteuning: Leren: “” → “basis” (ander@example.org" in html
    assert "Schoolondersteuningsprofiel: “” → “www.ander.nl” (ander@example.org" in html
    # The reversion the file would make is in view, not hidden among ordinary changes.
    assert "Leren: <del>basis</del> → <ins>—</ins>" in html
    assert f'type="checkbox" id="v-{school.id}" name="v-{school.id}"' in html
    assert change_count(seeded_app) == before  # a preview changes nothing

    response = client.post(GRID, data=with_values(apply_form(html)))
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"leren": "basis"}  # the newer change stays
    assert school_of(seeded_app).support_profile_url == "www.ander.nl"
    assert offers(seeded_app, school_of(seeded_app, second).id) == {"gedrag": "basis"}


def test_ticking_a_stale_row_overwrites_it_deliberately(seeded_app, login):
    client = login("coordinator")
    school = school_of(seeded_app)
    data = filled_in(client, {("05SX00", "Gedrag"): "extra"})
    someone_else_sets(seeded_app, "05SX00", "leren", "basis")
    html = upload(client, data).text
    version = str(school_of(seeded_app).version)
    response = client.post(GRID, data=with_values(apply_form(html), **{f"v-{school.id}": version}))
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"gedrag": "extra"}  # their Leren overwritten
    follow = client.get(GRID).text
    assert "Opgeslagen: 2 wijzigingen bij 1 scholen." in follow


def test_overwriting_everything_is_one_choice(seeded_app, login):
    client = login("coordinator")
    school = school_of(seeded_app)
    data = filled_in(client, {("05SX00", "Gedrag"): "extra"})
    someone_else_sets(seeded_app, "05SX00", "leren", "basis")
    html = upload(client, data).text
    assert f"{OVERWRITE} 1 gemarkeerde scholen" in html
    response = client.post(GRID, data=with_values(form_fields(html)))  # the last form
    assert response.status_code == 302
    assert offers(seeded_app, school.id) == {"gedrag": "extra"}


def test_a_school_the_user_did_not_touch_keeps_the_newer_change(seeded_app, login):
    client = login("coordinator")
    second = second_code(client)
    data = filled_in(client, {("05SX00", "Gedrag"): "extra"})
    someone_else_sets(seeded_app, second, "leren", "extra")
    html = upload(client, data).text
    assert "1 wijzigingen bij 1 scholen; 13 scholen in het bestand blijven zoals ze zijn" in html
    assert "1 scholen in het bestand wijzigde u niet, maar iemand anders wel" in html
    assert OVERWRITE not in html and "Toch overschrijven" not in html
    client.post(GRID, data=with_values(form_fields(html)))
    assert offers(seeded_app, school_of(seeded_app, second).id) == {"leren": "extra"}
    assert offers(seeded_app, school_of(seeded_app).id) == {"gedrag": "extra"}


def test_a_fresh_upload_still_applies_in_one_step(seeded_app, login):
    client = login("coordinator")
    data = filled_in(client, {("05SX00", "Gedrag"): "extra"})
    # A change that is no support (its phone number) raises the version, but the row's
    # support is as downloaded: nothing to choose.
    with seeded_app.app_context(), acting_as("ander@example.org"):
        db.session.scalar(select(School).filter_by(vestigingscode="05SX00")).phone = "0522 123456"
        db.session.commit()
    html = upload(client, data).text
    assert "Toch overschrijven" not in html and OVERWRITE not in html
    assert "Alles toepassen" in html
    assert client.post(GRID, data=with_values(form_fields(html))).status_code == 302
    assert offers(seeded_app, school_of(seeded_app).id) == {"gedrag": "extra"}


def test_a_file_without_versions_applies_nothing_unasked(seeded_app, login):
    client = login("coordinator")
    school = school_of(seeded_app)
    data = filled_in(client, {("05SX00", "Gedrag"): "extra"}, without_version=True)
    html = upload(client, data).text
    assert "zegt het bestand niet van wanneer het is" in html
    assert "niet te zien: geen versie in het bestand" in html
    client.post(GRID, data=with_values(apply_form(html)))
    assert offers(seeded_app, school.id) == {}
    client.post(GRID, data=with_values(form_fields(html)))
    assert offers(seeded_app, school.id) == {"gedrag": "extra"}


def test_an_emptied_version_cell_asks_for_that_row_only(seeded_app, login):
    client = login("coordinator")
    second = second_code(client)
    mine = {("05SX00", "Gedrag"): "extra", ("05SX00", "Versie"): None, (second, "Gedrag"): "basis"}
    html = upload(client, filled_in(client, mine)).text
    client.post(GRID, data=with_values(apply_form(html)))
    assert offers(seeded_app, school_of(seeded_app).id) == {}
    assert offers(seeded_app, school_of(seeded_app, second).id) == {"gedrag": "basis"}


def test_a_version_that_no_download_wrote_is_refused_with_its_line(seeded_app, login):
    client = login("coordinator")
    workbook = download(client)
    sheet = workbook.active
    line = row_of(sheet, "05SX00")
    sheet.cell(line, header_index(sheet, "Versie")).value = "nieuwste"
    response = upload(client, as_bytes(workbook))
    assert response.status_code == 400
    assert (
        f"Regel {line}, kolom Versie: “nieuwste” is geen versie uit een download" in response.text
    )


def test_a_stale_csv_for_excel_is_caught_too(seeded_app, login):
    client = login("coordinator")
    text = client.get(f"{GRID}rooster.excel.csv").text.lstrip("\ufeff")
    lines = text.splitlines()
    header = lines[0].split(";")
    cells = next(line for line in lines if line.startswith("05SX00")).split(";")
    cells[header.index("Gedrag")] = "extra"
    someone_else_sets(seeded_app, "05SX00", "nt2", "extra")
    data = "\n".join([lines[0], ";".join(cells)]).encode("cp1252", errors="replace")
    html = upload(client, data, "rooster.csv").text
    assert "Nederlands als tweede taal (NT2): “” → “extra” (ander@example.org" in html
    client.post(GRID, data=with_values(apply_form(html)))
    assert offers(seeded_app, school_of(seeded_app).id) == {"nt2": "extra"}
