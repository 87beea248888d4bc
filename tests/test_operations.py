"""Production serving: health check, reverse-proxy headers, audit log, backup and restore."""

import hashlib
import logging
import os
import sqlite3
import stat
import subprocess
import uuid

import pytest
from flask import request
from helpers import IN_CI, POSTGRES_URL, gunicorn_serving
from sqlalchemy import select

from registry import create_app
from registry.db import db
from registry.models import School


def test_the_health_check_answers_while_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_the_health_check_says_unavailable_when_the_database_is_gone(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/no/such/folder/registry.sqlite3",
        },
        instance_path=str(tmp_path / "instance"),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_behind_a_proxy_the_clients_address_and_scheme_are_used(make_app):
    seen = {}

    def whoami():
        seen.update(address=request.remote_addr, scheme=request.scheme)
        return "ok"

    behind, direct = make_app("behind", PROXY_COUNT=1), make_app("direct", PROXY_COUNT=0)
    for app in (behind, direct):
        app.add_url_rule("/whoami", view_func=whoami)
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    behind.test_client().get("/whoami", headers=headers)
    assert seen == {"address": "203.0.113.7", "scheme": "https"}
    direct.test_client().get("/whoami", headers=headers)
    assert seen == {"address": "127.0.0.1", "scheme": "http"}  # headers not trusted


def test_refused_access_is_logged(seeded_app, login, caplog):
    client = login("medewerker")
    with caplog.at_level(logging.WARNING, logger=seeded_app.logger.name):
        assert client.get("/admin/user/").status_code == 403
    assert any(
        "access refused: GET /admin/user/ by medewerker-" in r.getMessage() for r in caplog.records
    )


def table_contents(connection) -> str:
    digest = hashlib.sha256()
    for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ):
        rows = connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
        digest.update(f"{name}:{rows}".encode())
    return digest.hexdigest()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's online backup; PostgreSQL uses pg_dump")
def test_a_backup_restores_to_the_same_content(seeded_app, tmp_path):
    runner = seeded_app.test_cli_runner()
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    with seeded_app.app_context():
        live = db.engine.url.database
        db.session.execute(select(School).limit(1)).scalar_one().name = "Na de back-up gewijzigd"
        db.session.commit()
        db.engine.dispose()
    # Restore: the backup file replaces the database; the content is what it was.
    original = table_contents(sqlite3.connect(target))
    with open(target, "rb") as source, open(live, "wb") as destination:
        destination.write(source.read())
    assert table_contents(sqlite3.connect(live)) == original
    with seeded_app.app_context():
        names = db.session.scalars(select(School.name)).all()
        assert "Na de back-up gewijzigd" not in names and len(names) == 117
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "bestaat al" in again.output


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's online backup; PostgreSQL uses pg_dump")
def test_a_backup_is_readable_by_its_owner_only(seeded_app, tmp_path):
    """It holds password hashes: 0600 whatever the umask, and an existing file is left alone."""
    runner = seeded_app.test_cli_runner()
    target = tmp_path / "backup.sqlite3"
    umask = os.umask(0o022)
    try:
        result = runner.invoke(args=["backup", str(target)])
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sqlite3.connect(target).execute("SELECT count(*) FROM user_account").fetchone()[0] >= 0
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"not to be overwritten")
    again = runner.invoke(args=["backup", str(existing)])
    assert again.exit_code == 1 and "bestaat al; kies een nieuwe bestandsnaam" in again.output
    assert existing.read_bytes() == b"not to be overwritten"


def test_a_backup_into_a_missing_folder_says_so_without_a_traceback(seeded_app, tmp_path):
    target = tmp_path / "geen-map" / "backup.sqlite3"
    result = seeded_app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"De map {target.parent} bestaat niet." in result.output
    assert "Traceback" not in result.output
    assert not target.parent.exists()


@pytest.mark.skipif(not POSTGRES_URL, reason="the PostgreSQL route")
def test_on_postgresql_the_backup_command_gives_the_pg_dump_route(seeded_app, tmp_path):
    result = seeded_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.dump")])
    assert result.exit_code != 0
    assert "pg_dump --format=custom" in result.output and "postgresql://" in result.output


def postgres_content(engine) -> str:
    """A hash of every row of every registry table, read through this engine."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{[tuple(map(str, row)) for row in rows]}".encode())
    return digest.hexdigest()


@pytest.mark.skipif(not POSTGRES_URL, reason="the PostgreSQL route")
def test_on_postgresql_pg_dump_and_pg_restore_give_back_the_content(seeded_app, database, tmp_path):
    """The README's route: pg_dump --format=custom, then pg_restore into an empty database."""
    from sqlalchemy import create_engine, make_url, text

    from registry.config import sqlalchemy_url

    # The test's own database (a copy of the seeded template), as libpq spells its URL.
    plain = database["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    original = create_engine(sqlalchemy_url(plain))
    before = postgres_content(original)
    dump = tmp_path / "registry.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", plain], check=True)
    with original.begin() as connection:
        connection.execute(text("UPDATE school SET name = 'Na de back-up gewijzigd'"))
    assert postgres_content(original) != before
    original.dispose()

    restored_name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(plain), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{restored_name}"'))
    # Its address with the other name (a socket's folder and port stay in the query).
    restored_url = make_url(plain).set(database=restored_name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={restored_url}", str(dump)], check=True
        )
        restored = create_engine(sqlalchemy_url(restored_url))
        assert postgres_content(restored) == before
        restored.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{restored_name}" WITH (FORCE)'))
        admin.dispose()


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


def test_rate_limits_hold_across_workers_with_shared_storage(app, make_app):
    """Two app processes (gunicorn workers, or servers) share the login limit through Redis:
    10 attempts a minute per address in all, not 10 each."""
    if not redis_available():
        if IN_CI:
            pytest.fail("CI=true but Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    shared = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "WTF_CSRF_ENABLED": False,
    }
    workers = [make_app(f"worker{i}", **shared).test_client() for i in range(2)]
    statuses = [
        workers[attempt % 2]
        .post("/inloggen", data={"email": f"x{attempt}@example.org", "password": "wrong"})
        .status_code
        for attempt in range(12)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    # And one account's wrong passwords from many addresses, through either worker: five.
    statuses = [
        workers[attempt % 2]
        .post(
            "/inloggen",
            data={"email": "y@example.org", "password": "wrong"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{attempt}"},
        )
        .status_code
        for attempt in range(7)
    ]
    assert statuses == [400] * 5 + [429] * 2


def test_gunicorn_serves_the_app_with_the_projects_settings(app, database, tmp_path):
    """`gunicorn -c gunicorn.conf.py wsgi:app`, as the README says, answers /healthz."""
    from urllib.request import urlopen

    with gunicorn_serving(database, tmp_path, workers=2) as (port, log_path):
        response = urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert response.status == 200
        assert b'"status":"ok"' in response.read().replace(b" ", b"")
        response.close()
    # Two workers counting rate limits in memory: each start says so, naming the remedy.
    started = log_path.read_text()
    assert "Rate limits are counted per worker (2 workers)" in started
    assert "REGISTRY_RATELIMIT_STORAGE_URI=redis://" in started


def test_an_applied_import_is_logged(seeded_app, caplog, tmp_path):
    path = tmp_path / "02.csv"
    path.write_bytes(
        b"VESTIGINGSCODE;INSTELLINGSCODE;VESTIGINGSNAAM;STRAATNAAM;HUISNUMMER-TOEVOEGING;"
        b"POSTCODE;PLAATSNAAM;GEMEENTENUMMER;GEMEENTENAAM;PROVINCIE;DENOMINATIE;TELEFOONNUMMER;"
        b"INTERNETADRES;BEVOEGD GEZAG NUMMER\r\n"
        b"05SX01;05SX;Dependance;Bleekhof;2;7961 AW;RUINERWOLD;1690;DE WOLDEN;Drenthe;"
        b"Openbaar; ; ;41196\r\n"
    )
    with caplog.at_level(logging.INFO, logger=seeded_app.logger.name):
        result = seeded_app.test_cli_runner().invoke(
            args=["duo", "apply", "--soort", "new", str(path)]
        )
    assert result.exit_code == 0, result.output
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    assert any(
        "DUO import #1 by opdrachtregel: 1 new" in r.getMessage() and checksum in r.getMessage()
        for r in caplog.records
    )
