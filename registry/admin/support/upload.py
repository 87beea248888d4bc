"""Reading a filled-in grid back: an uploaded XLSX or CSV file, refused as a whole when it
cannot be read, or read into an entry per school with every error named by line and column,
and how each row stands to the download it was made from."""

import csv
import io
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from ...db import db
from ...i18n import gettext as _
from ...models import School, SupportArea
from ...text import fold
from ...uploads import shown, too_large
from ...validation import CONTROL_MESSAGE, CONTROL_RE, InvalidValue
from .rows import MAX_VALUE_LENGTH, Entry, Scope, clean_date, clean_url, too_long
from .spreadsheet import VERSION, Shown, grid_columns

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# An XLSX is a zip: one that unpacks to far more than any real grid is refused unread.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_ERRORS_SHOWN = 50
# The words a filled-in file may use for a level, folded (case, accents, punctuation).
LEVEL_WORDS = {
    "": "",
    "geen": "",
    "nee": "",
    "basis": "basis",
    "basisondersteuning": "basis",
    "extra": "extra",
    "extra ondersteuning": "extra",
}
# Columns people read to find their school; an upload may keep, change or drop them.
INFORMATIVE = ("school", "plaats", "bestuur")
# A file may lack the version column: a download from before it existed.
OPTIONAL = (*INFORMATIVE, VERSION)
# How a row that differs from the registry stands to the download it came from (standing()).
FRESH = "fresh"  # the school is as it was downloaded: applied as before
KEPT = "kept"  # someone else changed the school since, the user did not touch the row: left
CHANGED = "changed"  # both changed it: applied only when the user chooses so, their changes shown
UNKNOWN = "unknown"  # the row does not say when it was downloaded: applied only when chosen


class UploadError(ValueError):
    """A file that cannot be read as a grid at all."""


@dataclass
class FileRow:
    """One school's row of an uploaded file: what it says, and what it showed when downloaded
    (None when the file has no version for it)."""

    entry: Entry
    shown: Shown | None


def standing(row: FileRow, now: Entry, areas: list[SupportArea]) -> str:
    """How a row that differs from what the school says now stands to its download.

    The fingerprint of what the row said at the download tells both things apart: the school
    changed since (now's fingerprint differs) and the user edited the row (the file's differs).
    A version bump alone (pupils counted, an address corrected) changes nothing here.

    A row without a version (a file downloaded before the column existed, or its cell emptied)
    cannot say when it was made, so whether its values are the user's or merely older than
    someone else's change is unknown. Refusing such files would make a board redo a filled-in
    file; applying them would silently revert others' changes. They are accepted, and every
    row that would change the school waits for the user's explicit choice, like a row someone
    else changed: nothing is reverted unless the user, seeing the school's values now beside
    the file's, says so.
    """
    if row.shown is None:
        return UNKNOWN
    if now.fingerprint(areas) == row.shown.fingerprint:
        return FRESH
    if row.entry.fingerprint(areas) == row.shown.fingerprint:
        return KEPT
    return CHANGED


def read_table(data: bytes) -> list[list]:
    """The first sheet of an XLSX file, or the rows of a CSV file (`,` or `;`)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(too_large(len(data), MAX_UPLOAD_BYTES))
    if not data.strip():
        raise UploadError(_("Het bestand is leeg."))
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    rows = [list(row) for row in rows]
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    if len(rows) > MAX_ROWS:
        raise UploadError(_("Het bestand heeft meer dan %(max)d regels.", max=MAX_ROWS))
    return rows


def not_a_grid() -> UploadError:
    return UploadError(
        _(
            "Dit is geen XLSX- of CSV-bestand dat gelezen kan worden. Download het rooster"
            " als XLSX, vul het in en laad dat bestand."
        )
    )


def _xlsx_rows(data: bytes) -> list:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise not_a_grid()
        # Formulas are read as written ("=1+1"): a cached result may be missing or stale, so
        # a formula is refused like any other value that is not a level, link or date.
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        try:
            sheet = workbook.worksheets[0]
            return list(
                sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
            )
        finally:
            workbook.close()
    except UploadError:
        raise
    except Exception as error:  # a damaged zip or sheet raises any of a dozen kinds
        raise not_a_grid() from error


def _csv_rows(data: bytes) -> list:
    # Text with a NUL is still read, so the NUL is reported with its line; Windows' code page
    # (Excel's "CSV") is tried only for files without one, as almost any bytes decode in it.
    encodings = ("utf-8-sig",) if b"\x00" in data else ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise not_a_grid()
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row[:MAX_COLUMNS])
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        raise UploadError(
            _("Regel %(line)d kan niet gelezen worden als CSV.", line=len(rows) + 1)
        ) from error
    return rows


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_grid(rows: list[list], areas: list[SupportArea], scope: Scope):
    """The rows a filled-in grid gives, by school (FileRow), and every error with its line."""
    columns = grid_columns(areas)
    known = {}
    for column in columns:
        known[fold(column.key)] = column.key
        known[fold(str(column.label))] = column.key
    header = [_text(v) for v in rows[0]] if rows else []
    errors, mapping = [], {}
    for index, name in enumerate(header):
        key = known.get(fold(name))
        if not name:
            continue
        if key is None:
            errors.append(
                _(
                    "Kolom %(column)s (“%(name)s”) is onbekend; gebruik de kolommen van het"
                    " gedownloade rooster.",
                    column=get_column_letter(index + 1),
                    name=shown(name),
                )
            )
        elif key in mapping.values():
            errors.append(_("De kolom “%(name)s” staat er twee keer in.", name=shown(name)))
        else:
            mapping[index] = key
    missing = [
        str(c.label) for c in columns if c.key not in OPTIONAL and c.key not in mapping.values()
    ]
    if missing:
        errors.append(_("Deze kolommen ontbreken: %(names)s.", names=", ".join(missing)))
    if errors:
        return {}, errors
    column_of = {key: index for index, key in mapping.items()}
    everywhere = {
        code: (board_id, is_open)
        for code, board_id, is_open in db.session.execute(
            select(School.vestigingscode, School.board_id, School.is_open)
        )
    }
    in_scope = {s.vestigingscode: s for s in scope.schools()}
    entries, first_line = {}, {}
    for line, row in enumerate(rows[1:], start=2):
        if len(errors) > MAX_ERRORS_SHOWN:
            break
        if all(_blank(v) for v in row):
            continue

        def fail(message, index=None, line=line):
            where = (
                _("Regel %(line)d", line=line)
                if index is None
                else _(
                    "Regel %(line)d, kolom %(column)s",
                    line=line,
                    column=header[index]
                    if index < len(header) and header[index]
                    else get_column_letter(index + 1),
                )
            )
            errors.append(f"{where}: {message}")

        bad_cell = False
        for index, value in enumerate(row):
            if isinstance(value, str) and CONTROL_RE.search(value):
                fail(CONTROL_MESSAGE, index)
                bad_cell = True
            elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
                fail(too_long(value), index)
                bad_cell = True
        if bad_cell:
            continue

        def cell(key, row=row):
            index = column_of[key]
            return row[index] if index < len(row) else None

        code = _text(cell("vestigingscode")).upper()
        school = in_scope.get(code)
        if not code:
            fail(_("de vestigingscode ontbreekt."))
            continue
        if school is None:
            if code not in everywhere:
                fail(_("vestigingscode %(code)s staat niet in het register.", code=shown(code)))
            elif not everywhere[code][1]:
                fail(_("school %(code)s is gesloten.", code=code))
            else:
                fail(_("school %(code)s hoort niet bij %(board)s.", code=code, board=scope.title))
            continue
        if code in first_line:
            fail(
                _(
                    "school %(code)s staat ook op regel %(first)d.",
                    code=code,
                    first=first_line[code],
                )
            )
            continue
        first_line[code] = line
        levels = {}
        for area in areas:
            word = fold(_text(cell(area.code)))
            if word not in LEVEL_WORDS:
                fail(
                    _(
                        "“%(value)s” is geen niveau; vul basis, extra of niets in.",
                        value=shown(_text(cell(area.code))),
                    ),
                    column_of[area.code],
                )
            levels[area.id] = LEVEL_WORDS.get(word, "")
        entry = Entry(levels)
        try:
            entry.url = clean_url(_text(cell("profiel")))
        except InvalidValue as error:
            fail(str(error.message), column_of["profiel"])
        try:
            entry.adopted = clean_date(cell("vastgesteld"))
        except InvalidValue as error:
            fail(str(error.message), column_of["vastgesteld"])
        version = _text(cell(VERSION)) if VERSION in column_of else ""
        at_download = Shown.parse(version) if version else None
        if version and at_download is None:
            fail(
                _(
                    "“%(value)s” is geen versie uit een download; laat de kolom Versie staan"
                    " zoals hij was, of maak het vak leeg.",
                    value=shown(version),
                ),
                column_of[VERSION],
            )
        entries[school] = FileRow(entry, at_download)
    if not errors and not entries:
        errors.append(_("Het bestand bevat geen scholen."))
    return entries, errors
