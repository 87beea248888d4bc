import re
import time
from datetime import timedelta

from helpers import PASSWORD, csrf_from, sign_in
from sqlalchemy import func, select

from registry.db import db
from registry.models import User


def post_login(client, email, password=PASSWORD):
    token = csrf_from(client.get("/inloggen").get_data(as_text=True))
    return client.post(
        "/inloggen", data={"csrf_token": token, "email": email, "password": password}
    )


def test_no_account_exists_until_one_is_made(seeded_app):
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
    assert seeded_app.test_client().get("/admin/").status_code == 302


def test_bootstrap_prints_a_one_time_link_for_the_first_beheerder_and_no_password(seeded_app):
    runner = seeded_app.test_cli_runner()
    first = runner.invoke(args=["users", "bootstrap", "--email", "eerste@example.org"])
    assert first.exit_code == 0, first.output
    link = re.search(r"http://\S+/uitnodiging/\S+", first.output).group()
    assert "wachtwoord:" not in first.output.lower()
    assert runner.invoke(args=["users", "bootstrap"]).output == ""
    client = seeded_app.test_client()
    page = client.get(link)
    assert page.status_code == 200 and "eerste@example.org" in page.get_data(as_text=True)
    with seeded_app.app_context():
        user = db.session.scalar(select(User).filter_by(email="eerste@example.org"))
        assert user.role.value == "beheerder" and not user.has_password


def test_users_create_reads_the_password_from_standard_input_and_prints_none(seeded_app):
    args = ["users", "create", "--email", "Staf@Example.org", "--role", "bestuur"]
    runner = seeded_app.test_cli_runner()
    result = runner.invoke(args=[*args, "--board", "41196", "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert "staf@example.org (bestuur)" in result.output and PASSWORD not in result.output
    assert sign_in(seeded_app, seeded_app.test_client(), "staf@example.org").status_code == 302
    missing_board = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "bestuur",
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    assert missing_board.exit_code == 1 and "bestuur" in missing_board.output
    weak = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "y@example.org",
            "--role",
            "medewerker",
            "--password-stdin",
        ],
        input="password1234",
    )
    assert weak.exit_code == 1 and "Wachtwoord geweigerd" in weak.output
    without = runner.invoke(
        args=["users", "create", "--email", "z@example.org", "--role", "medewerker"]
    )
    assert without.exit_code == 2 and "users invite" in without.output
    with seeded_app.app_context():
        emails = set(db.session.scalars(select(User.email)))
    assert emails == {"staf@example.org"}


def test_login_renews_the_session_and_a_wrong_password_is_refused(seeded_app, make_user):
    email = make_user("coordinator")
    client = seeded_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    wrong = post_login(client, email, "not the password")
    assert wrong.status_code == 400
    assert "horen niet bij elkaar" in wrong.get_data(as_text=True)
    assert post_login(client, email).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session


def test_the_eleventh_wrong_password_in_a_minute_from_one_address_is_throttled(seeded_app):
    client = seeded_app.test_client()
    statuses = [
        post_login(client, f"person{i}@example.org", "wrong").status_code for i in range(11)
    ]
    assert statuses == [400] * 10 + [429]


def test_changing_the_password_ends_other_sessions(seeded_app, make_user):
    email = make_user("coordinator")
    here, elsewhere = seeded_app.test_client(), seeded_app.test_client()
    sign_in(seeded_app, here, email)
    sign_in(seeded_app, elsewhere, email)
    token = csrf_from(here.get("/wachtwoord").get_data(as_text=True))
    new = "a brand new passphrase"
    response = here.post(
        "/wachtwoord", data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new}
    )
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    assert sign_in(seeded_app, seeded_app.test_client(), email, new).status_code == 302


def test_a_short_or_mistyped_new_password_is_refused(login):
    client = login("coordinator")
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    response = client.post(
        "/wachtwoord",
        data={"csrf_token": token, "current": PASSWORD, "new": "short", "repeat": "other"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "minstens 12 tekens" in html and "niet gelijk" in html


def test_a_deactivated_user_is_out_at_once(seeded_app, login):
    client = login("coordinator")
    assert client.get("/admin/").status_code == 200
    with seeded_app.app_context():
        for user in db.session.scalars(select(User)):
            user.active = False
        db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_sessions_expire_after_inactivity(seeded_app, login):
    seeded_app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    client = login("coordinator")
    assert client.get("/admin/").status_code == 200
    time.sleep(2.1)
    assert client.get("/admin/").status_code == 302


def test_logout_needs_a_csrf_token_and_ends_the_session(login):
    client = login("coordinator")
    assert client.post("/uitloggen").status_code == 400
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    assert client.post("/uitloggen", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_login_only_follows_local_next_urls(seeded_app, make_user):
    email = make_user("coordinator")
    client = seeded_app.test_client()
    response = sign_in(seeded_app, client, email, next_path="//evil.example/x")
    assert response.headers["Location"] == "/admin/"
    # A path on the site is followed once the code is given too.
    client = seeded_app.test_client()
    response = sign_in(seeded_app, client, email, next_path="/admin/school/")
    assert response.headers["Location"] == "/admin/school/"


def test_session_cookie_is_secure_by_default(tmp_path, monkeypatch):
    from registry import create_app

    monkeypatch.delenv("REGISTRY_SESSION_COOKIE_SECURE", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
