"""The DUO import in the admin: upload, a preview of every difference, apply what is chosen.

An uploaded file is kept under its checksum (registry.duo.uploads) until it is applied or
abandoned, so the preview, its CSV download and the apply step all read the very file the
coordinator chose; the import log names that checksum.
"""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.utils import secure_filename

from ..db import db
from ..duo.apply import apply_comparison
from ..duo.area import Area
from ..duo.compare import (
    FIELD_LABELS,
    KINDS,
    REPORT_COLUMNS,
    Comparison,
    check_choice,
    compare,
    report_rows,
)
from ..duo.files import DuoFile, DuoFileError, read_duo_file
from ..duo.uploads import CHECKSUM_RE, discard, keep, kept, sweep
from ..exports import export_response
from ..history import readable_text
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..models import ImportLog
from ..uploads import shown
from .access import EDITORS, RoleGuard
from .adaptations import TakesUploads
from .base import RegistryModelView

# The preview shows this many records per kind; the CSV download has them all.
SHOWN_PER_KIND = 200
AREAS = ("regio", "landelijk")
# A kept file's name, at most this long (with its extension): far below the 255 bytes a
# file system allows, and still recognisable in the preview and the import log.
MAX_NAME_LENGTH = 100
MAX_EXTENSION_LENGTH = 10  # after a longer "extension" the dot was part of the name


def kept_name(filename: str) -> str:
    """The uploaded name as it is kept and shown from then on: safe on disk and bounded."""
    name = secure_filename(filename) or "duo.csv"
    if len(name) <= MAX_NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > MAX_EXTENSION_LENGTH:
        return name[:MAX_NAME_LENGTH]
    return f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"


def _single(name: str) -> str | None:
    """A parameter the pages send once; a second copy is a crafted request (400)."""
    values = request.values.getlist(name)
    if len(values) > 1:
        abort(400, _("De parameter %(name)s staat er meer dan eens in.", name=name))
    return values[0] if values else None


def _kept_files(checksums: list[str]) -> list[DuoFile]:
    """Read the files kept under these checksums again; a malformed one is a 404, one
    applied or swept since (410) says to upload it again."""
    # One of each kind at most (02, 09, 06): the comparison says which kind came twice.
    if len(checksums) > 3 or len(set(checksums)) < len(checksums):
        abort(
            400,
            _(
                "Kies hooguit drie bestanden: de adressen van het basisonderwijs (02) en van het"
                " speciaal (basis)onderwijs (09) en de leerlingen (06)."
            ),
        )
    files = []
    for checksum in checksums:
        if not CHECKSUM_RE.fullmatch(checksum):
            abort(404)
        found = kept(checksum)
        if found is None:
            days = int(current_app.config["DUO_UPLOAD_DAYS"])
            abort(
                410,
                ngettext(
                    "Deze upload is verlopen: een geüpload bestand wordt verwijderd zodra het is"
                    " toegepast, en anders na %(num)d dag. Laad het bestand opnieuw.",
                    "Deze upload is verlopen: een geüpload bestand wordt verwijderd zodra het is"
                    " toegepast, en anders na %(num)d dagen. Laad het bestand opnieuw.",
                    days,
                ),
            )
        try:
            files.append(read_duo_file(*found))
        except DuoFileError as error:
            abort(400, str(error))
    return files


class DuoImportView(TakesUploads, RoleGuard, BaseView):
    """Only coordinators and administrators compare and apply DUO's files."""

    read_roles = EDITORS
    write_roles = EDITORS

    def upload_limit(self) -> int:
        return current_app.config["DUO_MAX_BYTES"]

    def _area(self) -> tuple[str, Area]:
        area = _single("gebied") or "regio"
        if area not in AREAS:
            abort(400, _("Onbekend gebied '%(area)s'; kies regio of landelijk.", area=shown(area)))
        return (area, Area.whole_country()) if area == "landelijk" else (area, Area.from_file())

    def _comparison(self) -> tuple[str, Comparison]:
        area_name, area = self._area()
        files = _kept_files(request.values.getlist("bestand"))
        if not files:
            abort(400, _("Kies eerst een bestand."))
        try:
            return area_name, compare(files, area)
        except ValueError as error:
            abort(400, str(error))

    @expose("/", methods=("GET", "POST"))
    def index(self):
        errors = []
        if request.method == "POST":
            sweep()
            uploads = [f for f in request.files.getlist("bestanden") if f.filename]
            if not uploads:
                errors.append(
                    _("Kies een adressenbestand (02 of 09) en/of een leerlingenbestand (06).")
                )
            files = []
            for upload in uploads:
                data = upload.read()
                name = kept_name(upload.filename)
                try:
                    duo = read_duo_file(data, name, current_app.config["DUO_MAX_BYTES"])
                except DuoFileError as error:
                    errors.append(str(error))
                    continue
                keep(data, duo)
                files.append(duo)
            if not errors:
                area_name, _area = self._area()
                return redirect(
                    url_for(
                        ".preview",
                        bestand=[duo.checksum for duo in files],
                        gebied=area_name,
                    )
                )
        recent = db.session.scalars(select(ImportLog).order_by(ImportLog.id.desc()).limit(10))
        return self.render(
            "admin/duo_upload.html",
            errors=errors,
            recent=list(recent),
            max_mb=current_app.config["DUO_MAX_BYTES"] // (1024 * 1024),
        ), (400 if errors else 200)

    @expose("/vergelijking")
    def preview(self):
        area_name, comparison = self._comparison()
        return self.render(
            "admin/duo_preview.html",
            comparison=comparison,
            kinds=KINDS,
            field_labels=FIELD_LABELS,
            area_name=area_name,
            checksums=[duo.checksum for duo in comparison.files],
            shown=SHOWN_PER_KIND,
            readable=readable_text,  # a date as the admin writes it elsewhere: 1 aug 2025
        )

    @expose("/vergelijking.<fmt>")
    def report(self, fmt: str):
        if fmt not in ("csv", "excel.csv", "xlsx"):
            abort(404)
        _area_name, comparison = self._comparison()
        rows = list(report_rows(comparison))
        return export_response(fmt, REPORT_COLUMNS, rows, "duo-vergelijking")

    @expose("/toepassen", methods=("POST",))
    def apply(self):
        area_name, comparison = self._comparison()
        checksums = [duo.checksum for duo in comparison.files]
        preview = url_for(".preview", bestand=checksums, gebied=area_name)
        # Each button applies what it says: everything, one kind, or the ticked records.
        kinds, keys = [], []
        everything, kind, chosen = _single("alles"), _single("soort"), _single("gekozen")
        if everything:
            kinds = list(KINDS)
        elif kind:
            if kind not in KINDS:
                abort(400, _("Onbekende soort: %(kinds)s", kinds=shown(kind)))
            kinds = [kind]
        elif chosen:
            keys = request.form.getlist("kies")
            try:
                check_choice(comparison, keys)
            except ValueError as error:
                abort(400, str(error))
        if not kinds and not keys:
            flash(_("Niets gekozen; er is niets gewijzigd."), "warning")
            return redirect(preview)
        try:
            log = apply_comparison(
                comparison, kinds, keys, actor=current_user.email, user_id=current_user.id
            )
        except (IntegrityError, StaleDataError):
            # Someone changed the same records between this comparison and now; nothing of
            # this import was written (it rolled back as a whole).
            flash(
                _(
                    "Het register is intussen door iemand anders gewijzigd; er is niets"
                    " toegepast. Vergelijk opnieuw en kies dan wat u toepast."
                ),
                "error",
            )
            return redirect(preview)
        # Committed: the files have done their work (the import log keeps their checksums).
        discard(checksums)
        flash(
            _(
                "Toegepast: %(new)d nieuw, %(closed)d gesloten, %(changed)d gewijzigd,"
                " %(boards)d ander bestuur, %(pupils)d leerlingaantallen.",
                new=log.new,
                closed=log.closed,
                changed=log.changed,
                boards=log.board_changes,
                pupils=log.pupil_counts,
            ),
            "success",
        )
        return redirect(url_for(".index"))


class ImportLogView(RegistryModelView):
    """Every applied import: read-only."""

    read_roles = EDITORS
    can_create = can_edit = can_delete = False
    can_view_details = False
    column_list = [
        "applied_at",
        "actor",
        "area",
        "files",
        "selection",
        "new",
        "closed",
        "changed",
        "board_changes",
        "pupil_counts",
    ]
    column_labels = {
        "applied_at": _l("Toegepast op"),
        "actor": _l("Door"),
        "area": _l("Gebied"),
        "files": _l("Bestanden (sha256)"),
        "selection": _l("Gekozen"),
        "new": _l("Nieuw"),
        "closed": _l("Gesloten"),
        "changed": _l("Gewijzigd"),
        "board_changes": _l("Ander bestuur"),
        "pupil_counts": _l("Leerlingaantallen"),
    }
    column_default_sort = ("applied_at", True)
    column_filters = ["applied_at", "actor"]
