"""Turning listings into files people open in spreadsheets: CSV, "CSV voor Excel" and XLSX.

Every cell that comes from data is neutralised against formula injection; numbers and dates
stay typed. Characters a format cannot hold are dropped (NUL in CSV, the control characters
XML refuses in XLSX), so one odd value cannot break a download for everyone. CSV streams row by
row; XLSX is written by openpyxl in write-only mode.
"""

import codecs
import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import click
import flask_babel
from flask import Response, current_app, stream_with_context
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from .cache import LANGUAGE_PARAMETER, PAGE_PARAMETERS
from .errors import MESSAGES
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .spelling import KnownValues
from .text import slugify, xml_text

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "excel.csv", "xlsx")
BOLD = Font(bold=True)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses these in a sheet's name, and an apostrophe at either end; 31 UTF-16 units at most.
SHEET_TITLE_REFUSED = re.compile(r"[\\/?*:\[\]\x00-\x1f\x7f]")
SHEET_TITLE_MAX = 31


@dataclass(frozen=True)
class Column:
    key: str  # the stable machine name (JSON field, plain CSV header)
    label: object  # the header people read (Dutch by default)
    width: int = 14
    # A stored code -> the interface's word for it, in the files people read (CSV voor Excel,
    # XLSX); JSON and the plain CSV keep the code ("building"), which programs rely on.
    words: Mapping | None = None


def for_people(column: Column, value):
    """A value as a person reads it in a spreadsheet: a code as its word, yes/no as words."""
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if column.words and value in column.words:
        return str(column.words[value])
    return value


def decimal_comma(value):
    """A fraction as Dutch spreadsheets read a number in a ';'-separated file: 52,70274632.
    With a point, Excel and LibreOffice in Dutch keep it as text, or read 0.31 as a date."""
    return str(value).replace(".", ",") if isinstance(value, float | Decimal) else value


class ExportError(ValueError):
    """An export that cannot be made as asked (an unknown column or format)."""


def safe_cell(value):
    """Text that could run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(value):
    """Text without NUL, which many programs read as the end of the file or the field."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def sheet_title(text: str, default: str = "Export") -> str:
    """A worksheet name Excel and LibreOffice accept, made from any text (a search, a name)."""
    title = SHEET_TITLE_REFUSED.sub("", text).strip(" '")
    while len(title.encode("utf-16-le")) > 2 * SHEET_TITLE_MAX:
        title = title[:-1]
    title = title.rstrip(" '")  # the cut may have left one at the end
    # "History" is reserved by Excel for its change tracking.
    return title if title and title.casefold() != "history" else default


def choose_columns(available: dict[str, Column], requested: list[str], default: list[str]):
    """The columns asked for, in the order asked, or the default set."""
    unknown = [key for key in requested if key not in available]
    if unknown:
        raise ExportError(
            _l(
                "Onbekende kolom %(names)s. Kies uit: %(known)s.",
                names=", ".join(unknown),
                known=", ".join(available),
            )
        )
    return [available[key] for key in (requested or default)]


def csv_lines(columns: list[Column], records: Iterable[dict], excel: bool = False) -> Iterator[str]:
    """RFC 4180 lines, one at a time; for Excel: a byte-order mark, ';', readable headers, the
    interface's words for codes and decimal commas, as a Dutch spreadsheet reads them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",")

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(csv_text(v)) for v in values])
        return buffer.getvalue()

    header = [str(c.label) if excel else c.key for c in columns]
    yield ("\ufeff" if excel else "") + line(header)
    for record in records:
        if excel:
            yield line(decimal_comma(for_people(c, record.get(c.key))) for c in columns)
        else:
            yield line(record.get(c.key) for c in columns)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its title, columns and rows (dicts keyed by column key)."""

    title: str
    columns: list[Column]
    records: Iterable[dict]
    frozen: str = "A2"  # the header row; "B2" also keeps the name column in view
    autofilter: bool = True
    # Rows above the header that say what the file is (title first, in bold), then a blank row.
    head: list[list] = field(default_factory=list)


def xlsx_bytes(columns: list[Column], records: Iterable[dict], title: str) -> bytes:
    """A one-sheet workbook (see xlsx_workbook)."""
    return xlsx_workbook([Sheet(title, columns, records)])


def xlsx_workbook(sheets: list[Sheet]) -> bytes:
    """The one XLSX writer: per sheet a bold header row, frozen panes, an optional autofilter
    and sensible widths; every value cleaned and formula-safe."""
    workbook = Workbook(write_only=True)
    for content in sheets:
        sheet = workbook.create_sheet(sheet_title(content.title))
        columns = content.columns
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        above = len(content.head) + 1 if content.head else 0
        letter, row = coordinate_from_string(content.frozen)
        sheet.freeze_panes = f"{letter}{row + above}"
        for index, values in enumerate(content.head):
            cells = [_xlsx_value(sheet, value) for value in values]
            sheet.append([_header_cell(sheet, cells[0]), *cells[1:]] if index == 0 else cells)
        if content.head:
            sheet.append([])
        sheet.append([_header_cell(sheet, column.label) for column in columns])
        rows = above + 1
        for record in content.records:
            sheet.append([_xlsx_value(sheet, for_people(c, record.get(c.key))) for c in columns])
            rows += 1
        if content.autofilter:
            last = get_column_letter(max(len(columns), 1))
            sheet.auto_filter.ref = f"A{above + 1}:{last}{rows}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _header_cell(sheet, label) -> Cell:
    value = _xlsx_value(sheet, str(label))
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
    cell.font = BOLD
    return cell


def _xlsx_value(sheet, value):
    """openpyxl stores text that starts with "=" as a formula: such text gets a cell typed as
    text. Everything else goes in as the plain value, which is several times faster."""
    value = xml_text(value)  # first: "\x0b=..." is a formula once the \x0b is gone
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def file_name(name: str, extension: str) -> str:
    return f"{slugify(name)[:80]}-{date.today():%Y-%m-%d}.{extension}"  # noqa: DTZ011


def export_response(
    fmt: str, columns: list[Column], records: Iterable[dict], name: str
) -> Response:
    """A download in one of FORMATS whose file name says what and when."""
    if fmt == "xlsx":
        body = xlsx_bytes(columns, records, name)
        return Response(body, mimetype=XLSX_TYPE, headers=_attachment(file_name(name, "xlsx")))
    excel = fmt == "excel.csv"
    lines = stream_with_context(csv_lines(columns, records, excel=excel))
    filename = file_name(name + ("-excel" if excel else ""), "csv")
    mimetype = "text/csv" + ("; header=present" if not excel else "")  # Werkzeug adds charset
    return Response(lines, mimetype=mimetype, headers=_attachment(filename))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_response(header: list[str], records: Iterable[dict], name: str) -> Response:
    """A plain streamed CSV with the record keys as header (machine-readable lists)."""
    return export_response("csv", [Column(key, key) for key in header], records, name)


export_cli = click.Group(
    "export", help="Schrijf de lijsten en overzichten van de site naar bestanden."
)
STANDARD_OUTPUT = "-"  # -o -: the file itself goes to standard output
OUTPUT_HELP = "Het bestand om te schrijven; - schrijft het naar standaarduitvoer."
# Statuses that mean the query asked for something the site does not have (exit code 2).
REFUSED_STATUSES = (400, 404)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


class _OneLine:
    """A command-line error said as one plain Dutch line on standard error (click's own
    `show` adds English words, and for a usage error the usage text)."""

    def show(self, file=None) -> None:
        line = " ".join(CONTROL_CHARACTERS.sub(" ", self.format_message()).split())
        click.echo(_("Fout: %(message)s", message=line), file=file, err=True)


class ExportRefused(_OneLine, click.UsageError):
    """A query the site cannot answer: an unknown parameter, filter value or date (exit 2)."""


class ExportFailed(_OneLine, click.ClickException):
    """A file that could not be made or written (exit 1)."""


def save_download(path: str, query, output: str) -> int | None:
    """Write the file the site answers at path?query, through the very same view, so a file
    made on the command line cannot differ from the download; links point at PUBLIC_URL.
    Returns the number of rows below the header of a CSV or XLSX file (None for others).

    A parameter the view does not read is refused, not ignored: the page cache drops it before
    the view runs, so a misspelt filter would silently give every school."""
    query = list(query)
    _refuse_unknown_parameters(path, query)
    response = current_app.test_client().get(
        path,
        query_string=query,
        base_url=current_app.config["PUBLIC_URL"],
        headers={"Accept": "application/json"},  # an error as the one JSON shape, not a page
    )
    # A streamed download keeps its request in place until it is closed, and the request shares
    # the command's app context, where the language it chose (?lang=en) stays cached: closed
    # and forgotten here, so the command goes on speaking Dutch.
    try:
        status, data, mimetype = response.status_code, response.data, response.mimetype
        message = _error_message(response) if status != 200 else None
    finally:
        response.close()
        flask_babel.refresh()
    if status != 200:
        if status in REFUSED_STATUSES:
            raise ExportRefused(message)
        raise ExportFailed(message)
    write_output(data, output)
    return data_rows(data, mimetype)


def _refuse_unknown_parameters(path: str, query: list[tuple[str, str]]) -> None:
    """ExportRefused for the first parameter the view at path does not read, naming the known
    parameter nearest to it."""
    known = _parameters_read(path)
    for name, _value in query:
        if name in known:
            continue
        nearest = KnownValues.build((k, k, ()) for k in known).nearest(name)
        if nearest:
            raise ExportRefused(
                _(
                    "Onbekende parameter “%(name)s”; bedoelde u %(nearest)s?",
                    name=name,
                    nearest=nearest,
                )
            )
        raise ExportRefused(
            _(
                "Onbekende parameter “%(name)s”; gebruik %(known)s.",
                name=name,
                known=", ".join(sorted(known)),
            )
        )


def _parameters_read(path: str) -> frozenset[str]:
    """The query parameters the view at path reads: cache.PAGE_PARAMETERS of its blueprint
    (the one list of them, derived from filters.FILTERS), and the language."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).netloc
    endpoint, _values = current_app.url_map.bind(host).match(path)
    return PAGE_PARAMETERS[endpoint.partition(".")[0]] | {LANGUAGE_PARAMETER}


def _error_message(response) -> str:
    """The message of the site's one JSON error shape (errors.error_response)."""
    body = response.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    return str(MESSAGES.get(response.status_code, MESSAGES[500]))


def write_output(body: bytes, output: str) -> None:
    """The file at output, or on standard output for "-" (bytes: an XLSX is a zip)."""
    try:
        with click.open_file(output, "wb") as handle:
            handle.write(body)
    except OSError as error:
        raise ExportFailed(_cannot_write(output, error)) from error


def _cannot_write(output: str, error: OSError) -> str:
    path = click.format_filename(output)
    folder = click.format_filename(os.path.dirname(output) or ".")
    if isinstance(error, FileNotFoundError):
        return _("De map %(folder)s bestaat niet.", folder=folder)
    if isinstance(error, NotADirectoryError):
        return _("%(folder)s is geen map.", folder=folder)
    if isinstance(error, IsADirectoryError):
        return _("%(path)s is een map; geef de naam van een bestand.", path=path)
    if isinstance(error, PermissionError):
        return _("Geen toestemming om %(path)s te schrijven.", path=path)
    return _("%(path)s kon niet geschreven worden: %(reason)s.", path=path, reason=error.strerror)


def written_to(output: str) -> str:
    """Where the file went, for the command's last line."""
    return _("standaarduitvoer") if output == STANDARD_OUTPUT else click.format_filename(output)


def report(message: str, output: str) -> None:
    """The command's last line; on standard error when the file itself went to standard output."""
    click.echo(message, err=output == STANDARD_OUTPUT)


def data_rows(body: bytes, mimetype: str) -> int | None:
    """How many data rows a CSV or XLSX file holds (its header not counted)."""
    if mimetype not in (XLSX_TYPE, "text/csv"):
        return None
    if mimetype == XLSX_TYPE:
        workbook = load_workbook(io.BytesIO(body), read_only=True)
        rows = sum(1 for _row in workbook.active.iter_rows(values_only=True))
        workbook.close()
    else:
        # "CSV voor Excel" starts with a byte-order mark and uses ';'; the plain CSV uses ','
        # (a quoted value may hold the other one, or a line break).
        excel = body.startswith(codecs.BOM_UTF8)
        text = io.StringIO(body.decode("utf-8-sig"))
        rows = sum(1 for _row in csv.reader(text, delimiter=";" if excel else ","))
    return max(rows - 1, 0)


def init_app(app) -> None:
    app.cli.add_command(export_cli)
