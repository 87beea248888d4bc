"""The outside security probe: a running registry attacked over HTTP, attack by attack.

    pip install -e '.[probe]'
    .venv/bin/python tools/probe.py [--database-url sqlite] \\
        [--database-url postgresql://postgres@127.0.0.1:5432] \\
        [--attack NAME ...] [--seed 2203] [--fuzz 750] [--log FILE]

A probe, not a test: for each database it builds a fresh one (SQLite: a temporary file;
PostgreSQL: `CREATE DATABASE probe_<random>` on the given server, dropped afterwards), runs
`flask --app wsgi db upgrade` and `seed`, creates one account per role (bestuur: board 41196)
and serves the app with Werkzeug in a thread on 127.0.0.1. It then attacks as anonymous,
medewerker, bestuur, coordinator and beheerder, and prints per attack (ATTACKS) how many
requests were sent, how many answers were >= 500 (a connection broken mid-answer counts as
599) and how many leaked, followed by every such answer with the server's traceback.

Rate limits stay on. Each simulated visitor sends from its own loopback address (127.0.x.y),
as separate people would, so that the probe's own logins (10 per minute per address) are not
refused; the overview files are attacked from one address to see their limit work.

A LEAK is: another board's school (or anything but its own schools) changed by a bestuur, or
any data changed by anonymous or a medewerker; a replayed cookie answered 200; a login
redirect leaving the site or a header injected; `probe-evil` in a normal page after a foreign
Host or forwarded header, or links off the site in the 200 answer to such a request; a
control character (Unicode Cc) stored through a form or a correction, or a formula cell
reaching a spreadsheet; a script or header reflected by the fuzz; an account's e-mail address
shown to a medewerker, bestuur or coordinator (account records are for beheerders), or a
sender's contact to a medewerker or bestuur; a second render of a page that differs only by
an unknown parameter, or more overview renders in a minute than the limit; database error
text in any answer. Staff addresses shown as the author of a change are noted, not counted.

The editors' deletes and actions name ids nobody has, so the probe's own accounts and data
stay in place while the same parameters are judged. `--log FILE` writes every request (id,
attack, role, address, method, status, time, URL, data) for reproducing a finding. The app is
imported from this checkout; run another copy with PYTHONPATH pointing at it.
"""

import argparse
import contextlib
import csv
import html
import io
import itertools
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import requests
from flask.logging import default_handler
from openpyxl import load_workbook
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.routing import AnyConverter
from werkzeug.serving import make_server

import registry
from registry import create_app
from registry.config import sqlalchemy_url
from registry.db import db
from registry.history import Change
from registry.models import (
    Board,
    CorrectionRequest,
    CorrectionStatus,
    ImportLog,
    Municipality,
    Network,
    PupilCount,
    Role,
    School,
    SchoolSupport,
    SupportArea,
    User,
)
from registry.search import FACETS, SORTS

PROJECT = Path(__file__).resolve().parent.parent
# The tests' reading of a form, so the probe fills in forms exactly as the tests do.
sys.path.insert(0, str(PROJECT / "tests"))
import html_forms  # noqa: E402

PASSWORD = "Kleurrijke-Ochtendwandeling-2026"  # noqa: S105 (the probe's own throw-away accounts)
NEW_PASSWORD = "Zonnige-Middagfietstocht-2027"  # noqa: S105
OWN_BOARD = "41196"
UNUSED = 990_001  # a record id no table reaches
ROLES = ("anonymous", "medewerker", "bestuur", "coordinator", "beheerder")
EVIL = "probe-evil"
# Each attack is the Probe method of its name; setup only prepares (logins, uploads, accounts).
ATTACKS = {
    "setup": "setup (logins, uploads, accounts)",
    "tampering": "parameter pollution, malformed ids, other boards' schools",
    "replayed_cookies": "replayed cookies",
    "open_redirects": "next= open redirect",
    "foreign_hosts": "Host / X-Forwarded-Host and the page cache",
    "control_characters": "control characters and formulas into spreadsheets",
    "fuzz": "fuzz: public routes and admin lists",
    "forbidden_reads": "reading what the role should not",
    "expensive_pages": "expensive pages (overview PDF)",
}
# Flask-Admin's views and the model behind each; `duo` (compare and apply) has no model.
VIEWS = {
    "school": School,
    "board": Board,
    "municipality": Municipality,
    "network": Network,
    "supportarea": SupportArea,
    "correction": CorrectionRequest,
    "change": Change,
    "duo_import": ImportLog,
    "user": User,
}
ACTIONS = {"school": "verified", "user": "reset_password"}  # the others: delete
# Text that only an unhandled database or Python error puts in a page.
INTERNALS = ("sqlalchemy", "psycopg", "sqlite3.", "background on this error", "traceback (most")
XSS = '"><img src=x onerror=probe()>'
INJECTED = "x\r\nX-Probe-Injected: 1"
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x0b",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "9" * 30,
    str(2**70),
    str(-(2**63)),
    "1e309",
    "NaN",
    "-0",
    "0x10",
    "١٢",
    "²",
    "x" * 5000,
    "😀",
    "..",
    "../../etc/passwd",
    "%",
    "%00",
    "\\",
    "'",
    '"',
    "[",
    "]",
    "*",
    "1,2",
    "1 OR 1=1",
    "2026-02-30",
    "2026-01-01 to x",
    XSS,
    INJECTED,
]
REDIRECTS = [
    "//probe-evil.example",
    "///probe-evil.example",
    "////probe-evil.example",
    "/\\probe-evil.example",
    "\\/probe-evil.example",
    "\\\\probe-evil.example",
    "\\probe-evil.example",
    "/%09/probe-evil.example",
    "/\t/probe-evil.example",
    "/\n/probe-evil.example",
    "/\r/probe-evil.example",
    " //probe-evil.example",
    "\x01//probe-evil.example",
    "\x0b//probe-evil.example",
    "/\x0c/probe-evil.example",
    "https://probe-evil.example",
    "http://probe-evil.example",
    "https:probe-evil.example",
    "https:/probe-evil.example",
    "HTTPS://probe-evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/x\r\nSet-Cookie:a=b",
    "/x%0d%0aSet-Cookie:a=b",
    "/\u3002/probe-evil.example",
    "/%2F%2Fprobe-evil.example",
    "/.//probe-evil.example",
    "/admin/../\\probe-evil.example",
    "//127.0.0.1@probe-evil.example",
    "/\x00//probe-evil.example",
    "/" + "a" * 3000,
]
HOSTS = [
    "probe-evil.example",
    "probe-evil.example:80",
    "127.0.0.1.probe-evil.example",
    "localhost.probe-evil.example",
    "127.0.0.1:1@probe-evil.example",
    "probe-evil.example#127.0.0.1",
    "127.0.0.1 probe-evil.example",
    "LOCALHOST.probe-evil.example",
]
HEADERS = [
    {"X-Forwarded-Host": "probe-evil.example"},
    {"Forwarded": "host=probe-evil.example;proto=https"},
    {"X-Forwarded-Server": "probe-evil.example"},
    {"X-Host": "probe-evil.example"},
    {"X-Original-URL": "/probe-evil"},
    {"X-Rewrite-URL": "/probe-evil"},
    {"X-Forwarded-Proto": "probe-evil"},
    {"X-Forwarded-Prefix": "/probe-evil"},
]
PROXY_HEADERS = [
    {"X-Forwarded-Host": "probe-evil.example"},
    {"X-Forwarded-Host": "127.0.0.1, probe-evil.example"},
    {"X-Forwarded-Host": "probe-evil.example:443"},
    {"X-Forwarded-Host": "127.0.0.1:1@probe-evil.example"},
    {"X-Forwarded-Host": "localhost.probe-evil.example"},
    {"X-Forwarded-Host": "probe-evil.example", "X-Forwarded-Proto": "https"},
    {"X-Forwarded-Proto": "probe-evil"},
    {"X-Forwarded-Prefix": "/probe-evil"},
    {"X-Forwarded-Prefix": "//probe-evil.example"},
    {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "probe-evil.example"},
]
POISONED = [
    "/api/v1/schools/05SX00",
    "/scholen.json",
    "/api/v1/boards",
    "/scholen/05SX00",
    "/scholen?q=school&cb=1",
    "/api/v1/openapi.json",
]
CONTROL = [
    "De\x0bSchool",
    "x\x1by",
    "Tab\tnaam",
    "Nieuwe\nregel",
    "a\rb",
    "del\x7f",
    "bel\x07",
    "nul\x00x",
    "\x0b=1+1",
    "c1\x85nel",
    "c1\x9bcsi",
]
FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://probe-evil.example","klik")',
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "=cmd|' /C calc'!A0",
    " =1+1",
]
OTHER = ["\u2028lijn", "\ufeffbom", "\u202eRTL", "😀 school", "x" * 300]
SHEET_QUERIES = ["a*", "\\", "/", "?", ":", "[", "]", "'", "History", "a[b]c", "=1+1", "😀" * 20]
C0_AND_SPACE = "".join(map(chr, range(0x21)))
TAB_AND_NEWLINE = dict.fromkeys(map(ord, "\t\n\r"))
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CURRENT = threading.local()  # the probe id of the request a server thread is handling


# -- What the probe records -----------------------------------------------------------------


@dataclass
class Finding:
    attack: str
    kind: str  # ">=500" or "leak"
    role: str
    method: str
    url: str
    data: str
    status: int
    note: str
    number: int | None = None


@dataclass
class Tally:
    requests: Counter = field(default_factory=Counter)
    statuses: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: Counter = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)


class ServerErrors(logging.Handler):
    """Every error the server logs, filed under the probe id of the request it happened in."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.by_number: dict[str | None, list[str]] = defaultdict(list)

    def emit(self, record: logging.LogRecord) -> None:
        self.by_number[getattr(CURRENT, "number", None)].append(self.format(record))


def tagged(wsgi_app):
    """Let the log handler know which probe request a server thread is answering."""

    def application(environ, start_response):
        CURRENT.number = environ.get("HTTP_X_PROBE_ID")
        return wsgi_app(environ, start_response)

    return application


# -- The HTTP side ----------------------------------------------------------------------------


class FromAddress(HTTPAdapter):
    """Connect from a given loopback address: the server sees one visitor per address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


@dataclass
class Answer:
    status: int
    headers: dict
    content: bytes
    url: str
    cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


class Client:
    """One visitor: a cookie jar, a loopback address and a role, sending through the probe."""

    def __init__(self, probe: "Probe", role: str, base: str | None = None) -> None:
        self.probe, self.role = probe, role
        self.base = base or probe.base
        self.address = probe.next_address()
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy from the environment between us and the app
        self.session.mount("http://", FromAddress(self.address))
        self.email: str | None = None

    def send(self, attack, method, path, *, params=None, data=None, files=None, headers=None):
        number = next(self.probe.numbers)
        headers = {"X-Probe-Id": str(number), **(headers or {})}
        self.probe.tally.requests[attack] += 1
        request = requests.Request(method, self.base + path, params=params, data=data, files=files)
        begun = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base + path,
                params=params,
                data=data,
                files=files,
                headers=headers,
                allow_redirects=False,
                timeout=180,
            )
            answer = Answer(
                response.status_code,
                dict(response.headers),
                response.content,
                response.request.url,
                response.raw.headers.getlist("Set-Cookie"),
            )
        except requests.RequestException as error:
            # The server failed after it had begun to answer (a streamed download).
            url = self.session.prepare_request(request).url
            answer = Answer(599, {}, str(error).encode(), url)
        self.probe.tally.statuses[attack][answer.status] += 1
        self.probe.tally.sent[str(number)] = f"[{attack}] {self.role} {method} {answer.status}"
        self.probe.tally.log.append(
            f"{number}\t{attack}\t{self.role}\t{self.address}\t{method}\t{answer.status}"
            f"\t{(time.monotonic() - begun) * 1000:.0f}ms"
            f"\t{answer.url}\t{'' if data is None else short(data, 400)}"
        )
        if answer.status >= 500:
            self.probe.found(attack, ">=500", self, method, answer.url, data, answer.status, number)
        elif any(marker in answer.text[:200_000].lower() for marker in INTERNALS):
            self.probe.found(
                attack, "leak", self, method, answer.url, data, answer.status, number,
                "database or Python error text in the answer",
            )  # fmt: skip
        return answer

    def login(self, attack: str, email: str, password: str = PASSWORD, next_=None) -> Answer:
        token = csrf_from(self.send(attack, "GET", "/inloggen").text)
        answer = self.send(
            attack,
            "POST",
            "/inloggen",
            params=None if next_ is None else [("next", next_)],
            data={"csrf_token": token, "email": email, "password": password},
        )
        if answer.status == 302:
            self.email = email
        return answer

    def token(self, attack: str) -> str:
        """A CSRF token of this session (from a page every logged-in role may open)."""
        path = "/wachtwoord" if self.email else "/inloggen"
        return csrf_from(self.send(attack, "GET", path).text)

    def cookie(self) -> str:
        return self.session.cookies.get("session", "")


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return match.group(1) if match else ""


def form_fields(page: str, index: int = -1) -> list[tuple[str, str]]:
    """The tests' reading of a form (tests/html_forms.py); none where the page has no form."""
    return html_forms.form_fields(page, index) if "<form" in page else []


def with_values(fields, drop=(), **changes) -> list[tuple[str, str]]:
    kept = [(n, changes.pop(n) if n in changes else v) for n, v in fields if n not in drop]
    return kept + list(changes.items())


def leaves_site(location: str, base: str) -> bool:
    """Would a browser following this Location leave the site? (WHATWG: controls stripped at
    the ends, tabs and newlines dropped, a backslash read as a slash.)"""
    url = location.strip(C0_AND_SPACE).translate(TAB_AND_NEWLINE).replace("\\", "/")
    target, home = urlsplit(urljoin(base, url)), urlsplit(base)
    return (target.scheme, target.netloc.lower()) != (home.scheme, home.netloc.lower())


def offsite_links(body: str, base: str) -> list[str]:
    """The links of a page (href, src, action, JSON url) a browser would follow off the site."""
    found = re.findall(r'(?:href|src|action)="([^"]*)"|"url": ?"([^"]*)"', body)
    links = [html.unescape(a or b) for a, b in found]
    return [link for link in links if EVIL in link and leaves_site(link, base)]


def has_control(value) -> bool:
    return isinstance(value, str) and any(unicodedata.category(c) == "Cc" for c in value)


def short(value, limit: int = 160) -> str:
    if isinstance(value, dict):
        value = list(value.items())
    if isinstance(value, list):  # the CSRF token says nothing about the attack
        value = [(n, "<token>") if n == "csrf_token" else (n, v) for n, v in value]
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


# -- The database -------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(url: str, folder: Path):
    """A new, empty database for one run, removed afterwards; yields its URL."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{folder}/registry.sqlite3"
        return
    server_url = make_url(sqlalchemy_url(url))
    name = f"probe_{uuid.uuid4().hex[:10]}"
    server = create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def flask_cli(database_url: str, *arguments: str) -> None:
    """Run the project's own command line on the probe's database, as an operator would."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REGISTRY_SECRET_KEY": "probe",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *arguments]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")


def table_rows(app, model, where=None, skip=()) -> dict[int, dict]:
    with app.app_context():
        table = model.__table__
        statement = select(table).order_by(table.c.id)
        if where is not None:
            statement = statement.where(where)
        result = db.session.execute(statement).mappings().all()
        return {r["id"]: {k: v for k, v in r.items() if k not in skip} for r in result}


def difference(before: dict, after: dict) -> str:
    """The first few changes between two snapshots ({table: {id: row}}), readable."""
    changes = []
    for table in before.keys() | after.keys():
        old, new = before.get(table, {}), after.get(table, {})
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                if key not in old or key not in new:
                    changes.append(f"{table} {key}: {'added' if key in new else 'removed'}")
                    continue
                fields = [f for f in new[key] if old[key].get(f) != new[key].get(f)]
                changes += [
                    f"{table} {key}.{f}: {short(old[key][f], 60)} -> {short(new[key][f], 60)}"
                    for f in fields
                ]
    return "; ".join(changes[:4]) + (f" (+{len(changes) - 4} more)" if len(changes) > 4 else "")


# -- The probe ----------------------------------------------------------------------------------


class Probe:
    def __init__(self, app, base: str, proxied_base: str, errors: ServerErrors, seed: int):
        self.app, self.base, self.proxied_base, self.errors = app, base, proxied_base, errors
        self.rng = random.Random(seed)  # noqa: S311 (reproducible fuzzing, not secrets)
        self.tally = Tally()
        self.numbers = itertools.count(1)
        self.addresses = itertools.count(1)
        self.clients: dict[str, Client] = {}
        self.emails: dict[str, str] = {}
        self.suffix = uuid.uuid4().hex[:6]

    def next_address(self) -> str:
        n = next(self.addresses)
        return f"127.0.{1 + n // 250}.{1 + n % 250}"

    def found(self, attack, kind, client, method, url, data, status, number=None, note=""):
        shown = "" if data is None else short(data, 300)
        finding = Finding(attack, kind, client.role, method, url, shown, status, note, number)
        self.tally.findings.append(finding)

    def leak(self, attack, client, method, url, note, data=None, status=0):
        self.found(attack, "leak", client, method, self.base + url, data, status, None, note)

    # -- setup

    def account(self, role: str, board_number: str | None = None, name: str = "") -> str:
        email = f"{name or role}-{self.suffix}@probe.example"
        with self.app.app_context():
            board = None
            if board_number:
                board = db.session.scalar(select(Board).filter_by(board_number=board_number))
            user = User(email=email, role=Role(role), board=board)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
        return email

    def setup(self) -> None:
        with self.app.app_context():
            own = db.session.scalar(select(Board.id).filter_by(board_number=OWN_BOARD))
            self.own_board = own
            self.own_school = db.session.scalar(
                select(School.id).where(School.board_id == own).order_by(School.id)
            )
            self.target = db.session.scalar(
                select(School.id).where(School.board_id != own).order_by(School.id)
            )
            self.target_code = db.session.get(School, self.target).vestigingscode
            self.foreign_board = db.session.get(School, self.target).board_id
            self.network = db.session.scalar(select(Network.id).order_by(Network.id))
            self.codes = list(db.session.scalars(select(School.vestigingscode).limit(20)))
            self.slugs = {
                "municipality": list(db.session.scalars(select(Municipality.slug).limit(5))),
                "network": list(db.session.scalars(select(Network.slug).limit(5))),
                "board": list(db.session.scalars(select(Board.board_number).limit(5))),
            }
        for role in ROLES[1:]:
            self.emails[role] = self.account(role, OWN_BOARD if role == "bestuur" else None)
        self.clients["anonymous"] = Client(self, "anonymous")
        for role in ROLES[1:]:
            client = Client(self, role)
            if client.login("setup", self.emails[role]).status != 302:
                raise SystemExit(f"could not log in as {role}")
            self.clients[role] = client
        public = Client(self, "anonymous")
        # Two corrections from the public with the sender's contact, for forbidden_reads.
        self.contacts = [f"ouder-{self.suffix}@thuis.example", f"06-{self.suffix}-4711"]
        for contact in self.contacts:
            self.correction("setup", public, self.codes[0], "telefoon", "0522 111111", contact)
        coordinator = self.clients["coordinator"]
        duo = PROJECT / "seed_data" / "duo"
        upload = next(duo.glob("duo_02-*SUBSET*.csv"))
        answer = coordinator.send(
            "setup",
            "POST",
            "/admin/duo/",
            data={"csrf_token": coordinator.token("setup"), "gebied": "regio"},
            files={"bestanden": (upload.name, upload.read_bytes(), "text/csv")},
        )
        match = re.search(r"bestand=([0-9a-f]{64})", answer.location or "")
        self.checksum = match.group(1) if match else "0" * 64
        with self.app.app_context():
            self.real = {}
            for view, model in VIEWS.items():
                first = db.session.scalar(select(func.min(model.id)))
                self.real[view] = first or 1
            self.real["school"] = self.target
            self.correction_ids = list(db.session.scalars(select(CorrectionRequest.id)))

    def check_sessions(self, attack: str) -> None:
        """Each role's session should have lived through the class before; log in again if not."""
        for role in ROLES[1:]:
            client = self.clients[role]
            if client.send(attack, "GET", "/admin/").status != 200:
                self.tally.notes.append(f"{attack}: the {role} session had ended; logged in again")
                client.login(attack, self.emails[role])

    def correction(self, attack, client, code, field_name, value, contact="") -> Answer:
        page = client.send(attack, "GET", f"/scholen/{code}/correctie")
        data = {
            "csrf_token": csrf_from(page.text),
            "field": field_name,
            "proposed_value": value,
            "contact": contact,
            "homepage": "",
        }
        return client.send(attack, "POST", f"/scholen/{code}/correctie", data=data)

    # -- snapshots

    def everything(self) -> dict:
        tables = [Board, Municipality, Network, SupportArea, CorrectionRequest, ImportLog]
        state = {m.__tablename__: table_rows(self.app, m) for m in tables}
        state["school"] = table_rows(self.app, School)
        state["school_support"] = table_rows(self.app, SchoolSupport)
        state["pupil_count"] = table_rows(self.app, PupilCount)
        skip = ("last_login_at", "session_token")
        state["user_account"] = table_rows(self.app, User, skip=skip)
        return state

    def not_own(self) -> dict:
        """Everything a bestuur of OWN_BOARD may not change: all but its own schools."""
        state = self.everything()
        own = {k for k, row in state["school"].items() if row["board_id"] == self.own_board}
        state["school"] = {k: r for k, r in state["school"].items() if k not in own}
        for child in ("school_support", "pupil_count"):
            rows = state[child].items()
            state[child] = {k: r for k, r in rows if r["school_id"] not in own}
        state["own_school_ids"] = {k: {"own": True} for k in own}
        return state

    def report_change(self, attack, client, before, after, method, url, data=None) -> None:
        if before != after:
            note = "data changed that this role may not change: " + difference(before, after)
            self.leak(attack, client, method, url, note, data)

    # -- 1. parameter pollution and malformed ids

    @staticmethod
    def malformed(real: int, pair=("1", "8")) -> list[list[str]]:
        """The id values of one request: repeated, text, negative, 2^70, '²', NUL, ..."""
        return [
            [str(real)],  # the well-formed request, for comparison
            ["", str(real)],
            list(pair),
            [str(real), str(real)],
            ["abc"],
            ["-1"],
            [str(2**70)],
            ["²"],
            ["\x00"],
            [f"{real}\x00"],
            ["1.5"],
            [f" {real}"],
            ["0"],
            [f"0{real}"],
            ["١"],
            ["9" * 400],
        ]

    def tampering(self) -> None:
        for role in ROLES:
            client = self.clients[role]
            token = client.token("tampering")
            # The editors may delete and reset what they name; ids nobody has keep the probe's
            # own accounts and data in place while the same parameters are judged.
            editor = role in ("coordinator", "beheerder")
            for view in VIEWS:
                before = self.everything() if role in ("anonymous", "medewerker") else None
                before = self.not_own() if role == "bestuur" else before
                real, target, pair = self.real[view], self.target, ("1", "8")
                if editor:
                    real, target, pair = UNUSED, UNUSED, (str(UNUSED + 1), str(UNUSED + 2))
                for values in self.malformed(real, pair):
                    self.attack_view(client, token, view, values)
                if view == "school":
                    for values in self.malformed(target, pair):
                        self.attack_schools(client, token, values)
                    for values in self.malformed(1):
                        self.attack_duo(client, token, values)
                if before is not None:
                    after = self.not_own() if role == "bestuur" else self.everything()
                    self.report_change("tampering", client, before, after, "*", f"/admin/{view}/*")
        self.take_over(self.clients["bestuur"])

    def attack_view(self, client: Client, token: str, view: str, values: list[str]) -> None:
        ids = [("id", v) for v in values]
        base = f"/admin/{view}/"
        for page in ("edit/", "details/", "geschiedenis/"):
            client.send("tampering", "GET", base + page, params=ids)
        client.send(
            "tampering", "POST", base + "edit/", params=ids, data={"csrf_token": token, "name": "P"}
        )
        client.send(
            "tampering", "POST", base + "delete/", data=[("csrf_token", token), *ids, ("url", base)]
        )
        action = ACTIONS.get(view, "delete")
        rows = [("rowid", v) for v in values]
        client.send(
            1, "POST", base + "action/", data=[("csrf_token", token), ("action", action), *rows]
        )
        lookup = [("name", "board"), *[("query", v) for v in values], ("limit", values[-1])]
        client.send("tampering", "GET", base + "ajax/lookup/", params=lookup)
        update = [("csrf_token", token), *[("list_form_pk", v) for v in values], ("name", "P")]
        client.send("tampering", "POST", base + "ajax/update/", data=update)
        if view == "correction":
            client.send("tampering", "GET", base + "behandelen/", params=ids)
            data = [("csrf_token", token), *ids, ("decision", "reject"), ("reason", "probe")]
            client.send("tampering", "POST", base + "behandelen/", data=data)

    def attack_schools(self, client: Client, token: str, values: list[str]) -> None:
        joined = ",".join(values)
        client.send("tampering", "GET", "/admin/school/bulk/verified/", params={"ids": joined})
        ids = [("ids", v) for v in values]
        client.send(
            "tampering", "POST", "/admin/school/bulk/verified/", data=[("csrf_token", token), *ids]
        )
        data = [("csrf_token", token), ("ids", joined), *[("network_id", v) for v in values]]
        client.send("tampering", "POST", "/admin/school/bulk/assign_network/", data=data)
        for fmt in ("csv", "xlsx"):
            params = [*[("id", v) for v in values], ("flt0_0", values[0])]
            client.send("tampering", "GET", f"/admin/school/export.{fmt}", params=params)

    def attack_duo(self, client: Client, token: str, values: list[str]) -> None:
        data = [("csrf_token", token), ("bestand", self.checksum), ("gekozen", "1")]
        data += [("kies", f"changed:{v}") for v in values] + [("kies", values[0])]
        client.send("tampering", "POST", "/admin/duo/toepassen", data=data)
        data = [("csrf_token", token), *[("bestand", v) for v in values], ("soort", "new")]
        client.send("tampering", "POST", "/admin/duo/toepassen", data=data)

    def take_over(self, client: Client) -> None:
        """A bestuur tries every route to edit a school of another board, or hand its own away."""
        target, own = str(self.target), str(self.own_school)
        token = client.token("tampering")
        fields = form_fields(client.send("tampering", "GET", f"/admin/school/edit/?id={own}").text)
        if not fields:
            self.tally.notes.append(
                "tampering: the bestuur could not open its own school's edit form"
            )
        with self.app.app_context():
            foreign_pupil = db.session.scalar(
                select(PupilCount.id).where(PupilCount.school_id == int(target))
            )
            foreign_support = db.session.scalar(
                select(SchoolSupport.id).where(SchoolSupport.school_id == int(target))
            )
        mine = with_values(fields, board=str(self.own_board), name="Overgenomen door bestuur")
        edit, own_edit = f"/admin/school/edit/?id={target}", f"/admin/school/edit/?id={own}"
        stolen_pupils = [
            ("pupil_counts-90-id", str(foreign_pupil)),
            ("pupil_counts-90-reference_date", "2020-10-01"),
            ("pupil_counts-90-pupils", "1"),
        ]
        stolen_support = [
            ("support_offers-90-id", str(foreign_support)),
            ("support_offers-90-support_area", "1"),
            ("support_offers-90-level", "basis"),
        ]

        def form(**values):
            return {"csrf_token": token, **values}

        attempts = [
            ("GET", edit, None),
            ("POST", edit, mine),
            ("POST", f"/admin/school/edit/?id=0{target}", mine),
            ("POST", f"/admin/school/edit/?id=%20{target}", mine),
            ("POST", f"/admin/school/edit/?id={target}%00", mine),
            ("POST", f"/admin/school/edit/?id=%2B{target}", mine),
            ("POST", own_edit, with_values(fields, id=target)),
            ("POST", f"{own_edit}&id={target}", mine),
            ("POST", f"{edit}&id={own}", mine),
            ("POST", own_edit, with_values(fields, board=str(self.foreign_board))),
            ("POST", own_edit, with_values(fields, vestigingscode=self.target_code)),
            ("POST", own_edit, [*fields, *stolen_pupils]),
            ("POST", own_edit, [*fields, *stolen_support]),
            ("POST", "/admin/school/action/", form(action="verified", rowid=target)),
            (
                "POST",
                "/admin/school/action/",
                [("csrf_token", token), ("action", "verified"), ("rowid", own), ("rowid", target)],
            ),
            ("POST", "/admin/school/action/", form(action="assign_network", rowid=target)),
            ("POST", "/admin/school/bulk/verified/", form(ids=target)),
            ("POST", "/admin/school/bulk/verified/", form(ids=f"{own},{target}")),
            ("POST", f"/admin/school/bulk/verified/?ids={target}", form(ids=own)),
            ("POST", "/admin/school/bulk/verified/", form(filter="all")),
            (
                "POST",
                "/admin/school/bulk/assign_network/",
                form(ids=target, network_id=str(self.network)),
            ),
            ("POST", "/admin/school/ajax/update/", form(list_form_pk=target, name="Overgenomen")),
            (
                "POST",
                "/admin/school/new/",
                with_values(
                    fields, vestigingscode="99ZZ00", brin="99ZZ", board=str(self.foreign_board)
                ),
            ),
            ("POST", "/admin/school/delete/", form(id=target, url="/admin/school/")),
            ("POST", f"/admin/board/edit/?id={self.foreign_board}", form(name="Overgenomen")),
            (
                "POST",
                "/admin/correction/behandelen/",
                form(id=str(self.correction_ids[0]), decision="accept"),
            ),
            ("POST", "/admin/duo/toepassen", form(bestand=self.checksum, alles="1")),
        ]
        statuses = []
        for method, url, data in attempts:
            before = self.not_own()
            statuses.append(client.send("tampering", method, url, data=data).status)
            self.report_change("tampering", client, before, self.not_own(), method, url, data)
        self.tally.notes.append(
            f"tampering: the bestuur's {len(attempts)} take-over routes: {statuses}"
        )

    # -- 2. replayed cookies

    def replay(self, client: Client, cookie: str, expect_refused: bool, event: str) -> bool:
        """Send a copied cookie from the same address; True when /admin/ answered 200."""
        copy = Client(self, client.role)
        copy.session.mount("http://", FromAddress(client.address))
        worked = False
        for path in ("/admin/", "/admin/school/export.csv"):
            answer = copy.send(
                "replayed_cookies", "GET", path, headers={"Cookie": f"session={cookie}"}
            )
            worked = worked or answer.status == 200
            if expect_refused and answer.status == 200:
                self.leak(
                    "replayed_cookies",
                    client,
                    "GET",
                    path,
                    f"a cookie copied before {event} still works",
                )
        return worked

    def victim(self, name: str, role: str = "coordinator", board: str | None = None):
        email = self.account(role, board, name=name)
        client = Client(self, role)
        client.login("replayed_cookies", email)
        cookie = client.cookie()
        if not self.replay(client, cookie, False, "nothing"):
            self.tally.notes.append(
                f"replayed_cookies: {name}: the copied cookie did not work even before"
            )
        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).filter_by(email=email))
        return client, cookie, user_id, email

    def edit_account(self, user_id: int, drop=(), **changes) -> None:
        beheerder = self.clients["beheerder"]
        url = f"/admin/user/edit/?id={user_id}"
        fields = form_fields(beheerder.send("replayed_cookies", "GET", url).text)
        answer = beheerder.send(
            "replayed_cookies", "POST", url, data=with_values(fields, drop, **changes)
        )
        if answer.status != 302:
            self.tally.notes.append(
                f"replayed_cookies: the beheerder's edit of account {user_id}: {answer.status}"
            )

    def replayed_cookies(self) -> None:
        client, cookie, _id, _email = self.victim("uitlog")
        client.send(
            "replayed_cookies",
            "POST",
            "/uitloggen",
            data={"csrf_token": client.token("replayed_cookies")},
        )
        self.replay(client, cookie, True, "logging out")

        client, cookie, _id, email = self.victim("wachtwoord")
        other = Client(self, "coordinator")
        other.login("replayed_cookies", email)
        other_cookie = other.cookie()
        data = {
            "csrf_token": other.token("replayed_cookies"),
            "current": PASSWORD,
            "new": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        }
        if other.send("replayed_cookies", "POST", "/wachtwoord", data=data).status != 302:
            self.tally.notes.append("replayed_cookies: the password change was refused")
        self.replay(client, cookie, True, "a password change in another session")
        self.replay(other, other_cookie, True, "a password change in that same session")

        client, cookie, user_id, _email = self.victim("rol")
        self.edit_account(user_id, role="medewerker")
        self.replay(client, cookie, True, "a role change by a beheerder")

        client, cookie, user_id, _email = self.victim("bestuur-wissel", "bestuur", OWN_BOARD)
        self.edit_account(user_id, board=str(self.foreign_board))
        self.replay(client, cookie, True, "a board change by a beheerder")

        client, cookie, user_id, _email = self.victim("uitgeschakeld")
        self.edit_account(user_id, drop=("active",))
        self.replay(client, cookie, True, "deactivation by a beheerder")

        client, cookie, user_id, _email = self.victim("reset")
        beheerder = self.clients["beheerder"]
        data = {
            "csrf_token": beheerder.token("replayed_cookies"),
            "action": "reset_password",
            "rowid": user_id,
        }
        beheerder.send("replayed_cookies", "POST", "/admin/user/action/", data=data)
        self.replay(client, cookie, True, "a new password made by a beheerder")

    # -- 3. next= after logging in

    def open_redirects(self) -> None:
        email = self.account("coordinator", name="volgende")
        for target in REDIRECTS:
            client = Client(self, "coordinator")
            answer = client.login("open_redirects", email, next_=target)
            location = answer.location or ""
            found = []
            if answer.status == 302 and leaves_site(location, self.base + "/inloggen"):
                found.append(f"next={target!r} led to Location {location!r}, off the site")
            injected = [c for c in answer.cookies if c.lower().startswith("a=")]
            if injected or "\n" in location or "\r" in location:
                found.append(
                    f"next={target!r} put a header into the answer: {injected or location!r}"
                )
            for note in found:
                self.leak(
                    "open_redirects",
                    client,
                    "POST",
                    "/inloggen",
                    note,
                    {"next": target},
                    answer.status,
                )
            if answer.status != 302:
                self.tally.notes.append(
                    f"open_redirects: next={short(target, 40)} login answered {answer.status}"
                )

    # -- 4. foreign hosts and the page cache

    def foreign_hosts(self) -> None:
        variants = [(self.base, {"Host": h}) for h in HOSTS]
        variants += [(self.base, h) for h in HEADERS]
        variants += [(self.proxied_base, h) for h in PROXY_HEADERS]
        for base, headers in variants:
            for path in POISONED:
                attacker, visitor = Client(self, "anonymous", base), Client(self, "anonymous", base)
                foreign = attacker.send("foreign_hosts", "GET", path, headers=headers)
                links = offsite_links(foreign.text, base + path) if foreign.status == 200 else []
                if links:
                    note = f"{headers} was answered 200 with links off the site: {links[:2]}"
                    self.leak("foreign_hosts", attacker, "GET", path, note, status=200)
                normal = visitor.send("foreign_hosts", "GET", path)
                if EVIL in normal.text:
                    proxy = " (PROXY_COUNT=1)" if base == self.proxied_base else ""
                    cache = normal.headers.get("X-Cache")
                    note = f"after {headers}{proxy}, a normal request got {EVIL} (X-Cache {cache})"
                    self.leak("foreign_hosts", visitor, "GET", path, note, status=normal.status)

    # -- 5. control characters and formulas into spreadsheets

    def control_characters(self) -> None:
        coordinator = self.clients["coordinator"]
        with self.app.app_context():
            school = db.session.scalars(select(School).order_by(School.id.desc())).first()
            school_id, code = school.id, school.vestigingscode
            board_id = school.board_id
        edit = f"/admin/school/edit/?id={school_id}"
        for value in CONTROL + FORMULAS + OTHER:
            fields = form_fields(coordinator.send("control_characters", "GET", edit).text)
            before = self.school_name(school_id)
            answer = coordinator.send(
                "control_characters", "POST", edit, data=with_values(fields, name=value)
            )
            self.check_stored(coordinator, edit, {"name": value}, school_id, answer.status, before)
        # A board's name ends up as a row (and maybe a sheet) of the overviews.
        board_edit = f"/admin/board/edit/?id={board_id}"
        for value in ["Bestuur [A/B]: *?\\", "=1+1", "'Bestuur'", "😀" * 40]:
            fields = form_fields(coordinator.send("control_characters", "GET", board_edit).text)
            coordinator.send(
                "control_characters", "POST", board_edit, data=with_values(fields, name=value)
            )
        # Through the public form, then accepted by the coordinator.
        for value in CONTROL + FORMULAS:
            public = Client(self, "anonymous")  # 10 corrections an hour per address
            self.correction(
                "control_characters", public, code, "naam", value, contact="ouder@thuis.example"
            )
        for value in CONTROL[:3]:
            public = Client(self, "anonymous")
            self.correction(
                "control_characters", public, code, "overig", "probe", contact=f"ouder{value}"
            )
        with self.app.app_context():
            open_ids = list(
                db.session.scalars(
                    select(CorrectionRequest.id).where(
                        CorrectionRequest.field == "naam",
                        CorrectionRequest.status == CorrectionStatus.OPEN,
                    )
                )
            )
            stored = db.session.scalars(select(CorrectionRequest)).all()
            for correction in stored:
                # The proposal is multi-line text: a tab or a line break belongs there.
                proposal = (correction.proposed_value or "").translate(TAB_AND_NEWLINE)
                if has_control(proposal) or has_control(correction.contact):
                    self.leak(
                        5, public, "POST", f"/scholen/{code}/correctie",
                        "a control character was stored through the correction form: "
                        f"{short(correction.proposed_value, 50)} / {short(correction.contact, 50)}",
                    )  # fmt: skip
        for correction_id in open_ids:
            url = f"/admin/correction/behandelen/?id={correction_id}"
            fields = form_fields(coordinator.send("control_characters", "GET", url).text)
            data = with_values(fields, decision="accept")
            before = self.school_name(school_id)
            answer = coordinator.send("control_characters", "POST", url, data=data)
            data = {"decision": "accept"}
            self.check_stored(coordinator, url, data, school_id, answer.status, before)
        self.downloads(coordinator)

    def school_name(self, school_id: int) -> str:
        with self.app.app_context():
            return db.session.get(School, school_id).name

    def check_stored(self, client, url, data, school_id: int, status: int, before: str) -> None:
        name = self.school_name(school_id)
        if name != before and has_control(name):
            note = f"a control character was stored in a school's name: {short(name, 60)}"
            self.leak("control_characters", client, "POST", url, note, data, status)

    def downloads(self, coordinator: Client) -> None:
        anonymous = Client(self, "anonymous")
        files = [
            (anonymous, "/scholen.xlsx", None),
            (anonymous, "/scholen.csv", None),
            (anonymous, "/scholen.excel.csv", None),
            (anonymous, "/besturen.xlsx", None),
            (anonymous, "/gemeenten.xlsx", None),
            (anonymous, "/netwerken.xlsx", None),
            (anonymous, "/overzichten/bestuur.xlsx", None),
            (anonymous, "/overzichten/gemeente.xlsx", None),
            (anonymous, "/overzichten/netwerk.xlsx", None),
            (coordinator, "/admin/school/export.xlsx", None),
            (coordinator, "/admin/school/export.csv", None),
            (coordinator, "/admin/school/export.excel.csv", None),
            (coordinator, "/admin/change/export.csv", None),
            (coordinator, "/admin/duo/vergelijking.xlsx", {"bestand": self.checksum}),
            (coordinator, "/admin/duo/vergelijking.csv", {"bestand": self.checksum}),
        ]
        files += [(anonymous, "/scholen.xlsx", {"q": q}) for q in SHEET_QUERIES]
        files += [(anonymous, "/scholen.xlsx", {"q": "school", "plaats": q}) for q in "\\/?:[]"]
        for client, path, params in files:
            answer = client.send("control_characters", "GET", path, params=params)
            if answer.status == 200:
                self.check_file(client, path, params, answer)

    def check_file(self, client, path, params, answer: Answer) -> None:
        problem = (_xlsx_problem if path.endswith(".xlsx") else _csv_problem)(path, answer)
        if problem:
            self.leak("control_characters", client, "GET", path, problem, params, answer.status)

    # -- 6. fuzz

    def hostile(self) -> str:
        rng = self.rng
        pick = rng.random()
        if pick < 0.6:
            return rng.choice(HOSTILE)
        if pick < 0.8:
            return str(rng.choice((-1, 1)) * rng.randrange(2 ** rng.choice((8, 31, 63, 64, 70))))
        ranges = ((0, 0x20), (0x20, 0x7F), (0x80, 0x250), (0x1F600, 0x1F650))
        return "".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randrange(1, 40)))

    def public_value(self, name: str) -> str:
        known = {
            "code": self.codes,
            "number": self.slugs["board"],
            "slug": self.slugs["municipality"] + self.slugs["network"],
            "filename": ["css/site.css", "../registry/config.py", "%2e%2e/wsgi.py"],
            "q": ["school", "meppel", "a*", "de"],
            "page": ["1", "2", "0"],
            "postcode": ["7941AB", "7941", "7941 AB"],
            "sort": list(SORTS),
            "peildatum": ["2024-10-01", "2023-10-01", "1900-01-01"],
            "kolom": ["naam", "plaats", "leerlingen"],
            "lang": ["nl", "en", "de"],
            "gemeente": self.slugs["municipality"],
            "netwerk": self.slugs["network"],
            "bestuur": self.slugs["board"],
        }
        if name in known and self.rng.random() < 0.5:
            return self.rng.choice(known[name])
        return self.hostile()

    def public_routes(self) -> list:
        rules = []
        for rule in self.app.url_map.iter_rules():
            if "GET" in rule.methods and not rule.rule.startswith(("/admin", "/static/")):
                rules.append(rule)
        rules.append(next(r for r in self.app.url_map.iter_rules() if r.endpoint == "static"))
        return sorted(rules, key=lambda r: r.rule)

    def fuzz_path(self, rule) -> str:
        def fill(match):
            name = match.group(1).split(":")[-1]
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter) and self.rng.random() < 0.9:
                return self.rng.choice(sorted(converter.items))
            safe = "/" if name == "filename" else ""
            return quote(self.public_value(name), safe=safe)

        return re.sub(r"<([^>]+)>", fill, rule.rule)

    def fuzz_check(self, client, path, params, answer: Answer) -> None:
        html = answer.headers.get("Content-Type", "").startswith("text/html")
        if html and XSS in answer.text:
            self.leak("fuzz", client, "GET", path, "a value came back unescaped in HTML", params)
        if any(name.lower() == "x-probe-injected" for name in answer.headers):
            self.leak("fuzz", client, "GET", path, "a header was injected", params)

    def fuzz(self, count: int) -> None:
        public = Client(self, "anonymous")
        rules = self.public_routes()
        names = sorted({"q", "page", "postcode", "sort", "peildatum", "kolom", "lang", *FACETS})
        names += ["cb", "next", "format", "id", "x"]
        for _ in range(count):
            rule = self.rng.choice(rules)
            path = self.fuzz_path(rule)
            params = [
                (name, self.public_value(name))
                for name in self.rng.choices(names, k=self.rng.randrange(0, 5))
            ]
            if path.startswith("/overzichten/") and path.endswith(".pdf"):
                params = [p for p in params if p[0] == "peildatum"][:1]
            self.fuzz_check(public, path, params, public.send("fuzz", "GET", path, params=params))
        coordinator = self.clients["coordinator"]
        pages = ["", "details/", "edit/", "geschiedenis/", "new/", "ajax/lookup/", "export/csv/"]
        extra = [
            "/admin/school/export.csv",
            "/admin/school/export.xlsx",
            "/admin/school/download/",
            "/admin/change/export.csv",
            "/admin/duo/",
            "/admin/duo/vergelijking",
            "/admin/duo/vergelijking.csv",
            "/admin/",
        ]
        urls = [f"/admin/{view}/{page}" for view in VIEWS for page in pages] + extra
        admin_names = ["id", "page", "page_size", "sort", "desc", "search", "url", "name"]
        admin_names += ["query", "offset", "limit", "modal", "kolom", "bestand", "gebied", "ids"]
        admin_names += [f"flt{i}_{m}" for i in range(3) for m in range(40)]
        valid = ["1", "2", "0", "", "1,2", "true", "2026-01-01", "2026-01-01 to 2026-12-31"]
        valid += ["open", "BAO", "regio", "landelijk", self.checksum, "1", "50"]
        for _ in range(count):
            path = self.rng.choice(urls)
            params = []
            for _n in range(self.rng.randrange(0, 5)):
                name = self.rng.choice(admin_names)
                value = self.rng.choice(valid) if self.rng.random() < 0.4 else self.hostile()
                params.append((name, value))
            answer = coordinator.send("fuzz", "GET", path, params=params)
            self.fuzz_check(coordinator, path, params, answer)

    # -- 7. reading what the role should not

    def forbidden_reads(self) -> None:
        secret_id, emails = self._plant_secret_account()
        self._reject_first_correction()
        # Accounts that wrote public data are named as its author ("Door"); noted, not counted.
        actors = {self.emails[r] for r in ("coordinator", "beheerder", "bestuur")}
        with self.app.app_context():
            change_ids = list(
                db.session.scalars(
                    select(Change.id).where(Change.record_type.in_(["user_account", "correction"]))
                )
            )
        # Account records are for beheerders only, so a coordinator looks for those too.
        for role in ("medewerker", "bestuur", "coordinator"):
            secrets = emails - actors - {self.emails[role]}
            secrets |= set() if role == "coordinator" else set(self.contacts)
            urls = self._reads(secrets, change_ids, secret_id)
            self._look_for_secrets(role, urls, secrets, actors)

    def _plant_secret_account(self) -> tuple[int | None, set[str]]:
        """A medewerker account made and then given another role by the beheerder: its address
        and its history are what others must not read."""
        beheerder = self.clients["beheerder"]
        secret = f"geheim-{self.suffix}@probe.example"
        fields = form_fields(beheerder.send("forbidden_reads", "GET", "/admin/user/new/").text)
        data = with_values(fields, email=secret, name="Geheim Account", role="medewerker")
        beheerder.send("forbidden_reads", "POST", "/admin/user/new/", data=data)
        with self.app.app_context():
            secret_id = db.session.scalar(select(User.id).filter_by(email=secret))
            emails = set(db.session.scalars(select(User.email)))
        if secret_id:
            url = f"/admin/user/edit/?id={secret_id}"
            fields = form_fields(beheerder.send("forbidden_reads", "GET", url).text)
            beheerder.send(
                "forbidden_reads", "POST", url, data=with_values(fields, role="coordinator")
            )
        else:
            self.tally.notes.append(
                "forbidden_reads: the beheerder could not create the secret account"
            )
        return secret_id, emails

    def _reject_first_correction(self) -> None:
        """A sender's contact shows up in the history once a coordinator handles the correction."""
        coordinator = self.clients["coordinator"]
        url = f"/admin/correction/behandelen/?id={self.correction_ids[0]}"
        data = with_values(
            form_fields(coordinator.send("forbidden_reads", "GET", url).text), decision="reject"
        )
        coordinator.send(
            "forbidden_reads", "POST", url, data=with_values(data, reason="probe: afgewezen")
        )

    def _reads(self, secrets: set[str], change_ids: list[int], secret_id) -> list[str]:
        """Every admin address that could show a secret: lists, searches, sorts, files, details."""
        urls = ["/admin/change/", "/admin/change/export.csv", "/admin/correction/", "/admin/"]
        # A search for the start of a secret: the page repeats the term, never the whole.
        urls += [f"/admin/change/?search={quote(s[:12])}" for s in secrets]
        urls += [f"/admin/change/?sort={n}" for n in range(10)]
        urls += [f"/admin/change/?sort={n}&desc=1" for n in range(10)]
        urls += [f"/admin/correction/?sort={n}&desc=1" for n in range(9)]
        urls += [f"/admin/correction/?sort={n}" for n in range(9)]
        urls += ["/admin/correction/export/csv/", "/admin/change/export/csv/"]
        urls += ["/admin/user/", "/admin/user/export/csv/", "/admin/user/ajax/lookup/?name=x"]
        for correction_id in self.correction_ids:
            for page in ("details", "geschiedenis", "edit"):
                urls.append(f"/admin/correction/{page}/?id={correction_id}")
        urls += [f"/admin/change/details/?id={n}" for n in change_ids[:20]]
        urls += [f"/admin/change/geschiedenis/?id={n}" for n in change_ids[:5]]
        if secret_id:
            urls += [f"/admin/user/{p}/?id={secret_id}" for p in ("details", "geschiedenis")]
        return urls

    def _look_for_secrets(self, role: str, urls: list[str], secrets: set, actors: set) -> None:
        client = self.clients[role]
        authors = defaultdict(list)
        for url in urls:
            answer = client.send("forbidden_reads", "GET", url)
            body = answer.text.lower() if answer.status == 200 else ""
            for value in sorted(secrets):
                if value.lower() in body:
                    what = "a sender's contact" if value in self.contacts else "an account"
                    note = f"{what} ({value}) shown to {role}"
                    self.leak("forbidden_reads", client, "GET", url, note, status=answer.status)
            for author in actors - {self.emails[role]}:
                if author.lower() in body:
                    authors[author].append(url.split("?")[0])
        for author, where in sorted(authors.items()):
            pages = ", ".join(dict.fromkeys(where))
            self.tally.notes.append(
                f"forbidden_reads: {role} reads the e-mail address of {author} (who changed"
                f" data) as the author of a change or a correction's handler, on {len(where)}"
                f" pages: {pages}"
            )

    # -- 8. expensive pages

    def expensive_pages(self) -> None:
        client = Client(self, "anonymous")
        renders = limited = 0
        for n in range(1, 31):
            answer = client.send(
                "expensive_pages", "GET", "/overzichten/bestuur.pdf", params={"cb": n}
            )
            renders += answer.status == 200 and answer.headers.get("X-Cache") != "hit"
            limited += answer.status == 429
        self.tally.notes.append(
            f"expensive_pages: /overzichten/bestuur.pdf?cb=1..30 from one address:"
            f" {renders} renders, {limited} answers 429"
        )
        if renders > 1:
            note = f"?cb=N reached the renderer {renders} times for one page"
            self.leak("expensive_pages", client, "GET", "/overzichten/bestuur.pdf?cb=N", note)
        # Every distinct overview file (3 groups, 2 formats, each counted day) is a render; one
        # address may make OVERVIEW_FILE_LIMIT (20) of them a minute. Workbooks first: they are
        # quick, so the limit is reached well within the minute.
        client = Client(self, "anonymous")
        with self.app.app_context():
            days = sorted(db.session.scalars(select(PupilCount.reference_date).distinct()))
        files = [
            (f"/overzichten/{group}.{fmt}", day)
            for fmt in ("xlsx", "pdf")
            for group in ("gemeente", "bestuur", "netwerk")
            for day in days[-6:]
        ]
        rendered, limited, start = [], 0, time.monotonic()
        for path, day in files:
            answer = client.send("expensive_pages", "GET", path, params={"peildatum": day})
            if answer.status == 200 and answer.headers.get("X-Cache") != "hit":
                rendered.append(time.monotonic() - start)
            limited += answer.status == 429
        within = sum(t < 60 for t in rendered)
        self.tally.notes.append(
            f"expensive_pages: {len(files)} distinct overview files from one address:"
            f" {len(rendered)} renders ({within} in the first minute), {limited} answers 429,"
            f" in {time.monotonic() - start:.0f} s"
        )
        if within > 20:
            note = f"{within} overview renders in one minute from one address (limit 20)"
            path = "/overzichten/<group>.<fmt>?peildatum=D"
            self.leak("expensive_pages", client, "GET", path, note)


# -- Running it ---------------------------------------------------------------------------------


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def make_app(database_url: str, folder: Path, errors: ServerErrors, **extra):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "probe",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": True,
        **extra,
    }
    app = create_app(config, instance_path=str(folder / "instance"))
    app.logger.removeHandler(default_handler)  # the probe's handler keeps what counts
    app.wsgi_app = tagged(app.wsgi_app)
    return app


def run(
    url: str, seed: int, fuzz: int, attacks: list[str]
) -> tuple[str, Tally, ServerErrors, float]:
    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(url, Path(tmp)) as database_url:
        flask_cli(database_url, "db", "upgrade")
        flask_cli(database_url, "seed")
        app = make_app(database_url, Path(tmp), errors)
        proxied = make_app(database_url, Path(tmp), errors, PROXY_COUNT=1)
        server, thread, base = serve(app)
        proxy_server, proxy_thread, proxied_base = serve(proxied)
        probe = Probe(app, base, proxied_base, errors, seed)
        try:
            probe.setup()
            for attack in attacks:
                print(f"  {ATTACKS[attack]} ...", file=sys.stderr, flush=True)
                begun = time.monotonic()
                probe.check_sessions(attack)
                if attack == "fuzz":
                    probe.fuzz(fuzz)
                else:
                    getattr(probe, attack)()
                probe.tally.seconds[attack] = time.monotonic() - begun
        finally:
            for running, worker in ((server, thread), (proxy_server, proxy_thread)):
                running.shutdown()
                worker.join()
            for each in (app, proxied):
                with each.app_context():
                    db.session.remove()
                    db.engine.dispose()
            logging.getLogger().removeHandler(errors)
    label = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    return label, probe.tally, errors, time.monotonic() - started


def _xlsx_problem(_path: str, answer: Answer) -> str | None:
    """Why a downloaded workbook is unsafe: it does not open, or a cell is a formula."""
    try:
        workbook = load_workbook(io.BytesIO(answer.content))
    except Exception as error:  # any failure to open is the finding
        return f"the workbook does not open: {error!r}"
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    return f"a formula cell {cell.coordinate}: {short(cell.value, 80)}"
    return None


def _csv_problem(path: str, answer: Answer) -> str | None:
    """Why a downloaded CSV is unsafe: a NUL, or a cell a spreadsheet reads as a formula."""
    body = answer.content.decode("utf-8-sig", "replace")
    if "\x00" in body:
        return "a NUL in the CSV"
    delimiter = ";" if "excel" in path else ","
    for row in csv.reader(io.StringIO(body), delimiter=delimiter):
        for value in row:
            if value.startswith(FORMULA_PREFIXES):
                return f"a cell that starts a formula: {short(value, 80)}"
    return None


def report(label: str, url: str, tally: Tally, errors: ServerErrors, seconds: float) -> None:
    print(f"\n## {label} ({url}), {seconds:.0f} s\n")
    _print_table(tally)
    _print_findings(label, tally, errors)
    _print_unreported(label, tally, errors)


def _print_table(tally: Tally) -> None:
    print("| attack | requests | >=500 | leaks |")
    print("| --- | ---: | ---: | ---: |")
    totals = Counter()
    for attack, name in ATTACKS.items():
        found = [f for f in tally.findings if f.attack == attack]
        row = Counter(
            requests=tally.requests[attack],
            errors=sum(f.kind == ">=500" for f in found),
            leaks=sum(f.kind == "leak" for f in found),
        )
        totals.update(row)
        print(f"| {attack}: {name} | {row['requests']} | {row['errors']} | {row['leaks']} |")
    print(f"| **total** | {totals['requests']} | {totals['errors']} | {totals['leaks']} |")
    print("\nSeconds per attack: " + ", ".join(f"{k}: {v:.0f}" for k, v in tally.seconds.items()))
    print(
        "\nAnswers per attack: "
        + "; ".join(
            f"{attack}: " + ", ".join(f"{s}x{n}" for s, n in sorted(tally.statuses[attack].items()))
            for attack in ATTACKS
        )
    )


def _print_findings(label: str, tally: Tally, errors: ServerErrors) -> None:
    # The same failure from many fuzzed requests is one finding with a count.
    groups = defaultdict(list)
    for finding in tally.findings:
        trace = errors.by_number.get(str(finding.number), []) if finding.number else []
        last = trace[-1].strip().splitlines()[-1] if trace else finding.note
        path = urlsplit(finding.url).path
        groups[(finding.attack, finding.kind, finding.role, finding.method, path, last)].append(
            (finding, trace)
        )
    if groups:
        print(f"\n### Every answer >= 500 and every leak ({label})")
    for (attack, kind, role, method, path, _last), items in sorted(groups.items()):
        finding, trace = items[0]
        times = f" (x{len(items)})" if len(items) > 1 else ""
        print(f"\n- [{attack}] {kind} {finding.status} {role} {method} {path}{times}")
        print(f"  URL:  {finding.url[:600]}")
        if finding.data:
            print(f"  data: {finding.data}")
        if finding.note:
            print(f"  note: {finding.note}")
        for logged in trace[:2]:
            lines = logged.strip().splitlines()
            excerpt = [*lines[:1], "  ...", *lines[-10:]] if len(lines) > 12 else lines
            print("  server log:\n" + "\n".join("    " + line for line in excerpt))


def _print_unreported(label: str, tally: Tally, errors: ServerErrors) -> None:
    if tally.notes:
        print(f"\n### Notes ({label}), not counted")
        for note in dict.fromkeys(tally.notes):
            print(f"- {note}")
    reported = {str(f.number) for f in tally.findings}
    swallowed = [(n, t) for n, t in errors.by_number.items() if n and n not in reported]
    if swallowed:
        print(f"\n### Server errors logged on answers below 500 ({label}), not counted")
        for number, logged in swallowed[:10]:
            line = logged[-1].strip().splitlines()
            print(f"- request {number} {tally.sent.get(number, '')}: {line[0]} / {line[-1]}")
    stray = errors.by_number.get(None, [])
    if stray:
        print(f"\n### Server errors outside any probe request ({label}): {len(stray)}")
        for logged in stray[:5]:
            print("  " + logged.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        action="append",
        help="'sqlite' (a temporary file) or a PostgreSQL server URL; may be repeated",
    )
    parser.add_argument("--seed", type=int, default=2203, help="for the fuzzer's choices")
    parser.add_argument("--fuzz", type=int, default=750, help="requests per half of the fuzz")
    parser.add_argument(
        "--attack",
        action="append",
        choices=[name for name in ATTACKS if name != "setup"],
        help="run only this attack; may be repeated (default: every attack)",
    )
    parser.add_argument("--log", type=Path, help="write every request (tab-separated) here")
    options = parser.parse_args()
    if Path(registry.__file__).resolve().parent.parent != PROJECT:
        raise SystemExit(f"registry is imported from {registry.__file__}: set PYTHONPATH={PROJECT}")
    for url in options.database_url or ["sqlite"]:
        print(f"probing {url} ...", file=sys.stderr, flush=True)
        attacks = options.attack or [name for name in ATTACKS if name != "setup"]
        label, tally, errors, seconds = run(url, options.seed, options.fuzz, attacks)
        report(label, url, tally, errors, seconds)
        if options.log:
            with options.log.open("a") as handle:
                handle.write(f"# {label} {url}\n" + "\n".join(tally.log) + "\n")


if __name__ == "__main__":
    main()
