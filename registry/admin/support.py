"""The support-profile editor: per board (or for all boards) a grid of schools × support areas,
with each school's profile link and adoption date, and the same grid as a spreadsheet that a
board fills in and uploads.

A save, from the grid or from a file's preview, is all or nothing: one transaction, refused as
a whole when a school it changes was changed by someone else since the page (or the preview)
was made, naming what they changed. The history gets one row per changed cell (history.py).
"""

import contextlib
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth import Role
from ..db import db
from ..duo.files import megabytes, shown
from ..errors import error_response
from ..exports import XLSX_TYPE, Column, Sheet, export_response, file_name, xlsx_workbook
from ..history import Change, noting
from ..models import Board, School, SchoolSupport, SupportArea, SupportLevel
from ..text import fold, place_name
from ..validation import BOARD_NUMBER_RE, CONTROL_MESSAGE, CONTROL_RE, InvalidValue, url
from .base import EDITORS, SMALL_NUMBER_RE, RoleGuard, record_id
from .duo import kept_name
from .views import LABELS

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# An XLSX is a zip: one that unpacks to far more than any real grid is refused unread.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_VALUE_LENGTH = 500  # the longest column written (School.support_profile_url)
MAX_ERRORS_SHOWN = 50
FORMATS = ("xlsx", "excel.csv", "csv")
LEVELS = ("", SupportLevel.BASIS.value, SupportLevel.EXTRA.value)
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
ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DUTCH_DATE_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
# Columns people read to find their school; an upload may keep, change or drop them.
INFORMATIVE = ("school", "plaats", "bestuur")


class UploadError(ValueError):
    """A file that cannot be read as a grid at all."""


@dataclass
class Entry:
    """What one school's row says: a level per area (by id), the profile link and its date."""

    levels: dict[int, str]
    url: str = ""
    adopted: str = ""  # ISO date, or "" for none

    def key(self, areas: list[SupportArea]) -> str:
        """The row as one string, to tell whether a row changed since it was shown."""
        levels = ",".join(self.levels.get(a.id, "") for a in areas)
        return f"{levels}|{self.adopted}|{self.url}"


@dataclass
class Row:
    """One school's row on the page: what it shows, and the version and state it was made at."""

    school: School
    entry: Entry
    version: int
    was: str
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """The schools one grid holds: those of one board, or (board None) of all boards."""

    board: Board | None

    @property
    def title(self) -> str:
        return self.board.label if self.board else _("alle besturen")

    def url(self, what: str, **kwargs) -> str:
        if self.board is None:
            return url_for(f".all_{what}", **kwargs)
        return url_for(f".board_{what}", number=self.board.board_number, **kwargs)

    def schools(self) -> list[School]:
        """The open schools, by board and name, with their support loaded."""
        query = (
            select(School)
            .join(School.board)
            .where(School.is_open)
            .options(selectinload(School.support_offers), joinedload(School.board))
            .order_by(Board.label, School.name, School.vestigingscode)
        )
        if self.board is not None:
            query = query.where(School.board_id == self.board.id)
        return list(db.session.scalars(query).unique())


def support_areas() -> list[SupportArea]:
    return list(db.session.scalars(select(SupportArea).order_by(SupportArea.position)))


def current_entry(school: School, areas: list[SupportArea]) -> Entry:
    offers = {o.support_area_id: o.level.value for o in school.support_offers}
    adopted = school.support_profile_adopted_on
    return Entry(
        {a.id: offers.get(a.id, "") for a in areas},
        school.support_profile_url or "",
        adopted.isoformat() if adopted else "",
    )


def shown_row(school: School, areas: list[SupportArea]) -> Row:
    entry = current_entry(school, areas)
    return Row(school, entry, school.version, entry.key(areas))


def differences(old: Entry, new: Entry, areas: list[SupportArea]) -> list[tuple[str, str, str]]:
    """(what, old, new) for every cell the new entry changes, in the grid's order."""
    cells = [(a.name, old.levels.get(a.id, ""), new.levels.get(a.id, "")) for a in areas]
    cells.append((_("Link ondersteuningsprofiel"), old.url, new.url))
    cells.append((_("Vastgesteld op"), old.adopted, new.adopted))
    return [(label, before, after) for label, before, after in cells if before != after]


def write(school: School, entry: Entry, areas: list[SupportArea]) -> None:
    """Make the school say what the entry says; each changed cell is one history row."""
    offers = {o.support_area_id: o for o in school.support_offers}
    for area in areas:
        wanted, offer = entry.levels.get(area.id, ""), offers.get(area.id)
        if wanted == (offer.level.value if offer else ""):
            continue
        if not wanted:
            # Deleted through the session, not the collection, so the history still sees
            # which school and area the deleted row belonged to.
            db.session.delete(offer)
        elif offer:
            offer.level = SupportLevel(wanted)
        else:
            db.session.add(
                SchoolSupport(school=school, support_area=area, level=SupportLevel(wanted))
            )
    if (entry.url or None) != school.support_profile_url:
        school.support_profile_url = entry.url or None
    adopted = date.fromisoformat(entry.adopted) if entry.adopted else None
    if adopted != school.support_profile_adopted_on:
        school.support_profile_adopted_on = adopted


def clean_url(value: str) -> str:
    """A profile link as stored, or InvalidValue with a message for the user."""
    value = value.strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidValue("url", too_long(value))
    if CONTROL_RE.search(value):
        raise InvalidValue("url", CONTROL_MESSAGE)
    return url(value, "support_profile_url") or ""


def too_long(value: str) -> str:
    return _(
        "De waarde is %(length)d tekens lang; er passen er %(max)d.",
        length=len(value),
        max=MAX_VALUE_LENGTH,
    )


def clean_date(value) -> str:
    """A date as ISO text from a date cell or text like 2025-08-01 or 1-8-2025; "" for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = str(value).strip()
        iso, dutch = ISO_DATE_RE.fullmatch(text), DUTCH_DATE_RE.fullmatch(text)
        try:
            if iso:
                value = date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif dutch:
                value = date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
        except ValueError:
            pass
    if not isinstance(value, date) or not 1990 <= value.year <= 2100:
        raise InvalidValue(
            "datum",
            _("“%(value)s” is geen datum; schrijf bijvoorbeeld 1-8-2025.", value=shown(str(value))),
        )
    return value.isoformat()


def entry_from_form(form, school_id: int, areas: list[SupportArea]) -> tuple[Entry, dict]:
    """One row as the grid posted it, and a message per field that cannot be stored."""
    levels = {}
    for area in areas:
        level = form.get(f"n-{school_id}-{area.id}", "")
        if level not in LEVELS:
            abort(400, _("Onbekend niveau; kies geen, basis of extra."))
        levels[area.id] = level
    entry, errors = Entry(levels), {}
    for name, attribute, clean in (("url", "url", clean_url), ("datum", "adopted", clean_date)):
        value = form.get(f"{name}-{school_id}", "")
        try:
            setattr(entry, attribute, clean(value))
        except InvalidValue as error:
            setattr(entry, attribute, value.strip()[:MAX_VALUE_LENGTH])
            errors[name] = str(error.message)
    return entry, errors


def changes_since(school: School, version: int) -> list[str]:
    """What others changed in a school after the version a page showed, as the forms say it."""
    changes = db.session.scalars(
        select(Change)
        .where(
            Change.record_type == School.__tablename__,
            Change.record_id == school.id,
            Change.record_version > version,
        )
        .order_by(Change.changed_at, Change.id)
    )
    return [
        _(
            "%(field)s: “%(old)s” → “%(new)s” (%(who)s, %(when)s)",
            field=LABELS.get(c.field, c.field or c.action),
            old=c.old_value or "",
            new=c.new_value or "",
            who=c.actor,
            when=c.changed_at.strftime("%d-%m-%Y %H:%M"),
        )
        for c in changes
    ]


def grid_columns(areas: list[SupportArea]) -> list[Column]:
    return [
        Column("vestigingscode", _("Vestigingscode"), 14),
        Column("school", _("School"), 40),
        Column("plaats", _("Plaats"), 16),
        Column("bestuur", _("Bestuur"), 30),
        *(Column(area.code, area.name, 16) for area in areas),
        Column("profiel", _("Link ondersteuningsprofiel"), 40),
        Column("vastgesteld", _("Vastgesteld op"), 14),
    ]


def grid_record(school: School, areas: list[SupportArea]) -> dict:
    entry = current_entry(school, areas)
    return {
        "vestigingscode": school.vestigingscode,
        "school": school.name,
        "plaats": place_name(school.place),
        "bestuur": school.board.label,
        **{area.code: entry.levels[area.id] for area in areas},
        "profiel": entry.url,
        "vastgesteld": school.support_profile_adopted_on,
    }


def explanation() -> list[str]:
    return [
        _("Vul per school en ondersteuningsgebied basis of extra in; leeg betekent geen."),
        _(
            "De link is het adres van het schoolondersteuningsprofiel, bijvoorbeeld"
            " www.school.nl/sop."
        ),
        _("De datum is die waarop het profiel is vastgesteld, bijvoorbeeld 1-8-2025."),
        _("Laat de kolomkoppen en de vestigingscodes staan; regels weglaten mag."),
        _("Laad het bestand daarna op dezelfde pagina; u ziet eerst wat er verandert."),
    ]


def read_table(data: bytes) -> list[list]:
    """The first sheet of an XLSX file, or the rows of a CSV file (`,` or `;`)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            _(
                "Het bestand is te groot: %(size)s MB; het maximum is %(max)s MB.",
                size=megabytes(len(data)),
                max=megabytes(MAX_UPLOAD_BYTES, limit=True),
            )
        )
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
    """The entries a filled-in grid gives, by school, and every error with its line."""
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
        str(c.label) for c in columns if c.key not in INFORMATIVE and c.key not in mapping.values()
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
        entries[school] = entry
    if not errors and not entries:
        errors.append(_("Het bestand bevat geen scholen."))
    return entries, errors


class SupportView(RoleGuard, BaseView):
    """The grid and its spreadsheet: coordinators for any board, a board's staff for their own."""

    read_roles = write_roles = EDITORS | {Role.BESTUUR}

    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        blueprint.register_error_handler(RequestEntityTooLarge, self._too_large)
        return blueprint

    @staticmethod
    def _too_large(_error):
        """An upload above MAX_CONTENT_LENGTH is refused while the form is read: say the limit."""
        return error_response(
            413,
            _(
                "Het bestand is te groot: %(size)s MB; het maximum is %(max)s MB.",
                size=megabytes(request.content_length or 0),
                max=megabytes(MAX_UPLOAD_BYTES, limit=True),
            ),
        )

    def _scope(self, number: str | None) -> Scope:
        """The board in the address, judged for this user: a board's staff only their own."""
        if number is None:
            if current_user.role not in EDITORS:
                abort(403)
            return Scope(None)
        board = None
        if BOARD_NUMBER_RE.match(number):
            board = db.session.scalar(select(Board).filter_by(board_number=number))
        if board is None:
            abort(404)
        if current_user.role is Role.BESTUUR and board.id != current_user.board_id:
            abort(403)
        return Scope(board)

    @expose("/")
    def index(self):
        has_support = School.id.in_(select(SchoolSupport.school_id))
        query = (
            select(
                Board,
                func.count(School.id),
                func.count(case((has_support, 1))),
                func.count(School.support_profile_url),
            )
            .join(School, School.board_id == Board.id)
            .where(School.is_open)
            .group_by(Board.id)
            .order_by(Board.label)
        )
        if current_user.role not in EDITORS:
            query = query.where(Board.id == current_user.board_id)
        return self.render(
            "admin/support_index.html",
            boards=db.session.execute(query).all(),
            everything=current_user.role in EDITORS,
        )

    @expose("/alle/", methods=("GET", "POST"))
    def all_grid(self):
        return self._grid(self._scope(None))

    @expose("/bestuur/<number>/", methods=("GET", "POST"))
    def board_grid(self, number: str):
        return self._grid(self._scope(number))

    @expose("/alle/rooster.<fmt>")
    def all_download(self, fmt: str):
        return self._download(self._scope(None), fmt)

    @expose("/bestuur/<number>/rooster.<fmt>")
    def board_download(self, number: str, fmt: str):
        return self._download(self._scope(number), fmt)

    @expose("/alle/bestand", methods=("GET", "POST"))
    def all_upload(self):
        return self._upload(self._scope(None))

    @expose("/bestuur/<number>/bestand", methods=("GET", "POST"))
    def board_upload(self, number: str):
        return self._upload(self._scope(number))

    def _render_grid(self, scope, areas, rows, conflicts=(), status=200):
        return self.render(
            "admin/support_grid.html",
            scope=scope,
            areas=areas,
            rows=rows,
            conflicts=conflicts,
            levels=[("", _("geen")), ("basis", _("basis")), ("extra", _("extra"))],
        ), status

    def _grid(self, scope: Scope):
        areas = support_areas()
        if request.method == "POST":
            return self._save(scope, areas)
        return self._render_grid(scope, areas, [shown_row(s, areas) for s in scope.schools()])

    def _save(self, scope: Scope, areas: list[SupportArea]):
        """Save every changed row in one transaction, or none when any row cannot be saved."""
        schools = scope.schools()
        posted = set()
        for name in request.form:
            if name.startswith("v-"):
                school_id = record_id(name[2:])
                if school_id is None:
                    abort(400, _("%(value)s is geen geldig recordnummer.", value=shown(name[2:])))
                posted.add(school_id)
        if posted - {s.id for s in schools}:
            abort(403, _("Een van de scholen hoort niet bij dit rooster."))
        rows, changed = [], []
        for school in schools:
            if school.id not in posted:
                rows.append(shown_row(school, areas))
                continue
            entry, errors = entry_from_form(request.form, school.id, areas)
            version = request.form.get(f"v-{school.id}", "")
            version = int(version) if SMALL_NUMBER_RE.match(version) else 0
            row = Row(school, entry, version, request.form.get(f"was-{school.id}", ""), errors)
            rows.append(row)
            if entry.key(areas) != row.was:
                changed.append(row)
        if any(row.errors for row in rows):
            flash(_("Er is niets opgeslagen: verbeter de gemarkeerde velden."), "error")
            return self._render_grid(scope, areas, rows, status=400)
        conflicts = []
        for row in changed:
            if row.version != row.school.version:
                conflicts.append((row.school, changes_since(row.school, row.version)))
                # The next save overwrites them deliberately, with their changes in view.
                row.version = row.school.version
                row.was = current_entry(row.school, areas).key(areas)
        if conflicts:
            return self._render_grid(scope, areas, rows, conflicts, status=409)
        source = request.form.get("bron")
        note = _("uit bestand %(name)s", name=kept_name(source)) if source else None
        cells = schools_changed = 0
        try:
            with noting(note) if note else contextlib.nullcontext():
                for row in changed:
                    cells_here = differences(current_entry(row.school, areas), row.entry, areas)
                    cells += len(cells_here)
                    schools_changed += bool(cells_here)
                    write(row.school, row.entry, areas)
                db.session.commit()
        except (StaleDataError, IntegrityError):
            # Another save committed between our check and our write: nothing of ours stays.
            db.session.rollback()
            flash(
                _(
                    "Een school is gewijzigd terwijl u opsloeg; er is niets opgeslagen."
                    " Laad het rooster opnieuw en voer uw wijzigingen nog eens in."
                ),
                "error",
            )
            return redirect(scope.url("grid"))
        if cells:
            flash(
                _(
                    "Opgeslagen: %(cells)d wijzigingen bij %(schools)d scholen.",
                    cells=cells,
                    schools=schools_changed,
                ),
                "success",
            )
        else:
            flash(_("Er was niets gewijzigd."), "info")
        return redirect(scope.url("grid"))

    def _download(self, scope: Scope, fmt: str):
        if fmt not in FORMATS:
            abort(404)
        areas = support_areas()
        columns = grid_columns(areas)
        records = [grid_record(school, areas) for school in scope.schools()]
        name = _("ondersteuning %(scope)s", scope=scope.title)
        if fmt != "xlsx":
            return export_response(fmt, columns, records, name)
        help_column = Column("uitleg", _("Zo vult u dit rooster in"), 100)
        body = xlsx_workbook(
            [
                Sheet(_("Ondersteuning"), columns, records, frozen="C2"),
                Sheet(
                    _("Uitleg"),
                    [help_column],
                    [{"uitleg": line} for line in explanation()],
                    autofilter=False,
                ),
            ]
        )
        disposition = f'attachment; filename="{file_name(name, "xlsx")}"'
        return Response(body, mimetype=XLSX_TYPE, headers={"Content-Disposition": disposition})

    def _upload(self, scope: Scope):
        errors = []
        if request.method == "POST":
            upload = request.files.get("bestand")
            if upload is None or not upload.filename:
                errors.append(_("Kies een bestand."))
            else:
                areas = support_areas()
                try:
                    rows = read_table(upload.stream.read(MAX_UPLOAD_BYTES + 1))
                    entries, errors = read_grid(rows, areas, scope)
                except UploadError as error:
                    errors.append(str(error))
                if not errors:
                    return self._preview(scope, areas, entries, kept_name(upload.filename))
        return self.render(
            "admin/support_upload.html",
            scope=scope,
            errors=errors[:MAX_ERRORS_SHOWN],
            more=max(len(errors) - MAX_ERRORS_SHOWN, 0),
            max_mb=megabytes(MAX_UPLOAD_BYTES, limit=True),
        ), (400 if errors else 200)

    def _preview(self, scope, areas, entries, name):
        """What the file changes, per school; applying posts those rows to the grid's save."""
        changes, rows = [], []
        for school, entry in entries.items():
            now = current_entry(school, areas)
            if cells := differences(now, entry, areas):
                changes.append((school, cells))
                rows.append(Row(school, entry, school.version, now.key(areas)))
        return self.render(
            "admin/support_preview.html",
            scope=scope,
            areas=areas,
            name=name,
            changes=changes,
            rows=rows,
            unchanged=len(entries) - len(rows),
            cells=sum(len(cells) for _school, cells in changes),
        )
