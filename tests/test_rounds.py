"""Update rounds: a coordinator asks every board, each board confirms its own schools, the
progress is counted, the late are reminded once a day, and parents see how fresh a record is."""

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from helpers import csrf_from, form_fields, with_values
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from test_accounts import choose_password, mails, text_of

from registry.db import db
from registry.history import Change
from registry.models import Board, BoardContact, Role, School, SupportArea, User
from registry.rounds import Outcome, RoundSchool, today

BOARD = "41196"  # Stichting WIES: 14 schools
OTHER = "42557"
ROUND_PAGE = f"/admin/ronde/bestuur/{BOARD}/"


def add_contact(app, number, name, email):
    with app.app_context():
        board = db.session.scalar(select(Board).filter_by(board_number=number))
        db.session.add(BoardContact(board=board, name=name, email=email, position="directeur"))
        db.session.commit()


def start_round(app, days=30, note=None):
    deadline = (today() + timedelta(days=days)).isoformat()
    args = ["rounds", "start", "--deadline", deadline] + (["--note", note] if note else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def schools_of(app, number) -> dict[int, tuple[str, int]]:
    with app.app_context():
        return {
            s.id: (s.name, s.version)
            for s in db.session.scalars(
                select(School)
                .join(School.board)
                .where(Board.board_number == number, School.is_open)
            )
        }


def links(message) -> list[str]:
    return re.findall(r"http://127\.0\.0\.1:5000(/\S+)", text_of(message))


@pytest.fixture
def round_with_contacts(seeded_app, make_user):
    """Two contacts at WIES, one at another board, a bestuur account at a third; a round."""
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    add_contact(seeded_app, BOARD, "Bram Bos", "bram@wies.example")
    add_contact(seeded_app, OTHER, "Cor Smit", "cor@opoh.example")
    make_user("bestuur", "41270", email="staf@accrete.example")
    output = start_round(seeded_app, note="Let vooral op de ondersteuning.")
    return output


def test_a_round_mails_every_contact_and_names_the_boards_it_cannot_reach(
    seeded_app, round_with_contacts
):
    output = round_with_contacts
    sent = mails(seeded_app)
    assert sorted(m["To"] for m in sent) == [
        "anna@wies.example",
        "bram@wies.example",
        "cor@opoh.example",
        "staf@accrete.example",
    ]
    anna = next(m for m in sent if m["To"] == "anna@wies.example")
    assert any(link == ROUND_PAGE for link in links(anna))
    assert any(link.startswith("/uitnodiging/") for link in links(anna))  # no account yet
    assert "Let vooral op de ondersteuning." in text_of(anna)
    for name, _version in schools_of(seeded_app, BOARD).values():
        assert name in text_of(anna)
    staff = next(m for m in sent if m["To"] == "staf@accrete.example")
    assert not any(link.startswith("/uitnodiging/") for link in links(staff))
    assert "niet te bereiken" in output
    with seeded_app.app_context():
        boards = db.session.scalar(
            select(func.count(func.distinct(School.board_id))).where(School.is_open)
        )
    assert output.count("niet te bereiken") == boards - 3
    assert output.count("gemaild") == 3
    with seeded_app.app_context():
        anna_user = db.session.scalar(select(User).filter_by(email="anna@wies.example"))
        assert anna_user.role is Role.BESTUUR and anna_user.board.board_number == BOARD


def test_a_board_confirms_one_school_and_changes_another_and_parents_see_it(
    seeded_app, round_with_contacts
):
    anna_mail = next(m for m in mails(seeded_app) if m["To"] == "anna@wies.example")
    invitation = next(link for link in links(anna_mail) if link.startswith("/uitnodiging/"))
    anna = seeded_app.test_client()
    assert choose_password(anna, invitation, "zeven zeilboten op zee").status_code == 302
    page = anna.get(ROUND_PAGE).get_data(as_text=True)
    ours, theirs = schools_of(seeded_app, BOARD), schools_of(seeded_app, OTHER)
    assert all(f'id="school-{school_id}"' in page for school_id in ours)
    assert not any(f'id="school-{school_id}"' in page for school_id in theirs)
    assert page.count('class="round-school') == len(ours) == 14
    assert "Zonder vastgelegde ondersteuning" in page  # its gaps, highlighted

    first, second = sorted(ours)[:2]
    token = csrf_from(page)
    answer = anna.post(
        ROUND_PAGE + "bevestigen",
        data={"csrf_token": token, "school": first, f"v-{first}": ours[first][1]},
    )
    assert answer.status_code == 302

    grid_url = f"/admin/ondersteuning/bestuur/{BOARD}/?ronde=1"
    grid = anna.get(grid_url).get_data(as_text=True)
    with seeded_app.app_context():
        area = db.session.scalar(select(SupportArea).order_by(SupportArea.position))
    data = with_values(form_fields(grid), **{f"n-{second}-{area.id}": "extra"})
    assert anna.post(grid_url, data=data).status_code == 302
    version = schools_of(seeded_app, BOARD)[second][1]
    anna.post(
        ROUND_PAGE + "bevestigen",
        data={"csrf_token": token, "school": second, f"v-{second}": version},
    )
    with seeded_app.app_context():
        results = {r.school_id: r for r in db.session.scalars(select(RoundSchool))}
        assert results[first].outcome is Outcome.CONFIRMED
        assert results[second].outcome is Outcome.CHANGED
        assert results[first].confirmed_by == "anna@wies.example"
        support_change = db.session.scalar(
            select(Change).where(Change.record_id == second, Change.field.like("ondersteuning%"))
        )
        assert support_change.actor == "anna@wies.example"
        assert support_change.note == "updateronde 1"
        code = db.session.get(School, first).vestigingscode

    status = seeded_app.test_cli_runner().invoke(args=["rounds", "status"]).output
    wies = next(line for line in status.splitlines() if line.startswith(BOARD))
    assert " 2 van 14 klaar (1 bevestigd, 1 gewijzigd), 12 nog niet" in wies
    assert "regio: Ondersteuning vastgelegd: 1%" in status

    public = seeded_app.test_client()
    day = today()
    shown = public.get(f"/scholen/{code}").get_data(as_text=True)
    assert "Gegevens gecontroleerd door het bestuur op" in shown and str(day.year) in shown
    assert public.get(f"/scholen/{code}.json").get_json()["board_confirmed_on"] == day.isoformat()
    assert public.get(f"/api/v1/schools/{code}").get_json()["board_confirmed_on"] == day.isoformat()
    other = next(iter(schools_of(seeded_app, OTHER)))
    with seeded_app.app_context():
        other_code = db.session.get(School, other).vestigingscode
    assert "nog niet gecontroleerd" in public.get(f"/scholen/{other_code}").get_data(as_text=True)
    about = public.get("/over").get_data(as_text=True)
    assert "De laatste ronde begon op" in about and "Ondersteuning vastgelegd" in about
    csv = public.get("/scholen.csv?kolom=vestigingscode&kolom=board_confirmed_on").get_data(
        as_text=True
    )
    assert f"{code},{day.isoformat()}" in csv


def test_confirm_all_at_once_and_a_stale_page_confirms_nothing(
    seeded_app, round_with_contacts, login
):
    client = login("bestuur", BOARD)
    ours = schools_of(seeded_app, BOARD)
    token = csrf_from(client.get(ROUND_PAGE).get_data(as_text=True))
    some = sorted(ours)[0]
    with seeded_app.app_context():
        db.session.get(School, some).phone = "0522 123 456"  # someone changes it meanwhile
        db.session.commit()
    versions = {f"v-{i}": v for i, (_n, v) in ours.items()}
    stale = client.post(
        ROUND_PAGE + "bevestigen", data={"csrf_token": token, "alles": "1", **versions}
    )
    assert "Niets bevestigd" in client.get(stale.headers["Location"]).get_data(as_text=True)
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(RoundSchool.id))) == 0
    fresh = {f"v-{i}": v for i, (_n, v) in schools_of(seeded_app, BOARD).items()}
    client.post(ROUND_PAGE + "bevestigen", data={"csrf_token": token, "alles": "1", **fresh})
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(RoundSchool.id))) == 14
    status = seeded_app.test_cli_runner().invoke(args=["rounds", "status"]).output
    assert "14 van 14 klaar" in status


def test_reminders_go_once_a_day_to_the_unfinished_and_coordinators_get_a_summary(
    seeded_app, round_with_contacts, make_user, login
):
    make_user("coordinator", email="coord@swv.example")
    before = len(mails(seeded_app))
    first = seeded_app.test_cli_runner().invoke(args=["rounds", "remind"]).output
    assert "Herinnerd: 3 besturen" in first and "verstuurd" in first
    reminders = mails(seeded_app)[before:]
    assert sorted(m["To"] for m in reminders) == [
        "anna@wies.example",
        "bram@wies.example",
        "coord@swv.example",
        "cor@opoh.example",
        "staf@accrete.example",
    ]
    assert all("Herinnering" in m["Subject"] for m in reminders if m["To"] != "coord@swv.example")
    again = seeded_app.test_cli_runner().invoke(args=["rounds", "remind"]).output
    assert "Herinnerd: 0 besturen" in again
    assert len(mails(seeded_app)) == before + len(reminders)


def test_a_finished_board_is_not_reminded_and_the_last_week_is_urgent(seeded_app, make_user, login):
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    add_contact(seeded_app, OTHER, "Cor Smit", "cor@opoh.example")
    start_round(seeded_app, days=5)
    client = login("bestuur", BOARD)
    token = csrf_from(client.get(ROUND_PAGE).get_data(as_text=True))
    versions = {f"v-{i}": v for i, (_n, v) in schools_of(seeded_app, BOARD).items()}
    client.post(ROUND_PAGE + "bevestigen", data={"csrf_token": token, "alles": "1", **versions})
    before = len(mails(seeded_app))
    seeded_app.test_cli_runner().invoke(args=["rounds", "remind"])
    [reminder] = mails(seeded_app)[before:]
    assert reminder["To"] == "cor@opoh.example" and reminder["Subject"].endswith(
        "Nog 5 dagen: controleer de scholen van Stichting Openbaar Primair Onderwijs Hoogeveen"
    )


def test_starting_and_closing_are_checked(seeded_app):
    runner = seeded_app.test_cli_runner()
    past = runner.invoke(args=["rounds", "start", "--deadline", today().isoformat()])
    assert past.exit_code == 1 and "na vandaag" in past.output
    wrong = runner.invoke(args=["rounds", "start", "--deadline", "12-05-2027"])
    assert wrong.exit_code == 2 and "geen datum" in wrong.output
    assert "geen updateronde" in runner.invoke(args=["rounds", "status"]).output
    start_round(seeded_app)
    twice = runner.invoke(args=["rounds", "start", "--deadline", "2099-01-01"])
    assert twice.exit_code == 1 and "loopt al" in twice.output
    assert "gesloten" in runner.invoke(args=["rounds", "close"]).output
    assert "(gesloten)" in runner.invoke(args=["rounds", "status"]).output
    assert runner.invoke(args=["rounds", "close"]).exit_code == 1


def test_a_coordinator_starts_follows_downloads_and_closes_a_round_in_the_admin(seeded_app, login):
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    client = login("coordinator")
    page = client.get("/admin/ronde/").get_data(as_text=True)
    assert "Een nieuwe ronde starten" in page
    token = csrf_from(page)
    deadline = (today() + timedelta(days=20)).isoformat()
    started = client.post(
        "/admin/ronde/start",
        data={"csrf_token": token, "deadline": deadline},
        follow_redirects=True,
    )
    shown = started.get_data(as_text=True)
    assert "1 besturen gemaild" in shown and "Niet te bereiken" in shown
    assert [m["To"] for m in mails(seeded_app)] == ["anna@wies.example"]
    assert "Stichting WIES" in client.get("/admin/ronde/").get_data(as_text=True)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/admin/ronde/voortgang.xlsx").data))
    rows = list(workbook.active.values)
    assert rows[0][:3] == ("Bestuursnummer", "Bestuur", "Scholen")
    assert any(row[0] == BOARD and row[2] == 14 for row in rows)
    client.post("/admin/ronde/sluiten", data={"csrf_token": token})
    assert "gesloten op" in client.get("/admin/ronde/").get_data(as_text=True)


# Who may do what: every route the round adds, as every role.


@pytest.mark.parametrize("role", ["anonymous", "medewerker", "bestuur-other"])
def test_others_cannot_open_or_confirm_a_boards_round(seeded_app, round_with_contacts, login, role):
    if role == "anonymous":
        client = seeded_app.test_client()
    else:
        client = login(
            "medewerker" if role == "medewerker" else "bestuur",
            None if role == "medewerker" else OTHER,
        )
    token = csrf_from(client.get("/inloggen").get_data(as_text=True))
    school, (_name, version) = next(iter(schools_of(seeded_app, BOARD).items()))
    answers = [
        client.get(ROUND_PAGE),
        client.post(
            ROUND_PAGE + "bevestigen",
            data={"csrf_token": token, "school": school, f"v-{school}": version},
        ),
        client.post(ROUND_PAGE + "bevestigen", data={"csrf_token": token, "alles": "1"}),
        client.get(f"/admin/ondersteuning/bestuur/{BOARD}/?ronde=1"),
        client.post("/admin/ronde/start", data={"csrf_token": token, "deadline": "2099-01-01"}),
        client.post("/admin/ronde/sluiten", data={"csrf_token": token}),
    ]
    for answer in answers:
        if role == "anonymous":
            assert answer.headers.get("Location", "/inloggen").startswith("/inloggen")
        else:
            assert answer.status_code in (403, 404), answer.request.path
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(RoundSchool.id))) == 0


def test_a_board_cannot_confirm_another_boards_school_through_its_own_page(
    seeded_app, round_with_contacts, login
):
    client = login("bestuur", OTHER)
    own_page = f"/admin/ronde/bestuur/{OTHER}/"
    token = csrf_from(client.get(own_page).get_data(as_text=True))
    foreign, (_name, version) = next(iter(schools_of(seeded_app, BOARD).items()))
    for school in (foreign, "0", "-1", "abc", "9" * 30, ""):
        answer = client.post(
            own_page + "bevestigen",
            data={"csrf_token": token, "school": school, f"v-{school}": version},
        )
        assert answer.status_code == 404, school
    for number in ("00000", "x", "4119", "411966", "%00"):
        assert client.get(f"/admin/ronde/bestuur/{number}/").status_code in (400, 404)
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(RoundSchool.id))) == 0


def test_a_bestuur_keeps_its_own_contacts_only(seeded_app, login):
    add_contact(seeded_app, OTHER, "Cor Smit", "cor@opoh.example")
    client = login("bestuur", BOARD)
    listing = client.get("/admin/board_contact/").get_data(as_text=True)
    assert "cor@opoh.example" not in listing
    page = client.get("/admin/board_contact/new/").get_data(as_text=True)
    with seeded_app.app_context():
        other_id = db.session.scalar(select(Board.id).filter_by(board_number=OTHER))
        own_id = db.session.scalar(select(Board.id).filter_by(board_number=BOARD))
    taken = client.post(
        "/admin/board_contact/new/",
        data=with_values(form_fields(page), board=str(other_id), name="X", email="x@x.example"),
    )
    assert taken.status_code == 200 and "eigen bestuur" in taken.get_data(as_text=True)
    made = client.post(
        "/admin/board_contact/new/",
        data=with_values(
            form_fields(page), board=str(own_id), name="Dirk", email="dirk@wies.example"
        ),
    )
    assert made.status_code == 302
    with seeded_app.app_context():
        contact = db.session.scalar(select(BoardContact).filter_by(email="cor@opoh.example"))
    assert client.get(f"/admin/board_contact/edit/?id={contact.id}").status_code in (302, 403, 404)
    assert client.get(f"/admin/board_contact/details/?id={contact.id}").status_code in (302, 404)


def test_a_coordinator_invites_a_contact_as_a_bestuur_account(seeded_app, login):
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    client = login("coordinator")
    with seeded_app.app_context():
        contact_id = db.session.scalar(select(BoardContact.id))
    token = csrf_from(client.get("/admin/board_contact/").get_data(as_text=True))
    client.post(
        "/admin/board_contact/action/",
        data={"csrf_token": token, "action": "invite", "rowid": str(contact_id)},
    )
    [invitation] = mails(seeded_app)
    assert invitation["To"] == "anna@wies.example" and "/uitnodiging/" in text_of(invitation)
    with seeded_app.app_context():
        anna = db.session.scalar(select(User).filter_by(email="anna@wies.example"))
        assert anna.role is Role.BESTUUR and anna.board.board_number == BOARD
    bestuur = login("bestuur", BOARD)
    token = csrf_from(bestuur.get("/admin/board_contact/").get_data(as_text=True))
    bestuur.post(
        "/admin/board_contact/action/",
        data={"csrf_token": token, "action": "invite", "rowid": str(contact_id)},
    )
    assert len(mails(seeded_app)) == 1  # a board's staff cannot make accounts


def test_the_dashboard_points_a_board_to_its_round_page(seeded_app, round_with_contacts, login):
    board_page = login("bestuur", BOARD).get("/admin/").get_data(as_text=True)
    assert f'href="{ROUND_PAGE}"' in board_page and "Updateronde 1 loopt tot en met" in board_page
    coordinator = login("coordinator").get("/admin/").get_data(as_text=True)
    assert 'href="/admin/ronde/"' in coordinator


@pytest.mark.parametrize("role", ["medewerker", "bestuur"])
def test_the_change_log_shows_contact_persons_to_coordinators_only(seeded_app, login, role):
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    reader = login(role, OTHER if role == "bestuur" else None)
    for url in ("/admin/change/", "/admin/change/?search=anna", "/admin/change/export.csv"):
        answer = reader.get(url)
        assert "anna@wies.example" not in answer.get_data(as_text=True), url
        answer.close()
    assert "anna@wies.example" in login("coordinator").get("/admin/change/").get_data(as_text=True)


def test_a_note_with_control_characters_is_refused_and_two_starts_open_one_round(seeded_app, login):
    client = login("coordinator")
    token = csrf_from(client.get("/admin/ronde/").get_data(as_text=True))
    deadline = (today() + timedelta(days=20)).isoformat()
    for note in ("Let op\x00", "Let op\x1b[2J"):
        answer = client.post(
            "/admin/ronde/start",
            data={
                "csrf_token": token,
                "deadline": deadline,
                "note": note.encode().decode("unicode_escape"),
            },
            follow_redirects=True,
        )
        assert answer.status_code == 200 and "Updateronde 1 is gestart" not in answer.text
    with seeded_app.app_context():
        from registry.rounds import UpdateRound

        assert db.session.scalar(select(func.count(UpdateRound.id))) == 0
        db.session.add(UpdateRound(deadline=today() + timedelta(days=9), started_by="a"))
        db.session.commit()
        db.session.add(UpdateRound(deadline=today() + timedelta(days=9), started_by="b"))
        with pytest.raises(IntegrityError):
            db.session.commit()  # the database holds one open round at most
        db.session.rollback()


def test_two_clicks_on_klopt_at_once_confirm_once(seeded_app, round_with_contacts, login):
    import threading

    client = login("bestuur", BOARD)
    token = csrf_from(client.get(ROUND_PAGE).get_data(as_text=True))
    school, (_name, version) = sorted(schools_of(seeded_app, BOARD).items())[0]
    clients = [login("bestuur", BOARD) for _ in range(4)]
    barrier, answers = threading.Barrier(len(clients)), []

    def click(visitor):
        page_token = csrf_from(visitor.get(ROUND_PAGE).get_data(as_text=True))
        barrier.wait()
        answers.append(
            visitor.post(
                ROUND_PAGE + "bevestigen",
                data={"csrf_token": page_token, "school": school, f"v-{school}": version},
            ).status_code
        )

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers and all(status == 302 for status in answers), answers
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(RoundSchool.id))) == 1
    assert token
