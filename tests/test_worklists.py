"""Worklists: every counted gap links to the admin list of exactly those schools."""

import html as htmllib
import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import Board, School, SchoolType
from registry.quality import BOARD_GAPS, SCHOOL_GAPS

GAP_ROW = re.compile(
    r"<td>([^<]+)</td>\s*<td class=\"text-right\"><a href=\"([^\"]+)\"[^>]*>(\d+)</a></td>"
)


def listed_ids(client, url: str) -> list[int]:
    """Every row the admin list shows behind url, page after page."""
    ids, page = [], 0
    while True:
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}page={page}")
        assert response.status_code == 200, url
        found = re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', response.text)
        if not found:
            return ids
        ids += [int(i) for i in found]
        page += 1


def dashboard_gaps(html: str) -> list[tuple[str, str, int]]:
    return [
        (htmllib.unescape(label), htmllib.unescape(url), int(number))
        for label, url, number in GAP_ROW.findall(html)
    ]


@pytest.fixture
def varied(seeded_app):
    """Gaps that are not all 'every school': a few filled in, one gap-holding school closed."""
    with seeded_app.app_context():
        schools = db.session.scalars(select(School).order_by(School.id)).all()
        schools[0].email = "info@dearendsvleugel.nl"
        schools[1].verified_on = date.today()
        schools[2].support_profile_adopted_on = date.today()
        no_website = next(s for s in schools if s.website is None and s.school_type.value == "BAO")
        no_website.closed_on = date(2020, 1, 1)  # closed: on nobody's worklist
        special = next(s for s in schools if s.school_type is not SchoolType.BAO)
        special.phone = "0528 123456"
        db.session.commit()
        return no_website.id


def test_every_dashboard_gap_links_to_exactly_the_schools_it_counts(login, varied):
    client = login("coordinator")
    gaps = dashboard_gaps(client.get("/admin/").text)
    assert len(gaps) == len(SCHOOL_GAPS) + len(BOARD_GAPS)
    for label, url, number in gaps:
        ids = listed_ids(client, url)
        assert len(ids) == number, label
        assert len(set(ids)) == len(ids), label
        assert varied not in ids or "website" not in label
    by_label = {label: number for label, _url, number in gaps}
    assert by_label["Scholen zonder website"] == 21  # 22 in the seed, one of them closed
    special = "Speciale scholen (SBO, SO) zonder volledig adres, telefoon, e-mail of website"
    assert by_label[special] == 7
    assert by_label["Scholen zonder e-mailadres"] == 115  # 117, one filled in, one closed


def test_each_worklist_holds_the_schools_that_miss_it(seeded_app, login, varied):
    client = login("coordinator")
    with seeded_app.app_context():
        special = {
            s.id
            for s in db.session.scalars(select(School).where(School.school_type != SchoolType.BAO))
        }
        no_website = {
            s.id
            for s in db.session.scalars(select(School).where(School.website.is_(None)))
            if s.is_open
        }
    assert set(listed_ids(client, "/admin/school/?flt0_speciaal_onvolledig=ja")) == special
    assert set(listed_ids(client, "/admin/school/?flt0_zonder_website=ja")) == no_website
    both = set(listed_ids(client, "/admin/school/?flt0_zonder_website=ja&flt1_zonder_adres=ja"))
    assert both == set()  # since DUO's file 09, every school has its address


def worklist_rows(client, url: str) -> dict[str, str]:
    """Each row of a worklist's first page: the school's code and what its row says is missing."""
    page = client.get(url).text
    rows = re.findall(
        r'<td class="col-vestigingscode">\s*([0-9A-Z]{6})\s*</td>.*?'
        r'<td class="col-missing">\s*([^<]*?)\s*</td>',
        page,
        re.S,
    )
    return dict(rows)


def test_each_worklist_row_says_what_is_missing(seeded_app, login, varied):
    with seeded_app.app_context():
        # A special school with address, phone and website: only its e-mail is missing.
        school = db.session.scalar(select(School).filter_by(vestigingscode="19SK00"))
        school.phone, school.website, school.email = "0522 25 19 82", "www.promes.nl", None
        db.session.commit()
    client = login("coordinator")
    special = worklist_rows(client, "/admin/school/?flt0_speciaal_onvolledig=ja")
    assert special["19SK00"] == "e-mailadres"
    assert all(special.values()) and len(special) == 7
    two = worklist_rows(client, "/admin/school/?flt0_zonder_website=ja&flt1_zonder_email=ja")
    assert two and all(reasons == "website, e-mailadres" for reasons in two.values())
    profiles = worklist_rows(client, "/admin/school/?flt0_zonder_profiel=ja")
    assert set(profiles.values()) == {"vastgesteld schoolondersteuningsprofiel"}
    boards = client.get("/admin/board/?flt0_zonder_adres=ja").text
    assert re.search(r'<td class="col-missing">\s*straat\s*</td>', boards)
    # Without a worklist, the list has no such column.
    assert "col-missing" not in client.get("/admin/school/").text


def test_the_about_page_links_each_school_gap_to_its_worklist(client, login, varied):
    about = client.get("/over").text
    dashboard = dashboard_gaps(login("medewerker").get("/admin/").text)
    for label, url, number in dashboard:
        row = re.search(
            rf"<th scope=\"row\">{re.escape(htmllib.escape(label, quote=False))}</th>"
            rf"<td class=\"num\">(\d+)</td><td><a href=\"([^\"]+)\">",
            about,
        )
        assert row, label
        assert (int(row.group(1)), htmllib.unescape(row.group(2))) == (number, url)
    # Board gaps open the board list.
    assert re.search(r"Besturen zonder adres</th><td class=\"num\">19</td><td><a href=", about)
    # The public page cannot open the admin: the link asks to log in first.
    first = htmllib.unescape(re.search(r'<td><a href="([^"]+)">Werklijst', about).group(1))
    assert "/inloggen" in client.get(first).headers["Location"]


def test_a_bestuur_sees_its_own_boards_worklist_first(seeded_app, login):
    client = login("bestuur", "41414")  # Stichting RENN4: the four special schools in Hoogeveen
    page = client.get("/admin/").text
    page = page[page.index("<main") :]  # the menu names the overviews 'Per gemeente' too
    own = page.index("Werklijst van Stichting RENN4")
    assert own < page.index("Per gemeente") < page.index("Gegevenskwaliteit")
    mine = dashboard_gaps(page[own : page.index("Per gemeente")])
    assert len(mine) == len(SCHOOL_GAPS)
    with seeded_app.app_context():
        board = db.session.scalar(select(Board).filter_by(board_number="41414"))
        own_ids = {s.id for s in board.schools}
    for label, url, number in mine:
        assert "flt1_bestuur=41414" in url
        ids = listed_ids(client, url)
        assert len(ids) == number and set(ids) <= own_ids, label
    counts = {label: n for label, _u, n in mine}
    special = "Speciale scholen (SBO, SO) zonder volledig adres, telefoon, e-mail of website"
    assert counts[special] == 4
    assert "Werklijst van" not in login("coordinator").get("/admin/").text


def test_the_school_list_names_its_filters_in_dutch(login):
    page = login("coordinator").get("/admin/school/").text
    filters = re.search(r"field-filters\">(.*?)</div>", page, re.S).group(1)
    names = [htmllib.unescape(n) for n in re.findall(r">([^<]+)</a>", filters)]
    for name in ("Gemeente", "Bestuur", "Netwerk", "Ondersteuningsgebied", "Zonder website"):
        assert name in names
    for gap in SCHOOL_GAPS:
        assert str(gap.filter_name) in names
    assert not [n for n in names if "/" in n or "_" in n or n.islower()], names


@pytest.mark.parametrize(
    "query",
    [
        "flt0_zonder_website=nee",
        "flt0_zonder_website=",
        "flt0_zonder_website=ja%00",
        "flt0_bestuur=4119",
        "flt0_bestuur=abcde",
        "flt0_bestuur=%EF%BC%94%EF%BC%91%EF%BC%91%EF%BC%99%EF%BC%96",  # full-width digits
        "flt0_bestuur=" + "9" * 300,
        "flt0_onbekend=ja",
        "flt9999999_zonder_email=ja",
    ],
)
def test_a_bad_worklist_value_is_a_message_not_a_500(login, query):
    response = login("medewerker").get(f"/admin/school/?{query}")
    assert response.status_code in (200, 400), query
    if response.status_code == 200 and "onbekend" not in query and "9999999" not in query:
        assert "alert" in response.text
        assert response.text.count("Ongeldige filterwaarde") <= 1, query  # said once


def test_a_repeated_worklist_parameter_is_refused(login):
    response = login("coordinator").get(
        "/admin/school/?flt0_zonder_website=ja&flt0_zonder_website=ja"
    )
    assert response.status_code == 400


def test_the_worklist_downloads_and_batch_follow_the_filter(login, varied):
    client = login("coordinator")
    ids = listed_ids(client, "/admin/school/?flt0_zonder_website=ja")
    csv = client.get("/admin/school/export.csv?flt0_zonder_website=ja").text.splitlines()
    assert len(csv) == len(ids) + 1
    batch = client.get("/admin/school/bulk/verified/?filter=all&flt0_zonder_website=ja").text
    assert len(re.findall(r"<li>", batch)) >= len(ids) or str(len(ids)) in batch


def test_special_school_pages_do_not_promise_basic_support(client):
    special = client.get("/scholen/00JH00").text  # SSBO De Kameleon
    assert "Elke basisschool biedt basisondersteuning" not in special
    assert "is nog niet vastgelegd" in special
    regular = client.get("/scholen/05SX00").text
    assert "Elke basisschool biedt basisondersteuning" in regular


def test_each_board_gap_links_to_exactly_the_boards_it_counts(seeded_app, login):
    with seeded_app.app_context():
        nameless = Board(board_number="99999")  # new from DUO: a number, nothing else yet
        dissolved = db.session.scalar(select(Board).where(Board.street.is_(None)).limit(1))
        dissolved.dissolved_on = date(2020, 1, 1)  # dissolved: on nobody's worklist
        db.session.add(nameless)
        db.session.commit()
        nameless_id, dissolved_id = nameless.id, dissolved.id
        without_street = {
            b.id for b in db.session.scalars(select(Board).where(Board.street.is_(None)))
        } - {dissolved_id}
    client = login("coordinator")
    gaps = {label: (url, n) for label, url, n in dashboard_gaps(client.get("/admin/").text)}
    for gap in BOARD_GAPS:
        url, number = gaps[str(gap.label)]
        assert url.startswith("/admin/board/?flt0_")
        ids = listed_ids(client, url)
        assert len(ids) == number and len(set(ids)) == number, gap.label
    assert set(listed_ids(client, "/admin/board/?flt0_zonder_adres=ja")) == without_street
    assert listed_ids(client, "/admin/board/?flt0_zonder_naam=ja") == [nameless_id]
    refused = client.get("/admin/board/?flt0_zonder_naam=nee")
    assert refused.status_code in (200, 400) and "alert" in refused.text
