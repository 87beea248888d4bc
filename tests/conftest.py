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
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin_engine.dispose()


@pytest.fixture
def make_app(tmp_path, database):
    """Build an app on this test's database, without migrating it; `name` keeps instances apart."""

    def make(name="instance"):
        config = {"TESTING": True, "SECRET_KEY": "test-only-secret", **database}
        return create_app(config, instance_path=str(tmp_path / name))

    return make


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
