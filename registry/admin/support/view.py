"""The support editor's admin view: the boards' overview, the grid and its save, and the
spreadsheet's download, upload and preview."""

from dataclasses import dataclass, field

from flask import abort, flash, redirect, request
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ...db import db
from ...exports import FORMATS
from ...filters import LEVEL_CHOICES
from ...i18n import gettext as _
from ...models import Board, Role, School, SchoolSupport, SupportArea
from ...uploads import megabytes
from ...validation import BOARD_NUMBER_RE
from ..access import EDITORS, RoleGuard
from ..adaptations import TakesUploads
from ..duo import kept_name
from .grid import find_conflicts, others_changes, posted_rows, save
from .rows import Row, Scope, current_entry, differences, shown_row, support_areas
from .spreadsheet import download
from .upload import (
    CHANGED,
    KEPT,
    MAX_ERRORS_SHOWN,
    MAX_UPLOAD_BYTES,
    UNKNOWN,
    UploadError,
    read_grid,
    read_table,
    standing,
)


@dataclass
class Proposed:
    """A school the file would change, as the preview shows it: the row it posts to the grid's
    save, the cells it changes, how it stands to the download, and what others changed since."""

    row: Row
    cells: list[tuple[str, str, str]]
    standing: str
    since: list[str] = field(default_factory=list)

    @property
    def asks(self) -> bool:
        """Applied only when the user ticks it (or chooses to overwrite everything)."""
        return self.standing in (CHANGED, UNKNOWN)


class SupportView(TakesUploads, RoleGuard, BaseView):
    """The grid and its spreadsheet: coordinators for any board, a board's staff for their own."""

    read_roles = write_roles = EDITORS | {Role.BESTUUR}

    def upload_limit(self) -> int:
        return MAX_UPLOAD_BYTES

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
            levels=list(LEVEL_CHOICES.items()),
        ), status

    def _grid(self, scope: Scope):
        areas = support_areas()
        if request.method == "POST":
            return self._save(scope, areas)
        return self._render_grid(scope, areas, [shown_row(s, areas) for s in scope.schools()])

    def _save(self, scope: Scope, areas: list[SupportArea]):
        """Save every changed row in one transaction, or none when any row cannot be saved."""
        rows, changed = posted_rows(request.form, scope.schools(), areas)
        if any(row.errors for row in rows):
            flash(_("Er is niets opgeslagen: verbeter de gemarkeerde velden."), "error")
            return self._render_grid(scope, areas, rows, status=400)
        if found := find_conflicts(changed, areas):
            return self._render_grid(scope, areas, rows, found, status=409)
        source = request.form.get("bron")
        note = _("uit bestand %(name)s", name=kept_name(source)) if source else None
        try:
            cells, schools_changed = save(changed, areas, note)
        except (StaleDataError, IntegrityError):
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
        return download(scope, fmt)

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
        """What the file changes, per school; applying posts those rows to the grid's save.

        A row someone else changed since the download is posted without its version unless
        the user ticks it, so the save leaves that school as it is (upload.standing)."""
        proposed, kept = [], 0
        for school, file_row in entries.items():
            now = current_entry(school, areas)
            cells = differences(now, file_row.entry, areas)
            if not cells:
                continue
            stands = standing(file_row, now, areas)
            if stands == KEPT:
                kept += 1
                continue
            row = Row(school, file_row.entry, school.version, now.key(areas))
            since = others_changes(school, file_row.shown.version) if stands == CHANGED else []
            proposed.append(Proposed(row, cells, stands, since))
        return self.render(
            "admin/support_preview.html",
            scope=scope,
            areas=areas,
            name=name,
            proposed=proposed,
            changed=sum(p.standing == CHANGED for p in proposed),
            unknown=sum(p.standing == UNKNOWN for p in proposed),
            kept=kept,
            unchanged=len(entries) - len(proposed),
            cells=sum(len(p.cells) for p in proposed),
        )
