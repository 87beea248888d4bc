"""Comparing DUO's files with the registry, field by field, before anything is changed.

The comparison is a plain list of differences that a coordinator reviews: new locations,
locations that disappeared (proposed for closing, never deleted), changed fields, board changes
and pupil counts. A school is only missing from an address file that lists its type of school
(file 02 lists BAO, file 09 SBO and SO), so neither file ever proposes closing the other's.
Values a person in the partnership changed since DUO last set them are held back: an import
never overwrites local knowledge.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..db import db
from ..exports import Column
from ..history import Change, day
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Board, Municipality, PupilCount, School, SchoolType
from ..uploads import shown
from .area import Area
from .files import FILE_KINDS, PUPIL_FILE, DuoFile, Location

NEW, DISAPPEARED, CHANGED, BOARD, PUPILS = "new", "disappeared", "changed", "board", "pupils"
KINDS = {
    NEW: _l("Nieuwe vestigingen"),
    DISAPPEARED: _l("Verdwenen vestigingen (voorstel: sluiten)"),
    CHANGED: _l("Gewijzigde gegevens"),
    BOARD: _l("Ander bestuur"),
    PUPILS: _l("Leerlingaantallen"),
}
# One record chosen in the preview or with --kies: 'kind:vestigingscode'.
CHOICE = re.compile(rf"(?:{'|'.join(KINDS)}):[0-9]{{2}}[A-Z]{{2}}[0-9]{{2}}")
# Who writes as the import in the history; the seed loads DUO's values too.
IMPORT_ACTOR = "DUO-import"
SOURCE_ACTORS = (IMPORT_ACTOR, "seed")
# DUO's fields in the registry, as the history names them.
DUO_FIELDS = [
    "name",
    "brin",
    "street",
    "house_number",
    "postcode",
    "place",
    "denomination",
    "phone",
    "website",
    "school_type",
    "special_education",
    "cluster",
    "municipality",
]
FIELD_LABELS = {
    "name": _l("Naam"),
    "brin": _l("BRIN"),
    "street": _l("Straat"),
    "house_number": _l("Huisnummer"),
    "postcode": _l("Postcode"),
    "place": _l("Plaats"),
    "denomination": _l("Richting"),
    "phone": _l("Telefoon"),
    "website": _l("Website"),
    "school_type": _l("Soort school"),
    "special_education": _l("Soort speciaal onderwijs (DUO)"),
    "cluster": _l("Cluster"),
    "municipality": _l("Gemeente"),
    "board": _l("Bestuur"),
    "closed_on": _l("Gesloten op"),
}
REPORT_COLUMNS = [
    Column("kind", _l("Soort"), 30),
    Column("vestigingscode", _l("Vestigingscode"), 14),
    Column("name", _l("Naam"), 40),
    Column("field", _l("Veld"), 18),
    Column("old", _l("Nu in het register"), 30),
    Column("new", _l("Volgens DUO"), 30),
    Column("status", _l("Status"), 24),
    Column("note", _l("Opmerking"), 40),
]


@dataclass
class FieldChange:
    field: str
    old: str | None
    new: str | None

    @property
    def label(self) -> str:
        if self.field.startswith("pupils:"):
            # The counting day as the admin writes dates elsewhere: "Leerlingen 1 okt 2025".
            return str(_l("Leerlingen %(day)s", day=day(date.fromisoformat(self.field[-10:]))))
        return str(FIELD_LABELS.get(self.field, self.field))


@dataclass
class Difference:
    """One record's difference of one kind; `held_back` lists what local edits keep."""

    kind: str
    vestigingscode: str
    name: str
    changes: list[FieldChange] = field(default_factory=list)
    held_back: list[FieldChange] = field(default_factory=list)
    note: str = ""

    @property
    def key(self) -> str:
        """How a coordinator picks this difference in a form: 'kind:code'."""
        return f"{self.kind}:{self.vestigingscode}"


@dataclass
class Comparison:
    files: list[DuoFile]
    area: Area
    differences: list[Difference]
    # (vestigingscode, field, value, why) for DUO values the registry's rules refuse.
    rejected: list[tuple[str, str, str, str]]
    locations: dict[str, Location]
    pupils: dict[str, dict[date, int]]

    def of_kind(self, kind: str) -> list[Difference]:
        return [d for d in self.differences if d.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}


@dataclass
class _Known:
    """What the registry holds of one school, in the forms DUO's values are compared in."""

    id: int
    vestigingscode: str
    school_type: SchoolType
    closed_on: date | None
    board: str
    values: dict[str, str | None]


def _registry() -> dict[str, _Known]:
    query = (
        select(
            School.id,
            School.vestigingscode,
            School.school_type,
            School.closed_on,
            Board.board_number,
            Municipality.cbs_code,
            *(getattr(School, name) for name in DUO_FIELDS[:-1]),
        )
        .join(School.board)
        .join(School.municipality)
    )
    known = {}
    for row in db.session.execute(query):
        school_id, code, school_type, closed_on, board, municipality, *values = row
        values = dict(zip(DUO_FIELDS[:-1], values, strict=True))
        values["school_type"] = school_type.value  # as the files give it
        known[code] = _Known(
            school_id,
            code,
            school_type,
            closed_on,
            board,
            {**values, "municipality": municipality},
        )
    return known


def locally_maintained() -> set[tuple[int, str]]:
    """(school id, field) pairs whose latest change was made by a person, not by DUO's data."""
    query = (
        select(Change.record_id, Change.field, Change.actor)
        .where(Change.record_type == "school")
        .where(Change.field.in_([*DUO_FIELDS, "board", "closed_on"]))
        .order_by(Change.changed_at, Change.id)
    )
    latest = {}
    for record_id, field_name, actor in db.session.execute(query):
        latest[record_id, field_name] = actor
    return {key for key, actor in latest.items() if not actor.startswith(SOURCE_ACTORS)}


def _registry_pupils(dates: set[date]) -> dict[str, dict[date, int]]:
    counts: dict[str, dict[date, int]] = {}
    query = (
        select(School.vestigingscode, PupilCount.reference_date, PupilCount.pupils)
        .join(PupilCount.school)
        .where(PupilCount.reference_date.in_(dates))
    )
    for code, reference_date, pupils in db.session.execute(query):
        counts.setdefault(code, {})[reference_date] = pupils
    return counts


def compare(files: list[DuoFile], area: Area) -> Comparison:
    """Every difference between the files (address files 02 and 09, a pupil file; at most one
    of each) and the registry, restricted to the partnership's area."""
    if any(count > 1 for count in Counter(f.kind for f in files).values()):
        raise ValueError(
            str(
                _l(
                    "Kies hooguit één bestand van elke soort: adressen basisonderwijs (02),"
                    " adressen speciaal (basis)onderwijs (09) en leerlingen (06)."
                )
            )
        )
    address_files = [f for f in files if FILE_KINDS[f.kind].covers]
    pupil_files = [f for f in files if f.kind == PUPIL_FILE.key]
    known = _registry()
    local = locally_maintained()
    differences: list[Difference] = []
    rejected = []
    locations: dict[str, Location] = {}
    for duo in address_files:
        for code, location in duo.locations.items():
            if area.contains(location.municipality_code, location.fields.get("postcode")):
                _check_once(code, locations)
                locations[code] = location
    for code, location in locations.items():
        rejected.extend((code, *reason) for reason in location.rejected)
        school = known.get(code)
        if school is None:
            differences.append(_new(location))
        else:
            differences.extend(_changed(school, location, local))
    if address_files:
        differences.extend(_disappeared(known, locations, address_files))
    pupils = {}
    if pupil_files:
        pupils = pupil_files[0].pupils
        differences.extend(_pupil_changes(known, locations, pupils))
    return Comparison(files, area, differences, rejected, locations, pupils)


def _check_once(code: str, locations: dict[str, Location]) -> None:
    """DUO lists a location in one address file only; two files that both list it contradict
    each other, and neither may win unseen."""
    if code in locations:
        raise ValueError(
            str(
                _l(
                    "Vestiging %(code)s staat in beide adressenbestanden (02 en 09); vergelijk ze"
                    " elk apart.",
                    code=code,
                )
            )
        )


def _new(location: Location) -> Difference:
    changes = [FieldChange(name, None, value) for name, value in location.fields.items() if value]
    changes.append(FieldChange("municipality", None, location.municipality_code))
    changes.append(FieldChange("board", None, location.board_number))
    return Difference(NEW, location.vestigingscode, location.fields["name"], changes)


def _changed(school: _Known, location: Location, local: set) -> list[Difference]:
    name = location.fields["name"] or school.values["name"]
    changed = Difference(CHANGED, school.vestigingscode, name)
    duo_values = {**location.fields, "municipality": location.municipality_code}
    for field_name in DUO_FIELDS:
        if field_name not in duo_values:
            continue  # DUO's value broke a format rule; the registry keeps its own
        old, new = school.values[field_name], duo_values[field_name]
        if old != new:
            target = changed.held_back if (school.id, field_name) in local else changed.changes
            target.append(FieldChange(field_name, old, new))
    if school.closed_on is not None:
        reopen = FieldChange("closed_on", school.closed_on.isoformat(), None)
        target = changed.held_back if (school.id, "closed_on") in local else changed.changes
        target.append(reopen)
        changed.note = str(_l("Gesloten in het register, maar staat weer in het DUO-bestand."))
    differences = [changed] if changed.changes or changed.held_back else []
    if school.board != location.board_number:
        board = Difference(BOARD, school.vestigingscode, name)
        change = FieldChange("board", school.board, location.board_number)
        (board.held_back if (school.id, "board") in local else board.changes).append(change)
        differences.append(board)
    return differences


def _disappeared(
    known: dict[str, _Known], selected: dict, address_files: list[DuoFile]
) -> list[Difference]:
    """Open schools missing from the selection, of the types the address files list: file 02
    lists BAO only and file 09 special schools only, so neither closes the other's schools."""
    covered: set[SchoolType] = set().union(*(FILE_KINDS[f.kind].covers for f in address_files))
    differences = []
    for code, school in known.items():
        if code in selected or school.school_type not in covered or school.closed_on:
            continue
        if any(code in duo.locations for duo in address_files):
            note = _l(
                "Staat in het DUO-bestand, maar buiten het gebied van het samenwerkingsverband."
            )
        elif any(code in duo.vso_only for duo in address_files):
            note = _l(
                "Staat in het DUO-bestand als alleen voortgezet speciaal onderwijs (VSO); dat"
                " hoort bij het samenwerkingsverband voor het voortgezet onderwijs."
            )
        else:
            note = _l("Staat niet meer in het DUO-bestand.")
        difference = Difference(
            DISAPPEARED,
            code,
            school.values["name"],
            [FieldChange("closed_on", None, date.today().isoformat())],  # noqa: DTZ011
            note=str(note),
        )
        differences.append(difference)
    return differences


def _pupil_changes(known: dict[str, _Known], locations: dict, pupils: dict) -> list[Difference]:
    """New or revised counts for schools in the registry and for the new schools of this file."""
    dates = {d for counts in pupils.values() for d in counts}
    current = _registry_pupils(dates)
    differences = []
    for code in [*known, *(c for c in locations if c not in known)]:
        counts = pupils.get(code)
        if not counts:
            continue
        have = current.get(code, {})
        changes = [
            FieldChange(
                f"pupils:{reference_date.isoformat()}",
                str(have[reference_date]) if reference_date in have else None,
                str(count),
            )
            for reference_date, count in sorted(counts.items())
            if have.get(reference_date) != count
        ]
        if changes:
            name = known[code].values["name"] if code in known else locations[code].fields["name"]
            differences.append(Difference(PUPILS, code, name, changes))
    return differences


def report_rows(comparison: Comparison):
    """One row per changed field, for the CSV download and the command line."""
    applied, kept = str(_l("toepassen")), str(_l("behouden: lokaal gewijzigd"))
    for difference in comparison.differences:
        for status, changes in ((applied, difference.changes), (kept, difference.held_back)):
            for change in changes:
                yield {
                    "kind": str(KINDS[difference.kind]),
                    "vestigingscode": difference.vestigingscode,
                    "name": difference.name,
                    "field": change.label,
                    "old": change.old,
                    "new": change.new,
                    "status": status,
                    "note": difference.note,
                }
    for code, field_name, value, why in comparison.rejected:
        yield {
            "kind": str(_l("Waarde van DUO geweigerd")),
            "vestigingscode": code,
            "name": comparison.locations[code].fields["name"],
            "field": str(FIELD_LABELS.get(field_name, field_name)),
            "old": None,
            "new": value,
            "status": str(_l("niet overgenomen")),
            "note": why,
        }


def check_choice(comparison: Comparison, keys: list[str]) -> None:
    """Refuse (ValueError) a chosen record that is repeated, malformed or not in this comparison:
    the choice is applied as given, so a typo must not silently apply less than meant."""
    choosable = {d.key for d in comparison.differences if d.changes}
    seen = set()
    for key in keys:
        if not CHOICE.fullmatch(key):
            raise ValueError(
                _(
                    "'%(key)s' is geen keuze; een keuze is soort:vestigingscode, bijvoorbeeld"
                    " changed:05SX00.",
                    key=shown(key),
                )
            )
        if key in seen:
            raise ValueError(_("%(key)s is meer dan eens gekozen.", key=key))
        if key not in choosable:
            raise ValueError(
                _(
                    "%(key)s staat niet in deze vergelijking of heeft niets om toe te passen;"
                    " vergelijk opnieuw.",
                    key=key,
                )
            )
        seen.add(key)
