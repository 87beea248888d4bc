"""The queue of corrections from the public: accept (apply and record) or reject with a reason."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..corrections import FIELDS
from ..db import db
from ..history import SENDER_READERS, noting
from ..models import CorrectionStatus, utcnow
from ..validation import InvalidValue
from .base import EDITORS, EVERYONE, RegistryModelView
from .views import LABELS

# Corrections that name one field can be applied as proposed; the rest go through the form.
DIRECT_FIELDS = {"naam": "name", "telefoon": "phone", "email": "email", "website": "website"}


class CorrectionView(RegistryModelView):
    read_roles = EVERYONE
    write_roles = EDITORS
    can_create = can_edit = can_delete = False
    column_list = [
        "created_at",
        "school",
        "field",
        "proposed_value",
        "contact",
        "status",
        "handled_by",
        "reason",
    ]
    column_labels = {**LABELS, "handled_by": _l("Behandeld door"), "reason": _l("Reden")}
    column_formatters = {
        "field": lambda _v, _c, m, _n: FIELDS.get(m.field, m.field),
        # The sender's contact details: coordinators may need to ask; no one else reads them.
        "contact": lambda _v, _c, m, _n: (
            m.contact if current_user.role in SENDER_READERS else _("(alleen voor coördinatoren)")
        ),
    }
    column_filters = ["status", "field", "created_at"]
    column_default_sort = ("created_at", True)
    list_template = "admin/correction_list.html"

    def get_sortable_columns(self):
        """Not by contact: the order would hint at what the hidden values are."""
        columns = super().get_sortable_columns()
        columns.pop("contact", None)
        return columns

    @expose("/behandelen/", methods=("GET", "POST"))
    def handle_view(self):
        if not self.may_write():
            abort(403)
        correction = self.get_one(request.values.get("id", ""))
        if correction is None:
            abort(404)
        school = correction.school
        attribute = DIRECT_FIELDS.get(correction.field)
        if request.method == "POST" and correction.status is CorrectionStatus.OPEN:
            decision = request.form.get("decision")
            note = _("correctie #%(id)d", id=correction.id)
            if decision == "reject":
                reason = request.form.get("reason", "").strip()
                if not reason:
                    flash(_("Geef een reden waarom de correctie niet wordt overgenomen."), "error")
                    return self._render(correction, attribute), 400
                self._close(correction, CorrectionStatus.REJECTED, reason)
            elif decision == "accept":
                with noting(note):
                    if attribute:
                        try:
                            setattr(school, attribute, correction.proposed_value.strip())
                        except InvalidValue as error:
                            db.session.rollback()
                            flash(str(error.message), "error")
                            return self._render(correction, attribute), 400
                    self._close(correction, CorrectionStatus.ACCEPTED, request.form.get("reason"))
            else:
                abort(400)
            flash(_("Correctie #%(id)d is afgehandeld.", id=correction.id))
            return redirect(url_for(".index_view"))
        return self._render(correction, attribute)

    def _close(self, correction, status, reason) -> None:
        correction.status = status
        correction.reason = (reason or "").strip() or None
        correction.handled_at = utcnow()
        correction.handled_by = current_user.email
        db.session.commit()

    def _render(self, correction, attribute):
        current = getattr(correction.school, attribute) if attribute else None
        return self.render(
            "admin/correction_handle.html",
            correction=correction,
            attribute=attribute,
            current=current,
            fields=FIELDS,
        )
