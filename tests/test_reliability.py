"""Nothing is lost under concurrent edits over HTTP or when a process dies mid-import."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyotp
import requests
from helpers import PASSWORD, POSTGRES_URL, TOTP_SECRET, csrf_from, database_url, form_fields
from sqlalchemy import create_engine, func, select, text

from registry.db import db
from registry.history import Change
from registry.models import ImportLog, School

PROJECT = Path(__file__).resolve().parent.parent
NATIONAL = (
    PROJECT
    / "seed_data"
    / "duo"
    / ("duo_02-alle-schoolvestigingen-basisonderwijs_NATIONAL_via-sessyll-bb794a7_2026-08.csv")
)
CONFLICT = "Iemand anders heeft dit record gewijzigd"


def http_session(base: str, email: str) -> requests.Session:
    session = requests.Session()
    token = csrf_from(session.get(f"{base}/inloggen").text)
    response = session.post(
        f"{base}/inloggen",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 302
    if response.headers["Location"].endswith("/inloggen/code"):
        token = csrf_from(session.get(f"{base}/inloggen/code").text)
        code = pyotp.TOTP(TOTP_SECRET).now()  # each editor logs in once
        response = session.post(
            f"{base}/inloggen/code", data={"csrf_token": token, "code": code}, allow_redirects=False
        )
        assert response.status_code == 302
    return session


def all_at_once(jobs):
    """Run the jobs in threads released together; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        barrier.wait()
        results[index] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_parallel_edits_are_all_kept_or_refused_with_a_message(seeded_app, live_server, make_user):
    editors = 8
    sessions = [
        http_session(live_server, make_user("coordinator", email=f"c{i}@example.org"))
        for i in range(editors)
    ]
    with seeded_app.app_context():
        ids = db.session.scalars(select(School.id).order_by(School.id).limit(editors + 1)).all()
    shared = ids[-1]

    def form(session, school_id):
        page = session.get(f"{live_server}/admin/school/edit/?id={school_id}").text
        return form_fields(page)

    def save(session, school_id, fields, website):
        data = [(k, website if k == "website" else v) for k, v in fields]
        response = session.post(
            f"{live_server}/admin/school/edit/?id={school_id}", data=data, allow_redirects=False
        )
        return response.status_code, response.text

    # Different schools at the same moment: every save is accepted.
    own = [form(s, ids[i]) for i, s in enumerate(sessions)]
    results = all_at_once(
        [
            lambda i=i, s=s: save(s, ids[i], own[i], f"https://school{i}.example.nl")
            for i, s in enumerate(sessions)
        ]
    )
    assert [status for status, _ in results] == [302] * editors, [r[1][:300] for r in results]

    # The same school, all from the same version: one save wins, the others are told.
    same = [form(s, shared) for s in sessions]
    results = all_at_once(
        [
            lambda i=i, s=s: save(s, shared, same[i], f"https://same{i}.example.nl")
            for i, s in enumerate(sessions)
        ]
    )
    statuses = [status for status, _ in results]
    assert statuses.count(302) == 1, statuses
    for status, body in results:
        alerts = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', body, re.S)
        assert status == 302 or (status == 200 and CONFLICT in body), alerts
        assert "database is locked" not in body
    winner = statuses.index(302)

    with seeded_app.app_context():
        websites = dict(db.session.execute(select(School.id, School.website)).all())
        for i in range(editors):
            assert websites[ids[i]] == f"https://school{i}.example.nl"
        assert websites[shared] == f"https://same{winner}.example.nl"
        recorded = db.session.execute(
            select(Change.record_id, Change.new_value).where(Change.field == "website")
        ).all()
        assert sorted(recorded) == sorted(
            [(ids[i], f"https://school{i}.example.nl") for i in range(editors)]
            + [(shared, f"https://same{winner}.example.nl")]
        )


def writing_started(database: dict, engine) -> bool:
    """Has the import's transaction written anything yet (that no one else can see)?"""
    if not POSTGRES_URL:
        wal = Path(database["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 200_000
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
                    " AND pid <> pg_backend_pid() AND datname = current_database()"
                )
            )
        )


def test_an_import_killed_mid_transaction_leaves_the_registry_unchanged(app, database, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REGISTRY_SECRET_KEY": "test-only-secret",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "duo", "apply", "--landelijk"]
    engine = create_engine(
        database["SQLALCHEMY_DATABASE_URI"], **database.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    )
    output = tmp_path / "import.log"
    with open(output, "wb") as log:
        process = subprocess.Popen(
            [*command, "--alles", str(NATIONAL)], cwd=PROJECT, env=env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 60
    while not writing_started(database, engine) and process.poll() is None:
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    engine.dispose()
    assert process.returncode == -signal.SIGKILL, output.read_text()[-2000:]

    with app.app_context():
        assert db.session.scalar(select(func.count(School.id))) == 0
        assert db.session.scalar(select(func.count(ImportLog.id))) == 0
        assert db.session.scalar(select(func.count(Change.id))) == 0
        if not POSTGRES_URL:
            assert db.session.scalar(text("PRAGMA integrity_check")) == "ok"
    # The same import run to the end afterwards is complete.
    finished = subprocess.run(
        [*command, "--alles", str(NATIONAL)], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count(School.id))) == 6122
        assert db.session.scalar(select(func.count(ImportLog.id))) == 1
