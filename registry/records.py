"""The public record of a school: its stable fields for JSON, and the columns of exports."""

from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import parse_qsl, quote

import click
from flask import abort, url_for
from flask.cli import with_appcontext
from sqlalchemy import select

from .db import db
from .exports import (
    FORMATS,
    OUTPUT_HELP,
    Column,
    export_cli,
    report,
    save_download,
    written_to,
)
from .fields import SCHOOL_FIELDS, stored_values
from .filters import level_word
from .i18n import gettext as _
from .models import School
from .phones import grouped_phone
from .search import (
    SchoolRow,
    SchoolSearch,
    as_dicts,
    distance_from,
    ordered_query,
    support_of,
)
from .text import address_of, place_name, slugify, street_line

# Every public field of a school, in the order of the JSON (registry/fields.py declares them).
SCHOOL_COLUMNS = {f.key: Column(f.key, f.label, f.width, f.words) for f in SCHOOL_FIELDS}
DEFAULT_EXPORT = [f.key for f in SCHOOL_FIELDS if f.exported]
PRESENTERS = {f.key: f.present for f in SCHOOL_FIELDS if f.present}


def school_records(rows: list[SchoolRow]) -> list[dict]:
    """The stable public fields of these schools for JSON: dates as ISO 8601 text."""
    link = school_links(external=True)
    return [{key: iso(value) for key, value in school_values(row, link).items()} for row in rows]


def school_values(row: SchoolRow, link: Callable[[str], str] | None = None) -> dict:
    """The stable public fields of a school, typed (numbers, dates) for spreadsheets. `link`:
    school_links(external=True), when many rows share it."""
    link = link or school_links(external=True)
    return _record(
        row.stored, row.pupils, row.pupils_reference_date, row.distance_km, link, row.support
    )


def export_values(found: SchoolSearch) -> Iterator[dict]:
    """school_values() of every match, in order, read as plain columns, for exports of every
    school in the country."""
    query = ordered_query(found).execution_options(yield_per=1000)
    url = school_links(external=True)
    support = support_of(None)  # few schools record support: one query for the whole file
    for stored in as_dicts(query):
        distance = distance_from(found.origin, stored["latitude"], stored["longitude"])
        levels = support.get(stored["id"], ())
        yield _record(stored, stored["pupils"], stored["reference"], distance, url, levels)


def school_links(external: bool = False) -> Callable[[str], str]:
    """vestigingscode -> its school page's address. url_for costs as much as the rest of a
    result row: the address is built once with a stand-in code, and each code put in."""
    head, _stand_in, tail = url_for(
        "directory.school", code="00AA00", _external=external
    ).rpartition("00AA00")
    return lambda code: f"{head}{quote(code, safe='')}{tail}"


def support_text(support) -> str | None:
    """'Leren: extra, Gedrag: basis': a school's recorded support as a row or cell shows it."""
    return ", ".join(f"{name}: {level_word(level)}" for _code, name, level in support) or None


def _record(stored, pupils, reference, distance, url, support=()) -> dict:
    record = {key: stored.get(key) for key in SCHOOL_COLUMNS}
    for key, present in PRESENTERS.items():
        record[key] = present(record[key])
    record.update(
        address=street_line(stored["street"], stored["house_number"]) or None,
        type=stored["type"].value,
        place=place_name(stored["place"]) or None,
        location_precision=stored["location_precision"].value
        if stored["location_precision"]
        else None,
        pupils=pupils,
        pupils_reference_date=reference,
        distance_km=round(distance, 2) if distance is not None else None,
        url=url(stored["vestigingscode"]),
        support_levels=support_text(support),
    )
    return record


def iso(value):
    return value.isoformat() if isinstance(value, date) else value


def export_name(found: SchoolSearch) -> str:
    """'scholen-meppel-sbo': what the file holds, for its name."""
    parts = ["scholen", *[v for values in found.selected_all() for v in values]]
    if found.q:
        parts.append(found.q)
    return "-".join(parts)


def school_or_404(code: str) -> School:
    school = db.session.scalar(select(School).filter_by(vestigingscode=code.upper()))
    if school is None:
        abort(404, _("Er is geen school met vestigingscode %(code)s.", code=code[:20]))
    return school


def school_detail(school: School) -> dict:
    """One school with its pupil history and support, for /scholen/<code>.json and the API."""
    latest = school.pupil_counts[-1] if school.pupil_counts else None
    [record] = school_records(
        [
            SchoolRow(
                stored_values(school),
                latest and latest.pupils,
                latest and latest.reference_date,
                None,
            )
        ]
    )
    record.pop("distance_km")
    record.update(
        {
            "pupil_counts": [
                {"reference_date": iso(c.reference_date), "pupils": c.pupils}
                for c in school.pupil_counts
            ],
            "support": [
                {"area": o.support_area.code, "name": o.support_area.name, "level": o.level.value}
                for o in school.support_offers
            ],
            "support_profile_url": school.support_profile_url,
            "support_profile_adopted_on": iso(school.support_profile_adopted_on),
            "verified_on": iso(school.verified_on),
            "is_open": school.is_open,
        }
    )
    return record


@click.command("schools")
@click.argument("query", default="")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="xlsx",
    show_default=True,
    help="Bestandsvorm.",
)
@click.option("-o", "--output", type=click.Path(allow_dash=True), required=True, help=OUTPUT_HELP)
@click.option("--q", default="", help="Zoektekst, als in het zoekvak.")
@click.option("--gemeente", multiple=True, help="Naam of code van een gemeente (herhaalbaar).")
@click.option("--type", "types", multiple=True, help="BAO, SBO, SO of SO+VSO (herhaalbaar).")
@click.option("--bestuur", multiple=True, help="DUO-bestuursnummer (herhaalbaar).")
@click.option("--netwerk", multiple=True, help="Naam of code van een netwerk (herhaalbaar).")
@click.option(
    "--kolom", multiple=True, help="Kolomsleutel (herhaalbaar); standaard de gewone kolommen."
)
@with_appcontext
def export_schools_command(query, fmt, output, q, gemeente, types, bestuur, netwerk, kolom):
    """Schrijf de scholen die een zoekvraag vindt, zoals /scholen.<vorm>?QUERY ze geeft.

    QUERY is de zoekvraag van de scholengids, bijvoorbeeld 'gemeente=meppel&richting=Openbaar';
    de opties zijn oudere schrijfwijzen van dezelfde parameters en komen erbij. Afsluitcode 2:
    de zoekvraag noemt een onbekende parameter of waarde; 1: het bestand kon niet worden
    geschreven.
    """
    args = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    args += [("q", q)] if q else []
    args += [("gemeente", slugify(g)) for g in gemeente]
    args += [("type", t.upper()) for t in types]
    args += [("bestuur", b) for b in bestuur]
    args += [("netwerk", slugify(n)) for n in netwerk]
    args += [("kolom", k) for k in kolom]
    rows = save_download(f"/scholen.{fmt}", args, output)
    report(
        _("%(rows)d scholen geschreven naar %(output)s", rows=rows, output=written_to(output)),
        output,
    )


def init_app(app) -> None:
    export_cli.add_command(export_schools_command)
    # Pages show a phone number as the records and downloads do.
    app.add_template_filter(grouped_phone, "phone")
    app.add_template_filter(address_of, "address")
