"""Static files under fingerprinted addresses, cached for a year.

Every `url_for("static", ...)`, and the admin's `url_for("admin.static", ...)`, carries `v`,
the first characters of the file's sha256, so a changed file has a new address; an address
with its current fingerprint is answered with a year-long, immutable cache lifetime, and
without reading the session (no `Vary: Cookie`), so browsers and proxies keep one copy for
everyone and never ask again.
"""

import functools
import hashlib
import stat
from pathlib import Path

from flask import Flask, Response, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

VERSION = "v"
YEAR = 365 * 24 * 3600


@functools.cache
def _digest(path: Path, changed: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _static_folder(endpoint: str) -> str | None:
    """The folder an endpoint serves static files from: the app's, or a blueprint's (the
    admin's library files: Bootstrap, jQuery, Flask-Admin's own scripts)."""
    if endpoint == "static":
        return current_app.static_folder
    blueprint, _, name = endpoint.rpartition(".")
    if name == "static" and blueprint in current_app.blueprints:
        return current_app.blueprints[blueprint].static_folder
    return None


# Remembered for the names asked most (a page links ~20 files): resolving a name walks every
# folder of its path, 90-150 us a call where one stat is 5. Bounded, because an error page
# links whatever name was asked for. A link re-pointed afterwards is followed as it was: a
# deployment that does so restarts the workers.
@functools.lru_cache(maxsize=1024)
def _inside(served_from: str, filename: str) -> Path | None:
    """Where `filename` leads from the folder, links followed, or None when that is outside
    the folder or no file can have the name (a NUL byte, too long: an error page links it)."""
    folder = Path(served_from).resolve()
    try:
        path = (folder / filename).resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(folder) else None


def fingerprint(filename: str, endpoint: str = "static") -> str | None:
    """The file's fingerprint (its content's, read again when the file changes), or None."""
    if (served_from := _static_folder(endpoint)) is None:
        return None
    if (path := _inside(served_from, filename)) is None:
        return None
    try:
        found = path.stat()
    except OSError:
        return None  # not there (yet, or any more)
    return _digest(path, found.st_mtime) if stat.S_ISREG(found.st_mode) else None


def _add_fingerprint(endpoint: str, values: dict) -> None:
    """Our templates leave `v` out; Flask-Admin's name a library version, which a changed
    file need not change: the content's fingerprint replaces it."""
    if "filename" not in values or (endpoint == "static" and VERSION in values):
        return
    if version := fingerprint(values["filename"], endpoint):
        values[VERSION] = version


def is_static() -> bool:
    return request.endpoint is not None and _static_folder(request.endpoint) is not None


def is_fingerprinted() -> bool:
    """Whether this request asks for a static file under its current fingerprint."""
    if not is_static():
        return False
    asked = request.args.get(VERSION)
    filename = (request.view_args or {}).get("filename", "")
    return bool(asked) and asked == fingerprint(filename, request.endpoint)


def _cache_for_a_year(response: Response) -> Response:
    if is_static() and not session.modified:
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
        if has_request_context() and is_static() and not session.modified:
            return False
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionOutsideStaticFiles()
    app.url_defaults(_add_fingerprint)
    app.after_request(_cache_for_a_year)
