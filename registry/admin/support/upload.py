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
    header = [_text(v) for v in rows[0]] if rows else []
    reader = _GridReader(header, areas, scope)
    if reader.errors:
        return {}, reader.errors
    entries = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(reader.errors) > MAX_ERRORS_SHOWN:
            break
        if not all(_blank(v) for v in row):
            reader.read(line, row, entries)
    if not reader.errors and not entries:
        reader.errors.append(_("Het bestand bevat geen scholen."))
    return entries, reader.errors


class _GridReader:
    """Reads a grid's rows one by one against its header, collecting errors with their line."""

    def __init__(self, header: list[str], areas: list[SupportArea], scope: Scope) -> None:
        self.header, self.areas, self.scope = header, areas, scope
        self.errors: list[str] = []
        self.column_of = self._columns()
        self.everywhere = {
            code: is_open
            for code, is_open in db.session.execute(select(School.vestigingscode, School.is_open))
        }
        self.in_scope = {s.vestigingscode: s for s in scope.schools()}
        self.first_line: dict[str, int] = {}
        self.line = 0

    def _columns(self) -> dict[str, int]:
        """Each known column's index, from the header; an unknown, repeated or missing one is
        an error."""
        columns = grid_columns(self.areas)
        known = {}
        for column in columns:
            known[fold(column.key)] = column.key
            known[fold(str(column.label))] = column.key
        mapping = {}
        for index, name in enumerate(self.header):
            key = known.get(fold(name))
            if not name:
                continue
            if key is None:
                self.errors.append(
                    _(
                        "Kolom %(column)s (“%(name)s”) is onbekend; gebruik de kolommen van het"
                        " gedownloade rooster.",
                        column=get_column_letter(index + 1),
                        name=shown(name),
                    )
                )
            elif key in mapping.values():
                self.errors.append(
                    _("De kolom “%(name)s” staat er twee keer in.", name=shown(name))
                )
            else:
                mapping[index] = key
        missing = [
            str(c.label) for c in columns if c.key not in OPTIONAL and c.key not in mapping.values()
        ]
        if missing:
            self.errors.append(_("Deze kolommen ontbreken: %(names)s.", names=", ".join(missing)))
        return {key: index for index, key in mapping.items()}

    def fail(self, message, index=None) -> None:
        if index is None:
            where = _("Regel %(line)d", line=self.line)
        else:
            named = index < len(self.header) and self.header[index]
            where = _(
                "Regel %(line)d, kolom %(column)s",
                line=self.line,
                column=self.header[index] if named else get_column_letter(index + 1),
            )
        self.errors.append(f"{where}: {message}")

    def read(self, line: int, row: list, entries: dict) -> None:
        """Add the row's school and what it says to entries, or its errors."""
        self.line, self.row = line, row
        if not self._cells_are_plain():
            return
        school = self._school()
        if school is not None:
            entries[school] = self._file_row()

    def cell(self, key):
        index = self.column_of[key]
        return self.row[index] if index < len(self.row) else None

    def _cells_are_plain(self) -> bool:
        plain = True
        for index, value in enumerate(self.row):
            if isinstance(value, str) and CONTROL_RE.search(value):
                self.fail(CONTROL_MESSAGE, index)
                plain = False
            elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
                self.fail(too_long(value), index)
                plain = False
        return plain

    def _school(self) -> School | None:
        """The row's school, if it is one of the scope's and not on an earlier line."""
        code = _text(self.cell("vestigingscode")).upper()
        school = self.in_scope.get(code)
        if not code:
            self.fail(_("de vestigingscode ontbreekt."))
        elif school is None and code not in self.everywhere:
            self.fail(_("vestigingscode %(code)s staat niet in het register.", code=shown(code)))
        elif school is None and not self.everywhere[code]:
            self.fail(_("school %(code)s is gesloten.", code=code))
        elif school is None:
            self.fail(
                _("school %(code)s hoort niet bij %(board)s.", code=code, board=self.scope.title)
            )
        elif code in self.first_line:
            self.fail(
                _(
                    "school %(code)s staat ook op regel %(first)d.",
                    code=code,
                    first=self.first_line[code],
                )
            )
        else:
            self.first_line[code] = self.line
            return school
        return None

    def _file_row(self) -> FileRow:
        levels = {}
        for area in self.areas:
            word = fold(_text(self.cell(area.code)))
            if word not in LEVEL_WORDS:
                self.fail(
                    _(
                        "“%(value)s” is geen niveau; vul basis, extra of niets in.",
                        value=shown(_text(self.cell(area.code))),
                    ),
                    self.column_of[area.code],
                )
            levels[area.id] = LEVEL_WORDS.get(word, "")
        entry = Entry(levels)
        for key, attribute, clean in (
            ("profiel", "url", lambda value: clean_url(_text(value))),
            ("vastgesteld", "adopted", clean_date),
        ):
            try:
                setattr(entry, attribute, clean(self.cell(key)))
            except InvalidValue as error:
                self.fail(str(error.message), self.column_of[key])
        return FileRow(entry, self._version())

    def _version(self) -> Shown | None:
        version = _text(self.cell(VERSION)) if VERSION in self.column_of else ""
        at_download = Shown.parse(version) if version else None
        if version and at_download is None:
            self.fail(
                _(
                    "“%(value)s” is geen versie uit een download; laat de kolom Versie staan"
                    " zoals hij was, of maak het vak leeg.",
                    value=shown(version),
                ),
                self.column_of[VERSION],
            )
        return at_download
