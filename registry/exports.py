"""Turning listings into files: CSV that spreadsheets cannot execute, streamed row by row."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask import Response, stream_with_context

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that could run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(header: list[str], records: Iterable[dict]) -> Iterator[str]:
    """RFC 4180 lines (CRLF, quoted where needed), one at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) for v in values])
        return buffer.getvalue()

    yield line(header)
    for record in records:
        yield line(record.get(column) for column in header)


def csv_response(header: list[str], records: Iterable[dict], name: str) -> Response:
    """A streamed CSV download whose file name says what and when."""
    filename = f"{name}-{date.today():%Y-%m-%d}.csv"  # noqa: DTZ011 (the user's calendar day)
    return Response(
        stream_with_context(csv_lines(header, records)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
