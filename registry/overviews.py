"""Ready-made overviews for staff: schools and pupils per municipality, board or network on a
chosen reference date with the five-year trend, and the support coverage matrix.

Each overview is an HTML page and an XLSX file built from the same tables.
"""

import io
import mimetypes
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import distinct, func, select

from .db import db
from .exports import BOLD, XLSX_TYPE, file_name, safe_cell, sheet_title, xlsx_text
from .models import (
    Board,
    Municipality,
    Network,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from .search import BadParameter, parse_reference_date, reference_dates
from .security import limiter

bp = Blueprint("overviews", __name__, url_prefix="/overzichten")
TREND_YEARS = 5
GROUPS = {
    "gemeente": (_l("Per gemeente"), Municipality, School.municipality_id),
    "bestuur": (_l("Per bestuur"), Board, School.board_id),
    "netwerk": (_l("Per netwerk"), Network, School.network_id),
}
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


def schools_and_pupils(kind: str, reference: date | None, trend: list[date]) -> Table:
    """Open schools per type, pupils on the reference date, and pupils over the trend years."""
    _title, model, foreign_key = GROUPS[kind]
    types = list(SchoolType)
    counts = db.session.execute(
        select(model.name, School.school_type, func.count(School.id))
        .join(School, foreign_key == model.id)
        .where(School.is_open)
        .group_by(model.name, School.school_type)
    ).all()
    pupils = db.session.execute(
        select(model.name, PupilCount.reference_date, func.sum(PupilCount.pupils))
        .join(School, foreign_key == model.id)
        .join(PupilCount, PupilCount.school_id == School.id)
        .where(School.is_open, PupilCount.reference_date.in_(trend))
        .group_by(model.name, PupilCount.reference_date)
    ).all()
    per_type = {(name, t): n for name, t, n in counts}
    per_date = {(name, d): int(n) for name, d, n in pupils}
    names = sorted({name for name, _t, _n in counts})
    header = [
        _("Naam"),
        *[t.value for t in types],
        _("Scholen"),
        _("Leerlingen %(date)s", date=reference.isoformat() if reference else "—"),
        *[d.isoformat() for d in trend],
    ]
    rows = []
    for name in names:
        by_type = [per_type.get((name, t), 0) for t in types]
        rows.append(
            [
                name,
                *by_type,
                sum(by_type),
                per_date.get((name, reference), 0),
                *[per_date.get((name, d), 0) for d in trend],
            ]
        )
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(header))]]
    return Table(str(GROUPS[kind][0]), header, rows, total)


def denominations(kind: str) -> Table:
    _title, model, foreign_key = GROUPS[kind]
    counts = db.session.execute(
        select(model.name, School.denomination, func.count(School.id))
        .join(School, foreign_key == model.id)
        .where(School.is_open)
        .group_by(model.name, School.denomination)
    ).all()
    names = sorted({n for n, _d, _c in counts})
    kinds = sorted({d or "—" for _n, d, _c in counts})
    cell = {(n, d or "—"): c for n, d, c in counts}
    rows = [[n, *[cell.get((n, d), 0) for d in kinds]] for n in names]
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(kinds) + 1)]]
    return Table(_("Richting"), [_("Naam"), *kinds], rows, total)


def coverage(kind: str) -> Table:
    """Support area × group: how many open schools offer basic and extra support."""
    _title, model, foreign_key = GROUPS[kind]
    offers = db.session.execute(
        select(SupportArea.name, model.name, SchoolSupport.level, func.count(distinct(School.id)))
        .join(SchoolSupport, SchoolSupport.support_area_id == SupportArea.id)
        .join(School, School.id == SchoolSupport.school_id)
        .join(model, foreign_key == model.id)
        .where(School.is_open)
        .group_by(SupportArea.name, model.name, SchoolSupport.level)
    ).all()
    schools = dict(
        db.session.execute(
            select(model.name, func.count(School.id))
            .join(School, foreign_key == model.id)
            .where(School.is_open)
            .group_by(model.name)
        ).all()
    )
    areas = list(db.session.scalars(select(SupportArea.name).order_by(SupportArea.position)))
    names = sorted(schools)
    cell = {(a, n, level): c for a, n, level, c in offers}
    rows = []
    for area in areas:
        row = [area]
        for name in names:
            row.append(
                _(
                    "%(extra)d extra, %(basis)d basis van %(schools)d",
                    extra=cell.get((area, name, SupportLevel.EXTRA), 0),
                    basis=cell.get((area, name, SupportLevel.BASIS), 0),
                    schools=schools[name],
                )
            )
        rows.append(row)
    return Table(_("Ondersteuning per %(group)s", group=kind), [_("Ondersteuning"), *names], rows)


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
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(sheet_title(table.title))
        # Column heads come from the data too (group names, directions).
        sheet.append([safe_cell(v) for v in table.header])
        for cell in sheet[1]:
            cell.font = BOLD
        for row in table.rows + ([table.total] if table.total else []):
            sheet.append([safe_cell(v) for v in row])
        sheet.freeze_panes = "B2"
        for index, _column in enumerate(table.header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = 40 if index == 1 else 14
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@bp.get("/")
def index():
    return render_template("overviews/index.html", groups=GROUPS)


@bp.get("/<any(gemeente, bestuur, netwerk):group>")
def overview(group: str):
    kind = group
    tables, reference, available = overview_tables(kind)
    return render_template(
        "overviews/overview.html",
        kind=kind,
        title=GROUPS[kind][0],
        tables=tables,
        reference=reference,
        available=available,
    )


@bp.get("/<any(gemeente, bestuur, netwerk):group>.xlsx")
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


@bp.get("/<any(gemeente, bestuur, netwerk):group>.pdf")
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
        title=GROUPS[group][0],
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
    from .exports import export_cli

    export_cli.add_command(export_overview_command)


@click.command("overview")
@click.argument("group", type=click.Choice(list(GROUPS)))
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
    query = {"peildatum": peildatum} if peildatum else {}
    client = current_app.test_client()
    # The very same view as the web page, so the file cannot differ from what staff see there.
    response = client.get(
        f"/overzichten/{group}.{fmt}", query_string=query, base_url=current_app.config["PUBLIC_URL"]
    )
    if response.status_code != 200:
        message = response.get_data(as_text=True)
        raise click.ClickException(f"{response.status_code}: {_strip_tags(message)[:300]}")
    with open(output, "wb") as handle:
        handle.write(response.data)
    click.echo(f"Overzicht per {group} geschreven naar {output}")


def _strip_tags(html: str) -> str:
    main = re.search(r"<main[^>]*>(.*?)</main>", html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", main.group(1) if main else html).split())
