"""Downloads of school lists: CSV, CSV for Excel and XLSX, read back as a user's program would."""

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from helpers import libreoffice_to_xlsx
from sqlalchemy import select, update

from registry.cache import bump
from registry.db import db
from registry.exports import Column, csv_lines, safe_cell, sheet_title
from registry.models import Board, School


def codes_in_list(client, query):
    return [s["vestigingscode"] for s in client.get(f"/scholen.json?{query}").json["schools"]]


def test_xlsx_has_typed_cells_header_frozen_panes_and_autofilter(client):
    response = client.get("/scholen.xlsx?gemeente=meppel")
    assert response.status_code == 200
    assert "scholen-meppel-" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Vestigingscode", "Naam", "Soort")
    assert [r[0] for r in rows[1:]] == codes_in_list(client, "gemeente=meppel")
    pupils = rows[0].index("Leerlingen")
    assert all(isinstance(r[pupils], int) for r in rows[1:])
    assert isinstance(rows[1][rows[0].index("Teldatum")], datetime)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:O{len(rows)}"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["C"].width


def test_csv_for_excel_has_a_byte_order_mark_semicolons_dutch_headers_and_accents(client):
    response = client.get("/scholen.excel.csv?q=immanuel")
    raw = response.data
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Vestigingscode", "Naam"]
    assert rows[1][1] == "Christelijk Kindcentrum Immanuël"
    assert "-excel-" in response.headers["Content-Disposition"]


def test_plain_csv_is_rfc_4180_with_machine_headers(client):
    text = client.get("/scholen.csv?gemeente=staphorst").get_data(as_text=True)
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7
    assert rows[0]["vestigingscode"] and rows[0]["pupils"].isdigit()


def stored_phones() -> dict[str, str]:
    """The phone numbers as DUO gave them (digits only), per vestigingscode."""
    seed = Path(__file__).parent.parent / "seed_data" / "schools.csv"
    with seed.open(encoding="utf-8") as handle:
        return {r["vestigingscode"]: r["phone"] for r in csv.DictReader(handle) if r["phone"]}


def test_csv_phone_numbers_are_grouped_so_spreadsheets_keep_them_as_text(client):
    """A bare 0522481344 becomes the number 522481344 in every spreadsheet."""
    rows = list(csv.DictReader(io.StringIO(client.get("/scholen.csv").get_data(as_text=True))))
    phones = {r["vestigingscode"]: r["phone"] for r in rows if r["phone"]}
    stored = stored_phones()  # the 110 of DUO's file 02; the 7 special schools' come from 09
    assert len(phones) == 117 and len(stored) == 110
    for code, phone in phones.items():
        assert re.fullmatch(r"0[1-9][0-9]{1,2}( [0-9]{2,3})+", phone), phone
        if code in stored:
            assert phone.replace(" ", "") == stored[code]  # the same digits, only spaced
    assert phones["05SX00"] == "0522 48 13 44"
    assert phones["13ZM00"] == "0521 51 41 98"
    excel = client.get("/scholen.excel.csv?q=05SX00").data.decode("utf-8-sig")
    assert "0522 48 13 44" in excel.splitlines()[1].split(";")


def test_the_phone_is_grouped_on_the_page_and_in_json_too(client):
    assert ">0522 48 13 44</a>" in client.get("/scholen/05SX00").get_data(as_text=True)
    assert client.get("/scholen/05SX00.json").json["phone"] == "0522 48 13 44"
    assert client.get("/api/v1/schools/05SX00").json["phone"] == "0522 48 13 44"


def test_a_phone_that_cannot_be_grouped_is_exported_as_stored(seeded_app, client):
    put_past_the_forms(
        seeded_app, update(School).filter_by(vestigingscode="05SX00").values(phone="052248134")
    )
    text = client.get("/scholen.csv?q=05SX00&kolom=phone").get_data(as_text=True)
    assert text.splitlines()[1] == "052248134"


def test_street_and_house_number_are_one_address_cell_that_cannot_become_a_date(client):
    """A house number '2-4' alone in a cell is 2 April to a Dutch spreadsheet."""
    rows = list(csv.DictReader(io.StringIO(client.get("/scholen.csv?q=13ZM00").text)))
    assert rows[0]["address"] == "Middenweg 2-4"
    assert "house_number" not in rows[0]
    separate = client.get("/scholen.csv?q=13ZM00&kolom=street&kolom=house_number").text
    assert separate.splitlines()[1] == "Middenweg,2-4"  # for programs, when asked for
    assert client.get("/scholen/13ZM00.json").json["house_number"] == "2-4"


def test_the_user_chooses_the_columns(client):
    text = client.get("/scholen.csv?gemeente=staphorst&kolom=name&kolom=pupils").get_data(
        as_text=True
    )
    assert text.splitlines()[0] == "name,pupils"
    refused = client.get("/scholen.xlsx?kolom=password_hash")
    assert refused.status_code == 400
    assert "Onbekende kolom password_hash" in refused.get_data(as_text=True)


def test_a_formula_in_the_data_exports_as_inert_text(seeded_app, client):
    formula = '=HYPERLINK("http://x","y")'
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.name = formula
        db.session.commit()
    text = client.get("/scholen.csv?q=05SX&kolom=name&kolom=pupils").get_data(as_text=True)
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://x"",""y"")",98'
    excel = client.get("/scholen.excel.csv?q=05SX&kolom=name").data.decode("utf-8-sig")
    assert excel.splitlines()[1].startswith("\"'=HYPERLINK")
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/scholen.xlsx?q=05SX&kolom=name&kolom=pupils").data)
    )
    name, pupils = workbook.active["A2"], workbook.active["B2"]
    assert name.data_type == "s" and name.value == formula
    assert pupils.data_type == "n" and pupils.value == 98


def test_safe_cell_rules():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("+31 522") == "'+31 522"
    assert safe_cell("-5") == "'-5"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\tx") == "'\tx"
    assert safe_cell(-5) == -5
    assert safe_cell("De Wolden") == "De Wolden"


def test_the_search_page_offers_the_downloads_with_column_choice(client):
    html = client.get("/scholen?gemeente=meppel").get_data(as_text=True)
    assert 'formaction="/scholen.xlsx"' in html and 'formaction="/scholen.excel.csv"' in html
    assert 'name="kolom" value="pupils" checked' in html
    assert '<input type="hidden" name="gemeente" value="meppel">' in html


def test_the_cli_writes_the_same_rows_as_the_page(seeded_app, client, tmp_path):
    target = tmp_path / "meppel.xlsx"
    result = seeded_app.test_cli_runner().invoke(
        args=["export", "schools", "--format", "xlsx", "--gemeente", "Meppel", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "17 scholen" in result.output
    sheet = openpyxl.load_workbook(target).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == codes_in_list(
        client, "gemeente=meppel"
    )
    csv_target = tmp_path / "sbo.csv"
    seeded_app.test_cli_runner().invoke(
        args=["export", "schools", "--format", "excel.csv", "--type", "sbo", "-o", str(csv_target)]
    )
    assert csv_target.read_text(encoding="utf-8-sig").count("\n") == 5
    bad = seeded_app.test_cli_runner().invoke(
        args=["export", "schools", "--type", "VO", "-o", str(csv_target)]
    )
    assert bad.exit_code == 2 and "type" in bad.output  # bad input, not a failure


def test_boards_municipalities_and_networks_download_with_totals(client):
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/besturen.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Bestuursnummer",
        "Naam",
        "KvK-nummer",
        "Opgeheven op",
        "Scholen",
        "Leerlingen",
    )
    assert ("41196", "Stichting WIES", "04060053", None, 14, 2274) in rows
    text = client.get("/gemeenten.csv").get_data(as_text=True)
    assert text.splitlines()[0] == "cbs_code,name,province,schools,pupils"
    assert len(text.splitlines()) == 8
    excel = client.get("/netwerken.excel.csv").data.decode("utf-8-sig")
    assert excel.splitlines()[0] == "Code in het webadres;Naam;Bevestigd;Scholen;Leerlingen"
    assert 'href="/besturen.xlsx"' in client.get("/besturen").get_data(as_text=True)


def test_exports_can_give_pupils_as_counted_on_an_earlier_reference_date(client):
    rows = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get("/scholen.xlsx?q=05SX00&peildatum=2021-10-01").data)
        ).active.iter_rows(values_only=True)
    )
    assert rows[1][rows[0].index("Leerlingen")] == 82
    assert rows[1][rows[0].index("Teldatum")].year == 2021
    assert (
        client.get("/scholen.json?q=05SX00&peildatum=2021-10-01").json["schools"][0]["pupils"] == 82
    )
    wrong = client.get("/scholen.csv?peildatum=2021-09-01")
    assert wrong.status_code == 400 and "geen leerlingen geteld" in wrong.get_data(as_text=True)
    assert client.get("/scholen.csv?peildatum=vorig-jaar").status_code == 400


# Every control character XML refuses (NUL aside: PostgreSQL refuses that one itself).
CONTROL = "".join(chr(c) for c in (*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20)))


def rows_of(response) -> list[tuple]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(
        openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
    )


def put_past_the_forms(app, *statements) -> None:
    """Write values as old or imported data may hold them: past the models' checks."""
    with app.app_context():
        for statement in statements:
            db.session.execute(statement)
        bump(db.session.connection())
        db.session.commit()


def test_control_characters_in_the_data_do_not_break_any_spreadsheet(seeded_app, client, login):
    put_past_the_forms(
        seeded_app,
        update(School)
        .filter_by(vestigingscode="05SX00")
        .values(name="\x0b=1+1 De\x0b Arendsvleugel" + CONTROL),
        update(Board).filter_by(board_number="41196").values(name="Stichting\x1f Bestuur\x01"),
    )
    coordinator = login("coordinator")
    school, board = "=1+1 De Arendsvleugel", "Stichting Bestuur"
    for response, expected in (
        (client.get("/scholen.xlsx"), school),
        (client.get("/scholen.xlsx?q=05SX&kolom=name&kolom=board"), school),
        (client.get("/besturen.xlsx"), board),
        (coordinator.get("/admin/school/export.xlsx"), school),
        (coordinator.get("/admin/school/export.xlsx?kolom=vestigingscode&kolom=board"), board),
    ):
        cells = {value for row in rows_of(response) for value in row}
        assert expected in cells
        assert not any(isinstance(v, str) and set(v) & set(CONTROL) for v in cells)
    # With the \x0b gone the name starts with "=": still text, never a formula.
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/scholen.xlsx?q=05SX00&kolom=name").data)
    )
    assert workbook.active["A2"].data_type == "s"


def test_csv_drops_nul_before_it_neutralises_formulas():
    columns = [Column("name", "Naam")]
    lines = list(csv_lines(columns, [{"name": "De\x00 Brug"}, {"name": "\x00=1+1"}]))
    assert lines[1:] == ["De Brug\r\n", "'=1+1\r\n"]


@pytest.mark.parametrize(
    "q", ["a*", "a\\", "a/", "a?", "a:", "a[", "a]", "'a'", "a'", "[]*?:/\\", "ö" * 200]
)
def test_any_search_text_makes_a_sheet_name_excel_accepts(client, q):
    response = client.get("/scholen.xlsx", query_string={"q": q})
    assert response.status_code == 200
    (title,) = openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames
    assert title.startswith("scholen") and len(title) <= 31
    assert not set(title) & set("\\/?*:[]") and not title.endswith("'")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("'scholen-a'", "scholen-a"),
        ("*?:", "Export"),
        ("", "Export"),
        ("history", "Export"),
        ("x" * 29 + " 'y", "x" * 29),  # cut at 31, then no trailing apostrophe or space
        ("😀" * 16, "😀" * 15),  # 31 UTF-16 units, as Excel counts
        ("a\x0bb\tc", "abc"),
    ],
)
def test_sheet_title(text, title):
    assert sheet_title(text) == title


def cells(xlsx: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))


@pytest.mark.parametrize("fmt", ["csv", "excel.csv", "xlsx"])
def test_the_cli_takes_the_directorys_query_and_writes_the_very_same_file(
    seeded_app, client, tmp_path, fmt
):
    query = "gemeente=meppel&richting=Openbaar&kolom=name&kolom=phone&sort=leerlingen"
    target = tmp_path / f"meppel.{fmt}"
    result = seeded_app.test_cli_runner().invoke(
        args=["export", "schools", query, "--format", fmt, "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    download = client.get(f"/scholen.{fmt}?{query}")
    if fmt == "xlsx":  # a zip: compare the cells, not the archive's timestamps
        assert cells(target.read_bytes()) == cells(download.data)
    else:
        assert target.read_bytes() == download.data
    rows = len(cells(download.data)) - 1 if fmt == "xlsx" else download.text.count("\n") - 1
    assert f"{rows} scholen" in result.output and rows > 0


def libreoffice_reads(csv_body: bytes, tmp_path) -> list[tuple]:
    """The "CSV voor Excel" opened as a Dutch spreadsheet would: LibreOffice Calc headless with
    ';', UTF-8 and the nl-NL locale (filter language 1043), saved as XLSX and read back typed."""
    source = tmp_path / "scholen.csv"
    source.write_bytes(csv_body)
    saved = libreoffice_to_xlsx(source, tmp_path, infilter="CSV:59,34,76,1,,1043")
    sheet = openpyxl.load_workbook(saved).active
    return list(sheet.iter_rows(values_only=True))


def test_a_dutch_spreadsheet_reads_distance_and_coordinates_as_numbers(client, tmp_path):
    """With decimal points, Dutch Excel and LibreOffice keep 52.70274632 as text (or a date)."""
    kolom = "kolom=name&kolom=phone&kolom=latitude&kolom=longitude&kolom=distance_km"
    body = client.get(f"/scholen.excel.csv?postcode=7941AA&sort=afstand&{kolom}").data
    assert ";52,7" in body.decode("utf-8-sig")
    header, *rows = libreoffice_reads(body, tmp_path)
    assert header == ("Naam", "Telefoon", "Breedtegraad", "Lengtegraad", "Afstand (km)")
    expected = client.get("/scholen.json?postcode=7941AA&sort=afstand").json
    first = expected["schools"][0]
    assert rows[0][2:] == pytest.approx(
        (first["latitude"], first["longitude"], first["distance_km"])
    )
    for name, phone, latitude, longitude, distance in rows:
        assert isinstance(latitude, float) and 52 < latitude < 53, (name, latitude)
        assert isinstance(longitude, float) and 5.5 < longitude < 7, (name, longitude)
        assert isinstance(distance, int | float), (name, distance)
        assert phone is None or re.fullmatch(r"0[0-9 ]+", phone), (name, phone)  # still text
    assert [r[4] for r in rows] == sorted(r[4] for r in rows)


def test_dutch_files_say_the_interfaces_words_not_stored_codes(client):
    """'building' and True are the database's words; JSON and the plain CSV keep them."""
    query = "q=05SX00&kolom=name&kolom=location_precision"
    excel = client.get(f"/scholen.excel.csv?{query}").data.decode("utf-8-sig").splitlines()
    assert excel[1].split(";")[1] == "gebouw (precies)"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/scholen.xlsx?{query}").data)).active
    assert sheet["B2"].value == "gebouw (precies)"
    assert client.get(f"/scholen.csv?{query}").text.splitlines()[1].endswith(",building")
    assert client.get("/scholen/05SX00.json").json["location_precision"] == "building"
    networks = client.get("/netwerken.excel.csv").data.decode("utf-8-sig")
    confirmed = [line.split(";")[2] for line in networks.splitlines()[1:]]
    assert confirmed and set(confirmed) <= {"ja", "nee"}
