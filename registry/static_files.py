"""Static files under fingerprinted addresses, cached for a year.

Every `url_for("static", ...)` carries `v`, the first characters of the file's sha256, so a
changed file has a new address; an address with its current fingerprint is answered with a
year-long, immutable cache lifetime, and without reading the session (no `Vary: Cookie`), so
browsers and proxies keep one copy for everyone and never ask again.
"""

import functools
import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

VERSION = "v"
YEAR = 365 * 24 * 3600


@functools.cache
def _digest(path: Path, changed: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def fingerprint(filename: str) -> str | None:
    """The file's fingerprint (its content's, read again when the file changes), or None."""
    folder = Path(current_app.static_folder).resolve()
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return _digest(path, path.stat().st_mtime)


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "filename" not in values or VERSION in values:
        return
    if version := fingerprint(values["filename"]):
        values[VERSION] = version


def is_fingerprinted() -> bool:
    """Whether this request asks for a static file under its current fingerprint."""
    if request.endpoint != "static":
        return False
    asked = request.args.get(VERSION)
    filename = (request.view_args or {}).get("filename", "")
    return bool(asked) and asked == fingerprint(filename)


def _cache_for_a_year(response: Response) -> Response:
    if request.endpoint == "static" and not session.modified:
        # Flask-Login looks at the session after every request, which would make Flask add
        # "Vary: Cookie"; a static file is the same for everyone, under any address.
        session.accessed = False
    if response.status_code in (200, 304) and is_fingerprinted():
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


class SessionOutsideStaticFiles(SecureCookieSessionInterface):
    """The session cookie is not renewed on an answer with a static file: that answer may be
    kept by shared caches for a year, and must carry no one's cookie."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        if has_request_context() and request.endpoint == "static" and not session.modified:
            return False
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionOutsideStaticFiles()
    app.url_defaults(_add_fingerprint)
    app.after_request(_cache_for_a_year)
