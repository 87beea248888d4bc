"""What tests share besides fixtures: signing in, reading and filling forms, the browser's
settings, serving the app under gunicorn. Fixtures live in conftest.py; tests import these."""

import contextlib
import os
import re
from pathlib import Path

from html_forms import form_fields  # noqa: F401  (tests import it from here, with the others)

from registry.db import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


IN_CI = os.environ.get("CI") == "true"


def database_url(database: dict) -> str:
    """The test database as DATABASE_URL for another process."""
    return database["SQLALCHEMY_DATABASE_URI"]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn_serving(database: dict, folder: Path, workers: int = 1):
    """`gunicorn -c gunicorn.conf.py wsgi:app` as the README runs it, on a test database, until
    /healthz answers; yields its port and the path of its log, and stops it afterwards."""
    import subprocess
    import sys
    import time
    from urllib.request import urlopen

    port, log_path = free_port(), folder / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REGISTRY_SECRET_KEY": "test-only-secret",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
    }
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield port, log_path
    finally:
        server.terminate()
        server.wait(timeout=30)


CHROMIUM = "/usr/bin/chromium"


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Nothing but the live server: the map's tiles (tile.openstreetmap.org) fail at once instead
    # of hanging on this closed network and holding a page's load event past the timeout (a
    # flaky CI failure: goto("/scholen/05SX00") waited 10 s for "load" after its 200).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


# axe-core, as the site serves it from its static folder: a script the browser loads by URL
# is compiled once and then taken from its code cache (as an inline script, as Playwright
# injects a file, it was parsed again on every page: 0.16 s of each).
AXE_URL = "/static/vendor/axe-core/axe.min.js"

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def serious_axe_violations(page) -> list[dict]:
    """What axe-core finds on the page against WCAG 2.1 A and AA, serious or critical: each
    rule's id, its help and its first three places. The context must bypass the page's CSP,
    which rightly refuses a script the page did not name."""
    page.add_script_tag(url=AXE_URL)
    # Only violations: axe spends a third of its time describing what passed.
    report = page.evaluate(
        """async tags => await axe.run(document, {
            runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})""",
        AXE_TAGS,
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
        for v in report["violations"]
        if v["impact"] in ("serious", "critical")
    ]


PASSWORD = "correct horse battery"


# The authenticator app of every test account that has a second factor.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def csrf_from(html: str) -> str:

    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1)


def totp_code(app, email: str) -> str:
    """The code the account's app shows for the first time step it has not used yet (a code
    works once: two logins within 30 seconds take the current step and the next)."""
    import time

    import pyotp

    from registry.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        secret, last = user.totp_secret, user.totp_last_step
    while True:
        seconds = time.time()
        now = int(seconds) // 30
        # The step before turns invalid when the next one begins: near that moment (a busy
        # machine takes a while to post the code) the current step is the earliest taken.
        earliest = now - 1 if seconds % 30 < 25 else now
        step = max(earliest, (last if last is not None else -1) + 1)
        if step <= now + 1:
            break
        time.sleep(30 - seconds % 30 + 0.05)  # every code of this minute used: the next step
    return pyotp.TOTP(secret).at(step * 30)


def sign_in(app, client, email: str, password: str = PASSWORD, next_path: str | None = None):
    """Log in as a person would: the password, then the app's code where the account has one.
    Returns the last answer (a 302 into the admin when all went well)."""
    login_url = "/inloggen" + (f"?next={next_path}" if next_path else "")
    token = csrf_from(client.get(login_url).get_data(as_text=True))
    response = client.post(
        login_url, data={"csrf_token": token, "email": email, "password": password}
    )
    if response.status_code == 302 and response.headers["Location"].endswith("/inloggen/code"):
        token = csrf_from(client.get("/inloggen/code").get_data(as_text=True))
        response = client.post(
            "/inloggen/code", data={"csrf_token": token, "code": totp_code(app, email)}
        )
    return response


def session_cookies(app, email: str) -> list[tuple[str, str, str]]:
    """(name, value, path) of the cookies the app's own finish_login sets once every factor was
    given. Logging in itself (the form, the password, the app's code) is tried as a person does
    it by sign_in, test_auth*.py and test_browser_admin.py; four requests a login were a tenth of
    the fast suite, and in Chromium a second each."""
    from http.cookies import SimpleCookie

    from registry.auth import finish_login
    from registry.models import User

    with app.test_request_context("/inloggen/code", method="POST"):
        user = db.session.scalar(db.select(User).filter_by(email=email))
        response = app.process_response(finish_login(user))
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    return [(name, cookie.value, cookie["path"] or "/") for name, cookie in cookies.items()]


def signed_in(app, client, email: str):
    """The client with the session of a login: for the tests about what an account may do."""
    for name, value, path in session_cookies(app, email):
        client.set_cookie(name, value, path=path)
    return client


def with_values(fields: list[tuple[str, str]], **changes):
    """The form data to post: the page's fields with some values replaced or added."""
    from werkzeug.datastructures import MultiDict

    result = [(name, changes.pop(name) if name in changes else value) for name, value in fields]
    return MultiDict(result + list(changes.items()))


def libreoffice_to_xlsx(source: Path, folder: Path, infilter: str | None = None) -> Path:
    """The file opened and saved again as XLSX by LibreOffice Calc headless, as a person's
    spreadsheet program would (`infilter` as soffice takes it, for a CSV's separator and
    language); the saved file's path. Skipped where LibreOffice is missing, failed under CI."""
    import shutil
    import subprocess

    import pytest

    soffice = shutil.which("soffice")
    if soffice is None:
        if IN_CI:
            pytest.fail("CI=true but LibreOffice is missing (libreoffice-calc-nogui)")
        pytest.skip("LibreOffice (soffice) is not installed")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            *([f"--infilter={infilter}"] if infilter else []),
            "--convert-to",
            "xlsx",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / f"{source.stem}.xlsx"
