"""The account pages under attack, as every role and as a stranger: forged, replayed, expired
and malformed tokens, codes and fields; someone else's actions; foreign hosts. The figure that
counts: no answer >= 500, no account changed that the attacker may not change, no mail to
anyone who did not ask."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import PASSWORD, csrf_from, sign_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_accounts import NEW_PASSWORD, choose_password, link_in, mails

from registry.account_tokens import AccountToken
from registry.db import db
from registry.models import User, utcnow

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROLES = ["medewerker", "bestuur", "coordinator", "beheerder"]
TOKEN_PAGES = ["/uitnodiging/", "/wachtwoord-herstellen/"]


def invite(app, email="doel@example.org", role="coordinator") -> str:
    app.test_cli_runner().invoke(args=["users", "invite", "--email", email, "--role", role])
    return link_in(mails(app)[-1])


def password_of(app, email) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).filter_by(email=email))


@FUZZ
@given(token=st.text(max_size=120))
def test_no_token_shape_breaks_the_link_pages(client, token):
    for page in TOKEN_PAGES:
        path = page + token.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
        assert client.get(path).status_code < 500
        assert client.post(path, data={"new": "x", "repeat": "x"}).status_code < 500


@pytest.mark.parametrize(
    "field",
    ["\x00", "a\x00b", "\x1b[31m", "é" * 300, "x" * 5000, "' OR 1=1 --", "<script>x</script>"],
)
def test_odd_values_in_every_account_form_are_refused_without_an_error(seeded_app, field):
    link = invite(seeded_app)
    client = seeded_app.test_client()
    token = csrf_from(client.get(link).get_data(as_text=True))
    for path, data in [
        (link, {"new": field, "repeat": field}),
        ("/wachtwoord-vergeten", {"email": field}),
        ("/inloggen", {"email": field, "password": field}),
        ("/inloggen/code", {"code": field}),
        ("/tweede-factor/instellen", {"code": field}),
    ]:
        answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code in (200, 302, 400, 429), (path, answer.status_code)
    with seeded_app.app_context():
        person = db.session.scalar(select(User).filter_by(email="doel@example.org"))
        # Refused, or (a fine password after all, such as '<script>x</script>') kept exactly.
        assert not person.has_password or person.check_password(field)
    assert len(mails(seeded_app)) == 1  # the invitation, nothing more


def test_a_used_link_replayed_changes_nothing(seeded_app):
    link = invite(seeded_app)
    first = seeded_app.test_client()
    assert choose_password(first, link).status_code == 302
    stored = password_of(seeded_app, "doel@example.org")
    replayer = seeded_app.test_client()
    token = csrf_from(replayer.get("/wachtwoord-vergeten").get_data(as_text=True))
    answer = replayer.post(link, data={"csrf_token": token, "new": "een ander wachtwoord hier"})
    assert answer.status_code == 400 and "al gebruikt" in answer.get_data(as_text=True)
    assert password_of(seeded_app, "doel@example.org") == stored


def test_a_double_click_on_a_link_sets_the_password_once(seeded_app):
    link = invite(seeded_app, role="medewerker")
    clients = [seeded_app.test_client() for _ in range(2)]
    tokens = [csrf_from(c.get(link).get_data(as_text=True)) for c in clients]
    barrier, answers = threading.Barrier(2), [None, None]

    def post(i, password):
        barrier.wait()
        answers[i] = clients[i].post(
            link, data={"csrf_token": tokens[i], "new": password, "repeat": password}
        )

    threads = [
        threading.Thread(target=post, args=(i, p))
        for i, p in enumerate([NEW_PASSWORD, "een heel ander geheim hier"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [302, 400]


def test_an_expired_reset_link_and_one_of_a_deactivated_account_open_nothing(seeded_app, make_user):
    email = make_user("medewerker")
    client = seeded_app.test_client()
    token = csrf_from(client.get("/wachtwoord-vergeten").get_data(as_text=True))
    client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": email})
    link = link_in(mails(seeded_app)[-1])
    with seeded_app.app_context():
        row = db.session.scalar(select(AccountToken))
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "verlopen" in client.get(link).get_data(as_text=True)
    with seeded_app.app_context():
        row = db.session.scalar(select(AccountToken))
        row.expires_at = utcnow() + timedelta(minutes=30)
        db.session.scalar(select(User).filter_by(email=email)).active = False
        db.session.commit()
    assert client.get(link).status_code == 400
    # A deactivated account asks in vain: no mail.
    client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": email})
    assert len(mails(seeded_app)) == 1


def test_the_cookie_between_password_and_code_opens_no_admin_page(seeded_app, make_user):
    email = make_user("beheerder")
    client = seeded_app.test_client()
    token = csrf_from(client.get("/inloggen").get_data(as_text=True))
    client.post("/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD})
    stolen = client.get_cookie(seeded_app.config["SESSION_COOKIE_NAME"]).value
    thief = seeded_app.test_client()
    thief.set_cookie(seeded_app.config["SESSION_COOKIE_NAME"], stolen)
    for path in ("/admin/", "/admin/user/", "/admin/school/export.csv", "/account"):
        assert thief.get(path).status_code == 302, path
    # Nor can it set up an app of its own for the account, which has one.
    assert thief.get("/tweede-factor/instellen").headers["Location"].endswith("/inloggen/code")


def test_a_forged_session_cookie_is_no_session(seeded_app, make_user):
    from flask.sessions import SecureCookieSessionInterface

    email = make_user("beheerder")
    with seeded_app.app_context():
        token = db.session.scalar(select(User.session_token).filter_by(email=email))
    forger = seeded_app.test_client()
    other = type(seeded_app)("forger")
    other.secret_key = "not-the-registrys-key"
    signer = SecureCookieSessionInterface().get_signing_serializer(other)
    forged = signer.dumps({"_user_id": token, "logged_in_at": 9e12, "all_factors": True})
    forger.set_cookie(seeded_app.config["SESSION_COOKIE_NAME"], forged)
    assert forger.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", ["medewerker", "bestuur", "coordinator"])
def test_only_a_beheerder_sends_links_or_resets_a_second_factor(seeded_app, login, make_user, role):
    target = make_user("coordinator", email="doelwit@example.org")
    with seeded_app.app_context():
        victim = db.session.scalar(select(User).filter_by(email=target))
        victim_id, secret = victim.id, victim.totp_secret
    client = login(role, "41196" if role == "bestuur" else None)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    for action in ("send_link", "reset_second_factor"):
        answer = client.post(
            "/admin/user/action/",
            data={"csrf_token": token, "action": action, "rowid": str(victim_id)},
        )
        assert answer.status_code in (302, 403), answer.status_code
    with seeded_app.app_context():
        assert db.session.get(User, victim_id).totp_secret == secret
    assert mails(seeded_app) == []


@pytest.mark.parametrize("rowid", ["", "0", "-1", "1e3", "99999999999999999999", "1 OR 1=1"])
def test_malformed_rows_in_the_account_actions_are_a_clear_answer(seeded_app, login, rowid):
    client = login("beheerder")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    answer = client.post(
        "/admin/user/action/",
        data={"csrf_token": token, "action": "reset_second_factor", "rowid": rowid},
    )
    assert answer.status_code in (302, 400)


def test_the_account_page_refuses_unknown_choices(login):
    client = login("coordinator")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    for data in (
        {"correction_mail": "always", "language": "nl"},
        {"correction_mail": "direct", "language": "xx"},
    ):
        answer = client.post("/account", data={"csrf_token": token, **data})
        assert answer.status_code == 400, data
    assert client.post("/account", data={"correction_mail": "never"}).status_code == 400  # CSRF


def test_every_account_form_needs_its_csrf_token(seeded_app, login):
    link = invite(seeded_app)
    client = seeded_app.test_client()
    for path in (link, "/wachtwoord-vergeten", "/inloggen/code", "/tweede-factor/instellen"):
        assert client.post(path, data={"new": NEW_PASSWORD, "code": "123456"}).status_code in (
            302,
            400,
        ), path
    assert not password_of(seeded_app, "doel@example.org")
    logged_in = login("coordinator")
    assert logged_in.post("/tweede-factor/nieuwe-herstelcodes").status_code == 400


def test_links_in_mails_point_at_the_public_url_whatever_host_was_asked(seeded_app, make_user):
    seeded_app.config["PUBLIC_URL"] = "https://register.example.nl"
    seeded_app.config["TRUSTED_HOSTS"] = ["register.example.nl", "localhost"]
    email = make_user("medewerker")
    client = seeded_app.test_client()
    token = csrf_from(client.get("/wachtwoord-vergeten").get_data(as_text=True))
    client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": email})
    text = mails(seeded_app)[-1].get_body("plain").get_content()
    assert "https://register.example.nl/wachtwoord-herstellen/" in text
    assert "localhost" not in text
    foreign = client.post(
        "/wachtwoord-vergeten",
        data={"csrf_token": token, "email": email},
        headers={"Host": "evil.example"},
    )
    assert foreign.status_code == 400
    assert len(mails(seeded_app)) == 1


def test_a_reset_mail_leaves_no_usable_link_in_the_database(seeded_app, make_user):
    """Only hashes of tokens are stored, and a delivered mail's body is emptied."""
    email = make_user("medewerker")
    client = seeded_app.test_client()
    token = csrf_from(client.get("/wachtwoord-vergeten").get_data(as_text=True))
    client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": email})
    secret = link_in(mails(seeded_app)[-1]).rsplit("/", 1)[1]
    from registry.mail import OutboxMail

    with seeded_app.app_context():
        stored = [
            str(v)
            for row in db.session.scalars(select(OutboxMail))
            for v in (row.text_body, row.html_body)
        ]
        stored += list(db.session.scalars(select(AccountToken.token_hash)))
    assert not any(secret in value for value in stored)
    assert Path(seeded_app.instance_path, "mail").exists()


def test_sign_in_after_all_this_still_works(seeded_app, make_user):
    email = make_user("coordinator")
    assert sign_in(seeded_app, seeded_app.test_client(), email).status_code == 302


def test_a_file_or_json_sent_where_text_is_asked_is_a_message_not_an_error(seeded_app, login):
    import io

    link = invite(seeded_app)
    client = seeded_app.test_client()
    token = csrf_from(client.get(link).get_data(as_text=True))
    for path, field in [
        ("/inloggen", "email"),
        ("/inloggen", "password"),
        ("/wachtwoord-vergeten", "email"),
        ("/inloggen/code", "code"),
        (link, "new"),
    ]:
        data = {"csrf_token": token, "email": "a@example.org", "password": "x" * 12}
        data[field] = (io.BytesIO(b"not text"), "x.txt")
        answer = client.post(path, data=data, content_type="multipart/form-data")
        assert answer.status_code in (302, 400), (path, field, answer.status_code)
        as_json = client.post(path, json={"csrf_token": token, field: ["a", 5]})
        assert as_json.status_code in (302, 400), (path, field)
    coordinator = login("coordinator")
    page = coordinator.get("/admin/board_contact/new/").get_data(as_text=True)
    answer = coordinator.post(
        "/admin/board_contact/new/",
        data={
            "csrf_token": csrf_from(page),
            "board": "1",
            "name": (io.BytesIO(b"x"), "name.txt"),
            "email": "a@example.org",
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code in (200, 302, 400)
    staff = login("medewerker")
    page = staff.get("/wachtwoord").get_data(as_text=True)
    answer = staff.post(
        "/wachtwoord",
        data={"csrf_token": csrf_from(page), "current": (io.BytesIO(b"x"), "c.txt")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
