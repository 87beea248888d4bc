"""Fixtures: a fresh app and database per test, on SQLite or on TEST_DATABASE_URL.

Migrating and seeding take about a second, so they run once a session, into template
databases; each test gets a copy of the template it needs (a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL).
"""

import gc
import os
import shutil
import sqlite3
import threading
import uuid
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IN_CI,
    PASSWORD,
    POSTGRES_URL,
    TOTP_SECRET,
    session_cookies,
    signed_in,
)
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool
from werkzeug.routing.rules import Rule
from werkzeug.serving import make_server

from registry import create_app
from registry.config import sqlalchemy_url
from registry.db import db
from registry.seed import load_seed

# Every test builds an app (Flask-Admin's views, SQLAlchemy's mappings: reference cycles) and
# drops it again, so the collector's full passes over everything alive took a third of the
# suite's time (45 passes of 0.2 s in 114 tests). Collect less often; memory is plentiful here.
gc.set_threshold(100_000, 50, 100)


def pytest_collection_finish(session) -> None:
    """What is alive now (the code, the tests) lives all session: no collection looks at it."""
    gc.collect()
    gc.freeze()


def mentions(item) -> set[str]:
    """The global names and the string constants that a test's function and its fixtures'
    functions use."""
    functions = [getattr(item, "function", None)]
    for definitions in getattr(item, "_fixtureinfo", None).name2fixturedefs.values():
        functions.append(definitions[-1].func)
    code = [each for function in functions if (each := getattr(function, "__code__", None))]
    names = {name for each in code for name in each.co_names}
    return names | {value for each in code for value in each.co_consts if isinstance(value, str)}


# The slow kinds of test, each known by what it uses (a sweep by its marker), so a new test is
# marked without asking; `make test-fast` leaves out every test that has one (setup.cfg says
# what each means). `make test` and CI run them all.
SLOW_KINDS = {
    "browser": lambda item, used: "browser" in item.fixturenames,
    "axe": lambda item, used: "axe" in item.name,
    "hypothesis": lambda item, used: getattr(item.obj, "is_hypothesis_test", False),
    "gunicorn": lambda item, used: "gunicorn_serving" in used,
    "schemathesis": lambda item, used: "schemathesis" in used,
    "reliability": lambda item, used: item.path.stem == "test_reliability",
    "pdf": lambda item, used: any(".pdf" in word for word in used),
    "program": lambda item, used: any(word.startswith(("libreoffice", "vnu_")) for word in used),
    "sweep": lambda item, used: item.get_closest_marker("sweep") is not None,
    "national": lambda item, used: any("NATIONAL" in str(word) for word in used | arguments(item)),
}


def arguments(item) -> set:
    """The values a parametrized test is called with."""
    callspec = getattr(item, "callspec", None)
    return set(map(str, callspec.params.values())) if callspec else set()


def pytest_collection_modifyitems(items) -> None:
    """Mark the slow tests by kind, and each of them `slow`."""
    for item in items:
        used = mentions(item)
        kinds = [kind for kind, applies in SLOW_KINDS.items() if applies(item, used)]
        for kind in kinds:
            item.add_marker(kind)
        if kinds:
            item.add_marker("slow")


# Each template: the template it is copied from (None: an empty database), then what runs on it.
TEMPLATES = {"migrated": (None, upgrade), "seeded": ("migrated", load_seed)}


class Databases:
    """Where test databases live (`new`, `config`, `seal`, `drop` say how); each template is
    built the first time a test needs it and kept for the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates: dict[str, str] = {}

    def template(self, kind: str) -> str:
        if kind not in self.templates:
            source, build = TEMPLATES[kind]
            folder = self.folder / kind
            folder.mkdir()
            location = self.new(folder, source)
            app = create_app(
                {"TESTING": True, "SECRET_KEY": "template", **self.config(location)},
                instance_path=str(folder / "instance"),
            )
            with app.app_context():
                build()
                db.session.remove()
                db.engine.dispose()  # a template must have no connections to be copied
            self.seal(location)
            self.templates[kind] = location
        return self.templates[kind]

    def close(self) -> None:
        for location in self.templates.values():
            self.drop(location)


class SQLiteDatabases(Databases):
    """A database is a file; a copy is a copy of the file."""

    def new(self, folder: Path, kind: str | None = None) -> str:
        """A new database in `folder`, empty or a copy of the template `kind`."""
        location = str(folder / "registry.sqlite3")
        if kind:
            shutil.copyfile(self.template(kind), location)
        return location

    def config(self, location: str) -> dict:
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{location}"}

    def seal(self, location: str) -> None:
        """Fold the write-ahead log into the file, so that the file alone is the whole database."""
        with closing(sqlite3.connect(location)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")

    def drop(self, location: str) -> None:
        """Nothing to do: pytest removes the temporary folders."""


class PostgresDatabases(Databases):
    """A database per test on the server of TEST_DATABASE_URL, its name in place of the URL's."""

    def __init__(self, folder: Path, url: str) -> None:
        super().__init__(folder)
        self.url = make_url(sqlalchemy_url(url))
        # CREATE and DROP DATABASE cannot run inside a transaction. No pool: the dropper thread
        # and the tests share this engine, and a pooled connection the pool let go of unclosed
        # surfaced as a ResourceWarning in whichever test the collector happened to run in.
        self.server = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        # Since PostgreSQL 15 a copy is written page by page through the write-ahead log
        # unless FILE_COPY is asked for; FILE_COPY's two checkpoints cost nothing on a server
        # that syncs nothing (.ci/run's: 13-20 ms a copy of the seeded template against
        # 25-34 ms), but 140 ms against 50 on one that does.
        with self.server.connect() as connection:
            unsynced = connection.exec_driver_sql("SHOW fsync").scalar() == "off"
            recent = connection.dialect.server_version_info >= (15,)
        self.strategy = " STRATEGY FILE_COPY" if unsynced and recent else ""
        # Dropping a database waits for a checkpoint: a thread does it while the next test runs.
        self.dropper = ThreadPoolExecutor(max_workers=1)
        self.dropped: list[Future] = []
        # Copying a template takes the server 0.12-0.2 s (mostly its 7 MB of system catalogs):
        # a thread copies the next test's database of each kind while this test runs.
        self.maker = ThreadPoolExecutor(max_workers=1)
        self.spares: dict[str | None, Future] = {}

    def new(self, folder: Path, kind: str | None = None) -> str:
        """A new database, empty or a copy of the template `kind`: the spare copied ahead, and
        another spare of that kind started."""
        template = self.template(kind) if kind else "template0"
        spare = self.spares.pop(kind, None)
        name = spare.result() if spare else self.copy(template)
        self.spares[kind] = self.maker.submit(self.copy, template)
        return name

    def copy(self, template: str) -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        # Nobody can connect to template0, so it is never too busy to be copied.
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self.strategy}')
        return name

    def config(self, name: str) -> dict:
        url = self.url.set(database=name).render_as_string(hide_password=False)
        return {"SQLALCHEMY_DATABASE_URI": url}

    def seal(self, name: str) -> None:
        """Nothing to do: the database is complete once its connections are closed."""

    def drop(self, name: str) -> None:
        # FORCE ends connections a test left open (a server thread, a killed subprocess).
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        self.dropped.append(self.dropper.submit(self.execute, statement))

    def execute(self, statement: str) -> None:
        with self.server.connect() as connection:
            connection.execute(text(statement))

    def close(self) -> None:
        self.maker.shutdown()
        for spare in self.spares.values():
            self.drop(spare.result())
        super().close()
        self.dropper.shutdown()
        for dropped in self.dropped:
            dropped.result()  # raises if a database could not be dropped
        self.server.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """This session's test databases: SQLite files, or databases on TEST_DATABASE_URL's server."""
    folder = tmp_path_factory.mktemp("templates")
    databases = PostgresDatabases(folder, POSTGRES_URL) if POSTGRES_URL else SQLiteDatabases(folder)
    yield databases
    databases.close()


@pytest.fixture
def database(request, tmp_path, databases):
    """This test's own database, as app configuration: a copy of the seeded template when the
    test uses `seeded_database` (itself or through a fixture: seeded_app, client, login...), of
    the migrated one when it uses `app`, otherwise empty. A test has one database: every app
    and fixture of the test shares it."""
    fixtures = request.fixturenames
    kind = "seeded" if "seeded_database" in fixtures else "migrated" if "app" in fixtures else None
    location = databases.new(tmp_path, kind)
    yield databases.config(location)
    databases.drop(location)


class CompiledTemplates(BytecodeCache):
    """Templates compiled once for the whole session instead of once per test's app (40 ms of
    the first page each app renders); Jinja checks each template's source against its checksum."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def share_url_rules() -> None:
    """Werkzeug parses each URL rule of each app into regular expressions, then writes,
    compiles and runs Python source for its two builder functions (190 rules an app): half the
    time an app took to build. Both are plain functions of the rule: its parts of the rule's
    text and the converters its map knows, a builder of the text, the parsed parts and the
    defaults. So every app after the first takes those of an equal rule; what belongs to the
    app's map (a converter instance) is still made for each rule."""
    compile_builder, parse_rule = Rule._compile_builder, Rule._parse_rule
    builders: dict[tuple, object] = {}
    parsed: dict[tuple, tuple] = {}

    def shared_builder(rule: Rule, append_unknown: bool = True):
        defaults = sorted((rule.defaults or {}).items(), key=repr)
        key = (rule.rule, tuple(rule._trace), repr(defaults), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    def shared_parse(rule: Rule, text: str):
        """The parts, and what parsing adds to the rule: its trace, its converters, its
        arguments."""
        key = (text, tuple(rule.map.converters.items()))
        if key not in parsed:
            converters, traced = [], len(rule._trace)

            def get_converter(*spec):
                converters.append(spec)
                return Rule.get_converter(rule, *spec)

            rule.get_converter = get_converter
            try:
                parts = list(parse_rule(rule, text))
            finally:
                del rule.get_converter
            parsed[key] = (parts, rule._trace[traced:], converters)
            return parts
        parts, trace, converters = parsed[key]
        rule._trace.extend(trace)
        for variable, *spec in converters:
            rule._converters[variable] = rule.get_converter(variable, *spec)
            rule.arguments.add(variable)
        return parts

    Rule._compile_builder, Rule._parse_rule = shared_builder, shared_parse


share_url_rules()


class SharedCompiledSQL:
    """SQLAlchemy compiles a statement once per engine (and per mapper for the ORM's writes):
    its cache keys hold the engine's dialect. Every test's app has an engine of its own, so
    each test compiled its SQL anew, a tenth of the fast suite. Engines of one kind share their
    compiled statements here: the same dialect class with the same settings, as read after the
    first connection (the server's version among them)."""

    def __init__(self) -> None:
        self.compiled: dict[tuple, object] = {}
        self.kinds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def kind(self, dialect) -> tuple:
        if dialect.server_version_info is None:
            return (id(dialect),)  # not connected yet: its settings are not final
        if dialect not in self.kinds:
            settings = (
                (name, value)
                for name, value in vars(dialect).items()
                if isinstance(value, bool | int | float | str | tuple | frozenset | None)
            )
            self.kinds[dialect] = (type(dialect), *sorted(settings))
        return self.kinds[dialect]

    def get(self, key: tuple, default=None):
        return self.compiled.get((self.kind(key[0]), *key[1:]), default)

    def __setitem__(self, key: tuple, compiled) -> None:
        self.compiled[(self.kind(key[0]), *key[1:])] = compiled

    def use_in(self, app) -> None:
        with app.app_context():
            for engine in db.engines.values():
                engine._compiled_cache = self
        for mapper in db.Model.registry.mappers:
            mapper._compiled_cache = self


SHARED_COMPILED_SQL = SharedCompiledSQL()


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
            # A change of the data is indexed in the request that next searches, not in a
            # thread that could outlive the test (tests/test_search_index.py tries the thread).
            "SEARCH_INDEX_IN_BACKGROUND": False,
            # Hundreds of logins: scrypt's cost would be minutes of the suite (the default is
            # tested in test_auth_hardening.py).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Mail is delivered as the request ends, not in a thread that could outlive the
            # test (tests/test_mail.py tries the thread); without MAIL_SERVER it becomes files
            # in the instance folder.
            "MAIL_IN_BACKGROUND": False,
            **database,
            **extra,
        }
        made.append(create_app(config, instance_path=str(tmp_path / name)))
        made[-1].jinja_env.bytecode_cache = COMPILED_TEMPLATES
        SHARED_COMPILED_SQL.use_in(made[-1])
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def seeded_database():
    """Asks for the seed in this test's database (`database` copies the seeded template)."""


@pytest.fixture
def app(make_app):
    """This test's app, its database at the newest migration: empty, unless the test uses
    `seeded_database`."""
    return make_app()


@pytest.fixture
def seeded_app(seeded_database, app):
    """This test's app with the seed loaded."""
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
    # Keep the request threads, to wait for those still answering (a late stylesheet request
    # still loads the logged-in user) before the test's database is dropped under them.
    server.daemon_threads, server.block_on_close = False, True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    for answering in list(server._threads):
        answering.join(timeout=5)  # a browser left open keeps a connection alive: not forever
    server.block_on_close = False  # waited for above, within bounds
    server.server_close()


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


@pytest.fixture
def admin_page(seeded_app, live_server, browser):
    """Open a browser page on the admin as an account: admin_page(email, **context options),
    with the session a login gives (helpers.session_cookies), for the tests of what a logged-in
    person does. Logging in itself is walked in test_browser_admin.py; here it took a second a
    test. The page opens on /admin/, where a login lands."""
    contexts = []

    def open_admin(email: str, **options):
        context = browser.new_context(base_url=live_server, locale="nl-NL", **options)
        contexts.append(context)
        context.set_default_timeout(10_000)
        # Domain and path as the app set them (a cookie given by URL gets the URL's folder).
        host = urlsplit(live_server).hostname
        context.add_cookies(
            [
                {"name": name, "value": value, "domain": host, "path": path}
                for name, value, path in session_cookies(seeded_app, email)
            ]
        )
        page = context.new_page()
        page.goto("/admin/")
        assert page.url == f"{live_server}/admin/", page.url  # not sent to the login
        return page

    yield open_admin
    for context in contexts:
        context.close()


@pytest.fixture
def make_user(seeded_app):
    """Create an account with a known password: make_user(role, board_number=None); an account
    whose role needs a second factor has an app set up (TOTP_SECRET)."""
    from registry.models import Board, Role, User, utcnow

    def make(role: str, board_number: str | None = None, email: str | None = None):
        with seeded_app.app_context():
            board = None
            if board_number:
                board = db.session.scalar(db.select(Board).filter_by(board_number=board_number))
            user = User(email=email or f"{role}@example.org", role=Role(role), board=board)
            user.set_password(PASSWORD)
            if role in seeded_app.config["MFA_ROLES"]:
                user.totp_secret, user.second_factor_since = TOTP_SECRET, utcnow()
            db.session.add(user)
            db.session.commit()
            return user.email

    return make


@pytest.fixture
def login(seeded_app, make_user):
    """A test client logged in with the given role: login("coordinator"), with the session the
    app starts at a login (helpers.signed_in)."""

    def log_in(role: str, board_number: str | None = None, client=None):
        client = client or seeded_app.test_client()
        email = make_user(role, board_number, email=f"{role}-{uuid.uuid4().hex[:6]}@example.org")
        return signed_in(seeded_app, client, email)

    return log_in
