"""An overview as a document to hand on: A4, numbered, its source and date, tagged (PDF/UA)."""

import gc
import mimetypes
from contextlib import contextmanager
from datetime import datetime
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
        ).write_pdf(pdf_variant="pdf/ua-1")


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
