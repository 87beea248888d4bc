import stat

import pytest
from sqlalchemy import text

from registry import create_app
from registry.config import sqlalchemy_url
from registry.db import db


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "REGISTRY_SECRET_KEY", "REGISTRY_SQLALCHEMY_DATABASE_URI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_to_sqlite_in_instance_folder(tmp_path, clean_env):
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "nl"


def test_secret_key_is_generated_once_private_and_random(tmp_path, clean_env):
    first = create_app(instance_path=str(tmp_path / "a"))
    again = create_app(instance_path=str(tmp_path / "a"))
    other = create_app(instance_path=str(tmp_path / "b"))
    key_file = tmp_path / "a" / "secret_key"
    assert len(first.config["SECRET_KEY"]) == 64
    assert again.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_and_database_from_environment(tmp_path, clean_env):
    clean_env.setenv("REGISTRY_SECRET_KEY", "from-the-environment")
    clean_env.setenv("DATABASE_URL", "postgres://registry@db.example/registry")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://registry@db.example/registry"
    )
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, expected):
    assert sqlalchemy_url(given) == expected


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path, clean_env):
    app = create_app(instance_path=str(tmp_path))
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_two_apps_in_one_process_are_independent(make_app):
    """A second app neither shares nor doubles the first's extensions (a module-level Admin
    reused by a second app registers every view twice: flask-admin issue #910)."""

    def shape(app):
        (admin,) = app.extensions["admin"]
        rules = sorted(rule.rule for rule in app.url_map.iter_rules())
        return [view.endpoint for view in admin._views], rules, sorted(app.blueprints)

    first = make_app("one")
    before = shape(first)
    second = make_app("two", SECRET_KEY="another-secret")
    views, rules, _ = shape(second)
    assert shape(first) == before
    assert shape(second) == before
    assert len(set(views)) == len(views)
    assert "/admin/" in rules
    # Extensions bound with init_app are shared objects by design; these hold one app's state.
    for name in ("admin", "page_cache", "search_index"):
        assert second.extensions[name] is not first.extensions[name], name
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert first.test_client().get("/admin/").status_code == 302
    assert second.test_client().get("/admin/").status_code == 302
