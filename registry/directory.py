"""Public pages for parents (blueprint): search, school pages, boards, municipalities, networks.

Every school listing goes through search.py, so the HTML, JSON and CSV of one URL agree, and
every group's total through groupings.py, so it is the sum of the group's list.
"""

from datetime import date
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_decimal
from sqlalchemy import select

from . import filters, listing, quality, rounds, search
from .db import db
from .errors import error_response, wants_json
from .exports import Column, ExportError, choose_columns, export_response
from .fields import GROUP_FIELDS, GROUP_TOTALS, stored_values
from .groupings import BY_LISTING, GROUPINGS, chosen_reference, group_totals, totals
from .i18n import gettext as _
from .models import LocationPrecision
from .records import (
    DEFAULT_EXPORT,
    SCHOOL_COLUMNS,
    export_name,
    export_values,
    school_detail,
    school_or_404,
    school_records,
)
from .search import BadParameter, SchoolSearch
from .text import place_name
from .validation import link_href

bp = Blueprint("directory", __name__)


@bp.app_template_filter("place")
def _place_filter(value):
    return place_name(value)


# Across the country a search can touch 2,500 places: a list that long helps no one and costs
# every page. The selected values and the largest others are listed; the JSON lists them all.
FACET_SHOWN = 60  # more than the region has of any filter (53 places)


@bp.app_template_global()
def website_href(website):
    return link_href(website)


for function in listing.TEMPLATE_GLOBALS:
    bp.add_app_template_global(function)


@bp.app_context_processor
def _listing_vocabulary():
    return {
        "facet_titles": filters.FACET_TITLES,
        "sort_labels": search.SORT_LABELS,
        "per_page": search.PER_PAGE,
        "format_date": format_date,
        "format_decimal": format_decimal,
    }


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    message = _("Parameter %(name)s: %(message)s", name=error.parameter, message=error.message)
    if wants_json() or request.path.endswith(".csv"):
        return error_response(400, message)  # the plain error page: there is no list to show
    return render_template("directory/search.html", result=None, error=message), 400


@bp.get("/")
def index():
    """Landing page: search box, municipalities with their school counts, plain explanation."""
    municipalities = group_totals(GROUPINGS["gemeente"])
    return render_template("directory/index.html", municipalities=municipalities)


def _canonical_url(found: SchoolSearch, **view_args) -> str:
    """The page's URL with every filter value in its one spelling (the language kept)."""
    pairs = found.args()
    if request.args.get("lang"):
        pairs.append(("lang", request.args["lang"]))
    return url_for(request.endpoint, **view_args) + ("?" + urlencode(pairs) if pairs else "")


@bp.get("/scholen")
def schools():
    found = SchoolSearch.from_args(request.args)
    if found.respelled:
        # One URL per search: shared links and caches converge on it.
        return redirect(_canonical_url(found), 301)
    if found.q and (school := search.exact_school(found.q)):
        return redirect(url_for(".school", code=school.vestigingscode))
    result = search.run(found, facet_limit=FACET_SHOWN)
    if past := result.past_the_end():
        return render_template("directory/search.html", result=None, error=past), 404
    from .geo import place_postcode

    # The point distances are measured from, for the map's marker and the text beside it.
    origin = place_postcode(found.postcode)
    return render_template("directory/search.html", result=result, error=None, origin=origin)


def _did_you_mean(found: SchoolSearch) -> dict:
    """What the JSON says of a search read differently from how it was typed."""
    return {
        "corrected_q": found.reading.corrected_text,
        "unknown": [
            {
                "filter": u.facet,
                "value": u.value,
                "suggestion": u.suggestion,
                "message": str(u.message),
            }
            for u in found.unknown
        ],
    }


@bp.get("/scholen.json")
def schools_json():
    result = search.run(SchoolSearch.from_args(request.args))
    return {
        "total": result.total,
        "page": result.search.page,
        "per_page": search.PER_PAGE,
        "export_columns": SCHOOL_COLUMNS,
        "default_export": DEFAULT_EXPORT,
        "pages": result.pages,
        "postcode": result.search.postcode,
        "postcode_known": result.search.origin is not None if result.search.postcode else None,
        "sort": result.search.effective_sort,
        "filters": {facet: list(values) for facet, values in result.search.filters.items()},
        **_did_you_mean(result.search),
        "support_suggestions": [
            {
                "word": suggestion.word,
                "filter": "ondersteuning",
                "value": suggestion.area,
                "message": result.suggestion_text(suggestion),
                "url": url_for(".schools")
                + "?"
                + urlencode(result.suggested_search(suggestion).args()),
            }
            for suggestion in result.support_suggestions
        ],
        "without": [
            {"filter": facet, "value": value, "total": n} for facet, value, n in result.loosen
        ],
        "schools": school_records(result.rows),
        "facets": {
            facet: [
                {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                for v in values
            ]
            for facet, values in result.facets.items()
        },
    }


@bp.get("/scholen.<any(csv, 'excel.csv', xlsx):fmt>")
def schools_export(fmt: str):
    """Every matching school (not one page), in the list's order, with the chosen columns."""
    found = SchoolSearch.from_args(request.args)
    found.refuse_unknown()
    try:
        columns = choose_columns(SCHOOL_COLUMNS, request.args.getlist("kolom"), DEFAULT_EXPORT)
    except ExportError as error:
        raise BadParameter("kolom", error.args[0]) from error
    if found.origin and not request.args.getlist("kolom"):
        columns.append(SCHOOL_COLUMNS["distance_km"])
    return export_response(fmt, columns, export_values(found), export_name(found))


@bp.get("/scholen/<code>")
def school(code: str):
    if code != code.upper():
        return redirect(url_for(".school", code=code.upper()), 301)
    school = school_or_404(code)
    return render_template(
        "directory/school.html",
        school=school,
        approximate=school.location_precision is LocationPrecision.PC4,
        points=listing.map_points([stored_values(school)]),
        offers=sorted(school.support_offers, key=lambda o: o.support_area.position),
        profile_outdated=quality.profile_outdated(school.support_profile_adopted_on),
    )


@bp.get("/scholen/<code>.json")
def school_json(code: str):
    return school_detail(school_or_404(code))


# Boards, municipalities and networks: a list with totals, and a page listing their schools.
def _reference() -> tuple[date | None, dict[str, str]]:
    """?peildatum= (the newest date by default), and the parameter to pass on to the pages a
    list links to, so that they show the same figures."""
    chosen = request.args.get("peildatum")
    reference = chosen_reference(chosen)
    return reference, {"peildatum": reference.isoformat()} if chosen else {}


def _group_list(kind: str):
    grouping = BY_LISTING[kind]
    reference, passed_on = _reference()
    rows = group_totals(grouping, reference)
    links = {row.record.id: grouping.url(row.record, **passed_on) for row in rows}
    return render_template(
        "directory/groups.html",
        kind=kind,
        rows=rows,
        links=links,
        reference=reference,
        passed_on=passed_on,
    )


def _group_page(kind: str, key: str):
    grouping = BY_LISTING[kind]
    model = grouping.model
    entity = db.session.scalar(select(model).where(getattr(model, grouping.key) == key))
    if entity is None:
        abort(404)
    found = SchoolSearch.from_args(request.args, fixed={grouping.facet: (key,)})
    if found.respelled:
        return redirect(_canonical_url(found, **{grouping.url_arg: key}), 301)
    return render_template(
        "directory/group.html",
        kind=kind,
        entity=entity,
        endpoint=grouping.endpoint,
        view_args={grouping.url_arg: key},
        result=search.run(found, facet_limit=FACET_SHOWN),
        totals=totals(found),
        error=None,
    )


@bp.get(f"/<any({', '.join(BY_LISTING)}):listing>.<any(csv, 'excel.csv', xlsx):fmt>")
def groups_export(listing: str, fmt: str):
    """A list of groups as a file: their own exported fields plus the school and pupil totals."""
    grouping = BY_LISTING[listing]
    own = [f for f in GROUP_FIELDS[grouping.facet] if f.exported]
    columns = [Column(f.key, f.label, f.width) for f in (*own, *GROUP_TOTALS) if f.exported]
    records = (
        {
            **{f.key: getattr(entity, f.source) for f in own},
            "schools": schools,
            "pupils": pupils,
        }
        for entity, schools, pupils in group_totals(grouping, _reference()[0])
    )
    return export_response(fmt, columns, records, listing)


@bp.get("/besturen")
def boards():
    return _group_list("besturen")


@bp.get("/besturen/<number>")
def board(number: str):
    return _group_page("besturen", number)


@bp.get("/gemeenten")
def municipalities():
    return _group_list("gemeenten")


@bp.get("/gemeenten/<slug>")
def municipality(slug: str):
    return _group_page("gemeenten", slug)


@bp.get("/netwerken")
def networks():
    return _group_list("netwerken")


@bp.get("/netwerken/<slug>")
def network(slug: str):
    return _group_page("netwerken", slug)


@bp.get("/over")
def about():
    return render_template(
        "directory/about.html",
        gaps=quality.data_gaps(),
        completeness=rounds.completeness(),
        last_round=rounds.latest_round(),
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
