"""Loading the real regional data from seed_data/, and a summary of what the registry holds.

Seeding only adds what is missing, keyed by each record's public code, so running it again
changes nothing and never overwrites a coordinator's edits. The special schools' address,
contact and kinds of special education come from DUO's file 09 in seed_data/duo/, read by the
DUO import's own reader, and their point from their postcode as the import places a school.
"""

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from . import geo
from .config import PROJECT_ROOT
from .db import db
from .duo.files import DuoFileError, Location, read_duo_file
from .groupings import GROUPINGS, group_totals, totals
from .history import acting_as
from .i18n import gettext as _
from .models import (
    Board,
    LocationPrecision,
    Municipality,
    Network,
    ParentWord,
    PartnershipPostcodeArea,
    PupilCount,
    School,
    SchoolType,
    SupportArea,
)
from .search import BadParameter, SchoolSearch, parse_reference_date, reference_dates
from .text import slugify
from .validation import InvalidValue

SEED_DIR = PROJECT_ROOT / "seed_data"
# DUO's address file of special education, the regional subset (seed_data/README.md).
SPECIAL_FILE = Path("duo") / (
    "duo_09-alle-vestigingen-sbo-so-en-vso_via-hahebo-daad5c8_SUBSET-7gemeenten_utf8.csv"
)
# What file 09 gives a special school that schools.csv (built from the pupil file) lacks.
SPECIAL_FIELDS = (
    "street",
    "house_number",
    "postcode",
    "place",
    "phone",
    "website",
    "special_education",
    "cluster",
)
PUPIL_YEARS = range(2021, 2026)
# DUO counts pupils on 1 October of each school year.
REFERENCE_MONTH, REFERENCE_DAY = 10, 1


class SeedError(Exception):
    """A seed file that cannot be loaded; names the file and line."""


def pupil_reference_date(year: int) -> date:
    return date(year, REFERENCE_MONTH, REFERENCE_DAY)


def _blank_to_none(value: str) -> str | None:
    return value or None


class _Seeder:
    """One pass over the seed files inside the caller's transaction."""

    def __init__(self, seed_dir: Path) -> None:
        self.seed_dir = seed_dir
        self.created: dict[str, int] = {}
        self.where = ""

    def rows(self, name: str, key: str) -> Iterator[dict[str, str]]:
        """Yield the rows of one file, remembering 'file:line' for error messages."""
        seen = set()
        with open(self.seed_dir / name, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                self.where = f"{name}:{reader.line_num}"
                row = {column: (value or "").strip() for column, value in row.items()}
                if row[key] in seen:
                    raise SeedError(f"{self.where}: {key} {row[key]} staat dubbel in het bestand")
                seen.add(row[key])
                yield row

    def add(self, kind: str, record) -> None:
        db.session.add(record)
        self.count(kind)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    def existing(self, model, key: str) -> dict:
        return {getattr(obj, key): obj for obj in db.session.scalars(select(model))}

    def run(self) -> dict[str, int]:
        areas = self.support_areas()
        self.parent_words(areas)
        municipalities = self.municipalities()
        networks_by_municipality = self.networks()
        boards = self.boards()
        self.schools(municipalities, networks_by_municipality, boards)
        return self.created

    def support_areas(self) -> dict[str, SupportArea]:
        known = self.existing(SupportArea, "code")
        for row in self.rows("support_areas.csv", "code"):
            if row["code"] not in known:
                known[row["code"]] = SupportArea(
                    code=row["code"],
                    name=row["name"],
                    name_en=row["name_en"],
                    description=_blank_to_none(row["description"]),
                    position=int(row["position"]),
                )
                self.add("support areas", known[row["code"]])
        return known

    def parent_words(self, areas: dict[str, SupportArea]) -> None:
        """The words parents use for support, each pointing at its area (parent_words.py)."""
        known = self.existing(ParentWord, "word")
        for row in self.rows("parent_words.csv", "word"):
            if row["word"] not in known:
                self.add(
                    "parent words", ParentWord(word=row["word"], support_area=areas[row["area"]])
                )

    def municipalities(self) -> dict[str, Municipality]:
        known = self.existing(Municipality, "cbs_code")
        areas = {
            row["cbs_code"]: row["postcode_areas"].split()
            for row in self.rows("partnership_area.csv", "cbs_code")
        }
        for row in self.rows("municipalities.csv", "cbs_code"):
            if row["cbs_code"] in known:
                continue
            if row["cbs_code"] not in areas:
                raise SeedError(
                    f"{self.where}: {row['cbs_code']} ontbreekt in partnership_area.csv"
                )
            municipality = Municipality(
                cbs_code=row["cbs_code"],
                name=row["name"],
                slug=slugify(row["name"]),
                province=row["province"],
                postcode_areas=[PartnershipPostcodeArea(pc4=pc4) for pc4 in areas[row["cbs_code"]]],
            )
            self.add("municipalities", municipality)
            known[municipality.cbs_code] = municipality
        return known

    def networks(self) -> dict[str, Network]:
        known = self.existing(Network, "slug")
        by_municipality = {}
        for row in self.rows("networks.csv", "slug"):
            if row["slug"] not in known:
                known[row["slug"]] = Network(
                    slug=row["slug"],
                    name=row["name"],
                    description=_blank_to_none(row["description"]),
                    confirmed=row["confirmed"] == "true",
                )
                self.add("networks", known[row["slug"]])
            by_municipality.update(dict.fromkeys(row["municipalities"].split(), known[row["slug"]]))
        return by_municipality

    def boards(self) -> dict[str, Board]:
        known = self.existing(Board, "board_number")
        for row in self.rows("boards.csv", "board_number"):
            if row["board_number"] in known:
                continue
            board = Board(
                board_number=row["board_number"],
                name=row["name"],
                kvk_number=_blank_to_none(row["kvk_number"]),
                other_names=_blank_to_none(row["other_names_rio"]),
            )
            self.add("boards", board)
            known[board.board_number] = board
        return known

    def special_locations(self) -> dict[str, Location]:
        """File 09's locations by code, as the DUO import reads them."""
        path = self.seed_dir / SPECIAL_FILE
        self.where = str(SPECIAL_FILE)
        try:
            return read_duo_file(path.read_bytes(), path.name).locations
        except (OSError, DuoFileError) as error:
            raise SeedError(f"{SPECIAL_FILE}: {error}") from error

    def schools(self, municipalities, networks_by_municipality, boards) -> None:
        known = self.existing(School, "vestigingscode")
        locations = {
            row["vestigingscode"]: row
            for row in self.rows("school_locations.csv", "vestigingscode")
        }
        special = self.special_locations()
        counted = set(
            db.session.execute(
                select(School.vestigingscode, PupilCount.reference_date).join(PupilCount.school)
            ).all()
        )
        for row in self.rows("schools.csv", "vestigingscode"):
            code = row["vestigingscode"]
            school = known.get(code)
            if school is None:
                cbs_code = "GM" + row["gemeente_code"]
                if cbs_code not in municipalities or row["board_number"] not in boards:
                    raise SeedError(
                        f"{self.where}: onbekende gemeente {cbs_code}"
                        f" of onbekend bestuur {row['board_number']}"
                    )
                school = self._school(
                    row,
                    locations.get(code),
                    municipalities[cbs_code],
                    networks_by_municipality.get(cbs_code),
                    boards[row["board_number"]],
                )
                if school.school_type is not SchoolType.BAO and code in special:
                    self._special(school, special[code])
                self.add("schools", school)
            for year in PUPIL_YEARS:
                value = row[f"pupils_{year}"]
                if value and (code, pupil_reference_date(year)) not in counted:
                    school.pupil_counts.append(
                        PupilCount(reference_date=pupil_reference_date(year), pupils=int(value))
                    )
                    self.count("pupil counts")

    @staticmethod
    def _school(row, location, municipality, network, board) -> School:
        point = {}
        if location:
            point = {
                "latitude": float(location["latitude"]),
                "longitude": float(location["longitude"]),
                "location_precision": LocationPrecision(location["precision"]),
            }
        return School(
            vestigingscode=row["vestigingscode"],
            brin=row["brin"],
            name=row["name"],
            school_type=SchoolType(row["school_type"]),
            denomination=_blank_to_none(row["denomination"]),
            street=_blank_to_none(row["street"]),
            house_number=_blank_to_none(row["house_number"]),
            postcode=_blank_to_none(row["postcode"]),
            place=_blank_to_none(row["place"]),
            phone=_blank_to_none(row["phone"]),
            website=_blank_to_none(row["website"]),
            municipality=municipality,
            network=network,
            board=board,
            **point,
        )

    @staticmethod
    def _special(school: School, location: Location) -> None:
        """File 09's facts for a special school, and a point from its postcode where
        school_locations.csv has none: its own centre, else its 4-digit area's."""
        for attribute in SPECIAL_FIELDS:
            if getattr(school, attribute) is None:
                setattr(school, attribute, location.fields.get(attribute))
        if school.latitude is None:
            point, precision = geo.postcode_point(school.postcode)
            if point:
                school.latitude, school.longitude = point.latitude, point.longitude
                school.location_precision = precision


def load_seed(seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Add every seed record that is missing, all or nothing; return counts of what was added."""
    seeder = _Seeder(seed_dir)
    try:
        with acting_as(f"seed ({seed_dir.name})"):
            with db.session.no_autoflush:
                created = seeder.run()
            db.session.commit()
    except (InvalidValue, KeyError, ValueError) as error:
        # A bad value, a missing column or a non-number: name the line, write nothing.
        db.session.rollback()
        reason = f"kolom {error} ontbreekt" if isinstance(error, KeyError) else str(error)
        raise SeedError(f"{seeder.where}: {reason}") from error
    except Exception:
        db.session.rollback()
        raise
    return created


def summary(reference: date | None = None) -> dict[str, list[tuple[str, int, int | None]]]:
    """Open schools and their pupils on `reference` (default the newest date) per municipality,
    board, type and network, from the totals the site's lists show, plus the record counts."""
    groups = {
        str(grouping.per_label): [
            (record.label, schools, pupils)
            for record, schools, pupils in group_totals(grouping, reference)
        ]
        for grouping in GROUPINGS.values()
    }
    found = SchoolSearch(reference=reference)
    per_type = [(str(kind), schools, pupils) for kind, schools, pupils in totals(found)]
    open_schools = sum(schools for _, schools, _ in per_type)
    records = [
        (label, db.session.scalar(select(func.count()).select_from(model)), None)
        for label, model in (
            (_("gemeenten"), Municipality),
            (_("netwerken"), Network),
            (_("besturen"), Board),
            (_("leerlingtellingen"), PupilCount),
            (_("ondersteuningsgebieden"), SupportArea),
        )
    ]
    all_schools = db.session.scalar(select(func.count(School.id)))
    return {
        _("Totaal"): [
            (_("scholen"), open_schools, sum(pupils for *_, pupils in per_type)),
            (_("opgeheven scholen"), all_schools - open_schools, None),
            *records,
        ],
        **groups,
        _("Per type"): per_type,
    }


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(summary_command)


@click.command("seed")
@click.option("--if-empty", is_flag=True, help="Alleen laden in een database zonder scholen.")
@click.option(
    "--from",
    "seed_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=SEED_DIR,
    show_default=True,
    help="Map met de CSV-bestanden van de startgegevens.",
)
@with_appcontext
def seed_command(if_empty: bool, seed_dir: Path) -> None:
    """Laad de regionale startgegevens (nog eens draaien verandert niets)."""
    if if_empty and db.session.scalar(select(func.count(School.id))):
        click.echo("De database bevat al scholen; niets geladen.")
        return
    try:
        created = load_seed(seed_dir)
    except SeedError as error:
        raise click.ClickException(f"Seed niet geladen, niets gewijzigd: {error}") from error
    if not created:
        click.echo("Alles was al aanwezig; niets toegevoegd.")
    for kind, count in created.items():
        click.echo(f"{kind}: {count} toegevoegd")


@click.command("summary")
@click.option(
    "--peildatum",
    metavar="JJJJ-MM-DD",
    help="Leerlingen zoals geteld op deze datum; standaard de nieuwste telling.",
)
@with_appcontext
def summary_command(peildatum: str | None) -> None:
    """Open scholen en hun leerlingen per gemeente, bestuur, netwerk en type, zoals de site ze
    telt, en het aantal records."""
    try:
        reference = parse_reference_date(peildatum)
    except BadParameter as error:
        raise click.BadParameter(str(error.message), param_hint="--peildatum") from None
    shown = reference or (reference_dates() or [None])[-1]
    if shown:
        click.echo(_("Open scholen en hun leerlingen op %(date)s", date=f"{shown:%d-%m-%Y}"))
    for section, rows in summary(reference).items():
        click.echo(f"\n{section}")
        width = max(len(label) for label, *_ in rows) if rows else 0
        for label, schools, pupils in rows:
            pupils = f"  {pupils:>6}" if pupils is not None else ""
            click.echo(f"  {label:<{width}}  {schools:>5}{pupils}")
