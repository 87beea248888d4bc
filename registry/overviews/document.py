"""An overview as a document to hand on: A4, numbered, its source and date, tagged (PDF/UA)."""

import gc
import mimetypes
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from sqlalchemy import select

from ..db import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import ImportLog
from .build import Overview
from .paper import for_paper, short_date

PARTNERSHIP = _l("Samenwerkingsverband Passend Onderwijs PO 22.03")
TIME_ZONE = ZoneInfo("Europe/Amsterdam")


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
    if newest is None:
        # The registry started from seed data, whose files' dates it never recorded: no date
        # is better than an invented one, and a reader need not know how it started.
        return _(
            "DUO Open Onderwijsdata (CC BY 4.0), %(counted)s; aangevuld door het "
            "samenwerkingsverband",
            counted=counted,
        )
    return _(
        "DUO Open Onderwijsdata (CC BY 4.0), %(counted)s; DUO-bestanden ingelezen op "
        "%(date)s; aangevuld door het samenwerkingsverband",
        counted=counted,
        date=short_date(newest.date()),
    )


def made_on() -> date:
    return datetime.now(TIME_ZONE).date()


def document_facts(ov: Overview, made: date) -> list[tuple[str, object]]:
    """What a file says of itself before its figures, in the PDF's head and the workbook's
    first rows alike: its counting date, selection, source and the day it was made."""
    selection = "; ".join(f"{facet}: {', '.join(names)}" for facet, names in ov.selection)
    return [
        (_("Teldatum"), ov.reference),
        (_("Selectie"), selection or _("alle open scholen van het samenwerkingsverband")),
        (_("Bron"), source_line(ov)),
        (_("Gemaakt op"), made),
    ]


def css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def pdf_document(ov: Overview, context: dict) -> bytes:
    """The overview's tables and charts laid out by WeasyPrint (503 if it is not installed)."""
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
    made = made_on()
    page_number = css_string(_("Pagina %(page)s van %(pages)s", page="\0", pages="\1"))
    paper_tables = [part for table in ov.tables for part in for_paper(table)]
    html = render_template(
        "overviews/document.html",
        paper_tables=paper_tables,
        # One orientation for the whole document: a change of page size starts a new page,
        # which left first pages 60-70% blank before a landscape table.
        landscape=any(table.landscape for table in paper_tables),
        made=made,
        facts=[
            (label, short_date(value) if isinstance(value, date) else value or "—")
            for label, value in document_facts(ov, made)
        ],
        source=source_line(ov),
        page_number=page_number.replace("\0", '" counter(page) "').replace(
            "\1", '" counter(pages) "'
        ),
        footer=css_string(f"{PARTNERSHIP} · {ov.grouping.per_label}"),
        **context,
    )
    prefix, root = request.host_url + "static/", Path(current_app.static_folder).resolve()

    class StaticFilesOnly(URLFetcher):
        """Our stylesheet straight from disk: no HTTP request back to ourselves, nothing else."""

        def fetch(self, url, headers=None):
            # The file's address, without the fingerprint static_files.py adds (?v=...).
            local = urlsplit(url)._replace(query="", fragment="").geturl()
            path = (root / local[len(prefix) :]).resolve() if local.startswith(prefix) else None
            if path is None or root not in path.parents or not path.is_file():
                raise ValueError(f"not fetched: {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    with few_collections():
        return HTML(
            string=html, base_url=request.host_url, url_fetcher=StaticFilesOnly()
        ).write_pdf(pdf_variant="pdf/ua-1", finisher=header_scopes)


def header_scopes(_document, pdf) -> None:
    """PDF/UA wants each table header cell's scope, which WeasyPrint does not write: a header in
    a table's head heads its column(s), one in its body its row, as every overview table has
    them (scope="col"/"colgroup" in the head, scope="row" in the body)."""
    elements = {o.reference: o for o in pdf.objects if isinstance(o, dict) and "S" in o}
    for element in elements.values():
        if element["S"] != "/TH":
            continue
        row = elements.get(element["P"])
        group = elements.get(row["P"]) if row else None
        in_head = group is not None and group["S"] == "/THead"
        element["A"]["Scope"] = "/Column" if in_head else "/Row"  # WeasyPrint's /Table attributes


@contextmanager
def few_collections():
    """WeasyPrint makes millions of objects for a long table, and the collector's passes over
    everything alive were a quarter of a national PDF's render time: fewer passes meanwhile."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
