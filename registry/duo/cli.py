"""`flask --app wsgi duo ...`: compare DUO's files with the registry, apply, and show the log."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..db import db
from ..exports import csv_lines
from ..models import ImportLog
from .apply import apply_comparison
from .area import Area
from .compare import KINDS, REPORT_COLUMNS, Comparison, check_choice, compare, report_rows
from .files import DuoFileError, read_duo_file

duo_cli = click.Group(
    "duo",
    help="Vergelijk de open bestanden van DUO (adressen 02 en 09, leerlingen 06) met het"
    " register en neem ze over.",
)

FILES = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
NATIONAL = click.option(
    "--landelijk", "national", is_flag=True, help="Neem elke vestiging in het land mee."
)


def compare_files(paths: list[Path], national: bool) -> Comparison:
    """Read and compare, turning a refused file into a command-line error that changes nothing."""
    try:
        files = [
            read_duo_file(path.read_bytes(), path.name, current_app.config["DUO_MAX_BYTES"])
            for path in paths
        ]
        return compare(files, Area.whole_country() if national else Area.from_file())
    except (DuoFileError, ValueError) as error:
        raise click.ClickException(f"Niets gewijzigd. {error}") from error


def echo_summary(comparison: Comparison) -> None:
    # Each file as its header showed it, whatever its name says.
    for duo in comparison.files:
        click.echo(f"{duo.name}: {duo.label}, {duo.rows} regels")
    for kind, count in comparison.counts().items():
        click.echo(f"{KINDS[kind]}: {count}")
    held = sum(len(d.held_back) for d in comparison.differences)
    click.echo(f"Lokaal gewijzigd en behouden: {held} velden")
    click.echo(f"Waarden van DUO geweigerd: {len(comparison.rejected)}")


@duo_cli.command("diff")
@FILES
@NATIONAL
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Schrijf ook elk verschil per veld naar dit CSV-bestand.",
)
@with_appcontext
def diff_command(paths, national, csv_path) -> None:
    """Toon wat de bestanden (adressen 02 en 09, leerlingen 06) zouden wijzigen, zonder iets
    te wijzigen."""
    comparison = compare_files(paths, national)
    echo_summary(comparison)
    for difference in comparison.differences:
        click.echo(f"\n[{difference.kind}] {difference.vestigingscode} {difference.name}")
        if difference.note:
            click.echo(f"  {difference.note}")
        for change in difference.changes:
            click.echo(f"  {change.label}: {change.old or '—'} → {change.new or '—'}")
        for change in difference.held_back:
            click.echo(
                f"  {change.label}: {change.old or '—'}"
                f" (lokaal gewijzigd, behouden; DUO: {change.new or '—'})"
            )
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(csv_lines(REPORT_COLUMNS, report_rows(comparison)))
        click.echo(f"\nVerschillen geschreven naar {csv_path}")


@duo_cli.command("apply")
@FILES
@NATIONAL
@click.option(
    "--soort",
    "kinds",
    multiple=True,
    type=click.Choice(list(KINDS)),
    help="Neem elk verschil van deze soort over (herhaalbaar).",
)
@click.option("--alles", "everything", is_flag=True, help="Neem elke soort verschil over.")
@click.option(
    "--kies",
    "keys",
    multiple=True,
    help="Neem één verschil over: soort:vestigingscode (herhaalbaar).",
)
@with_appcontext
def apply_command(paths, national, kinds, everything, keys) -> None:
    """Neem de gekozen verschillen over in één transactie, vastgelegd als DUO-import."""
    if not (kinds or everything or keys):
        raise click.UsageError("Kies wat u toepast: --alles, --soort of --kies.")
    comparison = compare_files(paths, national)
    try:
        check_choice(comparison, keys)
    except ValueError as error:
        raise click.ClickException(f"Niets gewijzigd. {error}") from error
    log = apply_comparison(
        comparison, kinds=list(KINDS) if everything else kinds, keys=keys, actor="opdrachtregel"
    )
    click.echo(
        f"Toegepast (import #{log.id}): {log.new} nieuw, {log.closed} gesloten,"
        f" {log.changed} gewijzigd, {log.board_changes} ander bestuur,"
        f" {log.pupil_counts} leerlingaantallen."
    )


@duo_cli.command("log")
@with_appcontext
def log_command() -> None:
    """De toegepaste imports, nieuwste eerst."""
    for log in db.session.scalars(select(ImportLog).order_by(ImportLog.id.desc())):
        click.echo(
            f"#{log.id} {log.applied_at:%Y-%m-%d %H:%M} {log.actor} ({log.area}):"
            f" {log.new} nieuw, {log.closed} gesloten, {log.changed} gewijzigd,"
            f" {log.board_changes} ander bestuur, {log.pupil_counts} leerlingaantallen"
        )
        for line in log.files.splitlines():
            click.echo(f"    {line}")
