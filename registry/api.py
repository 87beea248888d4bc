"""The read-only JSON API under /api/v1: the directory's data for other programs.

Lists use the directory's query builder (search.py) and its parameters; field names are the
stable keys of records.py; every error has the one shape {"error": {"status", "message"}}.
The OpenAPI document at /api/v1/openapi.json describes exactly this (see openapi.py).
"""

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from . import search
from .db import db
from .errors import error_response
from .models import Board, Municipality, Network, School, SupportArea
from .openapi import openapi_document
from .records import iso, school_detail, school_or_404, school_record
from .search import BadParameter, SchoolSearch, group_totals

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


def _counts(model, foreign_key) -> dict[int, int]:
    return {entity.id: schools for entity, schools, _pupils in group_totals(model, foreign_key)}


@bp.get("/boards")
def boards():
    counts = _counts(Board, School.board_id)
    rows = db.session.scalars(select(Board).order_by(Board.name, Board.board_number)).all()
    return {"total": len(rows), "items": [_board(b, counts.get(b.id, 0)) for b in rows]}


@bp.get("/boards/<number>")
def board(number: str):
    found = db.session.scalar(select(Board).filter_by(board_number=number))
    if found is None:
        abort(404, _("Er is geen bestuur met nummer %(number)s.", number=number[:20]))
    return _board(found, _counts(Board, School.board_id).get(found.id, 0))


def _board(b: Board, schools: int) -> dict:
    return {
        "board_number": b.board_number,
        "name": b.name,
        "kvk_number": b.kvk_number,
        "street": b.street,
        "house_number": b.house_number,
        "postcode": b.postcode,
        "place": b.place,
        "phone": b.phone,
        "email": b.email,
        "website": b.website,
        "dissolved_on": iso(b.dissolved_on),
        "schools": schools,
        "url": url_for("directory.board", number=b.board_number, _external=True),
    }


@bp.get("/municipalities")
def municipalities():
    counts = _counts(Municipality, School.municipality_id)
    rows = db.session.scalars(select(Municipality).order_by(Municipality.name)).all()
    items = [
        {
            "cbs_code": m.cbs_code,
            "name": m.name,
            "slug": m.slug,
            "province": m.province,
            "postcode_areas": [a.pc4 for a in m.postcode_areas],
            "schools": counts.get(m.id, 0),
            "url": url_for("directory.municipality", slug=m.slug, _external=True),
        }
        for m in rows
    ]
    return {"total": len(items), "items": items}


@bp.get("/networks")
def networks():
    counts = _counts(Network, School.network_id)
    rows = db.session.scalars(select(Network).order_by(Network.name)).all()
    items = [
        {
            "slug": n.slug,
            "name": n.name,
            "description": n.description,
            "confirmed": n.confirmed,
            "schools": counts.get(n.id, 0),
            "url": url_for("directory.network", slug=n.slug, _external=True),
        }
        for n in rows
    ]
    return {"total": len(items), "items": items}


@bp.get("/support-areas")
def support_areas():
    rows = db.session.scalars(select(SupportArea).order_by(SupportArea.position)).all()
    items = [
        {"code": a.code, "name": a.name, "name_en": a.name_en, "description": a.description}
        for a in rows
    ]
    return {"total": len(items), "items": items}
