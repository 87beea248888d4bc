import html as markup
import io
import re
from collections import Counter
from datetime import date, datetime

import openpyxl
import pdfplumber
import pytest
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import delete, select, update

from registry.cache import bump
from registry.db import db
from registry.groupings import Tally
from registry.models import (
    Board,
    Municipality,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from registry.overviews import charts
from registry.seed import load_seed

MUNICIPALITIES = (
    "De Wolden",
    "Hoogeveen",
    "Meppel",
    "Staphorst",
    "Steenwijkerland",
    "Westerveld",
    "Zwartewaterland",
)


def test_overview_per_municipality_counts_types_and_pupils(client):
    html = client.get("/overzichten/gemeente").get_data(as_text=True)
    assert re.search(r'<th scope="colgroup"[^>]*colspan="5">Leerlingen</th>', html)
    assert '<th scope="col" class="num">1 okt 2025</th>' in html
    assert "2025-10-01</th>" not in html  # dates as people write them
    # Meppel: 15 BAO, 1 SBO, 0 SO, 1 SO+VSO, 17 schools, 3.221 pupils in 2025 (seed README).
    row = re.search(r"Meppel</a></th>(.*?)</tr>", html, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[:5] == ["15", "1", "0", "1", "17"] and cells[-1] == "3.221"


def test_the_page_speaks_english_with_english_dates(client):
    html = client.get("/overzichten/gemeente?lang=en").get_data(as_text=True)
    assert '<th scope="col" class="num">1 Oct 2025</th>' in html


def test_a_chosen_reference_date_and_a_wrong_one(client):
    html = client.get("/overzichten/netwerk?peildatum=2021-10-01").get_data(as_text=True)
    # The trend ends at the chosen date: the newer counts are not shown as if they were older.
    assert "1 okt 2021</th>" in html and "1 okt 2022</th>" not in html
    wrong = client.get("/overzichten/netwerk?peildatum=2021-09-01")
    assert wrong.status_code == 400
    assert "Voor 2021-09-01 zijn geen leerlingen geteld" in wrong.get_data(as_text=True)
    assert client.get("/overzichten/netwerk?peildatum=gisteren").status_code == 400


def header_at(sheet) -> int:
    """Where a sheet's table starts: after the lines that say what the file is, and a blank."""
    rows = list(sheet.iter_rows(values_only=True))
    return next(i for i, row in enumerate(rows) if not any(v is not None for v in row)) + 1


def table_of(sheet) -> list[tuple]:
    """A sheet's table, its header first."""
    return list(sheet.iter_rows(values_only=True))[header_at(sheet) :]


def sheet_rows(client, url: str, sheet: int | str = 0) -> list[tuple]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    return table_of(workbook[sheet] if isinstance(sheet, str) else workbook.worksheets[sheet])


def test_xlsx_overview_matches_the_page(seeded_app, client):
    response = client.get("/overzichten/bestuur.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    # No school has recorded its support yet: no table of 'niet vastgelegd' (the page says so).
    assert workbook.sheetnames == ["Per bestuur", "Leerlingen per soort school", "Richting"]
    add_support(seeded_app, ("05SX00", "gedrag", SupportLevel.EXTRA))
    response = client.get("/overzichten/bestuur.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Per bestuur",
        "Leerlingen per soort school",
        "Richting",
        "Ondersteuning per bestuur",
    ]
    rows = table_of(workbook["Per bestuur"])
    assert rows[0][5:7] == ("Scholen totaal", "Leerlingen 1 okt 2021")
    wies = next(r for r in rows if r[0] == "Stichting WIES")
    assert wies[1:6] == (14, 0, 0, 0, 14) and wies[-1] == 2274
    total = rows[-1]
    assert total[0] == "Totaal" and total[5] == 117 and total[-1] == 16240


def test_every_sheet_says_what_the_file_is_and_holds_the_pages_pupils_per_type(client):
    """The Meppel file started with 'Naam': only its file name said Meppel."""
    response = client.get("/overzichten/bestuur.xlsx?gemeente=meppel&peildatum=2024-10-01")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    for sheet in workbook.worksheets:
        head = [row[:2] for row in sheet.iter_rows(max_row=header_at(sheet), values_only=True)]
        assert head[0] == ("Overzicht per bestuur: Meppel", None), sheet.title
        assert sheet["A1"].font.bold
        assert head[1] == ("Teldatum", datetime(2024, 10, 1))
        assert head[2] == ("Selectie", "Gemeente: Meppel")
        assert head[3][0] == "Bron" and head[3][1].startswith("DUO Open Onderwijsdata")
        assert head[4][0] == "Gemaakt op" and isinstance(head[4][1], datetime)
        assert head[5] == (None, None)
        assert sheet.freeze_panes == f"B{len(head) + 2}"  # the header stays in view
    rows = table_of(workbook["Leerlingen per soort school"])
    assert rows[0] == (
        "Naam",
        "Leerlingen BAO",
        "Leerlingen SBO",
        "Leerlingen SO",
        "Leerlingen SO+VSO",
        "Leerlingen totaal",
        "Aandeel SBO en SO (%)",
    )
    promes = next(row for row in rows if row[0] == "Stichting Promes")
    html = client.get("/overzichten/bestuur?gemeente=meppel&peildatum=2024-10-01").text
    cells = re.search(r'<th scope="row" class="name">Stichting Promes</th>(.*?)</tr>', html)[1]
    shown_on_page = re.findall(r'<td class="num">([^<]*)</td>', cells)
    assert [f"{n:,}".replace(",", ".") for n in promes[1:5]] == shown_on_page[:4]
    assert f"{promes[6]:.1f}%".replace(".", ",") == shown_on_page[4]
    assert promes[5] == sum(promes[1:5]) and rows[-1][0] == "Totaal"


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
    rows = sheet_rows(client, "/overzichten/bestuur.xlsx")
    wies = next(r for r in rows if r[0] == "41196")
    assert (wies[5], wies[-1]) == (14, 2274)
    accrete = [r[5] for r in rows if r[0] == "Stichting PCO Accrete"]
    assert len(accrete) == 2 and 11 in accrete  # 42557 has 11 schools of its own
    assert (rows[-1][5], rows[-1][-1]) == (117, 16240)
    assert client.get("/overzichten/bestuur").status_code == 200


def add_support(app, *offers) -> None:
    with app.app_context():
        for code, area_code, level in offers:
            area = db.session.scalar(select(SupportArea).filter_by(code=area_code))
            school = db.session.scalar(select(School).filter_by(vestigingscode=code))
            db.session.add(SchoolSupport(school=school, support_area=area, level=level))
        db.session.commit()


def test_coverage_says_niet_vastgelegd_where_nothing_is_recorded_never_0(seeded_app, client):
    add_support(
        seeded_app,
        ("05SX00", "gedrag", SupportLevel.EXTRA),
        ("06PS00", "gedrag", SupportLevel.BASIS),
    )
    # In the workbook as numbers a spreadsheet adds up; nothing recorded is empty there.
    rows = sheet_rows(client, "/overzichten/netwerk.xlsx", sheet="Ondersteuning per netwerk")
    assert rows[0][:7] == (
        "Naam",
        "Scholen",
        "Scholen die het vastlegden",
        "Leren extra",
        "Leren basis",
        "Gedrag extra",
        "Gedrag basis",
    )
    hoogeveen, meppel = (next(r for r in rows if r[0] == name) for name in ("Hoogeveen", "Meppel"))
    assert hoogeveen[1:7] == (49, 2, 0, 0, 1, 1)
    assert meppel[1:3] == (37, 0) and set(meppel[3:]) == {None}
    assert rows[-1][:7] == ("Totaal", 117, 2, 0, 0, 1, 1)
    html = client.get("/overzichten/netwerk").get_data(as_text=True)
    assert "2 van 49" in html and "1 extra, 1 basis" in html and "niet vastgelegd" in html
    assert "Extra ondersteuning per ondersteuningsgebied" in html
    # Hoogeveen: 1 of the 2 schools that recorded it; said with its row and column.
    assert 'aria-label="Hoogeveen, Gedrag: 50%"' in html


def test_without_any_record_the_heat_map_says_so_instead_of_drawing_zeros(seeded_app, client):
    html = client.get("/overzichten/gemeente").get_data(as_text=True)
    assert "Geen enkele school in deze selectie heeft vastgelegd" in html
    assert "0 extra" not in html and "Scholen die het vastlegden" not in html
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(pdf_of(client, "/overzichten/gemeente.pdf"))).pages
    )
    assert "Geen enkele school in deze selectie heeft vastgelegd" in text
    assert "Ondersteuning per gemeente" not in text and " van 17" not in text  # Meppel: 17
    # One record anywhere and the table is back, 'niet vastgelegd' where nothing is recorded.
    add_support(seeded_app, ("05SX00", "gedrag", SupportLevel.EXTRA))
    html = client.get("/overzichten/gemeente").get_data(as_text=True)
    assert "Scholen die het vastlegden" in html and "niet vastgelegd" in html


def test_a_date_without_counts_is_a_gap_not_a_zero(seeded_app, client):
    with seeded_app.app_context():
        meppel = select(School.id).join(Municipality).where(Municipality.slug == "meppel")
        db.session.execute(
            delete(PupilCount).where(
                PupilCount.school_id.in_(meppel),
                PupilCount.reference_date == date(2023, 10, 1),
            )
        )
        bump(db.session.connection())
        db.session.commit()
    rows = sheet_rows(client, "/overzichten/gemeente.xlsx")
    header, meppel_row = rows[0], next(r for r in rows if r[0] == "Meppel")
    assert meppel_row[header.index("Leerlingen 1 okt 2023")] is None
    assert meppel_row[header.index("Leerlingen 1 okt 2024")] == 3176
    html = client.get("/overzichten/gemeente").get_data(as_text=True)
    row = re.search(r"Meppel</a></th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[-3] == "—"


def test_narrowed_by_the_directorys_filters_in_html_and_xlsx(client):
    """The overview's totals are those of the directory's own list under the same filters."""
    listed = client.get("/api/v1/schools?gemeente=meppel&gemeente=de-wolden").json["total"]
    rows = sheet_rows(client, "/overzichten/bestuur.xlsx?gemeente=meppel&gemeente=de-wolden")
    assert rows[-1][0] == "Totaal" and rows[-1][5] == listed == 31
    named = client.get("/overzichten/bestuur.pdf?gemeente=meppel&gemeente=de-wolden")
    assert (
        'filename="overzicht-per-bestuur-2025-10-01-meppel-de-wolden-'
        in named.headers["Content-Disposition"]
    )
    html = client.get("/overzichten/bestuur?gemeente=meppel").get_data(as_text=True)
    assert "<h1>Overzicht per bestuur: Meppel</h1>" in html
    assert 'name="gemeente" value="meppel" checked' in html
    assert 'href="/overzichten/bestuur.pdf?gemeente=meppel&amp;peildatum=2025-10-01"' in html
    total = re.search(r'<tr class="total">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", total)[-1] == "3.221"
    # One click from the region to one group.
    region = client.get("/overzichten/gemeente").get_data(as_text=True)
    assert 'href="/overzichten/gemeente?gemeente=meppel&amp;peildatum=2025-10-01">Meppel' in region


def test_the_index_offers_each_municipality_in_one_click(client):
    html = client.get("/overzichten/").get_data(as_text=True)
    assert 'href="/overzichten/bestuur?gemeente=meppel">Meppel</a>' in html


def pdf_of(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return response.data


def name_columns(pdf) -> list[str]:
    """Per table and page, the text under its 'Naam' header down to the page's foot."""
    found = []
    for page in pdf.pages:
        words = page.extract_words()
        for head in (w for w in words if w["text"] == "Naam"):
            right = min(
                (
                    w["x0"]
                    for w in words
                    if abs(w["bottom"] - head["bottom"]) < 2 and w["x0"] > head["x1"]
                ),
                default=page.width,
            )
            column = page.crop((head["x0"] - 1, head["top"], right - 0.5, page.height))
            found.append(" ".join(column.extract_text().split()))
    return found


def shown(value) -> list[str]:
    if value is None:
        return ["—"]
    if isinstance(value, int):
        return [f"{value:,}".replace(",", ".")]
    return str(value).split()


TABLE_CAPTION = (
    r"(Per (gemeente|bestuur|netwerk)|Richting|Ondersteuning per \w+)( \(deel \d+ van \d+\))?"
)
PDFS = [
    ("gemeente", ""),
    ("bestuur", ""),
    ("netwerk", ""),
    ("gemeente", "gemeente=meppel"),
    ("bestuur", "gemeente=meppel&gemeente=de-wolden"),
    ("netwerk", "bestuur=41196&bestuur=42557"),
    ("bestuur", "netwerk=steenwijk&peildatum=2022-10-01"),
]
# Support recorded by one school in Meppel and one in Hoogeveen: the support table is printed.
SUPPORT = (("05SX00", "gedrag", SupportLevel.EXTRA), ("06PS00", "leren", SupportLevel.BASIS))


def total_rows(lines: list[str]) -> list[str]:
    """The lines of the total rows: from 'Totaal' to the next caption or page foot (a total
    that lists what it counts wraps over several lines)."""
    found, inside = [], False
    for line in lines:
        if re.fullmatch(TABLE_CAPTION, line) or re.search(r"Pagina \d+ van \d+$", line):
            inside = False
        inside = inside or line.startswith("Totaal")
        found += [line] if inside else []
    return found


@pytest.mark.parametrize("support", [(), SUPPORT], ids=["no support recorded", "support"])
@pytest.mark.parametrize(("kind", "query"), PDFS)
def test_every_overview_pdf_fits_a4_and_holds_every_name_and_total(
    seeded_app, client, kind, query, support
):
    add_support(seeded_app, *support)
    data = pdf_of(client, f"/overzichten/{kind}.pdf?{query}")
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/overzichten/{kind}.xlsx?{query}").data)
    )
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = len(pdf.pages)
        for number, page in enumerate(pdf.pages, 1):
            assert {round(page.width), round(page.height)} == {595, 842}  # A4 either way
            outside = [
                c["text"]
                for c in page.chars
                if c["x0"] < 0 or c["top"] < 0 or c["x1"] > page.width or c["bottom"] > page.height
            ]
            assert outside == [], f"page {number}"
            assert f"Pagina {number} van {pages}" in page.extract_text()
        columns = name_columns(pdf)
        lines = [line for page in pdf.pages for line in page.extract_text().splitlines()]
        totals = Counter(word for line in total_rows(lines) for word in line.split())
        # One total row per table (or part of a table), never repeated at each page's foot.
        captions = [line for line in lines if re.fullmatch(TABLE_CAPTION, line)]
        assert len([line for line in lines if line.startswith("Totaal")]) == len(captions)
    for sheet in workbook.worksheets:
        *rows, total = table_of(sheet)[1:]
        for row in rows:
            # Whole on one page: a row never splits over two.
            name = " ".join(row[0].split())
            assert any(name in column for column in columns), (sheet.title, row[0])
        assert total[0] == "Totaal"
        if sheet.title == "Leerlingen per soort school":
            continue  # the page's table under its bar chart: on paper without a total
        wanted = Counter(word for value in total for word in shown(value))
        assert not wanted - totals, (sheet.title, wanted - totals)

    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root  # tagged
    assert root["/Lang"] == "nl"
    assert reader.metadata.title.startswith(f"Overzicht per {kind}")


def test_a_table_too_wide_for_landscape_continues_with_its_names_on_the_next_pages(
    seeded_app, client
):
    """26 support areas: the table is split into parts of whole columns, each part with the
    name column and its own total row, and still nothing falls outside a page."""
    with seeded_app.app_context():
        for number in range(1, 21):
            name = f"Gebied {number:02d} met een lange naam"
            db.session.add(SupportArea(code=f"gebied-{number}", name=name, name_en=name))
        db.session.commit()
    test_every_overview_pdf_fits_a4_and_holds_every_name_and_total(
        seeded_app, client, "netwerk", "", SUPPORT
    )
    data = pdf_of(client, "/overzichten/netwerk.pdf")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
        split = [page.width > page.height for page in pdf.pages if "(deel" in page.extract_text()]
    parts = re.findall(r"Ondersteuning per netwerk \(deel (\d+) van (\d+)\)", text)
    assert len(parts) > 1 and parts[-1][0] == parts[-1][1] == str(len(parts))
    assert split and all(split)  # on landscape pages
    assert all(f"Gebied {n:02d}" in text for n in range(1, 21))  # every column's header


def test_counts_too_wide_for_landscape_are_printed_as_a_list(seeded_app, client):
    """117 denominations: not three landscape parts of mostly zeros but, per network, its
    schools and what they are ('Richting 001 … 1 · Richting 002 … 1'), on portrait pages; the
    total row lists every denomination's total. The workbook keeps one column each."""
    with seeded_app.app_context():
        for number, school in enumerate(db.session.scalars(select(School.id)), 1):
            db.session.execute(
                update(School)
                .where(School.id == school)
                .values(denomination=f"Richting {number:03d} met een lange naam")
            )
        bump(db.session.connection())
        db.session.commit()
    test_every_overview_pdf_fits_a4_and_holds_every_name_and_total(
        seeded_app, client, "netwerk", "", ()
    )
    data = pdf_of(client, "/overzichten/netwerk.pdf")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        # Every page the lists run over: the total row's may go on past the first page.
        pages = [page for page in pdf.pages if "Richting " in page.extract_text()]
        text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert pages and not any(page.width > page.height for page in pages)  # portrait
    assert "(deel" not in text
    # In its network's row and in the total row, each with its count.
    assert all(text.count(f"Richting {n:03d} met een lange naam 1") == 2 for n in range(1, 118))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/overzichten/netwerk.xlsx").data))
    assert workbook["Richting"].max_column == 1 + 117


def test_the_pdf_is_a_document_with_its_dates_source_and_partnership(client):
    data = pdf_of(client, "/overzichten/gemeente.pdf?gemeente=meppel&peildatum=2024-10-01")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "Overzicht per gemeente: Meppel"
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Samenwerkingsverband Passend Onderwijs PO 22.03" in first
    assert "Teldatum 1 okt 2024" in first
    assert "Selectie Gemeente: Meppel" in first
    # The seed's files have no recorded date: none is printed, and no word of how it started.
    assert (
        "Bron DUO Open Onderwijsdata (CC BY 4.0), leerlingen geteld van 1 okt 2021 tot en " in first
    )
    assert "startgegevens" not in first and "DUO-bestand" not in first
    assert re.search(r"Gemaakt op \d{1,2} \w{3} 20\d\d", first)


def test_the_meppel_pdf_holds_meppel_and_no_other_municipality(client):
    data = pdf_of(client, "/overzichten/gemeente.pdf?gemeente=meppel")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Meppel" in text and "3.221" in text
    assert [m for m in MUNICIPALITIES if m in text] == ["Meppel"]


def test_the_english_pdf_is_english(client):
    data = pdf_of(client, "/overzichten/netwerk.pdf?lang=en")
    reader = PdfReader(io.BytesIO(data))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "1 Oct 2025" in reader.pages[0].extract_text()


def test_overviews_from_the_command_line(seeded_app, tmp_path):
    target = tmp_path / "netwerken.xlsx"
    runner = seeded_app.test_cli_runner()
    result = runner.invoke(
        args=["export", "overview", "netwerk", "--peildatum", "2021-10-01", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = table_of(openpyxl.load_workbook(target)["Per netwerk"])
    assert rows[0][-1] == "Leerlingen 1 okt 2021"
    narrowed = tmp_path / "meppel.xlsx"
    result = runner.invoke(
        args=["export", "overview", "bestuur", "gemeente=meppel", "-o", str(narrowed)]
    )
    assert result.exit_code == 0, result.output
    rows = table_of(openpyxl.load_workbook(narrowed).worksheets[0])
    assert (rows[-1][5], rows[-1][-1]) == (17, 3221)
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
    assert wrong.exit_code == 2 and "geen leerlingen geteld" in wrong.output  # bad input


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
    names = [row[0] for row in table_of(workbook["Per bestuur"])]
    assert "Stichting WIES" in names
    # Text, never a formula: the one XLSX writer types such a cell as a string.
    richting = workbook["Richting"]
    header = {cell.value: cell for cell in list(richting.iter_rows())[header_at(richting)]}
    assert header["Scholen per richting =Richting"].data_type == "s"
    pdf = client.get("/overzichten/bestuur.pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Stichting WIES" in text


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


def test_a_narrowed_overview_is_its_own_cached_page(make_app):
    client = seeded(make_app()).test_client()
    region = client.get("/overzichten/gemeente.xlsx")
    meppel = client.get("/overzichten/gemeente.xlsx?gemeente=meppel")
    assert meppel.headers["X-Cache"] == "miss" and meppel.data != region.data
    assert client.get("/overzichten/gemeente.xlsx?gemeente=meppel").headers["X-Cache"] == "hit"


def test_the_default_limit_stops_a_flood_of_renders(make_app):
    client = seeded(make_app(PAGE_CACHE=False)).test_client()
    for _ in range(20):
        assert client.get("/overzichten/bestuur.xlsx").status_code == 200
    assert client.get("/overzichten/bestuur.pdf").status_code == 429


def test_charts_of_more_groups_than_anyone_could_read_show_the_whole(seeded_app):
    """A national overview has a thousand boards: its tables list them all, its pictures show
    the selection as one (and a group's missing count stays a gap, not a 0)."""
    groups = [Municipality(id=n, name=f"Gemeente {n}") for n in range(1, 42)]
    days = [date(2024, 10, 1), date(2025, 10, 1)]
    over_time = {
        days[0]: {g.id: Tally(1, 10, 1) for g in groups},
        days[1]: {g.id: Tally(1, 12, 1) for g in groups[:-1]} | {41: Tally(1, 0, 0)},
    }
    per_type = {(g.id, SchoolType.BAO): Tally(1, 12, 1) for g in groups}
    support = {"offers": {}, "recorded": {}, "areas": []}
    with seeded_app.test_request_context():
        trend, share, heat = charts.overview_charts(
            groups, days, over_time, per_type, support, {g.id: 1 for g in groups}, str
        )
        few = charts.overview_charts(
            groups[:3], days, over_time, per_type, support, {g.id: 1 for g in groups}, str
        )
    assert [s.label for s in trend["rows"]] == ["Alle 41 samen"] and trend["summed"]
    assert trend["rows"][0].values == [410, 480]
    assert share["rows"][0].pupils[SchoolType.BAO] == 492 and not heat["anything"]
    assert [s.label for s in few[0]["rows"]] == ["Gemeente 1", "Gemeente 2", "Gemeente 3"]


def test_a_filter_value_that_names_nothing_is_said_on_the_page_and_refused_in_files(client):
    html = client.get("/overzichten/bestuur?gemeente=mepel").get_data(as_text=True)
    assert "Gemeente “mepel” kennen we niet. Bedoelde u Meppel?" in html
    assert 'href="/overzichten/bestuur?gemeente=meppel&amp;peildatum=2025-10-01"' in html
    assert "Geen open scholen in deze selectie." in html
    for extension in ("pdf", "xlsx"):
        refused = client.get(f"/overzichten/bestuur.{extension}?gemeente=mepel")
        assert refused.status_code == 400
        assert "Bedoelde u Meppel?" in refused.get_data(as_text=True)
    # Another spelling of a known value is that value.
    rows = sheet_rows(client, "/overzichten/gemeente.xlsx?gemeente=Meppel")
    assert [row[0] for row in rows[1:]] == ["Meppel", "Totaal"]


def test_markup_in_names_and_denominations_is_escaped_on_the_page_and_on_paper(seeded_app, client):
    """The table rows are joined in Python (registry/overviews/markup.py), not by Jinja."""
    with seeded_app.app_context():
        db.session.execute(
            update(Board).filter_by(board_number="41196").values(name='<b>WIES</b> & "co"')
        )
        db.session.execute(
            update(School)
            .filter_by(vestigingscode="05SX00")
            .values(denomination="<script>x()</script>")
        )
        bump(db.session.connection())
        db.session.commit()
    html = client.get("/overzichten/bestuur").get_data(as_text=True)
    assert "<b>WIES" not in html and "<script>x()" not in html
    assert "&lt;b&gt;WIES&lt;/b&gt; &amp; &#34;co&#34;</a></th>" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    pdf = client.get("/overzichten/bestuur.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert '<b>WIES</b> & "co"' in text


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_figures_are_grouped_as_babel_groups_them(app, locale):
    """i18n.format_integer is a fast path for what flask_babel.format_decimal writes."""
    from flask_babel import force_locale, format_decimal

    from registry.i18n import format_integer

    numbers = [0, 7, -7, 999, 1000, -1000, 1808, 16240, 999_999, 1_348_434, -12_345_678, 10**12]
    with app.test_request_context("/"), force_locale(locale):
        assert [format_integer(n) for n in numbers] == [format_decimal(n) for n in numbers]
    with app.app_context():  # the command line: the default language
        assert format_integer(16240) == "16.240"


def structure(node, found: list) -> list:
    """Every element of a PDF's structure tree (its tags), depth first."""
    node = node.get_object()
    if isinstance(node, dict):
        if "/S" in node:
            found.append(node)
        kids = node.get("/K")
        kids = kids.get_object() if kids is not None else []
        for kid in kids if isinstance(kids, list) else [kids]:
            structure(kid, found)
    return found


@pytest.mark.parametrize(("kind", "query"), [("gemeente", ""), ("bestuur", "gemeente=de-wolden")])
def test_a_screen_reader_finds_every_chart_header_and_section_in_the_pdf(
    seeded_app, client, kind, query
):
    """The PDFs claimed PDF/UA-1 with 0 of 18 charts described, no header scope, one heading."""
    add_support(seeded_app, *SUPPORT)
    data = pdf_of(client, f"/overzichten/{kind}.pdf?{query}")
    tags = structure(PdfReader(io.BytesIO(data)).trailer["/Root"]["/StructTreeRoot"], [])
    page = client.get(f"/overzichten/{kind}?{query}").text
    labels = [markup.unescape(a) for a in re.findall(r'role="img" aria-label="([^"]*)"', page)]
    figures = [str(t.get("/Alt", "")) for t in tags if t["/S"] == "/Figure"]
    described = [alt for alt in figures if not alt.startswith("kleur van ")]  # legend swatches
    assert len(figures) - len(described) == 4  # BAO, SBO, SO, SO+VSO beside their names
    assert sorted(described) == sorted(labels) and all(labels)
    # A cell of the heat map says its row and column, not only '50%'.
    assert any(re.fullmatch(r"[^:]+, Gedrag: [0-9]+%", alt) for alt in described)
    headers = [t for t in tags if t["/S"] == "/TH"]
    assert headers
    for header in headers:
        row = header["/P"].get_object()
        expected = "/Column" if row["/P"].get_object()["/S"] == "/THead" else "/Row"
        assert header["/A"]["/Scope"] == expected
    headings = [t["/S"] for t in tags if re.fullmatch(r"/H\d", t["/S"])]
    sections = re.findall(r"<caption>", page)  # each table on the page, and the 3 pictures
    assert headings.count("/H1") == 1
    assert headings.count("/H2") >= len(sections) - 1 + 3  # minus the table under the bars


@pytest.mark.parametrize(("kind", "query"), PDFS[:4])
def test_no_page_is_mostly_empty_and_no_total_stands_alone(seeded_app, client, kind, query):
    """A first page was 60-70% blank before a landscape table; one board row and its total
    made a page of their own."""
    add_support(seeded_app, *SUPPORT)
    with pdfplumber.open(io.BytesIO(pdf_of(client, f"/overzichten/{kind}.pdf?{query}"))) as pdf:
        pages = pdf.pages
        for number, page in enumerate(pages[:-1], 1):
            foot = page.height - 16 * 72 / 25.4
            used = max(c["bottom"] for c in page.chars if c["bottom"] < foot)
            assert used / foot > 0.6, f"page {number} of {len(pages)} filled {used / foot:.0%}"
        for page in pages:
            lines = page.extract_text().splitlines()
            for index, line in enumerate(lines):
                if not line.startswith("Totaal"):
                    continue
                above = list(enumerate(lines[:index]))
                starts = [i for i, t in above if re.fullmatch(TABLE_CAPTION, t)]
                ends = [i for i, t in above if t.startswith("Totaal")]
                if starts and starts[-1] > max(ends, default=-1):
                    continue  # the whole table is on this page
                # Continued from the page before: the total follows at least two of its rows.
                header = max(i for i, t in above if t.startswith("Naam"))
                assert index - header > 2, (page.page_number, lines[header:index])
