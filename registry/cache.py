"""A page cache for the public site that can never serve a page older than the data.

The data changes a few times a day and is read all day, so each worker keeps the pages it
rendered, keyed by the data version: one row in `data_version` that every transaction changing
public data raises, inside that same transaction. A request reads the version (one primary-key
lookup) and is served from the cache only when the page was rendered at that version, so a
write is visible at once, in every worker and on every app server sharing the database.

Invalidation is by whole version, not per page: nearly every public page (lists, filter counts,
board, municipality and network pages, overviews, the API) depends on every school, so a finer
scheme would invalidate nearly everything anyway and add ways to go wrong.

A page is keyed by everything it is rendered from: the version, the locale, the scheme and host
(its absolute links carry them), the path and the query parameters its views read. Any other
parameter is removed before the view runs, so ?cb=1 and ?cb=2 are one page, rendered once.

Every answer to a GET or HEAD says how it may be kept (Cache-Control) and how to ask again (an
ETag): kept, but asked about every time, so a current copy costs a 304 without a body and no
copy is ever older than the data. What a logged-in person sees is never kept at all
(security.py), and a static file is kept a year (static_files.py).
"""

import hashlib
from collections import OrderedDict
from threading import Lock

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from sqlalchemy import Integer, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.datastructures import ImmutableMultiDict

from .db import db, listen_once
from .filters import FACETS, LEVEL_PARAMETER
from .i18n import LANG_PARAMETER
from .models import (
    Board,
    Municipality,
    Network,
    ParentWord,
    Partnership,
    PartnershipPostcodeArea,
    PupilCount,
    School,
    SchoolSupport,
    SupportArea,
)
from .security import for_a_logged_in_user
from .static_files import is_static

PUBLIC_DATA = (
    School,
    Board,
    Municipality,
    Network,
    SupportArea,
    SchoolSupport,
    PupilCount,
    PartnershipPostcodeArea,
    ParentWord,
    Partnership,  # every public page may show its contact (partnership.py)
)
# The query parameters the views of each cached blueprint read: SchoolSearch's, the export
# columns (directory) and the overviews' reference date and filters. Declared here, once, because
# the cache key is made of them; tests/test_cache.py checks SchoolSearch.args() against this list.
SEARCH_PARAMETERS = frozenset(
    {"q", "postcode", "sort", "page", "peildatum", LEVEL_PARAMETER, *FACETS}
)
PAGE_PARAMETERS = {
    "directory": SEARCH_PARAMETERS | {"kolom"},
    "api": SEARCH_PARAMETERS,
    "overviews": frozenset({"peildatum", *FACETS}),
}
# ?lang= chooses the locale, which is in the key already; no page repeats it (i18n drops it from
# its language links), so it is passed on to the locale selector but not keyed. An unknown one
# is refused before the cache is asked (i18n.py).
LANGUAGE_PARAMETER = LANG_PARAMETER
# Read with request.args.get, which takes the first value: a second one is dropped too. Only
# the filters (and the export columns) are lists.
SINGLE_VALUED = (SEARCH_PARAMETERS - frozenset(FACETS)) | {LANGUAGE_PARAMETER}
MAX_ENTRIES = 2000
MAX_BYTES = 32 * 1024 * 1024  # per worker; the national search pages are 20-60 kB each
VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"


class DataVersion(db.Model):
    """The single row whose number goes up with every change to public data."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    def __str__(self) -> str:
        return str(self.version)


def bump(connection) -> None:
    """Raise the data version inside the caller's transaction (for writes past the ORM)."""
    connection.execute(update(DataVersion).values(version=DataVersion.version + 1))


def _bump_on_public_changes(session: Session, _context) -> None:
    changed = session.new | session.dirty | session.deleted
    if any(isinstance(obj, PUBLIC_DATA) for obj in changed):
        bump(session.connection())


class PageCache:
    """Rendered responses by their key (see above), least recently used out first."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self.size = 0
        self.lock = Lock()

    def get(self, key: tuple):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: tuple[int, list, bytes]) -> None:
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = entry
            self.size += len(entry[2])
            while len(self.entries) > MAX_ENTRIES or self.size > MAX_BYTES:
                _key, (_status, _headers, body) = self.entries.popitem(last=False)
                self.size -= len(body)


def data_version() -> int | None:
    """The data version, read once per request."""
    if "data_version" not in g:
        # Plain SQL on a pooled connection: this runs on every public request, and the ORM's
        # session machinery would cost more than the page it guards.
        with db.engine.connect() as connection:
            g.data_version = connection.exec_driver_sql(VERSION_SQL).scalar()
    return g.data_version


def per_data_version(name: str, build):
    """build(), kept per app until the data version changes: what is derived from all the
    data (the known spellings, the search's vocabulary) is built once per change, not per
    request. Without a version row (a database not made by the migrations) it is built every
    time."""
    version = data_version()
    kept = current_app.extensions["per_data_version"]
    if version is not None and name in kept and kept[name][0] == version:
        return kept[name][1]
    value = build()
    if version is not None:
        kept[name] = (version, value)
    return value


def has_session() -> bool:
    """Did the visitor bring a session (a login, a flashed message waiting)? The templates
    always look for flashed messages, so reading the session says nothing; the cookie does."""
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def _drop_unknown_parameters() -> None:
    """Leave the views of cached pages only the parameters they read, in one canonical order.

    Whatever a view cannot see cannot end up on the page (the language links repeat the query
    string), so two requests with the same key always render the same page.
    """
    known = PAGE_PARAMETERS.get(request.blueprint)
    if known is None:
        return
    kept = []
    for name in sorted(known | {LANGUAGE_PARAMETER}):
        values = request.args.getlist(name)
        kept += [(name, value) for value in (values[:1] if name in SINGLE_VALUED else values)]
    request.args = ImmutableMultiDict(kept)


def _cacheable_request() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.blueprint in PAGE_PARAMETERS
        and current_app.config["PAGE_CACHE"]
        and not has_session()  # a page for someone with a session may be theirs alone
    )


def page_key() -> tuple | None:
    """What this page is rendered from (see above); None without a version row (a database
    not made by the migrations), which is never cached."""
    version = data_version()
    if version is None:
        return None
    parameters = tuple(
        (name, value)
        for name, value in request.args.items(multi=True)
        if name != LANGUAGE_PARAMETER
    )
    # The scheme and host too: the page's absolute links (the API's "url") are built from them.
    return (version, str(get_locale()), request.root_url, request.path, parameters)


def _serve_from_cache():
    if not _cacheable_request():
        return None
    key = page_key()
    if key is None:
        return None
    request.environ["registry.cache_key"] = key
    entry = current_app.extensions["page_cache"].get(key)
    if entry is None:
        return None
    status, headers, body = entry
    response = Response(body, status=status, headers=headers)
    response.headers["X-Cache"] = "hit"
    return response.make_conditional(request)


def _store(response: Response) -> Response:
    key = request.environ.get("registry.cache_key")
    if (
        key is not None
        and response.status_code == 200
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and not session.modified
        and "X-Cache" not in response.headers
    ):
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        current_app.extensions["page_cache"].put(key, (200, headers, response.get_data()))
        response.headers["X-Cache"] = "miss"
    return response


def _revalidated(response: Response) -> Response:
    """Kept, but asked about every time (see above): shared caches may keep a page only when
    the visitor brought no session and got none, as the page cache does."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or is_static()  # static_files.py
        or for_a_logged_in_user()  # never kept (security.py): a validator would go unused
    ):
        return response
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        # A form's CSRF token is signed with the moment it was made: the page is never the
        # same twice, so neither a copy nor a validator would serve anyone.
        response.headers["Cache-Control"] = "no-store"
        return response
    if "Cache-Control" not in response.headers:
        response.cache_control.no_cache = True
        if has_session() or session.modified or "Set-Cookie" in response.headers:
            response.cache_control.private = True
        else:
            response.cache_control.public = True
    if response.get_etag()[0] is None:
        if not response.is_streamed:
            # Strong, from the plain body: Flask-Compress marks it per encoding and answers the
            # revalidation of a compressed copy itself (compression.py).
            response.add_etag()
        elif request.blueprint in PAGE_PARAMETERS and (key := page_key()) is not None:
            # A download streamed row by row has no body to hash yet; it is made from its key,
            # so the key names it. Weak: the same for every encoding of it.
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
            response.set_etag(digest, weak=True)
    return response.make_conditional(request)


def _one_date(response: Response) -> Response:
    """The server writes the Date of every answer (gunicorn, Werkzeug's server): Werkzeug's
    make_conditional adds one of its own, which made two, and a cached page's was as old as
    the page."""
    del response.headers["Date"]
    return response


def init_app(app: Flask) -> None:
    listen_once(Session, "after_flush", _bump_on_public_changes)
    app.config.setdefault("PAGE_CACHE", True)
    app.extensions["page_cache"] = PageCache()
    app.extensions["per_data_version"] = {}
    app.before_request(_drop_unknown_parameters)
    app.before_request(_serve_from_cache)
    app.after_request(_store)
    # Registered after _store, so it runs before it (after_request runs in reverse): the cache
    # keeps the validators with the page.
    app.after_request(_revalidated)
    # First in the list, so it runs after every other hook, Flask-Compress's make_conditional
    # included.
    app.after_request_funcs.setdefault(None, []).insert(0, _one_date)
