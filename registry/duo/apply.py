"""Applying a reviewed comparison in one transaction, recorded in the history and the import log.

Only DUO's own fields are written. Networks, e-mail, support, profiles, verification and a
point someone placed by hand are the partnership's and are never touched; held-back
differences (a person changed the value since DUO last set it) are never applied.
"""

from collections.abc import Iterable
from datetime import date

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from .. import geo
from ..cache import bump
from ..db import db
from ..history import CREATED, UPDATED, acting_as, change_row, noting, pupil_field, record
from ..i18n import lazy_gettext as _l
from ..models import (
    Board,
    ImportLog,
    LocationPrecision,
    Municipality,
    PartnershipPostcodeArea,
    PupilCount,
    School,
    SchoolType,
    search_text,
)
from ..text import place_name, slugify
from .compare import (
    BOARD,
    CHANGED,
    DISAPPEARED,
    IMPORT_ACTOR,
    KINDS,
    NEW,
    PUPILS,
    Comparison,
    Difference,
    FieldChange,
)
from .files import LOCATION_ATTRIBUTES, Location

# Points derived from the postcode follow a new postcode, and a school without a point gets
# one from it; a point at the building stays.
DERIVED_PRECISIONS = {LocationPrecision.PC6, LocationPrecision.PC4, None}
# New locations are inserted this many at a time (with their counts and history rows).
INSERT_BATCH = 1000


def files_line(comparison: Comparison) -> str:
    return "\n".join(f"{duo.checksum}  {duo.name}" for duo in comparison.files)


def apply_comparison(
    comparison: Comparison,
    kinds: Iterable[str] = (),
    keys: Iterable[str] = (),
    actor: str = "systeem",
    user_id: int | None = None,
) -> ImportLog:
    """Apply every difference of the chosen kinds plus the individually chosen ones ('kind:code'),
    all or nothing, and log it. Nothing is chosen means nothing changes (and nothing is logged)."""
    kinds, keys = set(kinds), set(keys)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(str(_l("Onbekende soort: %(kinds)s", kinds=", ".join(sorted(unknown)))))
    chosen = [d for d in comparison.differences if d.kind in kinds or d.key in keys]
    log = ImportLog(
        actor=actor,
        user_id=user_id,
        files=files_line(comparison),
        area="landelijk" if comparison.area.national else "regio",
        selection=", ".join(sorted(kinds) + sorted(keys)),
    )
    writer = _Writer(comparison, chosen)
    note = ", ".join(duo.name for duo in comparison.files) + f" ({date.today():%d-%m-%Y})"  # noqa: DTZ011
    try:
        # The history names the import and who applied it: 'DUO-import (a@b.nl)'.
        importer = acting_as(f"{IMPORT_ACTOR} ({actor})", user_id)
        with importer, noting(note[:300]), db.session.no_autoflush:
            for difference in chosen:
                writer.apply(difference)
            writer.insert_new()
            for kind, count in writer.counts.items():
                setattr(log, kind, count)
            db.session.add(log)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    current_app.logger.info(
        "DUO import #%d by %s: %d new, %d closed, %d changed, %d board, %d pupil counts; %s",
        log.id,
        actor,
        log.new,
        log.closed,
        log.changed,
        log.board_changes,
        log.pupil_counts,
        log.files.replace("\n", "; "),
    )
    return log


class _Writer:
    """Applies differences, creating the municipalities and boards new locations need.

    Changes to existing schools go through the ORM (validation, versions, the history
    listener). New locations are inserted in bulk, with their history rows written alongside:
    a national import creates some 6,000 schools and 30,000 counts, which the unit of work
    would take minutes over.
    """

    def __init__(self, comparison: Comparison, chosen: list[Difference]) -> None:
        self.comparison = comparison
        self.counts = {"new": 0, "closed": 0, "changed": 0, "board_changes": 0, "pupil_counts": 0}
        self.municipalities = {m.cbs_code: m for m in db.session.scalars(select(Municipality))}
        self.boards = {b.board_number: b for b in db.session.scalars(select(Board))}
        # Every registry school the chosen differences touch, with its counts, in one query
        # (a school may have a change, a board change and new counts: one load serves all).
        codes = {d.vestigingscode for d in chosen if d.kind != NEW}
        self.schools = {
            school.vestigingscode: school
            for school in db.session.scalars(
                select(School)
                .where(School.vestigingscode.in_(codes))
                .options(selectinload(School.pupil_counts))
            )
        }
        self.new: dict[str, Location] = {}
        self.new_pupils: dict[str, list] = {}

    def apply(self, difference: Difference) -> None:
        code = difference.vestigingscode
        if difference.kind == NEW:
            self.new[code] = self.comparison.locations[code]
        elif difference.kind == PUPILS and code not in self.schools:
            self.new_pupils[code] = difference.changes  # counts of a location this import adds
        elif difference.kind == PUPILS:
            self.pupils(self.schools[code], difference.changes)
        else:
            self.update(self.schools[code], difference)

    def update(self, school: School, difference: Difference) -> None:
        if difference.kind == DISAPPEARED:
            school.closed_on = date.fromisoformat(difference.changes[0].new)
            self.counts["closed"] += 1
        elif difference.kind == BOARD:
            location = self.comparison.locations[school.vestigingscode]
            school.board = self.board(location.board_number)
            self.counts["board_changes"] += 1
        elif difference.kind == CHANGED:
            for change in difference.changes:
                self.set_field(school, change)
            self.counts["changed"] += 1

    def set_field(self, school: School, change) -> None:
        if change.field == "municipality":
            school.municipality = self.municipality(
                self.comparison.locations[school.vestigingscode]
            )
        elif change.field == "closed_on":
            school.closed_on = None
        elif change.field == "school_type":
            school.school_type = SchoolType(change.new)
        else:
            setattr(school, change.field, change.new)
            if change.field == "postcode" and school.location_precision in DERIVED_PRECISIONS:
                for attribute, value in _point_from(school.postcode).items():
                    setattr(school, attribute, value)

    def pupils(self, school: School, changes) -> None:
        counts = {c.reference_date: c for c in school.pupil_counts}
        for change in changes:
            reference_date = _reference_date(change)
            if reference_date in counts:
                counts[reference_date].pupils = int(change.new)
            else:
                school.pupil_counts.append(
                    PupilCount(reference_date=reference_date, pupils=int(change.new))
                )
            self.counts["pupil_counts"] += 1

    def insert_new(self) -> None:
        """Insert the chosen new locations, their counts and their history rows, a batch at a
        time so that a national import stays within a small, fixed amount of memory."""
        if not self.new:
            return  # counts for a location that is not added are skipped
        for location in self.new.values():
            self.municipality(location)
            self.board(location.board_number)
        db.session.flush()
        locations = list(self.new.values())
        for start in range(0, len(locations), INSERT_BATCH):
            self.insert_batch(locations[start : start + INSERT_BATCH])

    def insert_batch(self, locations: list[Location]) -> None:
        # Plain executemany and one SELECT for the ids: RETURNING over thousands of rows makes
        # SQLAlchemy splice its batches together, which costs more than the inserts.
        connection = db.session.connection()
        connection.execute(insert(School.__table__), [self.school_row(loc) for loc in locations])
        codes = [location.vestigingscode for location in locations]
        ids = dict(
            db.session.execute(
                select(School.vestigingscode, School.id).where(School.vestigingscode.in_(codes))
            ).all()
        )
        history, counts = [], []
        for location in locations:
            code = location.vestigingscode
            label = f"{location.fields['name']} ({code})"  # as School.__str__ gives it
            history.append(change_row("school", ids[code], label, CREATED, version=1))
            for change in self.new_pupils.get(code, ()):
                reference_date = _reference_date(change)
                counts.append(
                    {
                        "school_id": ids[code],
                        "reference_date": reference_date,
                        "pupils": int(change.new),
                    }
                )
                field = pupil_field(reference_date)
                history.append(
                    change_row("school", ids[code], label, UPDATED, field, None, change.new, 1)
                )
        if counts:
            connection.execute(insert(PupilCount.__table__), counts)
        record(history)
        bump(connection)  # these inserts bypass the session: tell the page cache
        self.counts["new"] += len(locations)
        self.counts["pupil_counts"] += len(counts)

    def school_row(self, location: Location) -> dict:
        municipality = self.municipalities[location.municipality_code]
        board = self.boards[location.board_number]
        fields = location.fields
        return {
            # A value DUO gave in a form the registry refuses is left empty (every row of an
            # executemany needs the same columns).
            **{attribute: fields.get(attribute) for attribute in LOCATION_ATTRIBUTES},
            "vestigingscode": location.vestigingscode,
            "school_type": SchoolType(fields["school_type"]),
            "municipality_id": municipality.id,
            "board_id": board.id,
            **_point_from(fields.get("postcode")),
            "search_text": search_text(
                location.vestigingscode,
                fields["name"],
                fields.get("street"),
                fields.get("place"),
                fields.get("postcode"),
                board,
                municipality,
            ),
        }

    def municipality(self, location: Location) -> Municipality:
        code = location.municipality_code
        if code not in self.municipalities:
            name = place_name(location.municipality_name)
            self.municipalities[code] = Municipality(
                cbs_code=code,
                name=name,
                slug=slugify(name),
                province=location.province,
                postcode_areas=[
                    PartnershipPostcodeArea(pc4=pc4)
                    for pc4 in self.comparison.area.postcode_areas(code)
                ],
            )
            db.session.add(self.municipalities[code])
        return self.municipalities[code]

    def board(self, number: str) -> Board:
        if number not in self.boards:
            # DUO's address file gives the board's number only; its name is a gap to fill.
            self.boards[number] = Board(board_number=number, name=None)
            db.session.add(self.boards[number])
        return self.boards[number]


def _point_from(postcode: str | None) -> dict:
    """A school's point fields from its postcode alone: its own centre, else its area's."""
    point, precision = geo.postcode_point(postcode)
    return {
        "latitude": point.latitude if point else None,
        "longitude": point.longitude if point else None,
        "location_precision": precision,
    }


def _reference_date(change: FieldChange) -> date:
    return date.fromisoformat(change.field.removeprefix("pupils:"))
