"""The outside probe, kept: each role attacks the admin and the public site the way a hostile
user did (repeated and malformed ids, foreign records, reading what the role should not, NUL
and control characters, numbers past 64 bits). The figure that counts: no answer >= 500, no
record changed that the role may not change, nothing leaked."""

import re

import pytest
from helpers import csrf_from, form_fields, with_values
from sqlalchemy import func, insert, select
from test_fuzz import PUBLIC_PATHS

from registry.db import db
from registry.history import Change
from registry.models import Board, CorrectionRequest, CorrectionStatus, Network, School, User

OWN_BOARD = "41196"
# The Dutch reasons a refused admin request gives.
REFUSAL = "geen geldig recordnummer|geheel getal|meer dan eens|ongeldig recordnummer"


def foreign_school(app) -> tuple[int, int]:
    """A school of another board than OWN_BOARD, and its board's id."""
    with app.app_context():
        school = db.session.scalars(
            select(School).join(School.board).where(Board.board_number != OWN_BOARD)
        ).first()
        return school.id, school.board_id


def own_school(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(School.id).join(School.board).where(Board.board_number == OWN_BOARD)
        )


def school_state(app, school_id: int) -> tuple:
    with app.app_context():
        school = db.session.get(School, school_id)
        return school.board_id, school.phone, school.name, school.version


# 1. A bestuur account and someone else's school.


@pytest.mark.parametrize(
    "query",
    ["?id=&id={target}", "?id={own}&id={target}", "?id={target}&id={own}", "?id=1&id=8"],
)
def test_a_repeated_id_is_refused_everywhere_a_bestuur_could_use_it(seeded_app, login, query):
    target, _board = foreign_school(seeded_app)
    query = query.format(target=target, own=own_school(seeded_app))
    client = login("bestuur", OWN_BOARD)
    for url in ("/admin/school/edit/", "/admin/school/details/", "/admin/school/geschiedenis/"):
        assert client.get(url + query).status_code == 400, url
    before = school_state(seeded_app, target)
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    response = client.post(
        "/admin/school/edit/" + query,
        data={"csrf_token": token, "name": "Overgenomen", "phone": "0522 000000"},
    )
    assert response.status_code == 400
    assert school_state(seeded_app, target) == before


def test_a_bestuur_cannot_take_over_a_school_by_any_route(seeded_app, login):
    target, foreign_board = foreign_school(seeded_app)
    own = own_school(seeded_app)
    client = login("bestuur", OWN_BOARD)
    with seeded_app.app_context():
        own_board_id = db.session.scalar(select(Board.id).filter_by(board_number=OWN_BOARD))
    fields = form_fields(client.get(f"/admin/school/edit/?id={own}").get_data(as_text=True))
    before = school_state(seeded_app, target)
    token = dict(fields)["csrf_token"]
    attempts = [
        ("/admin/school/edit/?id=" + str(target), with_values(fields, board=str(own_board_id))),
        ("/admin/school/edit/?id=0" + str(target), with_values(fields)),
        ("/admin/school/edit/?id=%20" + str(target), with_values(fields)),
        (f"/admin/school/edit/?id={own}", with_values(fields, id=str(target))),
        ("/admin/school/action/", {"csrf_token": token, "action": "verified", "rowid": target}),
        ("/admin/school/bulk/verified/", {"csrf_token": token, "ids": str(target)}),
    ]
    for url, data in attempts:
        response = client.post(url, data=data)
        assert response.status_code in (302, 400, 403), (url, response.status_code)
    assert school_state(seeded_app, target) == before
    # Its own school it may edit, but not hand to another board.
    response = client.post(
        f"/admin/school/edit/?id={own}", data=with_values(fields, board=str(foreign_board))
    )
    assert response.status_code == 200
    assert "eigen bestuur" in response.get_data(as_text=True)
    with seeded_app.app_context():
        assert db.session.get(School, own).board_id == own_board_id


@pytest.mark.parametrize(
    "url",
    [
        "/admin/school/details/?id=abc",
        "/admin/school/details/?id=-1",
        "/admin/school/details/?id=99999999999999999999999",
        "/admin/school/edit/?id=1.5",
        "/admin/school/geschiedenis/?id=%C2%B2",
        "/admin/board/details/?id=1,2",
        "/admin/school/?page=-1",
        "/admin/school/?page=99999999999999999999999",
        "/admin/school/?page_size=-5",
        "/admin/school/?sort=abc",
        "/admin/school/?sort=1&sort=2",
        "/admin/correction/behandelen/?id=x",
        "/admin/school/bulk/verified/?ids=99999999999999999999999",
        "/admin/school/bulk/verified/?ids=%C2%B2",
    ],
)
def test_malformed_ids_and_numbers_are_a_clear_answer_not_a_500(login, url):
    response = login("coordinator").get(url)
    assert response.status_code in (302, 400, 404), (url, response.status_code)
    if response.status_code == 400:
        assert re.search(REFUSAL, response.get_data(as_text=True)), url


@pytest.mark.sweep
def test_an_unknown_choice_in_a_filter_is_ignored_with_a_message(login):
    client = login("coordinator")
    response = client.get("/admin/school/")
    filters = set(re.findall(r"flt\d+_(\d+)", response.get_data(as_text=True)))
    filters |= {str(n) for n in range(12)}
    for number in filters:
        for value in ("abc", "\x0b", "9" * 30, "-1", ""):
            answer = client.get("/admin/school/", query_string={f"flt0_{number}": value})
            assert answer.status_code < 500, (number, value)


def test_batch_and_action_ids_must_be_record_ids(login):
    client = login("coordinator")
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    for rowid in ("abc", "99999999999999999999999", "1 OR 1=1", "²"):
        response = client.post(
            "/admin/board/action/", data={"csrf_token": token, "action": "delete", "rowid": rowid}
        )
        assert response.status_code == 400, rowid
        response = client.post(
            "/admin/school/bulk/verified/", data={"csrf_token": token, "ids": rowid}
        )
        assert response.status_code == 400, rowid


# 9. Reading what the role should not.


def test_account_changes_are_for_beheerders_only(seeded_app, login, make_user):
    make_user("coordinator", email="geheim-account@example.org")
    for role in ("medewerker", "coordinator"):
        client = login(role)
        for url in ("/admin/change/", "/admin/change/export.csv", "/admin/change/?search=geheim"):
            text = client.get(url).get_data(as_text=True)
            assert "geheim-account@example.org" not in text, (role, url)
    beheerder = login("beheerder")
    assert "geheim-account@example.org" in beheerder.get("/admin/change/export.csv").get_data(
        as_text=True
    )


def test_the_senders_contact_is_for_coordinators_only(seeded_app, login):
    with seeded_app.app_context():
        correction = CorrectionRequest(
            school_id=1, field="telefoon", proposed_value="0522 111111", contact="ouder@thuis.nl"
        )
        db.session.add(correction)
        db.session.commit()
        correction_id = correction.id
    urls = [
        "/admin/correction/",
        f"/admin/correction/details/?id={correction_id}",
        f"/admin/correction/geschiedenis/?id={correction_id}",
        "/admin/change/",
        "/admin/change/export.csv",
    ]
    for role, board in (("bestuur", OWN_BOARD), ("medewerker", None)):
        client = login(role, board)
        for url in urls:
            text = client.get(url).get_data(as_text=True)
            assert "ouder@thuis.nl" not in text, (role, url)
        assert "ouder@thuis.nl" not in client.get("/admin/correction/?sort=4").get_data(
            as_text=True
        )
    coordinator = login("coordinator")
    assert "ouder@thuis.nl" in coordinator.get("/admin/correction/").get_data(as_text=True)


# 5 and 11. Control characters at input.


@pytest.mark.parametrize("value", ["De\x0bSchool", "Tab\tin naam", "x\x1by"])
def test_control_characters_are_refused_at_input_with_a_dutch_message(seeded_app, login, value):
    client = login("coordinator")
    fields = form_fields(client.get("/admin/school/edit/?id=1").get_data(as_text=True))
    before = school_state(seeded_app, 1)
    response = client.post(
        "/admin/school/edit/?id=1", data=with_values(fields, name=value, website="www.a\tb.nl")
    )
    assert response.status_code == 200
    assert "onzichtbaar stuurteken" in response.get_data(as_text=True)
    assert school_state(seeded_app, 1) == before


def test_an_accepted_correction_cannot_bring_in_a_control_character(seeded_app, login):
    with seeded_app.app_context():
        # Straight into the table: the public form refuses it already (a correction older than
        # that rule could still hold one).
        correction_id = db.session.execute(
            insert(CorrectionRequest)
            .values(
                school_id=1,
                field="naam",
                proposed_value="Nieuw\x0bnaam",
                status=CorrectionStatus.OPEN,
            )
            .returning(CorrectionRequest.id)
        ).scalar()
        db.session.commit()
    client = login("coordinator")
    url = f"/admin/correction/behandelen/?id={correction_id}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data=with_values(form_fields(page), decision="accept"))
    assert response.status_code == 400
    assert "onzichtbaar stuurteken" in response.get_data(as_text=True)
    with seeded_app.app_context():
        assert "\x0b" not in db.session.get(School, 1).name
    assert seeded_app.test_client().get("/scholen.xlsx").status_code == 200


# 11. Headers for logged-in pages; HSTS only when asked for.


def test_logged_in_pages_are_not_stored_and_hsts_is_a_setting(make_app, login, client):
    admin = login("medewerker")
    for url in ("/admin/", "/admin/school/", "/admin/school/export.csv"):
        assert admin.get(url).headers["Cache-Control"] == "no-store", url
    assert "Strict-Transport-Security" not in client.get("/").headers
    app = make_app("hsts", HSTS_MAX_AGE=31536000)
    assert app.test_client().get("/healthz").headers["Strict-Transport-Security"] == (
        "max-age=31536000"
    )


# 6. The public site: NUL, huge numbers, control characters, over-long values.

# The fuzzers of the public paths, the public queries and the admin's parameters are in
# test_fuzz.py; its list of public paths serves here too.


def test_nul_in_a_public_path_is_a_400_not_a_database_error(client):
    for path in PUBLIC_PATHS:
        for part in ("%00", "a%00b", "05SX00%00"):
            response = client.get(path.format(part))
            assert response.status_code in (400, 404), (path, part, response.status_code)


def test_nothing_was_written_by_the_readers(seeded_app, login):
    """A medewerker's walk through every admin list and export leaves the history as it was."""
    with seeded_app.app_context():
        before = db.session.scalar(select(func.count(Change.id)))
        users = db.session.scalar(select(func.count(User.id)))
    from flask_admin.contrib.sqla import ModelView

    admin = seeded_app.extensions["admin"][0]
    client = login("medewerker")
    for view in (v.endpoint for v in admin._views if isinstance(v, ModelView)):
        client.get(f"/admin/{view}/?id=1&id=2")
    with seeded_app.app_context():
        # Logging in wrote last_login_at (not recorded) and one account (recorded).
        assert db.session.scalar(select(func.count(Change.id))) <= before + 1
        assert db.session.scalar(select(func.count(User.id))) == users + 1


# Found by tools/probe.py.


def test_delete_selected_works_with_the_posted_ids_on_every_database(seeded_app, login):
    with seeded_app.app_context():
        network = Network(name="Leeg netwerk", slug="leeg-netwerk")
        db.session.add(network)
        db.session.commit()
        network_id = network.id
    client = login("coordinator")
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    response = client.post(
        "/admin/network/action/",
        data={"csrf_token": token, "action": "delete", "rowid": [str(network_id), "990001"]},
    )
    assert response.status_code == 302
    with seeded_app.app_context():
        assert db.session.get(Network, network_id) is None


def test_an_account_change_cannot_be_opened_by_its_id_either(seeded_app, login, make_user):
    make_user("coordinator", email="geheim-account@example.org")
    with seeded_app.app_context():
        change_id = db.session.scalar(
            select(Change.id).where(Change.record_type == User.__tablename__)
        )
    for role in ("medewerker", "coordinator"):
        client = login(role)
        for url in ("/admin/change/geschiedenis/", "/admin/change/details/"):
            text = client.get(f"{url}?id={change_id}").get_data(as_text=True)
            assert "geheim-account@example.org" not in text, (role, url)


@pytest.mark.parametrize("value", ["c1\x85nel", "c1\x9bcsi"])
def test_c1_control_characters_are_refused_too(seeded_app, login, value):
    client = login("coordinator")
    fields = form_fields(client.get("/admin/school/edit/?id=1").get_data(as_text=True))
    response = client.post("/admin/school/edit/?id=1", data=with_values(fields, name=value))
    assert "onzichtbaar stuurteken" in response.get_data(as_text=True)
    with seeded_app.app_context():
        assert db.session.get(School, 1).name != value


def test_a_forwarded_prefix_never_turns_links_off_the_site(make_app):
    from flask_migrate import upgrade

    from registry.seed import load_seed

    app = make_app("proxied", PROXY_COUNT=1)
    with app.app_context():
        upgrade()
        load_seed()
    page = app.test_client().get(
        "/scholen/05SX00", headers={"X-Forwarded-Prefix": "//probe-evil.example"}
    )
    assert page.status_code == 200 and "probe-evil" not in page.get_data(as_text=True)
