"""Accounts that reach people: invitations, a forgotten password, the second factor, the
session's lifetimes, the limits on guessing, and the mails about corrections."""

import re
import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pyotp
import pytest
from helpers import PASSWORD, TOTP_SECRET, csrf_from, form_fields, sign_in, totp_code, with_values
from sqlalchemy import select
from test_mail import smtp  # noqa: F401 (the real SMTP server fixture)

from registry.account_tokens import AccountToken
from registry.db import db
from registry.history import Change
from registry.models import CorrectionMail, CorrectionRequest, School, User, utcnow

NEW_PASSWORD = "paarse olifant danst op het dak"


def mails(app) -> list:
    """The mails written to instance/mail/, oldest first."""
    folder = Path(app.instance_path) / "mail"
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def text_of(message) -> str:
    return message.get_body("plain").get_content()


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:5000(/\S+)", text_of(message)).group(1)


def choose_password(client, link: str, password: str = NEW_PASSWORD):
    token = csrf_from(client.get(link).get_data(as_text=True))
    return client.post(link, data={"csrf_token": token, "new": password, "repeat": password})


def enrol_app(client) -> tuple[str, object]:
    """Set up an authenticator app from the secret the page shows as text; returns the secret
    and the answer to the confirmed code."""
    page = client.get("/tweede-factor/instellen").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by the server
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    token = csrf_from(page)
    answer = client.post(
        "/tweede-factor/instellen", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    return secret, answer


def user(app, email) -> User:
    with app.app_context():
        found = db.session.scalar(select(User).filter_by(email=email))
        db.session.expunge(found)
        return found


def test_a_beheerder_invites_a_coordinator_who_sets_up_password_and_app(seeded_app, login):
    beheerder = login("beheerder")
    page = beheerder.get("/admin/user/new/").get_data(as_text=True)
    data = with_values(form_fields(page), email="nieuw@example.org", role="coordinator", active="y")
    created = beheerder.post("/admin/user/new/", data=data, follow_redirects=True)
    shown = created.get_data(as_text=True)
    assert "krijgt een e-mail met een link" in shown and "wachtwoord:" not in shown.lower()
    [invitation] = mails(seeded_app)
    assert invitation["To"] == "nieuw@example.org"
    link = link_in(invitation)

    person = seeded_app.test_client()
    chosen = choose_password(person, link)
    assert chosen.headers["Location"].endswith("/tweede-factor/instellen")
    assert "Uw wachtwoord is opgeslagen." in person.get("/tweede-factor/instellen").text
    assert person.get("/admin/").status_code == 302  # no admin page before the second factor
    _secret, confirmed = enrol_app(person)
    assert confirmed.headers["Location"].endswith("/tweede-factor/herstelcodes")
    codes_page = person.get("/tweede-factor/herstelcodes").get_data(as_text=True)
    assert len(re.findall(r"<code>[a-z2-9]{5}-[a-z2-9]{5}</code>", codes_page)) == 10
    assert "<code>" not in person.get("/tweede-factor/herstelcodes", follow_redirects=True).text
    assert person.get("/admin/").status_code == 200

    token = csrf_from(person.get("/account").get_data(as_text=True))
    person.post("/uitloggen", data={"csrf_token": token})
    assert person.get("/admin/").status_code == 302
    again = sign_in(seeded_app, person, "nieuw@example.org", NEW_PASSWORD)
    assert again.headers["Location"] == "/admin/"
    assert person.get("/admin/").status_code == 200

    reused = seeded_app.test_client().get(link)
    assert reused.status_code == 400 and "al gebruikt" in reused.get_data(as_text=True)


def test_an_invitation_link_is_refused_when_forged_expired_or_for_another_purpose(
    seeded_app,
):
    runner = seeded_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "--email",
            "b@example.org",
            "--role",
            "bestuur",
            "--board",
            "41196",
        ]
    )
    assert result.exit_code == 0 and "uitnodiging verstuurd" in result.output
    link = link_in(mails(seeded_app)[-1])
    token = link.rsplit("/", 1)[1]
    client = seeded_app.test_client()
    for forged in [
        "/uitnodiging/" + "A" * 43,
        "/uitnodiging/" + token[:-1] + ("a" if token[-1] != "a" else "b"),
        "/uitnodiging/" + token + "x",
        "/uitnodiging/%FF%FE",
        "/uitnodiging/" + "é" * 43,
        "/wachtwoord-herstellen/" + token,  # an invitation is no reset link
    ]:
        answer = client.get(forged)
        assert answer.status_code in (400, 404), forged
        if answer.status_code == 400:
            assert "niet (meer) geldig" in answer.get_data(as_text=True), forged
    # Posting to a forged link changes nothing either.
    posted = client.post(
        "/uitnodiging/" + "A" * 43,
        data={
            "csrf_token": csrf_from(client.get(link).text),
            "new": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    )
    assert posted.status_code == 400
    assert not user(seeded_app, "b@example.org").has_password
    with seeded_app.app_context():
        for row in db.session.scalars(select(AccountToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 400 and "verlopen" in expired.get_data(as_text=True)


def test_a_new_invitation_ends_the_old_link(seeded_app, login):
    runner = seeded_app.test_cli_runner()
    runner.invoke(args=["users", "invite", "--email", "c@example.org", "--role", "medewerker"])
    first = link_in(mails(seeded_app)[-1])
    beheerder = login("beheerder")
    target = user(seeded_app, "c@example.org")
    page = beheerder.get("/admin/user/").get_data(as_text=True)
    beheerder.post(
        "/admin/user/action/",
        data={"csrf_token": csrf_from(page), "action": "send_link", "rowid": str(target.id)},
    )
    second = link_in(mails(seeded_app)[-1])
    assert first != second
    assert "al gebruikt" in seeded_app.test_client().get(first).get_data(as_text=True)
    assert seeded_app.test_client().get(second).status_code == 200


def test_forgotten_password_end_to_end_over_smtp(seeded_app, make_user, smtp):  # noqa: F811
    seeded_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    email = make_user("coordinator")
    old_session = seeded_app.test_client()
    assert sign_in(seeded_app, old_session, email).status_code == 302
    assert old_session.get("/admin/").status_code == 200

    visitor = seeded_app.test_client()
    answers = []
    for address in (email, "niemand@example.org"):
        token = csrf_from(visitor.get("/wachtwoord-vergeten").get_data(as_text=True))
        answer = visitor.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": address})
        answers.append((answer.status_code, answer.get_data(as_text=True).replace(token, "")))
    assert answers[0] == answers[1]  # the same page, whether or not the address has an account
    [reset_mail] = smtp.messages
    assert reset_mail["To"] == email
    link = re.search(r"http://127\.0\.0\.1:5000(/wachtwoord-herstellen/\S+)", text_of(reset_mail))

    person = seeded_app.test_client()
    chosen = choose_password(person, link.group(1))
    # The reset does not skip the second factor: the code is asked next.
    assert chosen.headers["Location"].endswith("/inloggen/code")
    assert person.get("/admin/").status_code == 302
    assert old_session.get("/admin/").status_code == 302  # every earlier session ended
    changed = smtp.messages[-1]
    assert changed["To"] == email and "gewijzigd" in changed["Subject"]
    token = csrf_from(person.get("/inloggen/code").get_data(as_text=True))
    code = totp_code(seeded_app, email)
    assert (
        person.post("/inloggen/code", data={"csrf_token": token, "code": code}).status_code == 302
    )
    assert person.get("/admin/").status_code == 200
    assert "al gebruikt" in seeded_app.test_client().get(link.group(1)).get_data(as_text=True)


def test_reset_mails_are_limited_per_account(seeded_app, make_user):
    email = make_user("medewerker")
    for n in range(5):
        client = seeded_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        token = csrf_from(client.get("/wachtwoord-vergeten").get_data(as_text=True))
        assert (
            client.post(
                "/wachtwoord-vergeten", data={"csrf_token": token, "email": email}
            ).status_code
            == 200
        )
    assert len(mails(seeded_app)) == seeded_app.config["RESET_MAILS_PER_HOUR"]


def test_the_forgotten_password_page_answers_no_sooner_than_its_floor(seeded_app, make_user):
    email = make_user("medewerker")
    seeded_app.config["RESET_ANSWER_SECONDS"] = 0.5
    client = seeded_app.test_client()
    for address in (email, "niemand@example.org"):
        token = csrf_from(client.get("/wachtwoord-vergeten").get_data(as_text=True))
        started = time.monotonic()
        client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": address})
        assert time.monotonic() - started >= 0.5


def test_a_code_works_once_and_wrong_codes_are_limited_per_account(seeded_app, make_user):
    email = make_user("coordinator")
    first = seeded_app.test_client()
    assert sign_in(seeded_app, first, email).status_code == 302
    used_step = user(seeded_app, email).totp_last_step
    replayer = seeded_app.test_client()
    token = csrf_from(replayer.get("/inloggen").get_data(as_text=True))
    replayer.post("/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD})
    token = csrf_from(replayer.get("/inloggen/code").get_data(as_text=True))
    replayed = pyotp.TOTP(TOTP_SECRET).at(used_step * 30)
    answer = replayer.post("/inloggen/code", data={"csrf_token": token, "code": replayed})
    assert answer.status_code == 400 and "al gebruikt" in answer.get_data(as_text=True)
    statuses = [
        replayer.post("/inloggen/code", data={"csrf_token": token, "code": "000000"}).status_code
        for _ in range(5)
    ]
    assert statuses == [400] * 4 + [429]
    # Even the right code waits now: the limit is the account's, not the guess's.
    right = totp_code(seeded_app, email)
    assert (
        replayer.post("/inloggen/code", data={"csrf_token": token, "code": right}).status_code
        == 429
    )


def test_a_recovery_code_works_once_instead_of_the_app(seeded_app):
    seeded_app.test_cli_runner().invoke(
        args=["users", "invite", "--email", "r@example.org", "--role", "coordinator"]
    )
    person = seeded_app.test_client()
    choose_password(person, link_in(mails(seeded_app)[-1]))
    enrol_app(person)
    code = re.search(
        r"<code>([a-z2-9-]{11})</code>", person.get("/tweede-factor/herstelcodes").text
    ).group(1)
    for attempt in ("first", "second"):
        client = seeded_app.test_client()
        token = csrf_from(client.get("/inloggen").get_data(as_text=True))
        client.post(
            "/inloggen",
            data={"csrf_token": token, "email": "r@example.org", "password": NEW_PASSWORD},
        )
        token = csrf_from(client.get("/inloggen/code").get_data(as_text=True))
        answer = client.post(
            "/inloggen/code", data={"csrf_token": token, "code": code.upper().replace("-", " ")}
        )
        assert answer.status_code == (302 if attempt == "first" else 400)


def test_the_step_between_password_and_code_opens_nothing_and_expires(seeded_app, make_user):
    email = make_user("beheerder")
    client = seeded_app.test_client()
    token = csrf_from(client.get("/inloggen").get_data(as_text=True))
    client.post("/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD})
    for path in (
        "/admin/",
        "/admin/user/",
        "/account",
        "/wachtwoord",
        "/tweede-factor/herstelcodes",
    ):
        assert client.get(path).status_code == 302, path
    with client.session_transaction() as session:
        session["pending_login"] = {**session["pending_login"], "until": time.time() - 1}
    assert client.get("/inloggen/code").headers["Location"].endswith("/inloggen")


def test_a_role_without_the_requirement_may_set_up_an_app_and_then_needs_it(seeded_app, login):
    client = login("bestuur", "41196")  # no code asked: not required for this role
    email = next(iter(u.email for u in [user_of_client(seeded_app)]))
    enrol_app(client)
    assert user(seeded_app, email).totp_secret
    fresh = seeded_app.test_client()
    token = csrf_from(fresh.get("/inloggen").get_data(as_text=True))
    answer = fresh.post(
        "/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert answer.headers["Location"].endswith("/inloggen/code")


def user_of_client(app) -> User:
    with app.app_context():
        found = db.session.scalar(select(User).order_by(User.id.desc()))
        db.session.expunge(found)
        return found


def test_a_beheerder_resets_a_lost_second_factor(seeded_app, login, make_user):
    email = make_user("coordinator")
    their_session = seeded_app.test_client()
    sign_in(seeded_app, their_session, email)
    beheerder = login("beheerder")
    page = beheerder.get("/admin/user/").get_data(as_text=True)
    beheerder.post(
        "/admin/user/action/",
        data={
            "csrf_token": csrf_from(page),
            "action": "reset_second_factor",
            "rowid": str(user(seeded_app, email).id),
        },
    )
    assert user(seeded_app, email).totp_secret is None
    assert their_session.get("/admin/").status_code == 302
    [notice] = mails(seeded_app)
    assert notice["To"] == email and "teruggezet" in notice["Subject"]
    with seeded_app.app_context():
        change = db.session.scalar(select(Change).where(Change.field == "second_factor_since"))
        assert change.new_value is None and change.actor.startswith("beheerder-")
    again = seeded_app.test_client()
    token = csrf_from(again.get("/inloggen").get_data(as_text=True))
    answer = again.post(
        "/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert answer.headers["Location"].endswith("/tweede-factor/instellen")


def test_sessions_end_after_the_absolute_lifetime_however_active(seeded_app, login):
    seeded_app.config["SESSION_ABSOLUTE_LIFETIME"] = timedelta(seconds=2)
    client = login("medewerker")
    for _ in range(3):
        assert client.get("/admin/").status_code == 200
        time.sleep(0.4)
    time.sleep(1.5)
    assert client.get("/admin/").status_code == 302


def test_guesses_at_one_account_from_many_addresses_stop_but_a_known_browser_gets_in(
    seeded_app, make_user
):
    email = make_user("medewerker")
    known = seeded_app.test_client()
    assert sign_in(seeded_app, known, email).status_code == 302  # gets a device cookie
    known.post("/uitloggen", data={"csrf_token": csrf_from(known.get("/account").text)})
    statuses = []
    for n in range(7):
        attacker = seeded_app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
        statuses.append(sign_in(seeded_app, attacker, email, "wrong guess").status_code)
    assert statuses == [400] * 5 + [429] * 2
    stranger = seeded_app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    assert sign_in(seeded_app, stranger, email).status_code == 429  # even the right password
    assert sign_in(seeded_app, known, email).status_code == 302  # the person's own browser


def test_the_password_page_limits_guesses_at_the_current_password(login):
    client = login("medewerker")
    statuses = []
    for _ in range(7):
        token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
        answer = client.post(
            "/wachtwoord",
            data={
                "csrf_token": token,
                "current": "a wrong guess!",
                "new": NEW_PASSWORD,
                "repeat": NEW_PASSWORD,
            },
        )
        statuses.append(answer.status_code)
    assert statuses == [400] * 5 + [429] * 2


def report(client, code="05SX00", contact="ouder@example.org", lang=None):
    url = f"/scholen/{code}/correctie" + (f"?lang={lang}" if lang else "")
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(
        url,
        data={
            "csrf_token": token,
            "field": "telefoon",
            "proposed_value": "Het nummer is 0522 123 456",
            "contact": contact,
        },
    )


def test_a_new_correction_mails_the_handlers_who_want_it_at_once(seeded_app, make_user):
    at_once = make_user("coordinator", email="direct@example.org")
    daily = make_user("coordinator", email="daily@example.org")
    never = make_user("beheerder", email="never@example.org")
    make_user("medewerker", email="reader@example.org")
    with seeded_app.app_context():
        for email, choice in ((daily, CorrectionMail.DAILY), (never, CorrectionMail.NEVER)):
            db.session.scalar(select(User).filter_by(email=email)).correction_mail = choice
        db.session.commit()
    assert report(seeded_app.test_client()).status_code == 302
    [notice] = mails(seeded_app)
    assert notice["To"] == at_once and "Nieuwe correctie" in notice["Subject"]
    assert "/admin/correction/behandelen/?id=" in text_of(notice)
    assert "ouder@example.org" not in text_of(notice)

    result = seeded_app.test_cli_runner().invoke(args=["mail", "digest"])
    assert "Overzichten verstuurd: 1" in result.output
    digest = mails(seeded_app)[-1]
    assert digest["To"] == daily and "1 nieuwe correctie" in digest["Subject"]
    again = seeded_app.test_cli_runner().invoke(args=["mail", "digest"])
    assert "Overzichten verstuurd: 0" in again.output


def test_the_sender_gets_the_outcome_and_reason_in_their_language(seeded_app, login):
    visitor = seeded_app.test_client()
    form = visitor.get("/scholen/05SX00/correctie").get_data(as_text=True)
    assert "mailen we u de uitkomst" in form
    report(visitor, lang="en")
    report(visitor, contact="0522 123 456")  # a phone number: nothing to mail
    coordinator = login("coordinator")
    with seeded_app.app_context():
        ids = db.session.scalars(select(CorrectionRequest.id).order_by(CorrectionRequest.id)).all()
    for correction_id in ids:
        url = f"/admin/correction/behandelen/?id={correction_id}"
        token = csrf_from(coordinator.get(url).get_data(as_text=True))
        answer = coordinator.post(
            url, data={"csrf_token": token, "decision": "reject", "reason": "Het nummer klopt al."}
        )
        assert answer.status_code == 302
    outcomes = [m for m in mails(seeded_app) if m["To"] == "ouder@example.org"]
    [outcome] = outcomes
    assert "has been handled" in outcome["Subject"]
    assert "Het nummer klopt al." in text_of(outcome) and "Rejected" in text_of(outcome)


def test_no_page_log_or_mail_shows_a_password(seeded_app, login, caplog):
    with caplog.at_level("DEBUG"):
        seeded_app.test_cli_runner().invoke(
            args=["users", "invite", "--email", "p@example.org", "--role", "coordinator"]
        )
        person = seeded_app.test_client()
        pages = [choose_password(person, link_in(mails(seeded_app)[-1])).get_data(as_text=True)]
        pages.append(enrol_app(person)[1].get_data(as_text=True))
    everything = caplog.text + "".join(pages) + "".join(text_of(m) for m in mails(seeded_app))
    assert NEW_PASSWORD not in everything


def test_school_names_reach_the_mails_escaped_only_in_html(seeded_app, make_user):
    make_user("coordinator", email="direct@example.org")
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.name = "De <Ark> & 't Anker"
        db.session.commit()
    report(seeded_app.test_client())
    [notice] = mails(seeded_app)
    assert "De <Ark> & 't Anker" in text_of(notice)
    assert "De &lt;Ark&gt; &amp; &#39;t Anker" in notice.get_body("html").get_content()


@pytest.mark.parametrize("roles", ["beheerder", "beheerder,coordinator,bestuur"])
def test_the_roles_that_need_a_second_factor_are_a_setting(make_app, roles):
    app = make_app(MFA_ROLES=roles)
    assert app.config["MFA_ROLES"] == roles.split(",")


def test_an_unknown_role_in_the_setting_is_refused_at_start(make_app):
    with pytest.raises(ValueError, match="onbekende rol"):
        make_app(MFA_ROLES="beheerder,baas")


def test_another_app_is_set_up_only_with_a_code_of_the_current_one(seeded_app, login):
    client = login("coordinator")
    email = user_of_client(seeded_app).email
    page = client.get("/tweede-factor/instellen").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    new_code = pyotp.TOTP(secret).now()
    without = client.post(
        "/tweede-factor/instellen", data={"csrf_token": csrf_from(page), "code": new_code}
    )
    assert without.status_code == 400 and user(seeded_app, email).totp_secret == TOTP_SECRET
    wrong = client.post(
        "/tweede-factor/instellen",
        data={"csrf_token": csrf_from(page), "code": new_code, "current": "000000"},
    )
    assert "huidige app klopt niet" in wrong.get_data(as_text=True)
    assert user(seeded_app, email).totp_secret == TOTP_SECRET
    current = totp_code(seeded_app, email)
    replaced = client.post(
        "/tweede-factor/instellen",
        data={"csrf_token": csrf_from(page), "code": new_code, "current": current},
    )
    assert replaced.status_code == 302
    assert user(seeded_app, email).totp_secret == secret
