"""The markup a listing page repeats (result rows, filter checkboxes, map points, download
columns), built in Python rather than looped in Jinja.

At national scale a search page repeats this markup hundreds of times, and Jinja's loops and
calls over it were most of the page's processor time (docs/benchmarks.md). Every text that
comes from data or a catalogue goes through escape(); numbers are ints or formatted here.
Markup.format() would escape as well, at several times the cost.
"""

import functools

from flask_babel import format_decimal, get_locale
from markupsafe import Markup, escape

from . import filters
from .filters import LEVEL_PHRASES
from .i18n import gettext as _
from .i18n import ngettext
from .models import LocationPrecision, SchoolType
from .records import DEFAULT_EXPORT, SCHOOL_COLUMNS, school_links
from .search import FacetValue, SchoolRow, known_values
from .text import address_text


def school_type_label(school_type) -> str:
    return str(filters.TYPE_LABELS[SchoolType(school_type)])


def format_km(distance: float) -> str:
    """'1,2 km' in Dutch, '1.2 km' in English."""
    return _("%(distance)s km", distance=format_decimal(distance, format="#,##0.0"))


def support_line(row: SchoolRow, asked: tuple[str, ...]) -> str:
    """Per support area the search asks for, the level the school recorded: a parent reads
    it in the row instead of opening every school."""
    recorded = {code: (name, level) for code, name, level in row.support}
    names = known_values(filters.SUPPORT_FACET).labels
    parts = []
    for code in asked:
        if code in recorded:
            name, level = recorded[code]
            parts.append(f"{escape(name)}: {escape(LEVEL_PHRASES[level])}")
        else:
            parts.append(escape(_("%(area)s: niet vastgelegd", area=names.get(code, code))))
    return f'<p class="support-levels">{"; ".join(parts)}</p>' if parts else ""


def result_items(rows: list[SchoolRow], asked_support: tuple[str, ...] = ()) -> Markup:
    """The result list's items: name and link, kind, denomination, pupils, address, distance,
    and the level of each support area the search asks for."""
    link = school_links()
    unknown_address = escape(_("Adres onbekend"))
    # Translated outside the f-string: the catalogue's extractor does not look inside one.
    approximate = escape(_("(locatie bij benadering)"))
    approximate = f' <span class="approx">{approximate}</span>'
    items = []
    for row in rows:
        school = row.stored
        meta = [school_type_label(school["type"])]
        if school["denomination"]:
            meta.append(school["denomination"])
        if row.pupils is not None:
            meta.append(ngettext("%(num)d leerling", "%(num)d leerlingen", row.pupils))
        if school["street"]:
            address = escape(
                address_text(
                    school["street"], school["house_number"], school["postcode"], school["place"]
                )
            )
        else:
            address = f"{unknown_address} · {escape(school['municipality'])}"
        distance = ""
        if row.distance_km is not None:
            pc4 = school["location_precision"] is LocationPrecision.PC4
            distance = (
                f'<p class="distance">{escape(format_km(row.distance_km))}'
                f"{approximate if pc4 else ''}</p>"
            )
        items.append(
            f'<li class="result"><h3><a href="{escape(link(school["vestigingscode"]))}">'
            f"{escape(school['name'])}</a></h3>"
            f'<p class="meta">{" ".join(f"<span>{escape(m)}</span>" for m in meta)}</p>'
            f'<p class="address">{address}</p>{distance}'
            f"{support_line(row, asked_support)}</li>"
        )
    return Markup("".join(items))  # noqa: S704


def map_points(schools) -> list[dict]:
    """The map's markers for these schools' stored fields (search.SchoolRow.stored)."""
    link = school_links()
    return [
        {
            "name": s["name"],
            "url": link(s["vestigingscode"]),
            "lat": s["latitude"],
            "lon": s["longitude"],
            "approx": s["location_precision"] is LocationPrecision.PC4,
        }
        for s in schools
        if s["latitude"] is not None
    ]


def facet_checkboxes(facet: str, values: list[FacetValue]) -> Markup:
    """One filter's checkboxes as list items (up to seven filters of 60 values a page)."""
    name = escape(facet)
    return Markup(  # noqa: S704
        "".join(
            f'<li><input type="checkbox" name="{name}" value="{escape(v.value)}"'
            f' id="f-{name}-{i}"{" checked" if v.selected else ""}>'
            f'<label for="f-{name}-{i}">{escape(str(v.label))} <span class="count"'
            f' data-count="{int(v.count)}">({int(v.count)})</span></label></li>'
            for i, v in enumerate(values, 1)
        )
    )


def export_column_choices() -> Markup:
    """The download form's column checkboxes: the same on every listing page in a language,
    so built once per language."""
    return _column_choices(str(get_locale()))


@functools.cache
def _column_choices(locale: str) -> Markup:
    return Markup(  # noqa: S704
        "".join(
            f'<label><input type="checkbox" name="kolom" value="{escape(column.key)}"'
            f"{' checked' if column.key in DEFAULT_EXPORT else ''}> {escape(str(column.label))}"
            "</label>"
            for column in SCHOOL_COLUMNS.values()
        )
    )


TEMPLATE_GLOBALS = (
    school_type_label,
    format_km,
    result_items,
    map_points,
    facet_checkboxes,
    export_column_choices,
)
