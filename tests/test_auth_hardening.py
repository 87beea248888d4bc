"""Logging in and sessions under attack: copied cookies, open redirects, timing, weak passwords."""

import re
from urllib.parse import quote

import pytest
from helpers import PASSWORD, csrf_from, form_fields, sign_in, with_values
from sqlalchemy import select

from registry import auth, create_app, models
from registry.db import db
from registry.models import Board, Role, User
from registry.passwords import password_problem

EXPORT = "/admin/school/export.csv"


def post_login(client, email, password=PASSWORD, query="", **kwargs):
    token = csrf_from(client.get("/inloggen", **kwargs).get_data(as_text=True))
    return client.post(
        f"/inloggen{query}",
        data={"csrf_token": token, "email": email, "password": password},
        **kwargs,
    )


def session_cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def replay(app, cookie: str):
    """A new browser that carries a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return thief


def assert_logged_in(client):
    assert client.get("/admin/").status_code == 200
    assert client.get(EXPORT).status_code == 200


def assert_refused(client):
    home = client.get("/admin/")
    assert home.status_code == 302 and home.headers["Location"].startswith("/inloggen")
    export = client.get(EXPORT)
    assert export.status_code == 302 and export.headers["Location"].startswith("/inloggen")


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).filter_by(email=email))


def log_in_as(app, make_user, role, board_number=None, email=None):
    email = make_user(role, board_number, email=email)
    client = app.test_client()
    assert sign_in(app, client, email).status_code == 302
    return email, client


def save_user_in_admin(beheerder, uid: int, **changes):
    """Edit an account through the admin's form the way a browser would submit it."""
    fields = form_fields(beheerder.get(f"/admin/user/edit/?id={uid}").get_data(as_text=True))
    if changes.pop("active", True) is False:
        fields = [(name, value) for name, value in fields if name != "active"]
    response = beheerder.post(f"/admin/user/edit/?id={uid}", data=with_values(fields, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


# Ending sessions


def test_a_cookie_copied_before_logout_opens_nothing_after_it(seeded_app, make_user):
    _email, client = log_in_as(seeded_app, make_user, "medewerker")
    cookie = session_cookie(seeded_app, client)
    assert_logged_in(replay(seeded_app, cookie))  # the copy works while the session lives
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    assert client.post("/uitloggen", data={"csrf_token": token}).status_code == 302
    assert_refused(replay(seeded_app, cookie))
    assert_refused(client)


def test_logging_out_without_a_session_is_harmless(client):
    token = csrf_from(client.get("/inloggen").get_data(as_text=True))
    response = client.post("/uitloggen", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/inloggen"


def test_a_password_change_ends_the_copied_cookie_of_another_browser(seeded_app, make_user):
    email, here = log_in_as(seeded_app, make_user, "coordinator")
    elsewhere = seeded_app.test_client()
    assert sign_in(seeded_app, elsewhere, email).status_code == 302
    cookie = session_cookie(seeded_app, elsewhere)
    assert_logged_in(replay(seeded_app, cookie))
    new = "zeven zeilboten op het ijsselmeer"
    token = csrf_from(here.get("/wachtwoord").get_data(as_text=True))
    response = here.post(
        "/wachtwoord", data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new}
    )
    assert response.status_code == 302
    assert_logged_in(here)
    assert_refused(replay(seeded_app, cookie))
    assert_refused(elsewhere)


@pytest.mark.parametrize(
    "changes",
    [{"role": "medewerker"}, {"active": False}],
    ids=["role", "deactivated"],
)
def test_a_beheerder_changing_role_or_deactivating_ends_the_sessions(
    seeded_app, make_user, login, changes
):
    email, victim = log_in_as(seeded_app, make_user, "coordinator")
    cookie = session_cookie(seeded_app, victim)
    save_user_in_admin(login("beheerder"), user_id(seeded_app, email), **changes)
    assert_refused(replay(seeded_app, cookie))
    assert_refused(victim)


def test_editing_only_the_name_in_the_admin_keeps_the_sessions(seeded_app, make_user, login):
    email, victim = log_in_as(seeded_app, make_user, "bestuur", "41196")
    cookie = session_cookie(seeded_app, victim)
    save_user_in_admin(login("beheerder"), user_id(seeded_app, email), name="Nieuwe naam")
    assert replay(seeded_app, cookie).get("/admin/").status_code == 200
    with seeded_app.app_context():
        assert db.session.scalar(select(User.name).filter_by(email=email)) == "Nieuwe naam"


def test_a_board_change_in_the_admin_ends_the_sessions(seeded_app, make_user, login):
    email, victim = log_in_as(seeded_app, make_user, "bestuur", "41196")
    cookie = session_cookie(seeded_app, victim)
    with seeded_app.app_context():
        other = db.session.scalar(select(Board.id).where(Board.board_number != "41196").limit(1))
    save_user_in_admin(login("beheerder"), user_id(seeded_app, email), board=str(other))
    with seeded_app.app_context():
        assert db.session.scalar(select(User.board_id).filter_by(email=email)) == other
    assert_refused(replay(seeded_app, cookie))


@pytest.mark.parametrize("change", ["role", "board", "board_id", "active"])
def test_a_change_of_rights_in_the_model_ends_the_sessions(seeded_app, make_user, change):
    """Wherever the change is made (CLI, import, a script): the model ends the sessions."""
    email, victim = log_in_as(seeded_app, make_user, "bestuur", "41196")
    cookie = session_cookie(seeded_app, victim)
    with seeded_app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        other = db.session.scalar(select(Board).where(Board.board_number != "41196").limit(1))
        if change == "role":
            user.role = Role.MEDEWERKER
            user.board = None
        elif change == "board":
            user.board = other
        elif change == "board_id":
            user.board_id = other.id
        else:
            user.active = False
        db.session.commit()
        if change == "active":
            # Switched on again: the old cookie must stay dead, not come back to life.
            user.active = True
            db.session.commit()
    assert_refused(replay(seeded_app, cookie))
    assert_refused(victim)


def test_assigning_the_same_values_again_keeps_the_sessions(seeded_app, make_user):
    email, victim = log_in_as(seeded_app, make_user, "bestuur", "41196")
    with seeded_app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        db.session.expire_all()  # nothing loaded: the old values are not known in advance
        user.board = db.session.scalar(select(Board).filter_by(board_number="41196"))
        user.role, user.active, user.name = Role.BESTUUR, True, "Zelfde rechten"
        db.session.commit()
    assert victim.get("/admin/").status_code == 200


# The address after logging in

SCHOOLS = "/admin/school/?search=Hoogeveen&page=2"
SAFE_NEXT = [
    ("//evil.example/x", "/admin/"),
    ("/\\evil.example", "/admin/"),
    ("\\\\evil.example", "/admin/"),
    ("/\t/evil.example", "/admin/"),
    ("\t//evil.example", "/admin/"),
    ("/\n/evil.example", "/admin/"),
    ("https://evil.example/", "/admin/"),
    ("HTTPS:evil.example", "/admin/"),
    ("javascript:alert(1)", "/admin/"),
    (" /x", "/x"),
    ("/x\r\nSet-Cookie: a=b", "/xSet-Cookie: a=b"),
    ("\x00", "/admin/"),
    ("/x\x00y", "/admin/"),
    ("/x\x7fy", "/admin/"),
    ("/" + "a" * 10_000, "/admin/"),
    ("", "/admin/"),
    (None, "/admin/"),
    (SCHOOLS, SCHOOLS),
]


@pytest.mark.parametrize(("target", "expected"), SAFE_NEXT)
def test_safe_next_reads_the_address_as_a_browser_does(seeded_app, target, expected):
    with seeded_app.test_request_context():
        assert auth._safe_next(target) == expected


def test_login_redirects_only_within_the_site(seeded_app, make_user):
    email = make_user("medewerker")  # no second factor: the password's answer is the redirect
    cases = [
        ("?next=/%09/evil.example", "/admin/"),
        ("?next=/%5Cevil.example", "/admin/"),
        ("?next=%5C%5Cevil.example", "/admin/"),
        ("?next=%2F%2Fevil.example", "/admin/"),
        ("?next=https://evil.example", "/admin/"),
        ("?next=javascript:alert(1)", "/admin/"),
        ("?next=%20/x", "/x"),
        ("?next=/x%0D%0ASet-Cookie:%20a=b", "/xSet-Cookie:%20a=b"),
        ("?next=" + "/a" * 5_000, "/admin/"),
        ("?next=" + quote(SCHOOLS, safe=""), SCHOOLS),
    ]
    for number, (query, expected) in enumerate(cases):
        # Each from its own address: the login throttle counts attempts per address.
        environ = {"environ_base": {"REMOTE_ADDR": f"10.0.0.{number + 1}"}}
        response = post_login(seeded_app.test_client(), email, query=query, **environ)
        assert response.status_code == 302, query
        assert response.headers["Location"] == expected
        assert not any(c.startswith("a=") for c in response.headers.get_all("Set-Cookie"))


def test_a_nul_in_next_is_never_followed(seeded_app, make_user):
    email = make_user("coordinator")
    response = post_login(seeded_app.test_client(), email, query="?next=%00")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"] == "/admin/"


# Timing: an unknown address costs the same password check as a known one


@pytest.fixture
def hash_checks(monkeypatch):
    calls = []
    real = auth.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    # The login checks the dummy hash itself and a known account's hash through User.
    monkeypatch.setattr(auth, "check_password_hash", counting)
    monkeypatch.setattr(models, "check_password_hash", counting)
    return calls


def dummy(app) -> str:
    return auth._dummy_hash(app.config["PASSWORD_HASH_METHOD"])


def test_an_unknown_address_is_checked_against_the_dummy_hash(seeded_app, hash_checks):
    client = seeded_app.test_client()
    assert post_login(client, "niemand@example.org", "een wachtwoord").status_code == 400
    assert hash_checks == [dummy(seeded_app)]


def test_a_deactivated_account_costs_the_same_check(seeded_app, make_user, hash_checks):
    email = make_user("coordinator")
    with seeded_app.app_context():
        db.session.scalar(select(User).filter_by(email=email)).active = False
        db.session.commit()
    assert post_login(seeded_app.test_client(), email).status_code == 400
    assert hash_checks == [dummy(seeded_app)]


def test_a_wrong_password_for_a_known_address_is_one_check_too(seeded_app, make_user, hash_checks):
    email = make_user("coordinator")
    assert post_login(seeded_app.test_client(), email, "fout wachtwoord").status_code == 400
    assert len(hash_checks) == 1 and hash_checks[0] != dummy(seeded_app)


def test_the_dummy_hash_has_the_parameters_of_a_real_one(seeded_app, make_user):
    email = make_user("coordinator")
    with seeded_app.app_context():
        real = db.session.scalar(select(User).filter_by(email=email)).password_hash
    assert dummy(seeded_app).split("$")[0] == real.split("$")[0]
    assert dummy(seeded_app) is dummy(seeded_app)  # made once per process


def test_passwords_are_hashed_with_scrypt_unless_configured(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, str(tmp_path))
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert auth._dummy_hash("scrypt").startswith("scrypt:")


def test_odd_login_values_are_refused_without_an_error(client):
    for email, password in [
        ("a" * 10_000 + "@example.org", "b" * 10_000),
        ("x\x00@example.org", "\x00" * 20),
        ("\r\n\t\x01\x1b@example.org", "\x01\x02\x03" * 10),
    ]:
        assert post_login(client, email, password).status_code == 400


# The password policy

COMMON = "Dit wachtwoord staat op de lijst van veelgebruikte of gelekte wachtwoorden"
LIKE_EMAIL = "Gebruik geen wachtwoord dat op uw e-mailadres lijkt."
RUN = "Gebruik geen herhaald teken of eenvoudige reeks"
EMAIL = "jan.de.vries@example.org"
LONG = (
    "Elke ochtend fiets ik langs de Drentse Hoofdvaart naar Meppel, en als het regent neem"
    " ik de bus van kwart voor acht vanaf Dieve."
)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort", "Gebruik minstens 12 tekens."),
        ("elf tekens!", "Gebruik minstens 12 tekens."),
        ("lange zin " * 13, "Gebruik hoogstens 128 tekens."),
        ("QWERTY123456", COMMON),
        ("1qaz2wsx3edc", COMMON),
        ("Password1234", COMMON),
        ("Welkom2024!!", COMMON),
        ("wachtwoordwachtwoord", COMMON),
        ("Dragon Dragon Dragon", COMMON),
        ("monkeymonkey99", COMMON),
        (EMAIL, LIKE_EMAIL),
        ("JAN.DE.VRIES-2024", LIKE_EMAIL),
        ("ikbenjandevries", LIKE_EMAIL),
        ("aaaaaaaaaaaa", RUN),
        ("a a a a a a a a a a a a", RUN),
        ("123456789012", RUN),
        ("abcdefghijkl", RUN),
        ("LKJIHGFEDCBA", RUN),
        ("uvwxyzabcdef", RUN),
        ("qwertyuiopasdfgh", RUN),
        ("abababababab", RUN),
        ("xyzxyzxyzxyz", RUN),
    ],
)
def test_a_weak_password_is_refused_with_its_reason(password, message):
    assert message in password_problem(password, EMAIL)


def test_the_list_is_the_common_passwords_compared_without_case():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    long_common = [p for p in FREQUENCY_LISTS["passwords"] if len(p) >= 12]
    assert len(long_common) > 100
    for common in long_common[:50]:
        assert COMMON in password_problem(common.upper(), EMAIL)


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "paarse giraf eet soep",
        "q3V_xk9LmP0tRw2Z",
        LONG,
        "één ölifant ßtraße ☂ 漢字",
        "jan de vries",  # short local parts of other people are fine
    ],
)
def test_a_good_password_passes(password):
    assert len(LONG) == 128
    assert password_problem(password, "coordinator@example.org") is None


def test_short_local_parts_are_not_searched_for():
    assert password_problem("ikbenjoopjeop", "jo@example.org") is None
    assert password_problem("jo@example.org", "jo@example.org") == LIKE_EMAIL


def change(client, new, repeat=None, current=PASSWORD):
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    data = {"csrf_token": token, "current": current, "new": new, "repeat": new}
    if repeat is not None:
        data["repeat"] = repeat
    return client.post("/wachtwoord", data=data)


def errors(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.findall(r'class="field-error"[^>]*>(.*?)</span>', html))


def test_the_password_page_applies_the_policy(seeded_app, make_user):
    _email, client = log_in_as(seeded_app, make_user, "coordinator", email="an.smit@example.org")
    for new, message in [
        ("Password1234", COMMON),
        ("aaaaaaaaaaaa", RUN),
        ("x" * 129, "Gebruik hoogstens 128 tekens."),
        (PASSWORD, "Kies een ander wachtwoord dan uw huidige."),
        ("Ik ben An Smit uit Assen", LIKE_EMAIL),
    ]:
        response = change(client, new)
        assert response.status_code == 400 and message in errors(response), new
    assert change(client, LONG[:64]).status_code == 302


def test_a_wrong_current_password_is_a_message_not_an_error(login):
    response = change(login("coordinator"), "zeven zeilboten op zee", current="niet het goede")
    assert response.status_code == 400
    assert "Dit is niet uw huidige wachtwoord." in errors(response)


def test_odd_new_passwords_are_refused_without_an_error(login):
    client = login("coordinator")
    for new in ["\x00" * 20, "\x01\x02\x03\x04" * 3, "\r\n" * 8, "z" * 10_000]:
        assert change(client, new).status_code == 400, repr(new[:10])


def test_the_password_page_explains_the_rules(login):
    html = login("coordinator").get("/wachtwoord").get_data(as_text=True)
    assert 'id="new-hint"' in html and 'aria-describedby="new-hint"' in html
    assert "Minstens 12 en hoogstens 128 tekens" in html
