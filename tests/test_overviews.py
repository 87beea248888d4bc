import io
import re

import openpyxl
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import select, update

from registry.cache import bump
from registry.db import db
from registry.models import Board, School, SchoolSupport, SupportArea, SupportLevel
from registry.seed import load_seed


def test_overview_per_municipality_counts_types_and_pupils(client):
    html = client.get("/overzichten/gemeente").get_data(as_text=True)
    assert "Leerlingen 2025-10-01" in html
    # Meppel: 15 BAO, 1 SBO, 0 SO, 1 SO+VSO, 17 schools, 3.221 pupils in 2025 (seed README).
    assert re.search(
        r"Meppel</th>\s*<td class=\"num\">15</td>\s*<td class=\"num\">1</td>\s*"
        r"<td class=\"num\">0</td>\s*<td class=\"num\">1</td>\s*<td class=\"num\">17</td>\s*"
        r"<td class=\"num\">3.221</td>",
        html,
    )


def test_a_chosen_reference_date_and_a_wrong_one(client):
    html = client.get("/overzichten/netwerk?peildatum=2021-10-01").get_data(as_text=True)
    assert "Leerlingen 2021-10-01" in html
    wrong = client.get("/overzichten/netwerk?peildatum=2021-09-01")
    assert wrong.status_code == 400
    assert "Voor 2021-09-01 zijn geen leerlingen geteld" in wrong.get_data(as_text=True)
    assert client.get("/overzichten/netwerk?peildatum=gisteren").status_code == 400


def test_xlsx_overview_matches_the_page(client):
    response = client.get("/overzichten/bestuur.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Per bestuur", "Richting", "Ondersteuning per bestuur"]
    rows = list(workbook["Per bestuur"].iter_rows(values_only=True))
    wies = next(r for r in rows if r[0] == "Stichting WIES")
    assert wies[1:6] == (14, 0, 0, 0, 14) and wies[6] == 2274
    total = rows[-1]
    assert total[0] == "Totaal" and total[5] == 117 and total[6] == 16240


def test_boards_without_a_name_or_with_the_same_name_keep_their_own_rows(seeded_app, client):
    """A board DUO gave no name yet is listed by its number (it was a 500); two boards of one
    name are two rows (they were merged into one)."""
    with seeded_app.app_context():
        db.session.execute(update(Board).filter_by(board_number="41196").values(name=None))
        db.session.execute(
            update(Board).filter_by(board_number="42557").values(name="Stichting PCO Accrete")
        )
        bump(db.session.connection())
        db.session.commit()
    response = client.get("/overzichten/bestuur.xlsx")
    assert response.status_code == 200
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.data))["Per bestuur"].iter_rows(values_only=True)
    )
    assert next(r for r in rows if r[0] == "41196")[5:7] == (14, 2274)
    accrete = [r[5] for r in rows if r[0] == "Stichting PCO Accrete"]
    assert len(accrete) == 2 and 11 in accrete  # 42557 has 11 schools of its own
    assert rows[-1][5:7] == (117, 16240)
    assert client.get("/overzichten/bestuur").status_code == 200


def test_coverage_matrix_counts_basic_and_extra_support(seeded_app, client):
    with seeded_app.app_context():
        area = db.session.scalar(select(SupportArea).filter_by(code="gedrag"))
        for code, level in (("05SX00", SupportLevel.EXTRA), ("06PS00", SupportLevel.BASIS)):
            school = db.session.scalar(select(School).filter_by(vestigingscode=code))
            db.session.add(SchoolSupport(school=school, support_area=area, level=level))
        db.session.commit()
    rows = list(
        openpyxl.load_workbook(io.BytesIO(client.get("/overzichten/netwerk.xlsx").data))[
            "Ondersteuning per netwerk"
        ].iter_rows(values_only=True)
    )
    assert rows[0] == ("Ondersteuning", "Hoogeveen", "Meppel", "Steenwijk")
    behaviour = next(r for r in rows if r[0] == "Gedrag")
    assert behaviour[1] == "1 extra, 1 basis van 49"
    assert behaviour[2] == "0 extra, 0 basis van 37"


def test_pdf_overview_reads_back_with_the_same_figures(client):
    response = client.get("/overzichten/bestuur.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Stichting WIES" in text and "2.274" in text
    assert re.search(r"T\s?eldatum: 1 oktober 2025", text)


def test_overviews_from_the_command_line(seeded_app, tmp_path):
    target = tmp_path / "netwerken.xlsx"
    runner = seeded_app.test_cli_runner()
    result = runner.invoke(
        args=["export", "overview", "netwerk", "--peildatum", "2021-10-01", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(target)["Per netwerk"].iter_rows(values_only=True))
    assert rows[0][6] == "Leerlingen 2021-10-01"
    pdf = tmp_path / "besturen.pdf"
    assert (
        runner.invoke(
            args=["export", "overview", "bestuur", "--format", "pdf", "-o", str(pdf)]
        ).exit_code
        == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    wrong = runner.invoke(
        args=["export", "overview", "gemeente", "--peildatum", "2020-01-01", "-o", str(target)]
    )
    assert wrong.exit_code == 1 and "geen leerlingen geteld" in wrong.output


def test_control_characters_in_names_do_not_break_the_overview_files(seeded_app, client):
    with seeded_app.app_context():
        # Past the models' checks, as old or imported data may hold them.
        db.session.execute(
            update(Board).filter_by(board_number="41196").values(name="Stichting\x0b WIES\x01")
        )
        db.session.execute(
            update(School).filter_by(vestigingscode="05SX00").values(denomination="\x0b=Richting")
        )
        bump(db.session.connection())
        db.session.commit()
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/overzichten/bestuur.xlsx").data))
    names = [row[0] for row in workbook["Per bestuur"].iter_rows(values_only=True)]
    assert "Stichting WIES" in names
    # Text, never a formula: the one XLSX writer types such a cell as a string.
    header = {cell.value: cell for cell in next(workbook["Richting"].iter_rows())}
    assert header["=Richting"].data_type == "s"
    pdf = client.get("/overzichten/bestuur.pdf")
    assert pdf.status_code == 200
    assert "Stichting" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def seeded(app):
    with app.app_context():
        upgrade()
        load_seed()
    return app


def test_overview_files_are_limited_per_client_and_only_renders_count(make_app):
    client = seeded(make_app(OVERVIEW_FILE_LIMIT="2 per minute")).test_client()
    assert client.get("/overzichten/bestuur.pdf").headers["X-Cache"] == "miss"
    for cb in range(5):  # what the cache answers costs nothing and is not counted
        served = client.get(f"/overzichten/bestuur.pdf?cb={cb}")
        assert (served.status_code, served.headers["X-Cache"]) == (200, "hit")
    assert client.get("/overzichten/gemeente.xlsx").headers["X-Cache"] == "miss"
    refused = client.get("/overzichten/netwerk.pdf")
    assert refused.status_code == 429
    assert "Te veel verzoeken kort na elkaar" in refused.get_data(as_text=True)
    assert client.get("/overzichten/gemeente.xlsx?cb=9").status_code == 200
    other = client.get("/overzichten/netwerk.xlsx", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 200


def test_the_default_limit_stops_a_flood_of_renders(make_app):
    client = seeded(make_app(PAGE_CACHE=False)).test_client()
    for _ in range(20):
        assert client.get("/overzichten/bestuur.xlsx").status_code == 200
    assert client.get("/overzichten/bestuur.pdf").status_code == 429
