"""Every URL rule of the app, asked by anonymous visitors and each role: who gets what."""

import pytest
from helpers import csrf_from
from sqlalchemy import func, select

from registry.db import db
from registry.history import Change
from registry.models import Board, BoardContact

SAMPLE_ARGS = {
    "code": "05SX00",
    "number": "41196",
    "slug": "meppel",
    "kind": "verified",
    "export_type": "csv",
    "fmt": "xlsx",
    "group": "netwerk",
    "listing": "besturen",
    "token": "A" * 43,  # the shape of a link's token, but none that was ever issued
}
QUERY = {
    "edit_view": "?id=1",
    "details_view": "?id=1",
    "history_view": "?id=1",
    "handle_view": "?id=1",
    "ajax_lookup": "?name=board&query=w",
}
PUBLIC = {"directory", "corrections", "api", "overviews", "operations", "findability", "auth.login"}
READ_ENDPOINTS = {
    "index_view",
    "details_view",
    "history_view",
    "export_csv",
    "ajax_lookup",
    "index",
    "download_view",
}
# Who may open each admin view at all; writing is narrower (see WRITERS).
READERS = {
    "admin": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "school": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "board": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "municipality": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "network": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "supportarea": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "parent_word": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "partnership": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "correction": {"beheerder", "coordinator", "bestuur", "medewerker"},
    "change": {"beheerder", "coordinator", "medewerker"},
    "user": {"beheerder"},
    "duo": {"beheerder", "coordinator"},
    "duo_import": {"beheerder", "coordinator"},
    "support": {"beheerder", "coordinator", "bestuur"},
    "board_contact": {"beheerder", "coordinator", "bestuur"},
    "rounds": {"beheerder", "coordinator", "bestuur", "medewerker"},
}
# Pages that compare an uploaded file: without one they say so (400) to those allowed in.
NEEDS_FILE = {"duo.preview", "duo.report"}
WRITERS = {
    "school": {"beheerder", "coordinator", "bestuur"},
    "board": {"beheerder", "coordinator"},
    "municipality": {"beheerder", "coordinator"},
    "network": {"beheerder", "coordinator"},
    "supportarea": {"beheerder", "coordinator"},
    "parent_word": {"beheerder", "coordinator"},
    "partnership": {"beheerder", "coordinator"},
    "correction": {"beheerder", "coordinator"},
    "user": {"beheerder"},
    "board_contact": {"beheerder", "coordinator", "bestuur"},
}
# "bestuur" works for board 41196, which runs school 1; "bestuur-other" for board 60829.
ROLES = ["anonymous", "medewerker", "bestuur", "bestuur-other", "coordinator", "beheerder"]
BOARD_OF = {"bestuur": "41196", "bestuur-other": "60829"}


def get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        url = rule.build(SAMPLE_ARGS, append_unknown=False)[1]
        view = rule.endpoint.split(".")[-1]
        yield rule.endpoint, url + QUERY.get(view, "")


# The pages around logging in, the same for everyone.
ACCOUNT_PAGES = {
    "accounts.invitation": "bad",  # a link whose token was never issued
    "accounts.reset": "bad",
    "accounts.forgotten": "ok",
    "second_factor.verify": "login",  # nobody here gave a password a moment ago
}
# Pages for every logged-in account, whatever its role.
OWN_PAGES = {"auth.change_password", "accounts.account", "second_factor.enrol"}


def expected(endpoint: str, role: str) -> str:
    """'ok' (200), 'login' (sent to log in) or 'refused' (403 or sent back to the list)."""
    blueprint, _, view = endpoint.partition(".")
    if endpoint in ACCOUNT_PAGES:
        return ACCOUNT_PAGES[endpoint]
    if role == "bestuur-other":
        outcome = _another_boards(endpoint, blueprint, view)
        if outcome:
            return outcome
        role = "bestuur"
    if blueprint in PUBLIC or endpoint in PUBLIC:
        return "ok"
    if role == "anonymous":
        return "login"
    if endpoint in OWN_PAGES:
        return "ok"
    if endpoint == "second_factor.recovery_codes":
        return "refused"  # no new codes to show once: back to the account page
    if role not in READERS[blueprint]:
        return "refused"
    return _exception(endpoint, blueprint, view, role) or _by_kind(endpoint, blueprint, view, role)


def _another_boards(endpoint: str, blueprint: str, view: str) -> str | None:
    """What board staff get on board 41196's records, which are not theirs."""
    if endpoint == "school.edit_view":
        return "refused"  # school 1 belongs to another board
    if endpoint.startswith("support.board_") or endpoint == "rounds.board_page":
        return "refused"  # the support grid and round page of board 41196 are its own
    if blueprint == "board_contact" and view in ("edit_view", "details_view"):
        return "refused"  # contact 1 is board 41196's
    if endpoint == "board_contact.history_view":
        return "missing"
    return None


def _exception(endpoint: str, blueprint: str, view: str, role: str) -> str | None:
    """Pages a reader of the blueprint still does not get, and why."""
    if blueprint == "rounds":
        return _round_page(view, role)
    if blueprint == "support" and view.startswith("all_") and role == "bestuur":
        return "refused"  # a board's staff fill in their own board's grid only
    if view == "ajax_lookup":
        return "missing"  # no view declares AJAX lookups: nothing to answer, for anyone
    if blueprint in ("change", "duo_import") and view == "details_view":
        return "refused"  # the logs are their own detail
    if endpoint == "duo_import.history_view":
        return "missing"  # no import has been applied to this database
    if blueprint == "correction" and view in ("create_view", "edit_view"):
        return "refused"  # corrections are handled, not edited
    if endpoint == "partnership.create_view":
        return "refused"  # the one record is edited, never created
    return None


def _round_page(view: str, role: str) -> str | None:
    if view == "progress_download":
        return "missing"  # no round has been held in this database
    if view == "index" and role == "bestuur":
        return "refused"  # sent on to its own board's round page
    if view == "board_page" and role == "medewerker":
        return "refused"  # a board's round is its staff's and the coordinators' work
    return None


def _by_kind(endpoint: str, blueprint: str, view: str, role: str) -> str:
    """Reading is open to every reader; creating and editing to the blueprint's writers."""
    if endpoint in NEEDS_FILE:
        return "bad"
    if view in READ_ENDPOINTS:
        return "ok"
    if view == "create_view" and blueprint == "school" and role == "bestuur":
        return "refused"  # board staff edit their schools but do not found new ones
    writes = view in ("create_view", "edit_view", "batch_view", "handle_view")
    if writes and (blueprint == "change" or role not in WRITERS.get(blueprint, set())):
        return "refused"
    return "ok"


@pytest.mark.sweep
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_intended(seeded_app, login, role):
    with seeded_app.app_context():
        from registry.models import CorrectionRequest

        db.session.add(CorrectionRequest(school_id=1, field="overig", proposed_value="x"))
        board = db.session.scalar(select(Board).filter_by(board_number="41196"))
        db.session.add(BoardContact(board=board, name="Anna", email="anna@wies.example"))
        db.session.commit()
    client = (
        seeded_app.test_client()
        if role == "anonymous"
        else login(role.removesuffix("-other"), BOARD_OF.get(role))
    )
    rules = list(get_rules(seeded_app))
    assert len(rules) > 40
    wrong = []
    for endpoint, url in rules:
        if endpoint in (
            "school.export",
            "board.export",
            "change.export",
            "user.export",
            "municipality.export",
            "network.export",
            "supportarea.export",
            "correction.export",
            "duo_import.export",
            "board_contact.export",
            "parent_word.export",
            "partnership.export",
        ):
            continue  # Flask-Admin's own export is off (can_export is False): 404 for all
        response = client.get(url)
        outcome = {200: "ok", 400: "bad", 403: "refused", 404: "missing"}.get(response.status_code)
        if response.status_code == 302:
            location = response.headers["Location"]
            outcome = "login" if "/inloggen" in location else "refused"
        want = expected(endpoint, role)
        if outcome != want:
            wrong.append((endpoint, url, response.status_code, want))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("role", ["medewerker", "bestuur"])
def test_writes_are_refused_on_the_server_for_roles_without_the_right(seeded_app, login, role):
    client = login(role, "41196" if role == "bestuur" else None)
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    with seeded_app.app_context():
        before = db.session.scalar(select(func.count(Change.id)))
    attempts = [
        ("/admin/board/delete/", {"id": "1"}),
        ("/admin/board/edit/?id=1", {"name": "Overgenomen"}),
        ("/admin/network/new/", {"name": "X", "slug": "x"}),
        ("/admin/user/new/", {"email": "x@example.org", "role": "beheerder"}),
        ("/admin/school/action/", {"action": "verified", "rowid": "2"}),
        ("/admin/school/bulk/verified/", {"ids": "2"}),
        ("/admin/school/edit/?id=2", {"name": "Overgenomen"}),
        ("/admin/correction/behandelen/", {"id": "1", "decision": "reject", "reason": "x"}),
        ("/admin/duo/", {"gebied": "regio"}),
        ("/admin/duo/toepassen", {"bestand": "0" * 64, "alles": "1"}),
        ("/admin/ondersteuning/bestuur/60829/", {"v-2": "1", "n-2-1": "extra"}),
        ("/admin/ondersteuning/alle/", {"v-1": "1", "n-1-1": "extra"}),
    ]
    for url, data in attempts:
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "/edit/" not in response.headers["Location"], url
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(Change.id))) == before


def test_security_headers(client):
    public = client.get("/")
    assert "script-src 'self';" in public.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in public.headers["Content-Security-Policy"]
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in client.get("/admin/").headers["Content-Security-Policy"]


# Worklists and corrections carried out in the school form: new ways into existing views.
WORKLIST_URLS = [
    "/admin/school/?flt0_zonder_website=ja",
    "/admin/school/?flt0_speciaal_onvolledig=ja&flt1_bestuur=41414",
    "/admin/school/export.csv?flt0_zonder_email=ja",
]


@pytest.mark.parametrize("role", ROLES)
def test_worklists_and_correction_forms_answer_each_role_as_intended(seeded_app, login, role):
    with seeded_app.app_context():
        from registry.models import CorrectionRequest

        correction = CorrectionRequest(school_id=1, field="naam", proposed_value="Nieuw")
        db.session.add(correction)
        db.session.commit()
        number = correction.id
    client = (
        seeded_app.test_client()
        if role == "anonymous"
        else login(role.removesuffix("-other"), BOARD_OF.get(role))
    )
    for url in WORKLIST_URLS:
        response = client.get(url)
        # A download streams inside the request's context: left open, it would pop that
        # context whenever the collector finds it, perhaps inside another test's context.
        response.close()
        if role == "anonymous":
            assert "/inloggen" in response.headers["Location"], url
        else:
            assert response.status_code == 200, (url, role)
    form = client.get(f"/admin/school/edit/?id=1&correctie={number}")
    handle = client.get(f"/admin/correction/behandelen/?id={number}")
    if role == "anonymous":
        assert "/inloggen" in form.headers["Location"]
        assert "/inloggen" in handle.headers["Location"]
    elif role in ("coordinator", "beheerder"):
        assert (form.status_code, handle.status_code) == (200, 200)
    else:
        assert (form.status_code, handle.status_code) == (403, 403), role
