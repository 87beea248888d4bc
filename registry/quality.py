"""Data-quality gaps: what the sources did not give and coordinators can fill in."""

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from .db import db
from .models import Board, LocationPrecision, School, SchoolSupport

# The school support profile is renewed at least every four years.
PROFILE_MAX_AGE = timedelta(days=4 * 365 + 1)
VERIFIED_MAX_AGE = timedelta(days=365)


def profile_outdated(adopted_on: date | None) -> bool:
    return adopted_on is not None and adopted_on < date.today() - PROFILE_MAX_AGE  # noqa: DTZ011


def data_gaps() -> list[tuple[str, int]]:
    """(description, number of open schools or boards) for every kind of missing value."""
    today = date.today()  # noqa: DTZ011 (a calendar day in the partnership's time zone)
    school_checks = [
        (_l("Scholen zonder bezoekadres"), School.street.is_(None)),
        (_l("Scholen zonder website"), School.website.is_(None)),
        (_l("Scholen zonder e-mailadres"), School.email.is_(None)),
        (_l("Scholen zonder telefoonnummer"), School.phone.is_(None)),
        (_l("Scholen zonder locatie op de kaart"), School.latitude.is_(None)),
        (
            _l("Scholen met een locatie bij benadering (postcodegebied)"),
            School.location_precision == LocationPrecision.PC4,
        ),
        (
            _l("Scholen zonder vastgelegde ondersteuning"),
            School.id.not_in(select(SchoolSupport.school_id)),
        ),
        (
            _l("Scholen zonder (geldig) schoolondersteuningsprofiel"),
            or_(
                School.support_profile_adopted_on.is_(None),
                School.support_profile_adopted_on < today - PROFILE_MAX_AGE,
            ),
        ),
        (
            _l("Scholen die langer dan een jaar niet zijn gecontroleerd"),
            or_(School.verified_on.is_(None), School.verified_on < today - VERIFIED_MAX_AGE),
        ),
    ]
    gaps = [
        (str(label), db.session.scalar(select(func.count(School.id)).where(School.is_open, check)))
        for label, check in school_checks
    ]
    boards_without_address = db.session.scalar(
        select(func.count(Board.id)).where(Board.dissolved_on.is_(None), Board.street.is_(None))
    )
    gaps.append((str(_l("Besturen zonder adres")), boards_without_address))
    boards_without_name = db.session.scalar(
        select(func.count(Board.id)).where(Board.dissolved_on.is_(None), Board.name.is_(None))
    )
    gaps.append((str(_l("Besturen zonder naam (nieuw uit DUO)")), boards_without_name))
    return gaps
