import io
import re

import openpyxl
from pypdf import PdfReader
from sqlalchemy import select

from registry.db import db
from registry.models import School, SchoolSupport, SupportArea, SupportLevel


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
