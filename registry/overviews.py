"""Ready-made overviews for staff: schools and pupils per municipality, board or network over
the counted years, denominations, and who offers which support, narrowed by the directory's own
filters. One set of tables makes the page, the XLSX workbook and the PDF document.
"""

import mimetypes
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import click
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from . import charts
from .db import db
from .duo.apply import ImportLog
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
from .filters import FACET_TITLES, FACETS
from .groupings import (
    GROUPINGS,
    NOTHING,
    Grouping,
    breakdown,
    group_totals,
    support_offers,
    support_recorded,
    tallies,
)
from .models import School, SchoolType, SupportArea, SupportLevel
from .search import BadParameter, SchoolSearch, reference_dates
from .security import limiter

bp = Blueprint("overviews", __name__, url_prefix="/overzichten")
TREND_YEARS = 5
KINDS = ", ".join(GROUPINGS)
PARTNERSHIP = _l("Samenwerkingsverband Passend Onderwijs PO 22.03")
TIME_ZONE = ZoneInfo("Europe/Amsterdam")
# How many characters of 9pt Liberation Sans fit across A4 inside the margins (about 1.8 mm
# each, bold headers included), and how wide a name may grow before it wraps.
PORTRAIT, LANDSCAPE = 100, 148
NAME_WIDTH = 30
TEXT_WIDTH = 15  # 'niet vastgelegd' on one line
CELL_PADDING = 2
GAP = "—"  # a value nobody recorded: shown as a gap, never as 0
# A PDF takes about a second to render. Flask-Limiter counts in the view, which a page the cache
# answers never reaches: only renders count, one budget for both formats per client address.
file_limit = limiter.shared_limit(
    lambda: current_app.config["OVERVIEW_FILE_LIMIT"], scope="overview-files"
)


def short_date(day: date) -> str:
    """A date as people write it: 1 okt 2025 (1 Oct 2025)."""
    return format_date(day, "d MMM y")


def shown(value) -> str:
    """A cell as the page and the PDF print it."""
    if value is None:
        return GAP
    return format_decimal(value) if isinstance(value, int) else str(value)


@dataclass
class Table:
    """Rows under columns of (group, label): a column group heads its columns on paper and on
    screen; in a workbook each header reads 'group label'."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[list]
    total: list | None = None
    links: list[str | None] = field(default_factory=list)
    part: str = ""
    landscape: bool = False

    def __post_init__(self) -> None:
        # Names from the data end up in a page, a PDF and a workbook, and none can hold a control
        # character: openpyxl refuses one, WeasyPrint loses the PDF's whole text layer over it.
        self.columns = [(xlsx_text(g), xlsx_text(label)) for g, label in self.columns]
        self.rows = [[xlsx_text(v) for v in row] for row in self.rows]
        self.total = [xlsx_text(v) for v in self.total] if self.total else self.total

    @property
    def flat_header(self) -> list[str]:
        return [f"{g} {label}" if g else label for g, label in self.columns]

    @property
    def header_rows(self) -> list[list[tuple[str, int, int, str]]]:
        """The header as (label, colspan, rowspan, scope) cells, in one row or two."""
        if not any(g for g, _label in self.columns):
            return [[(label, 1, 1, "col") for _g, label in self.columns]]
        top, below = [], []
        for g, label in self.columns:
            if not g:
                top.append((label, 1, 2, "col"))
            elif top and top[-1][0] == g and top[-1][3] == "colgroup":
                top[-1] = (g, top[-1][1] + 1, 1, "colgroup")
                below.append((label, 1, 1, "col"))
            else:
                top.append((g, 1, 1, "colgroup"))
                below.append((label, 1, 1, "col"))
        return [top, below]

    def widths(self) -> list[int]:
        """Each column's width in characters as printed: its longest word or figure."""
        cells = self.rows + ([self.total] if self.total else [])
        widths = []
        for index, (_group, label) in enumerate(self.columns):
            texts = [shown(row[index]) for row in cells]
            # A line may break at a space and after a hyphen (Protestants-|Christelijk).
            words = [len(w) for t in [label, *texts] for w in re.split(r"\s+|(?<=-)", t) if w]
            # Figures never wrap; names and words wrap at spaces beyond a comfortable width.
            limit = NAME_WIDTH if index == 0 else TEXT_WIDTH
            whole = [
                len(t) if isinstance(row[index], int) else min(len(t), limit)
                for t, row in zip(texts, cells, strict=True)
            ]
            widths.append(max([1, *words, *whole]))
        return widths

    def columns_subset(self, keep: list[int], part: str) -> "Table":
        pick = lambda row: [row[i] for i in keep]  # noqa: E731
        return replace(
            self,
            columns=pick(self.columns),
            rows=[pick(row) for row in self.rows],
            total=pick(self.total) if self.total else None,
            part=part,
        )


def for_paper(table: Table) -> list[Table]:
    """The table on A4: portrait when it fits, else landscape, else split into parts that each
    repeat the name column, so nothing is ever cut at the page's edge."""
    widths = [w + CELL_PADDING for w in table.widths()]
    if sum(widths) <= PORTRAIT:
        return [table]
    if sum(widths) <= LANDSCAPE:
        return [replace(table, landscape=True)]
    parts, current = [], []
    for index in range(1, len(widths)):
        if current and widths[0] + sum(widths[i] for i in current) + widths[index] > LANDSCAPE:
            parts.append(current)
            current = []
        current.append(index)
    parts.append(current)
    return [
        replace(
            table.columns_subset([0, *keep], _("deel %(n)d van %(of)d", n=number, of=len(parts))),
            landscape=True,
        )
        for number, keep in enumerate(parts, 1)
    ]


@dataclass
class Overview:
    """What one overview shows: its tables and charts, for which schools, on which date."""

    kind: str
    search: SchoolSearch
    reference: date | None
    available: list[date]
    trend: list[date]
    selection: list[tuple[str, list[str]]]
    tables: list[Table]
    charts: list

    @property
    def grouping(self) -> Grouping:
        return GROUPINGS[self.kind]

    @property
    def title(self) -> str:
        names = "; ".join(", ".join(values) for _title, values in self.selection)
        base = _("Overzicht %(per)s", per=str(self.grouping.per_label).lower())
        return f"{base}: {names}" if names else base

    def args(self, **changes) -> dict:
        """The overview's URL parameters, for links to its other formats and choices."""
        return self.args_of(self.search, **changes)

    def args_of(self, search: SchoolSearch, **changes) -> dict:
        args = {facet: list(values) for facet, values in search.filters.items()}
        args.update(changes)
        if self.reference:
            args["peildatum"] = self.reference.isoformat()
        return args


def overview_search(files: bool) -> SchoolSearch:
    """The directory's filters and ?peildatum= as the school lists read them (400 if wrong);
    the overviews have no search text, order or pages, so those parameters are not read. A
    file refuses a value that names nothing, as the directory's files do; the page says so."""
    read = {*FACETS, "peildatum"}
    try:
        search = SchoolSearch.from_args(
            MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in read])
        )
        if files:
            search.refuse_unknown()
    except BadParameter as error:
        abort(400, f"{error.parameter}: {error.message}")
    return search


def selection_names(search: SchoolSearch) -> list[tuple[str, list[str]]]:
    """Each chosen filter with its values as people know them (Meppel, not meppel)."""
    chosen = []
    for facet, values in search.filters.items():
        grouping = GROUPINGS.get(facet)
        names = list(values)
        if grouping is not None:
            key = getattr(grouping.model, grouping.key)
            found = {
                getattr(r, grouping.key): r.label
                for r in db.session.scalars(select(grouping.model).where(key.in_(values)))
            }
            names = [found.get(v, v) for v in values]
        chosen.append((str(FACET_TITLES[facet]), names))
    return chosen


def groups_within(grouping: Grouping, search: SchoolSearch) -> list:
    """The groups with schools the search lists, in the overviews' order (by label)."""
    found = tallies(grouping, within=search)
    records = db.session.scalars(select(grouping.model).where(grouping.model.id.in_(found)))
    return sorted(records, key=lambda record: record.label)


def _sum(values) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def schools_and_pupils(ov: Overview, groups: list, per_type: dict, over_time: dict) -> Table:
    """Open schools per type, and their pupils on each counted date up to the chosen one."""
    types = list(SchoolType)
    pupils = _("Leerlingen")
    columns = [
        ("", _("Naam")),
        *[(_("Scholen"), t.value) for t in types],
        (_("Scholen"), _("totaal")),
        *[(pupils, short_date(day)) for day in ov.trend],
    ]

    def counted(tally) -> int | None:
        return tally.pupils if tally.counted else None

    rows = [
        [
            group.label,
            *[per_type.get((group.id, t), NOTHING).schools for t in types],
            sum(per_type.get((group.id, t), NOTHING).schools for t in types),
            *[counted(over_time[day].get(group.id, NOTHING)) for day in ov.trend],
        ]
        for group in groups
    ]
    total = [_("Totaal"), *[_sum(r[i] for r in rows) for i in range(1, len(columns))]]
    return Table(str(ov.grouping.per_label), columns, rows, total)


def denominations(ov: Overview, groups: list) -> Table:
    cells = breakdown(ov.grouping, School.denomination, within=ov.search)
    kinds = sorted({d or GAP for _group, d in cells})
    count = {(group, d or GAP): tally.schools for (group, d), tally in cells.items()}
    rows = [[g.label, *[count.get((g.id, d), 0) for d in kinds]] for g in groups]
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(kinds) + 1)]]
    columns = [("", _("Naam")), *[(_("Scholen per richting"), d) for d in kinds]]
    return Table(_("Richting"), columns, rows, total)


def support_areas() -> list[tuple[int, str]]:
    name = SupportArea.name_en if str(get_locale()) == "en" else SupportArea.name
    return list(db.session.execute(select(SupportArea.id, name).order_by(SupportArea.position)))


def coverage(ov: Overview, groups: list, schools: dict) -> tuple[Table, dict]:
    """Group × support area: of the schools that recorded their support, how many offer it at
    basic and at extra level. Nothing recorded reads 'niet vastgelegd', never 0."""
    offers = support_offers(ov.grouping, within=ov.search)
    recorded = support_recorded(ov.grouping, within=ov.search)
    areas = support_areas()
    unknown = _("niet vastgelegd")

    def cell(extra: int, basis: int, known: int) -> str:
        if not known:
            return unknown
        return _("%(extra)d extra, %(basis)d basis", extra=extra, basis=basis)

    def level(area: int, ids: list[int], wanted: SupportLevel) -> int:
        return sum(offers.get((area, g, wanted), 0) for g in ids)

    def row(label: str, ids: list[int]) -> list:
        known = sum(recorded.get(g, 0) for g in ids)
        return [
            label,
            _("%(n)d van %(of)d", n=known, of=sum(schools.get(g, 0) for g in ids)),
            *[
                cell(level(a, ids, SupportLevel.EXTRA), level(a, ids, SupportLevel.BASIS), known)
                for a, _name in areas
            ],
        ]

    columns = [
        ("", _("Naam")),
        ("", _("Scholen die het vastlegden")),
        *[(_("Ondersteuning"), name) for _a, name in areas],
    ]
    table = Table(
        _("Ondersteuning per %(group)s", group=str(ov.grouping.label).lower()),
        columns,
        [row(g.label, [g.id]) for g in groups],
        row(_("Totaal"), [g.id for g in groups]),
    )
    return table, {"offers": offers, "recorded": recorded, "areas": areas}


def build_overview(kind: str, files: bool = True) -> Overview:
    search = overview_search(files)
    available = reference_dates()
    reference = search.reference or (available[-1] if available else None)
    trend = [d for d in available if reference and d <= reference][-TREND_YEARS:]
    ov = Overview(kind, search, reference, available, trend, selection_names(search), [], [])
    groups = groups_within(ov.grouping, search)
    per_type = breakdown(ov.grouping, School.school_type, reference=reference, within=search)
    over_time = {day: tallies(ov.grouping, day, within=search) for day in trend}
    first = schools_and_pupils(ov, groups, per_type, over_time)
    first.links = [
        url_for_overview(kind, ov, getattr(g, ov.grouping.key)) if len(groups) > 1 else None
        for g in groups
    ]
    total_column = len(SchoolType) + 1  # after the name and the schools per type
    schools = {g.id: row[total_column] for g, row in zip(groups, first.rows, strict=True)}
    support, support_data = coverage(ov, groups, schools)
    ov.tables = [first, denominations(ov, groups), support]
    ov.charts = charts.overview_charts(
        groups, trend, over_time, per_type, support_data, schools, short_date
    )
    return ov


def url_for_overview(kind: str, ov: Overview, key: str) -> str:
    """This overview narrowed to one of its groups: one click from the region to Meppel."""
    return url_for("overviews.overview", group=kind, **ov.args(**{kind: [key]}))


def tables_xlsx(tables: list[Table]) -> bytes:
    """The tables as sheets of one workbook, the name column kept in view."""
    sheets = []
    for table in tables:
        keys = [str(index) for index in range(len(table.columns))]
        columns = [
            Column(key, label, 40 if key == "0" else 14)
            for key, label in zip(keys, table.flat_header, strict=True)
        ]
        rows = table.rows + ([table.total] if table.total else [])
        records = [dict(zip(keys, row, strict=True)) for row in rows]
        sheets.append(Sheet(table.title, columns, records, frozen="B2", autofilter=False))
    return xlsx_workbook(sheets)


def page_context(ov: Overview) -> dict:
    return {
        "ov": ov,
        "kind": ov.kind,
        "title": ov.title,
        "tables": ov.tables,
        "reference": ov.reference,
        "available": ov.available,
        "short_date": short_date,
        "shown": shown,
        "partnership": PARTNERSHIP,
        "options_title": lambda facet: FACET_TITLES[facet],
    }


def choices() -> dict[str, list[tuple[str, str]]]:
    """For the page's filter: every group with open schools, (key, name) by name."""
    return {
        facet: [
            (getattr(row.record, g.key), row.record.label)
            for row in sorted(group_totals(g), key=lambda r: r.record.label)
            if row.schools
        ]
        for facet, g in GROUPINGS.items()
    }


@bp.get("/")
def index():
    return render_template("overviews/index.html", groups=GROUPINGS, choices=choices())


@bp.get(f"/<any({KINDS}):group>")
def overview(group: str):
    ov = build_overview(group, files=False)
    unknown = [
        (u.message, ov.args_of(ov.search.respelled_as(u)) if u.suggestion else None)
        for u in ov.search.unknown
    ]
    return render_template(
        "overviews/overview.html", choices=choices(), unknown=unknown, **page_context(ov)
    )


def download_name(ov: Overview, extension: str) -> str:
    """What, counted when, and for whom: the chosen values last, as a long list is cut off."""
    chosen = "-".join(v for _facet, values in ov.search.filters.items() for v in values)
    parts = ["overzicht-per", ov.kind, ov.reference.isoformat() if ov.reference else "", chosen]
    return file_name("-".join(p for p in parts if p), extension)


@bp.get(f"/<any({KINDS}):group>.xlsx")
@file_limit
def overview_xlsx(group: str):
    ov = build_overview(group)
    return Response(
        tables_xlsx(ov.tables),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{download_name(ov, "xlsx")}"'},
    )


def source_line(ov: Overview) -> str:
    """Where the figures come from: DUO, the counted dates, and the file's date if known."""
    newest = db.session.scalar(
        select(ImportLog.applied_at).order_by(ImportLog.applied_at.desc()).limit(1)
    )
    counted = (
        _(
            "leerlingen geteld van %(first)s tot en met %(last)s",
            first=short_date(ov.available[0]),
            last=short_date(ov.available[-1]),
        )
        if ov.available
        else _("geen leerlingtellingen")
    )
    file_date = (
        _("DUO-bestanden ingelezen op %(date)s", date=short_date(newest.date()))
        if newest
        else _("datum van het DUO-bestand niet vastgelegd (startgegevens)")
    )
    return _(
        "DUO Open Onderwijsdata (CC BY 4.0), %(counted)s; %(file)s; aangevuld door het "
        "samenwerkingsverband",
        counted=counted,
        file=file_date,
    )


def css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


@bp.get(f"/<any({KINDS}):group>.pdf")
@file_limit
def overview_pdf(group: str):
    """The overview as a document to hand on: A4, numbered, its source and date, tagged."""
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
    ov = build_overview(group)
    page_number = css_string(_("Pagina %(page)s van %(pages)s", page="\0", pages="\1"))
    html = render_template(
        "overviews/document.html",
        paper_tables=[part for table in ov.tables for part in for_paper(table)],
        made_on=datetime.now(TIME_ZONE).date(),
        source=source_line(ov),
        page_number=page_number.replace("\0", '" counter(page) "').replace(
            "\1", '" counter(pages) "'
        ),
        footer=css_string(f"{PARTNERSHIP} · {ov.grouping.per_label}"),
        **page_context(ov),
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

    pdf = HTML(string=html, base_url=request.host_url, url_fetcher=StaticFilesOnly()).write_pdf(
        pdf_variant="pdf/ua-1"
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{download_name(ov, "pdf")}"'},
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
    export_cli.add_command(export_overview_command)


@click.command("overview")
@click.argument("group", type=click.Choice(list(GROUPINGS)))
@click.argument("query", default="")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx", show_default=True
)
@click.option(
    "--peildatum", help="Reference date of the pupil counts (YYYY-MM-DD); the newest by default."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@with_appcontext
def export_overview_command(
    group: str, query: str, fmt: str, peildatum: str | None, output: str
) -> None:
    """Write an overview per gemeente, bestuur or netwerk, as the page offers it.

    QUERY is the directory's own query string, e.g. 'gemeente=meppel&gemeente=de-wolden'.
    """
    # The very same view as the web page, so the file cannot differ from what staff see there.
    args = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    args += [("peildatum", peildatum)] if peildatum else []
    save_download(f"/overzichten/{group}.{fmt}", args, output)
    click.echo(f"Overzicht per {group} geschreven naar {output}")
