"""Fixtures: a fresh app and database per test, on SQLite or on TEST_DATABASE_URL."""

import os
import threading
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from registry import create_app
from registry.config import sqlalchemy_url
from registry.db import db
from registry.seed import load_seed

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def database(tmp_path):
    """Connection settings for an empty database: a SQLite file, or a PostgreSQL schema."""
    if not POSTGRES_URL:
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'registry.sqlite3'}"}
        return
    url = sqlalchemy_url(POSTGRES_URL)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(url)
    with admin_engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    }
    with admin_engine.begin() as connection:
        # A test that left a transaction open would make this wait forever: fail instead.
        connection.execute(text("SET lock_timeout = '20s'"))
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin_engine.dispose()


def database_url(database: dict) -> str:
    """The test database as DATABASE_URL for another process (PostgreSQL: with its schema)."""
    from urllib.parse import quote

    url = database["SQLALCHEMY_DATABASE_URI"]
    options = database.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options")
    return f"{url}?options={quote(options)}" if options else url


@pytest.fixture
def make_app(tmp_path, database):
    """Build an app on this test's database, without migrating it; `name` keeps instances apart,
    keyword arguments add configuration. Every app's connections are closed at the end."""
    made = []

    def make(name="instance", **extra):
        # The browser tests talk plain http to 127.0.0.1, where Secure cookies are not sent.
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-only-secret",
            "SESSION_COOKIE_SECURE": False,
            **database,
            **extra,
        }
        made.append(create_app(config, instance_path=str(tmp_path / name)))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    """An app whose database is at the newest migration, with no data."""
    app = make_app()
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seeded_app(app):
    with app.app_context():
        load_seed()
    return app


@pytest.fixture
def client(seeded_app):
    return seeded_app.test_client()


@pytest.fixture
def ctx(app):
    """An application context, for tests that work with the models directly."""
    with app.app_context():
        yield


@pytest.fixture
def live_server(seeded_app):
    """The seeded app served over HTTP on a free local port, for the browser."""
    server = make_server("127.0.0.1", 0, seeded_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; missing is a skip locally, a failure in CI."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1)


@pytest.fixture
def make_user(seeded_app):
    """Create an account with a known password: make_user(role, board_number=None)."""
    from registry.auth import Role, User
    from registry.models import Board

    def make(role: str, board_number: str | None = None, email: str | None = None):
        with seeded_app.app_context():
            board = None
            if board_number:
                board = db.session.scalar(db.select(Board).filter_by(board_number=board_number))
            user = User(email=email or f"{role}@example.org", role=Role(role), board=board)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            return user.email

    return make


@pytest.fixture
def login(seeded_app, make_user):
    """A test client logged in with the given role: login("coordinator")."""

    def log_in(role: str, board_number: str | None = None, client=None):
        client = client or seeded_app.test_client()
        email = make_user(role, board_number, email=f"{role}-{uuid.uuid4().hex[:6]}@example.org")
        token = csrf_from(client.get("/inloggen").get_data(as_text=True))
        response = client.post(
            "/inloggen", data={"csrf_token": token, "email": email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return log_in


def form_fields(html: str, form_index: int = -1) -> list[tuple[str, str]]:
    """The name/value pairs a browser would submit for one form on the page (no JavaScript)."""
    from html.parser import HTMLParser

    class Forms(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.forms, self.select, self.textarea = [], None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.forms.append([])
            elif not self.forms:
                return
            elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.forms[-1].append(
                    [a["name"], a.get("value", "y" if a.get("type") == "checkbox" else "")]
                )
            elif tag == "select" and a.get("name"):
                self.select = [a["name"], None]
            elif tag == "option" and self.select is not None:
                if self.select[1] is None or "selected" in a:
                    self.select[1] = a.get("value", "")
            elif tag == "textarea" and a.get("name"):
                self.textarea = [a["name"], ""]

        def handle_data(self, data):
            if self.textarea is not None:
                self.textarea[1] += data

        def handle_endtag(self, tag):
            if tag == "select" and self.select is not None:
                self.forms[-1].append([self.select[0], self.select[1] or ""])
                self.select = None
            elif tag == "textarea" and self.textarea is not None:
                self.forms[-1].append([self.textarea[0], self.textarea[1].lstrip("\n")])
                self.textarea = None

    parser = Forms()
    parser.feed(html)
    return [tuple(pair) for pair in parser.forms[form_index]]


def with_values(fields: list[tuple[str, str]], **changes):
    """The form data to post: the page's fields with some values replaced or added."""
    from werkzeug.datastructures import MultiDict

    result = [(name, changes.pop(name) if name in changes else value) for name, value in fields]
    return MultiDict(result + list(changes.items()))
