"""The read-only JSON API under /api/v1: the directory's data for other programs.

Lists use the directory's query builder (search.py) and its parameters, group totals the
directory's (groupings.py); field names are the stable keys of records.py; every error has the
one shape {"error": {"status", "message"}}.
The OpenAPI document at /api/v1/openapi.json describes exactly this (see openapi.py).
"""

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from . import search
from .db import db
from .errors import error_response
from .groupings import GROUPINGS, chosen_reference, group_totals
from .models import SupportArea
from .openapi import GROUP_FIELDS, openapi_document
from .records import iso, school_detail, school_or_404, school_record
from .search import BadParameter, SchoolSearch

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    return error_response(
        400, _("Parameter %(name)s: %(message)s", name=error.parameter, message=error.message)
    )


@bp.after_request
def _cors_and_cache(response):
    """Open data: any site may read it; clients revalidate instead of keeping stale copies."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.no_cache = True
    return response


@bp.get("/openapi.json")
def openapi():
    return openapi_document()


@bp.get("/schools")
def schools():
    found = SchoolSearch.from_args(request.args)
    result = search.run(found)
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
        "items": [school_record(row) for row in result.rows],
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
            **{name: _field(row.record, name) for name in GROUP_FIELDS[facet]},
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
