"""Data-quality gaps: what the sources did not give and coordinators can fill in.

Each school gap is declared once in SCHOOL_GAPS: the counts on the dashboard and on /over, the
admin list's worklist filters and the links between them all derive from it, so a count and
the list its link opens cannot disagree.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import ColumnElement, func, or_, select

from .db import db
from .history import day
from .i18n import lazy_gettext as _l
from .models import Board, LocationPrecision, School, SchoolSupport, SchoolType

# The school support profile is renewed at least every four years.
PROFILE_MAX_AGE = timedelta(days=4 * 365 + 1)
VERIFIED_MAX_AGE = timedelta(days=365)
# The admin list's filter parameter that narrows a worklist to one board (its DUO number).
BOARD_PARAMETER = "bestuur"

# The words a worklist row names a missing value by, per attribute.
MISSING_WORDS = {
    "street": _l("straat"),
    "house_number": _l("huisnummer"),
    "postcode": _l("postcode"),
    "place": _l("plaats"),
    "phone": _l("telefoonnummer"),
    "email": _l("e-mailadres"),
    "website": _l("website"),
}
ADDRESS = ("street", "house_number", "postcode", "place")
SPECIAL_CONTACT = (*ADDRESS, "phone", "email", "website")


def profile_outdated(adopted_on: date | None) -> bool:
    return adopted_on is not None and adopted_on < date.today() - PROFILE_MAX_AGE  # noqa: DTZ011


def _address_incomplete() -> ColumnElement[bool]:
    return or_(*(getattr(School, name).is_(None) for name in ADDRESS))


def _profile_missing() -> ColumnElement[bool]:
    today = date.today()  # noqa: DTZ011 (a calendar day in the partnership's time zone)
    return or_(
        School.support_profile_adopted_on.is_(None),
        School.support_profile_adopted_on < today - PROFILE_MAX_AGE,
    )


def _not_verified() -> ColumnElement[bool]:
    today = date.today()  # noqa: DTZ011
    return or_(School.verified_on.is_(None), School.verified_on < today - VERIFIED_MAX_AGE)


def _special_incomplete() -> ColumnElement[bool]:
    """Special schools are missing from DUO's address file: address and contact from people."""
    return (School.school_type != SchoolType.BAO) & or_(
        *(getattr(School, name).is_(None) for name in SPECIAL_CONTACT)
    )


def absent(*attributes: str) -> Callable[[object], list]:
    """A gap's reasons: the named attributes the record has no value for."""
    return lambda record: [
        MISSING_WORDS[name] for name in attributes if getattr(record, name) is None
    ]


def _profile_reason(school: School) -> list:
    adopted = school.support_profile_adopted_on
    if adopted is None:
        return [_l("vastgesteld schoolondersteuningsprofiel")]
    return [_l("nieuw profiel: dit is van %(day)s, ouder dan 4 jaar", day=day(adopted))]


def _verified_reason(school: School) -> list:
    if school.verified_on is None:
        return [_l("controle: nooit gecontroleerd")]
    return [_l("controle: laatst op %(day)s", day=day(school.verified_on))]


@dataclass(frozen=True)
class Gap:
    """One kind of missing value among open schools, and its worklist in the admin."""

    key: str  # the worklist filter's parameter in the admin's school list
    label: str  # how the dashboard and /over count it
    filter_name: str  # its name among the admin list's filters
    condition: Callable[[], ColumnElement[bool]]  # built per query: some depend on today
    # What one listed record misses, in words: the worklist says it on every row.
    missing: Callable[[object], list]

    def where(self) -> ColumnElement[bool]:
        """The open schools this gap lists (closed schools are nobody's work)."""
        return School.is_open & self.condition()


SCHOOL_GAPS = [
    Gap(
        "zonder_adres",
        _l("Scholen zonder (volledig) bezoekadres"),
        _l("Zonder volledig adres"),
        _address_incomplete,
        absent(*ADDRESS),
    ),
    Gap(
        "zonder_website",
        _l("Scholen zonder website"),
        _l("Zonder website"),
        lambda: School.website.is_(None),
        absent("website"),
    ),
    Gap(
        "zonder_email",
        _l("Scholen zonder e-mailadres"),
        _l("Zonder e-mailadres"),
        lambda: School.email.is_(None),
        absent("email"),
    ),
    Gap(
        "zonder_telefoon",
        _l("Scholen zonder telefoonnummer"),
        _l("Zonder telefoonnummer"),
        lambda: School.phone.is_(None),
        absent("phone"),
    ),
    Gap(
        "zonder_locatie",
        _l("Scholen zonder locatie op de kaart"),
        _l("Zonder locatie op de kaart"),
        lambda: School.latitude.is_(None),
        lambda _school: [_l("plek op de kaart")],
    ),
    Gap(
        "locatie_bij_benadering",
        _l("Scholen met een locatie bij benadering (postcodegebied)"),
        _l("Locatie bij benadering"),
        lambda: School.location_precision == LocationPrecision.PC4,
        lambda _school: [_l("precieze plek: nu het midden van het postcodegebied")],
    ),
    Gap(
        "zonder_ondersteuning",
        _l("Scholen zonder vastgelegde ondersteuning"),
        _l("Zonder vastgelegde ondersteuning"),
        lambda: School.id.not_in(select(SchoolSupport.school_id)),
        lambda _school: [_l("ondersteuning per gebied")],
    ),
    Gap(
        "zonder_profiel",
        _l("Scholen zonder (geldig) schoolondersteuningsprofiel"),
        _l("Zonder (geldig) ondersteuningsprofiel"),
        _profile_missing,
        _profile_reason,
    ),
    Gap(
        "niet_gecontroleerd",
        _l("Scholen die langer dan een jaar niet zijn gecontroleerd"),
        _l("Langer dan een jaar niet gecontroleerd"),
        _not_verified,
        _verified_reason,
    ),
    Gap(
        "speciaal_onvolledig",
        # The name says every part it checks: a school with address, phone and website is
        # still on it while its e-mail address is missing.
        _l("Speciale scholen (SBO, SO) zonder volledig adres, telefoon, e-mail of website"),
        _l("Speciale school zonder volledig adres, telefoon, e-mail of website"),
        _special_incomplete,
        absent(*SPECIAL_CONTACT),
    ),
]


@dataclass(frozen=True)
class BoardGap(Gap):
    """One kind of missing value among boards that still exist, and its worklist."""

    def where(self) -> ColumnElement[bool]:
        return Board.dissolved_on.is_(None) & self.condition()


BOARD_GAPS = [
    BoardGap(
        "zonder_adres",
        _l("Besturen zonder adres"),
        _l("Zonder adres"),
        lambda: Board.street.is_(None),
        absent("street"),
    ),
    BoardGap(
        "zonder_naam",
        _l("Besturen zonder naam (nieuw uit de import)"),
        _l("Zonder naam"),
        lambda: Board.name.is_(None),
        lambda _board: [_l("naam")],
    ),
]


@dataclass(frozen=True)
class GapCount:
    """A counted gap; url is its worklist, None where the admin's school list has none."""

    label: str
    number: int
    url: str | None = None


def worklist_url(key: str, board_number: str | None = None) -> str:
    """The admin's school list filtered to exactly the schools of one gap (of one board)."""
    parameters = {f"flt0_{key}": "ja"}
    if board_number:
        parameters[f"flt1_{BOARD_PARAMETER}"] = board_number
    return url_for("school.index_view", **parameters)


def school_gaps(board: Board | None = None) -> list[GapCount]:
    """Each school gap with its count among open schools (of one board) and its worklist."""
    counts = []
    for gap in SCHOOL_GAPS:
        query = select(func.count(School.id)).where(gap.where())
        if board is not None:
            query = query.where(School.board_id == board.id)
        counts.append(
            GapCount(
                str(gap.label),
                db.session.scalar(query),
                worklist_url(gap.key, board.board_number if board else None),
            )
        )
    return counts


class DataGaps(list):
    """The counted gaps; a page that shows one board's worklist asks them for it."""

    @staticmethod
    def of_board(board: Board) -> list[GapCount]:
        return school_gaps(board)


def data_gaps() -> DataGaps:
    """Every kind of missing value: the school gaps, then the boards', each with its worklist."""
    board_gaps = [
        GapCount(
            str(gap.label),
            db.session.scalar(select(func.count(Board.id)).where(gap.where())),
            url_for("board.index_view", **{f"flt0_{gap.key}": "ja"}),
        )
        for gap in BOARD_GAPS
    ]
    return DataGaps([*school_gaps(), *board_gaps])
