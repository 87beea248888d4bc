"""A group's totals are the sum of the schools its list shows: on its page, in the list of
groups, in the overview (HTML and XLSX) and in the API, on every reference date."""

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import delete, select, update
from test_overviews import table_of

from registry import api, directory, groupings, overviews
from registry.cache import bump
from registry.db import db
from registry.models import Board, Municipality, PupilCount, School
from registry.search import reference_dates

# (filter, key, label, the list page, the API's list, its key field): one group of each kind.
GROUPS = [
    ("gemeente", "meppel", "Meppel", "gemeenten", "municipalities", "slug"),
    ("bestuur", "41196", "Stichting WIES", "besturen", "boards", "board_number"),
    ("netwerk", "meppel", "Meppel", "netwerken", "networks", "slug"),
]


def number(text: str) -> int:
    """A figure as the Dutch pages write it (3.191)."""
    return int(text.replace(".", ""))


def listed_on_page(client, path: str, day: str) -> tuple[int, int]:
    """(schools, pupils) of every school a group's page lists, over all its pages."""
    schools = pupils = 0
    page = 1
    while True:
        html = client.get(path, query_string={"peildatum": day, "page": page}).get_data(True)
        for item in html.split('<li class="result">')[1:]:
            schools += 1
            counted = re.search(r"(\d+) leerlingen?</span>", item.split("</li>")[0])
            pupils += int(counted.group(1)) if counted else 0
        if 'rel="next"' not in html:
            return schools, pupils
        page += 1


def listed_by_api(client, facet: str, key: str, day: str) -> tuple[int, int]:
    """(schools, pupils) of every school the API lists under one group's filter."""
    items, page = [], 1
    while True:
        answer = client.get(
            "/api/v1/schools", query_string={facet: key, "peildatum": day, "page": page}
        ).json
        items += answer["items"]
        if "next" not in answer["links"]:
            return len(items), sum(item["pupils"] or 0 for item in items)
        page += 1


def page_totals(client, path: str, day: str) -> tuple[int, int]:
    html = client.get(path, query_string={"peildatum": day}).get_data(True)
    found = re.search(r'Totaal</th><td class="num">(\d+)</td><td class="num">([\d.]+)</td>', html)
    return int(found.group(1)), number(found.group(2))


def group_list_row(client, listing: str, label: str, day: str) -> tuple[int, int]:
    html = client.get(f"/{listing}", query_string={"peildatum": day}).get_data(True)
    found = re.search(
        rf">{re.escape(label)}</a>.*?</th>\s*<td class=\"num\">(\d+)</td>\s*"
        rf"<td class=\"num\">([\d.]+)</td>",
        html,
        re.S,
    )
    return int(found.group(1)), number(found.group(2))


def short_date(day: str) -> str:
    """A reference date (always 1 October here) as the overviews head their columns."""
    assert day.endswith("-10-01")
    return f"1 okt {day[:4]}"


def overview_row(client, facet: str, label: str, day: str) -> tuple[int, int]:
    """(schools, pupils on the date) in the page: the pupils' last column is the chosen date."""
    html = client.get(f"/overzichten/{facet}", query_string={"peildatum": day}).get_data(True)
    table = html.split("</table>")[0]
    header = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)
    assert header[-1] == short_date(day)
    row = re.search(rf">{re.escape(label)}(?:</a>)?</th>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    return number(cells[4]), number(cells[-1])


def overview_xlsx_row(client, facet: str, label: str, day: str) -> tuple[int, int]:
    data = client.get(f"/overzichten/{facet}.xlsx", query_string={"peildatum": day}).data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header, *rows = table_of(sheet)  # below the sheet's title, date, selection and source
    row = dict(zip(header, next(r for r in rows if r[0] == label), strict=True))
    return row["Scholen totaal"], row[f"Leerlingen {short_date(day)}"]


def narrowed_overview_total(client, facet: str, key: str, day: str) -> tuple[int, int]:
    """(schools, pupils) of the overview narrowed to the group by the directory's filter."""
    data = client.get(f"/overzichten/{facet}.xlsx", query_string={"peildatum": day, facet: key})
    total = table_of(openpyxl.load_workbook(io.BytesIO(data.data)).worksheets[0])[-1]
    return total[5], total[-1]


def api_item(client, endpoint: str, field: str, key: str, day: str) -> dict:
    items = client.get(f"/api/v1/{endpoint}", query_string={"peildatum": day}).json["items"]
    return next(item for item in items if item[field] == key)


def assert_every_total_is_its_list(client, facet, key, label, listing, endpoint, field, day):
    schools, pupils = listed_on_page(client, f"/{listing}/{key}", day)
    assert schools > 0 and pupils > 0
    assert listed_by_api(client, facet, key, day) == (schools, pupils)
    assert page_totals(client, f"/{listing}/{key}", day) == (schools, pupils)
    assert group_list_row(client, listing, label, day) == (schools, pupils)
    assert overview_row(client, facet, label, day) == (schools, pupils)
    assert overview_xlsx_row(client, facet, label, day) == (schools, pupils)
    assert narrowed_overview_total(client, facet, key, day) == (schools, pupils)
    item = api_item(client, endpoint, field, key, day)
    assert (item["schools"], item["pupils"], item["pupils_reference_date"]) == (
        schools,
        pupils,
        day,
    )
    return pupils


@pytest.mark.parametrize(("facet", "key", "label", "listing", "endpoint", "field"), GROUPS)
def test_a_group_total_is_the_sum_of_its_schools_on_every_reference_date(
    seeded_app, client, facet, key, label, listing, endpoint, field
):
    with seeded_app.app_context():
        days = [d.isoformat() for d in reference_dates()]
    assert len(days) == 5
    pupils = {
        day: assert_every_total_is_its_list(
            client, facet, key, label, listing, endpoint, field, day
        )
        for day in days
    }
    assert len(set(pupils.values())) > 1  # the dates really differ, so the check means something


def test_meppel_in_2021_counts_the_pupils_of_2021(client):
    """The bug this module ends: the totals counted the newest date whatever the page showed."""
    assert page_totals(client, "/gemeenten/meppel", "2021-10-01") == (17, 3191)
    assert page_totals(client, "/gemeenten/meppel", "2025-10-01") == (17, 3221)
    item = api_item(client, "municipalities", "slug", "meppel", "2021-10-01")
    assert (item["pupils"], item["schools"]) == (3191, 17)


def test_closed_schools_and_missing_counts_leave_totals_equal_to_the_list(seeded_app, client):
    with seeded_app.app_context():
        meppel = db.session.scalar(select(Municipality.id).filter_by(slug="meppel"))
        first, second = db.session.scalars(
            select(School.id).filter_by(municipality_id=meppel).order_by(School.name).limit(2)
        )
        db.session.execute(update(School).filter_by(id=first).values(closed_on=date(2024, 8, 1)))
        db.session.execute(
            delete(PupilCount).filter_by(school_id=second, reference_date=date(2023, 10, 1))
        )
        # A board whose name DUO has not given yet is shown and counted by its number.
        db.session.execute(update(Board).filter_by(board_number="41196").values(name=None))
        bump(db.session.connection())
        db.session.commit()
    for day in ("2023-10-01", "2025-10-01"):
        group = ("gemeente", "meppel", "Meppel", "gemeenten", "municipalities", "slug")
        assert_every_total_is_its_list(client, *group, day)
        assert page_totals(client, "/gemeenten/meppel", day)[0] == 16
        board = ("bestuur", "41196", "41196", "besturen", "boards", "board_number")
        assert_every_total_is_its_list(client, *board, day)


def test_the_api_takes_a_reference_date_for_groups_and_refuses_an_unknown_one(client):
    newest = client.get("/api/v1/municipalities").json["items"][0]
    assert newest["pupils_reference_date"] == "2025-10-01"
    assert client.get("/api/v1/boards/41196?peildatum=2022-10-01").json["pupils"] > 0
    for path in ("municipalities", "boards", "networks", "boards/41196"):
        wrong = client.get(f"/api/v1/{path}?peildatum=2021-09-01")
        assert wrong.status_code == 400
        assert wrong.json["error"]["message"].startswith(
            "Parameter peildatum: Voor 2021-09-01 zijn geen leerlingen geteld. Kies uit 2021-10-01"
        )
        assert client.get(f"/api/v1/{path}?peildatum=gisteren").status_code == 400
    assert client.get("/api/v1/boards/99999?peildatum=2022-10-01").status_code == 404


def test_the_api_documents_the_reference_date_and_the_pupils(client):
    document = client.get("/api/v1/openapi.json").json
    for path in ("/boards", "/boards/{number}", "/municipalities", "/networks", "/schools"):
        parameter = next(
            p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "peildatum"
        )
        assert parameter["schema"]["enum"][-1] == "2025-10-01"
    for schema in ("Board", "Municipality", "Network"):
        assert {"pupils", "pupils_reference_date"} <= set(
            document["components"]["schemas"][schema]["required"]
        )


def test_the_group_lists_take_a_reference_date_and_pass_it_on(client):
    html = client.get("/gemeenten?peildatum=2022-10-01").get_data(True)
    assert 'href="/gemeenten/meppel?peildatum=2022-10-01"' in html
    assert 'href="/gemeenten.xlsx?peildatum=2022-10-01"' in html
    assert "telling van DUO op 1 oktober 2022" in html
    plain = client.get("/gemeenten").get_data(True)
    assert 'href="/gemeenten/meppel"' in plain and "1 oktober 2025" in plain
    rows = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get("/besturen.xlsx?peildatum=2021-10-01").data)
        ).active.iter_rows(values_only=True)
    )
    wies = next(row for row in rows if row[0] == "41196")
    assert wies[-2:] == page_totals(client, "/besturen/41196", "2021-10-01")
    assert client.get("/gemeenten?peildatum=2021-09-01").status_code == 400
    assert client.get("/gemeenten.csv?peildatum=morgen").status_code == 400


def test_the_groupings_are_declared_once_for_every_filter_they_stand_for(seeded_app):
    assert set(groupings.GROUPINGS) == {"gemeente", "bestuur", "netwerk"}
    with seeded_app.test_request_context():
        for facet, grouping in groupings.GROUPINGS.items():
            assert groupings.BY_LISTING[grouping.listing] is grouping
            record = db.session.scalars(select(grouping.model)).first()
            key = getattr(record, grouping.key)
            assert grouping.url(record) == f"/{grouping.listing}/{key}"
            total = next(r for r in groupings.group_totals(grouping) if r.record.id == record.id)
            listed = seeded_app.test_client().get(f"/api/v1/schools?{facet}={key}").json
            assert total.schools == listed["total"]


@pytest.mark.parametrize("module", [directory, api, overviews])
def test_each_module_registers_its_own_blueprint(module):
    from flask import Flask

    app = Flask(__name__)
    module.init_app(app)
    assert app.blueprints[module.bp.name] is module.bp
