"""Ready-made overviews for staff: schools and pupils per municipality, board or network on a
chosen reference date with the five-year trend, and the support coverage matrix.

Each overview is an HTML page and an XLSX file built from the same tables.
"""

import mimetypes
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from .db import db
from .exports import (
    XLSX_TYPE,
    Column,
    Sheet,
    export_cli,
    file_name,
    save_download,
    xlsx_text,
    xlsx_workbook,
)
from .groupings import (
    GROUPINGS,
    NOTHING,
    Grouping,
    GroupTotal,
    breakdown,
    group_totals,
    support_offers,
    tallies,
)
from .models import School, SchoolType, SupportArea, SupportLevel
from .search import BadParameter, parse_reference_date, reference_dates
from .security import limiter

bp = Blueprint("overviews", __name__, url_prefix="/overzichten")
TREND_YEARS = 5
KINDS = ", ".join(GROUPINGS)
# A PDF takes about a second to render. Flask-Limiter counts in the view, which a page the cache
# answers never reaches: only renders count, one budget for both formats per client address.
file_limit = limiter.shared_limit(
    lambda: current_app.config["OVERVIEW_FILE_LIMIT"], scope="overview-files"
)


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list]
    total: list | None = None

    def __post_init__(self) -> None:
        # Names from the data end up in a page, a PDF and a workbook, and none can hold a control
        # character: openpyxl refuses one, WeasyPrint loses the PDF's whole text layer over it.
        self.header = [xlsx_text(v) for v in self.header]
        self.rows = [[xlsx_text(v) for v in row] for row in self.rows]
        self.total = [xlsx_text(v) for v in self.total] if self.total else self.total


def chosen_reference_date(available: list[date]) -> date | None:
    """?peildatum=, checked as the school lists check it; the newest counted date by default."""
    try:
        chosen = parse_reference_date(request.args.get("peildatum"))
    except BadParameter as error:
        abort(400, str(error.message))
    return chosen or (available[-1] if available else None)


def _with_schools(grouping: Grouping, reference: date | None) -> list[GroupTotal]:
    """The groups that have open schools, in the overviews' order (by label)."""
    rows = [row for row in group_totals(grouping, reference) if row.schools]
    return sorted(rows, key=lambda row: row.record.label)


def schools_and_pupils(kind: str, reference: date | None, trend: list[date]) -> Table:
    """Open schools per type, pupils on the reference date, and pupils over the trend years."""
    grouping = GROUPINGS[kind]
    types = list(SchoolType)
    per_type = breakdown(grouping, School.school_type, reference=reference)
    over_time = {day: tallies(grouping, day) for day in trend}
    header = [
        _("Naam"),
        *[t.value for t in types],
        _("Scholen"),
        _("Leerlingen %(date)s", date=reference.isoformat() if reference else "—"),
        *[d.isoformat() for d in trend],
    ]
    rows = [
        [
            row.record.label,
            *[per_type.get((row.record.id, t), NOTHING).schools for t in types],
            row.schools,
            row.pupils,
            *[over_time[day].get(row.record.id, NOTHING).pupils for day in trend],
        ]
        for row in _with_schools(grouping, reference)
    ]
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(header))]]
    return Table(str(grouping.per_label), header, rows, total)


def denominations(kind: str) -> Table:
    grouping = GROUPINGS[kind]
    cells = breakdown(grouping, School.denomination)
    groups = _with_schools(grouping, None)
    kinds = sorted({d or "—" for _group, d in cells})
    count = {(group, d or "—"): tally.schools for (group, d), tally in cells.items()}
    rows = [
        [row.record.label, *[count.get((row.record.id, d), 0) for d in kinds]] for row in groups
    ]
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(kinds) + 1)]]
    return Table(_("Richting"), [_("Naam"), *kinds], rows, total)


def coverage(kind: str) -> Table:
    """Support area × group: how many open schools offer basic and extra support."""
    grouping = GROUPINGS[kind]
    offers = support_offers(grouping)
    groups = _with_schools(grouping, None)
    areas = db.session.execute(
        select(SupportArea.id, SupportArea.name).order_by(SupportArea.position)
    )
    rows = [
        [
            area_name,
            *[
                _(
                    "%(extra)d extra, %(basis)d basis van %(schools)d",
                    extra=offers.get((area, row.record.id, SupportLevel.EXTRA), 0),
                    basis=offers.get((area, row.record.id, SupportLevel.BASIS), 0),
                    schools=row.schools,
                )
                for row in groups
            ],
        ]
        for area, area_name in areas
    ]
    return Table(
        _("Ondersteuning per %(group)s", group=str(grouping.label).lower()),
        [_("Ondersteuning"), *[row.record.label for row in groups]],
        rows,
    )


def overview_tables(kind: str) -> tuple[list[Table], date | None, list[date]]:
    available = reference_dates()
    reference = chosen_reference_date(available)
    trend = available[-TREND_YEARS:]
    return (
        [schools_and_pupils(kind, reference, trend), denominations(kind), coverage(kind)],
        reference,
        available,
    )


def tables_xlsx(tables: list[Table]) -> bytes:
    """The tables as sheets of one workbook, the name column kept in view."""
    sheets = []
    for table in tables:
        keys = [str(index) for index in range(len(table.header))]
        columns = [
            Column(key, label, 40 if key == "0" else 14)
            for key, label in zip(keys, table.header, strict=True)
        ]
        rows = table.rows + ([table.total] if table.total else [])
        records = [dict(zip(keys, row, strict=True)) for row in rows]
        sheets.append(Sheet(table.title, columns, records, frozen="B2", autofilter=False))
    return xlsx_workbook(sheets)


@bp.get("/")
def index():
    # The page's template reads (title, model, foreign key) per kind.
    groups = {kind: (g.per_label, g.model, g.foreign_key) for kind, g in GROUPINGS.items()}
    return render_template("overviews/index.html", groups=groups)


@bp.get(f"/<any({KINDS}):group>")
def overview(group: str):
    kind = group
    tables, reference, available = overview_tables(kind)
    return render_template(
        "overviews/overview.html",
        kind=kind,
        title=GROUPINGS[kind].per_label,
        tables=tables,
        reference=reference,
        available=available,
    )


@bp.get(f"/<any({KINDS}):group>.xlsx")
@file_limit
def overview_xlsx(group: str):
    kind = group
    tables, reference, _available = overview_tables(kind)
    name = f"overzicht-per-{kind}-{reference.isoformat() if reference else ''}"
    return Response(
        tables_xlsx(tables),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{file_name(name, "xlsx")}"'},
    )


@bp.get(f"/<any({KINDS}):group>.pdf")
@file_limit
def overview_pdf(group: str):
    """The same overview as a PDF for meetings, rendered from the page's own template."""
    try:
        # Needs Pango from the system (see README); imported here so the rest runs without it.
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (ImportError, OSError):
        abort(
            503,
            _(
                "PDF is op deze server niet beschikbaar: WeasyPrint of de Pango-bibliotheek "
                "ontbreekt. Download het overzicht als Excel of print de pagina."
            ),
        )
    tables, reference, available = overview_tables(group)
    html = render_template(
        "overviews/overview.html",
        kind=group,
        title=GROUPINGS[group].per_label,
        tables=tables,
        reference=reference,
        available=available,
        printing=True,
    )
    prefix, root = request.host_url + "static/", Path(current_app.static_folder).resolve()

    class StaticFilesOnly(URLFetcher):
        """Our stylesheet straight from disk: no HTTP request back to ourselves, nothing else."""

        def fetch(self, url, headers=None):
            path = (root / url[len(prefix) :]).resolve() if url.startswith(prefix) else None
            if path is None or root not in path.parents or not path.is_file():
                raise ValueError(f"not fetched: {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    pdf = HTML(string=html, base_url=request.host_url, url_fetcher=StaticFilesOnly()).write_pdf()
    name = f"overzicht-per-{group}-{reference.isoformat() if reference else ''}"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{file_name(name, "pdf")}"'},
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
    export_cli.add_command(export_overview_command)


@click.command("overview")
@click.argument("group", type=click.Choice(list(GROUPINGS)))
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx", show_default=True
)
@click.option(
    "--peildatum", help="Reference date of the pupil counts (YYYY-MM-DD); the newest by default."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@with_appcontext
def export_overview_command(group: str, fmt: str, peildatum: str | None, output: str) -> None:
    """Write an overview per gemeente, bestuur or netwerk, as the page offers it."""
    # The very same view as the web page, so the file cannot differ from what staff see there.
    save_download(
        f"/overzichten/{group}.{fmt}", {"peildatum": peildatum} if peildatum else {}, output
    )
    click.echo(f"Overzicht per {group} geschreven naar {output}")
