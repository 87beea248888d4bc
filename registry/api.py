"""The read-only JSON API under /api/v1: the directory's data for other programs.

Lists use the directory's query builder (search.py) and its parameters, group totals the
directory's (groupings.py); field names are the stable keys of records.py; every error has the
one shape {"error": {"status", "message"}}. Every answer under /api/v1, errors and preflights
included, is open to other sites (CORS); lists and items carry an ETag and answer 304 to it.
The OpenAPI document at /api/v1/openapi.json describes exactly this (see openapi.py).
"""

from flask import Blueprint, abort, current_app, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from . import search
from .db import db
from .errors import error_response
from .fields import GROUP_FIELDS
from .groupings import GROUPINGS, chosen_reference, group_totals
from .i18n import gettext as _
from .models import SupportArea
from .openapi import openapi_document
from .records import iso, school_detail, school_or_404, school_records
from .search import BadParameter, SchoolSearch

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# What a browser may send from another site: the methods of a read-only API, and the headers
# client libraries add (content negotiation, language, revalidation, cache hints).
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
ALLOWED_HEADERS = (
    "Accept, Accept-Language, Cache-Control, Content-Language, Content-Type, "
    "If-Modified-Since, If-None-Match, Pragma, X-Requested-With"
)
PREFLIGHT_MAX_AGE = 24 * 3600


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    return error_response(
        400, _("Parameter %(name)s: %(message)s", name=error.parameter, message=error.message)
    )


def _in_api() -> bool:
    """Is this a request for an API URL, one that exists or not?"""
    return request.path.startswith(bp.url_prefix + "/") or request.path == bp.url_prefix


def _preflight():
    """Answer every CORS preflight under /api/v1, even for a URL that does not exist, so that
    the browser goes on and lets the client read the real answer (a 404 in the error shape).

    Anything else the routing refused (a foreign host, a redirect) gets its usual answer.
    """
    if request.method != "OPTIONS" or not _in_api():
        return None
    refused = request.routing_exception
    if refused is not None and not isinstance(refused, NotFound):
        return None
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    if request.url_rule is not None:
        response.allow.update(request.url_rule.methods or ())
    return response


def _open_and_revalidated(response):
    """Open data: any site may read every answer, errors too; clients revalidate with the
    ETag (a 304 costs no body) instead of keeping stale copies."""
    if not _in_api():
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Allow, ETag"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response
    # Kept and revalidated with its ETag as every answer (cache.py), errors asked again too.
    response.cache_control.no_cache = True
    return response


@bp.get("/openapi.json")
def openapi():
    return openapi_document()


@bp.get("/schools")
def schools():
    found = SchoolSearch.from_args(request.args)
    found.refuse_unknown()  # a 400 naming the nearest known value, never an empty list
    result = search.run(found, facet_limit=0)  # the API lists no filter counts
    if past := result.past_the_end():
        abort(404, past)
    links = {}
    if found.page < result.pages:
        links["next"] = url_for(
            ".schools", **_multi(found.args(page=found.page + 1)), _external=True
        )
    if found.page > 1:
        links["prev"] = url_for(
            ".schools", **_multi(found.args(page=found.page - 1)), _external=True
        )
    return {
        "total": result.total,
        "page": found.page,
        "per_page": search.PER_PAGE,
        "pages": result.pages,
        "links": links,
        "items": school_records(result.rows),
    }


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    return merged


@bp.get("/schools/<code>")
def school(code: str):
    return school_detail(school_or_404(code))


def _field(record, name: str):
    value = getattr(record, name)
    return [area.pc4 for area in value] if name == "postcode_areas" else iso(value)


def _groups(facet: str) -> dict:
    """Every group: its own fields, its open schools and their pupils on ?peildatum= (the newest
    date by default), and its page."""
    grouping = GROUPINGS[facet]
    reference = chosen_reference(request.args.get("peildatum"))
    items = [
        {
            **{f.key: _field(row.record, f.source) for f in GROUP_FIELDS[facet]},
            "schools": row.schools,
            "pupils": row.pupils,
            "pupils_reference_date": iso(reference),
            "url": grouping.url(row.record, _external=True),
        }
        for row in group_totals(grouping, reference)
    ]
    return {"total": len(items), "items": items}


@bp.get("/boards")
def boards():
    return _groups("bestuur")


@bp.get("/boards/<number>")
def board(number: str):
    found = next((b for b in _groups("bestuur")["items"] if b["board_number"] == number), None)
    if found is None:
        abort(404, _("Er is geen bestuur met nummer %(number)s.", number=number[:20]))
    return found


@bp.get("/municipalities")
def municipalities():
    return _groups("gemeente")


@bp.get("/networks")
def networks():
    return _groups("netwerk")


@bp.get("/support-areas")
def support_areas():
    rows = db.session.scalars(select(SupportArea).order_by(SupportArea.position)).all()
    items = [
        {"code": a.code, "name": a.name, "name_en": a.name_en, "description": a.description}
        for a in rows
    ]
    return {"total": len(items), "items": items}


def init_app(app) -> None:
    app.register_blueprint(bp)
    # On the app, not the blueprint: an API URL that matches no route (a 404, a 405) belongs to
    # no blueprint, yet its answer must be as open as the others.
    app.before_request(_preflight)
    app.after_request(_open_and_revalidated)
