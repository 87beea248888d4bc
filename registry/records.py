"""The public record of a school: its stable fields for JSON, and the columns of exports."""

from datetime import date

from flask import abort, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .db import db
from .exports import Column
from .models import School
from .search import SchoolRow, SchoolSearch
from .text import place_name

# Every public field of a school, in the order of the JSON; the people-facing header in Dutch.
SCHOOL_COLUMNS = {
    column.key: column
    for column in (
        Column("vestigingscode", _l("Vestigingscode"), 14),
        Column("name", _l("Naam"), 48),
        Column("type", _l("Soort"), 9),
        Column("denomination", _l("Richting"), 24),
        Column("street", _l("Straat"), 24),
        Column("house_number", _l("Huisnummer"), 11),
        Column("postcode", _l("Postcode"), 10),
        Column("place", _l("Plaats"), 20),
        Column("municipality", _l("Gemeente"), 16),
        Column("board_number", _l("Bestuursnummer"), 14),
        Column("board", _l("Bestuur"), 40),
        Column("network", _l("Netwerk"), 12),
        Column("phone", _l("Telefoon"), 13),
        Column("email", _l("E-mail"), 28),
        Column("website", _l("Website"), 32),
        Column("pupils", _l("Leerlingen"), 11),
        Column("pupils_reference_date", _l("Teldatum"), 12),
        Column("latitude", _l("Breedtegraad"), 12),
        Column("longitude", _l("Lengtegraad"), 12),
        Column("location_precision", _l("Precisie locatie"), 12),
        Column("distance_km", _l("Afstand (km)"), 12),
        Column("closed_on", _l("Gesloten op"), 12),
        Column("url", _l("Adres op de site"), 40),
    )
}
DEFAULT_EXPORT = [
    "vestigingscode",
    "name",
    "type",
    "denomination",
    "street",
    "house_number",
    "postcode",
    "place",
    "municipality",
    "board",
    "network",
    "phone",
    "email",
    "website",
    "pupils",
    "pupils_reference_date",
]


def school_record(row: SchoolRow) -> dict:
    """The stable public fields of a school for JSON: dates as ISO 8601 text."""
    return {key: iso(value) for key, value in school_values(row).items()}


def school_values(row: SchoolRow) -> dict:
    """The stable public fields of a school, typed (numbers, dates) for spreadsheets."""
    school = row.school
    return {
        "vestigingscode": school.vestigingscode,
        "name": school.name,
        "type": school.school_type.value,
        "denomination": school.denomination,
        "street": school.street,
        "house_number": school.house_number,
        "postcode": school.postcode,
        "place": place_name(school.place) or None,
        "municipality": school.municipality.name,
        "board_number": school.board.board_number,
        "board": school.board.name,
        "network": school.network.name if school.network else None,
        "phone": school.phone,
        "email": school.email,
        "website": school.website,
        "pupils": row.pupils,
        "pupils_reference_date": row.pupils_reference_date,
        "latitude": school.latitude,
        "longitude": school.longitude,
        "location_precision": school.location_precision.value
        if school.location_precision
        else None,
        "distance_km": round(row.distance_km, 2) if row.distance_km is not None else None,
        "closed_on": school.closed_on,
        "url": url_for("directory.school", code=school.vestigingscode, _external=True),
    }


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
    record = school_record(
        SchoolRow(school, latest and latest.pupils, latest and latest.reference_date, None)
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
