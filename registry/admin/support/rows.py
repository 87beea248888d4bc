"""One school's row of the support grid: what it says, the rules for its cells, and writing it
to the school. Shared by the grid on the page and the spreadsheet, so both check alike."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ...db import db
from ...i18n import gettext as _
from ...models import Board, School, SchoolSupport, SupportArea, SupportLevel
from ...rounds import ROUND_PARAMETER
from ...uploads import shown
from ...validation import InvalidValue, plain_text, url

LEVELS = ("", SupportLevel.BASIS.value, SupportLevel.EXTRA.value)
MAX_VALUE_LENGTH = 500  # the longest column written (School.support_profile_url)
ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DUTCH_DATE_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
# A fingerprint's hexadecimal digits as letters: no spreadsheet reads letters as a number or date.
DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")
FINGERPRINT_LENGTH = 8


@dataclass
class Entry:
    """What one school's row says: a level per area (by id), the profile link and its date."""

    levels: dict[int, str]
    url: str = ""
    adopted: str = ""  # ISO date, or "" for none

    def key(self, areas: list[SupportArea]) -> str:
        """The row as one string, to tell whether a row changed since it was shown."""
        levels = ",".join(self.levels.get(a.id, "") for a in areas)
        return f"{levels}|{self.adopted}|{self.url}"

    def fingerprint(self, areas: list[SupportArea]) -> str:
        """What the row says as 8 letters, for a downloaded file to carry: an upload tells by
        it whether the school changed since the download, and whether the user edited the
        row. The areas by code, so that reordering them changes nothing."""
        levels = ",".join(
            f"{a.code}={self.levels.get(a.id, '')}" for a in sorted(areas, key=lambda a: a.code)
        )
        digest = hashlib.sha256(f"{levels}|{self.adopted}|{self.url}".encode()).hexdigest()
        return digest[:FINGERPRINT_LENGTH].translate(DIGITS_AS_LETTERS)


@dataclass
class Row:
    """One school's row on the page: what it shows, and the version and state it was made at."""

    school: School
    entry: Entry
    version: int
    was: str
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """The schools one grid holds: those of one board, or (board None) of all boards."""

    board: Board | None

    @property
    def title(self) -> str:
        return self.board.label if self.board else _("alle besturen")

    def url(self, what: str, **kwargs) -> str:
        # Opened from an update round's page, the grid's save stays part of that round.
        if ROUND_PARAMETER in request.args:
            kwargs.setdefault(ROUND_PARAMETER, request.args[ROUND_PARAMETER])
        if self.board is None:
            return url_for(f".all_{what}", **kwargs)
        return url_for(f".board_{what}", number=self.board.board_number, **kwargs)

    def schools(self) -> list[School]:
        """The open schools, by board and name, with their support loaded."""
        query = (
            select(School)
            .join(School.board)
            .where(School.is_open)
            .options(selectinload(School.support_offers), joinedload(School.board))
            .order_by(Board.label, School.name, School.vestigingscode)
        )
        if self.board is not None:
            query = query.where(School.board_id == self.board.id)
        return list(db.session.scalars(query).unique())


def support_areas() -> list[SupportArea]:
    return list(db.session.scalars(select(SupportArea).order_by(SupportArea.position)))


def current_entry(school: School, areas: list[SupportArea]) -> Entry:
    offers = {o.support_area_id: o.level.value for o in school.support_offers}
    adopted = school.support_profile_adopted_on
    return Entry(
        {a.id: offers.get(a.id, "") for a in areas},
        school.support_profile_url or "",
        adopted.isoformat() if adopted else "",
    )


def shown_row(school: School, areas: list[SupportArea]) -> Row:
    entry = current_entry(school, areas)
    return Row(school, entry, school.version, entry.key(areas))


def differences(old: Entry, new: Entry, areas: list[SupportArea]) -> list[tuple[str, str, str]]:
    """(what, old, new) for every cell the new entry changes, in the grid's order."""
    cells = [(a.name, old.levels.get(a.id, ""), new.levels.get(a.id, "")) for a in areas]
    cells.append((_("Link ondersteuningsprofiel"), old.url, new.url))
    cells.append((_("Vastgesteld op"), old.adopted, new.adopted))
    return [(label, before, after) for label, before, after in cells if before != after]


def write(school: School, entry: Entry, areas: list[SupportArea]) -> None:
    """Make the school say what the entry says; each changed cell is one history row."""
    offers = {o.support_area_id: o for o in school.support_offers}
    for area in areas:
        wanted, offer = entry.levels.get(area.id, ""), offers.get(area.id)
        if wanted == (offer.level.value if offer else ""):
            continue
        if not wanted:
            # Deleted through the session, not the collection, so the history still sees
            # which school and area the deleted row belonged to.
            db.session.delete(offer)
        elif offer:
            offer.level = SupportLevel(wanted)
        else:
            db.session.add(
                SchoolSupport(school=school, support_area=area, level=SupportLevel(wanted))
            )
    if (entry.url or None) != school.support_profile_url:
        school.support_profile_url = entry.url or None
    adopted = date.fromisoformat(entry.adopted) if entry.adopted else None
    if adopted != school.support_profile_adopted_on:
        school.support_profile_adopted_on = adopted


def clean_url(value: str) -> str:
    """A profile link as stored, or InvalidValue with a message for the user."""
    value = value.strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidValue("url", too_long(value))
    plain_text(value, "url")
    return url(value, "support_profile_url") or ""


def too_long(value: str) -> str:
    return _(
        "De waarde is %(length)d tekens lang; er passen er %(max)d.",
        length=len(value),
        max=MAX_VALUE_LENGTH,
    )


def clean_date(value) -> str:
    """A date as ISO text from a date cell or text like 2025-08-01 or 1-8-2025; "" for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = str(value).strip()
        iso, dutch = ISO_DATE_RE.fullmatch(text), DUTCH_DATE_RE.fullmatch(text)
        try:
            if iso:
                value = date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif dutch:
                value = date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
        except ValueError:
            pass
    if not isinstance(value, date) or not 1990 <= value.year <= 2100:
        raise InvalidValue(
            "datum",
            _("“%(value)s” is geen datum; schrijf bijvoorbeeld 1-8-2025.", value=shown(str(value))),
        )
    return value.isoformat()
