"""Ready-made overviews for staff: schools and pupils per municipality, board or network over
the counted years, denominations, and who offers which support, narrowed by the directory's own
filters. One set of tables (build.py, paper.py) makes the page, the XLSX workbook and the PDF
document (document.py).
"""

from urllib.parse import parse_qsl

import click
from flask import Blueprint, Response, current_app, render_template
from flask.cli import with_appcontext

from ..exports import (
    OUTPUT_HELP,
    XLSX_TYPE,
    Column,
    Sheet,
    export_cli,
    file_name,
    report,
    save_download,
    written_to,
    xlsx_workbook,
)
from ..filters import FACET_TITLES
from ..groupings import GROUPINGS, group_totals
from ..i18n import gettext as _
from ..security import limiter
from .build import Overview, build_overview
from .document import PARTNERSHIP, document_facts, made_on, pdf_document
from .markup import table_rows
from .paper import short_date, shown

bp = Blueprint("overviews", __name__, url_prefix="/overzichten")
KINDS = ", ".join(GROUPINGS)
# A PDF takes about a second to render. Flask-Limiter counts in the view, which a page the cache
# answers never reaches: only renders count, one budget for both formats per client address.
file_limit = limiter.shared_limit(
    lambda: current_app.config["OVERVIEW_FILE_LIMIT"], scope="overview-files"
)


def tables_xlsx(ov: Overview) -> bytes:
    """The overview's tables as sheets of one workbook, each headed by what the file is (title,
    counting date, selection, source, day made) and keeping the name column in view."""
    head = [[ov.title], *[[label, value] for label, value in document_facts(ov, made_on())]]
    sheets = []
    for table in ov.sheets:
        keys = [str(index) for index in range(len(table.columns))]
        columns = [
            Column(key, label, 40 if key == "0" else 14)
            for key, label in zip(keys, table.flat_header, strict=True)
        ]
        rows = table.rows + ([table.total] if table.total else [])
        records = [dict(zip(keys, row, strict=True)) for row in rows]
        sheets.append(
            Sheet(table.title, columns, records, frozen="B2", autofilter=False, head=head)
        )
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
        "table_rows": table_rows,
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
        tables_xlsx(ov),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{download_name(ov, "xlsx")}"'},
    )


@bp.get(f"/<any({KINDS}):group>.pdf")
@file_limit
def overview_pdf(group: str):
    ov = build_overview(group)
    return Response(
        pdf_document(ov, page_context(ov)),
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
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "pdf"]),
    default="xlsx",
    show_default=True,
    help="Bestandsvorm.",
)
@click.option(
    "--peildatum",
    metavar="JJJJ-MM-DD",
    help="Leerlingen zoals geteld op deze datum; standaard de nieuwste telling.",
)
@click.option("-o", "--output", type=click.Path(allow_dash=True), required=True, help=OUTPUT_HELP)
@with_appcontext
def export_overview_command(
    group: str, query: str, fmt: str, peildatum: str | None, output: str
) -> None:
    """Schrijf een overzicht per gemeente, bestuur of netwerk, zoals de pagina het biedt.

    QUERY is de zoekvraag van de scholengids, bijvoorbeeld 'gemeente=meppel&gemeente=de-wolden'.
    Afsluitcode 2: de zoekvraag noemt een onbekende parameter of waarde; 1: het bestand kon niet
    worden geschreven.
    """
    # The very same view as the web page, so the file cannot differ from what staff see there.
    args = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    args += [("peildatum", peildatum)] if peildatum else []
    save_download(f"/overzichten/{group}.{fmt}", args, output)
    report(
        _(
            "Overzicht per %(group)s geschreven naar %(output)s",
            group=group,
            output=written_to(output),
        ),
        output,
    )
