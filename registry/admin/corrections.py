"""The queue of corrections from the public: take the (edited) proposal over, credited in the
history; close it without a change; or reject it. Every outcome but the first needs a reason,
and taking over must change the school."""

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..corrections import (
    ADDRESS_PARTS,
    DIRECT_FIELDS,
    FIELDS,
    STATUS_LABELS,
    Refused,
    apply_address,
    apply_support,
    apply_value,
    close,
    credit,
    proposed_address,
    suggested_value,
    support_areas,
    unchanged_parts,
)
from ..db import db
from ..filters import LEVEL_CHOICES
from ..history import SENDER_READERS, Change, noting
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import CorrectionRequest, CorrectionStatus, School
from ..text import address_text
from ..validation import InvalidValue
from .access import EDITORS, EVERYONE, SMALL_NUMBER_RE, record_id
from .base import RegistryModelView
from .labels import choices, field_label, shown_value
from .views import LABELS

# Corrections that go through the school's own form: no field of their own to edit here.
FORM_FIELDS = {"ligging", "overig"}
# Fields the handling form posts once; a second copy would make its meaning ambiguous.
POSTED_ONCE = {"value", "reason", "school_version", *ADDRESS_PARTS}
REASON_MAX = 2000


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
        "applied_value",
    ]
    column_labels = {
        **LABELS,
        "handled_by": _l("Behandeld door"),
        "reason": _l("Reden"),
        "applied_value": _l("Overgenomen als"),
    }
    column_formatters = {
        "field": lambda _v, _c, m, _n: FIELDS.get(m.field, m.field),
        "status": lambda _v, _c, m, _n: STATUS_LABELS[m.status],
        # The sender's contact details: coordinators may need to ask; no one else reads them.
        "contact": lambda _v, _c, m, _n: (
            m.contact if current_user.role in SENDER_READERS else _("(alleen voor coördinatoren)")
        ),
    }
    column_choices = choices("status")
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
        if request.method == "GET":
            return self._render(correction, self._proposal(correction))
        for name in POSTED_ONCE:
            if len(request.form.getlist(name)) > 1:
                abort(400, _("De parameter %(name)s staat er meer dan eens in.", name=name))
        # Two coordinators on one correction: the second waits here and then sees it closed.
        db.session.refresh(correction, with_for_update=True)
        if correction.status is not CorrectionStatus.OPEN:
            flash(
                _(
                    "Correctie #%(id)d was al afgehandeld door %(who)s.",
                    id=correction.id,
                    who=correction.handled_by or "",
                ),
                "error",
            )
            return redirect(url_for(".handle_view", id=correction.id))
        try:
            message = self._decide(correction)
        except (Refused, InvalidValue) as error:
            db.session.rollback()
            flash(str(getattr(error, "message", error)), "error")
            return self._render(correction, self._posted(correction)), 400
        except StaleDataError:
            db.session.rollback()
            flash(self._changed_meanwhile(), "error")
            return self._render(correction, self._posted(correction)), 409
        flash(message)
        return redirect(url_for(".index_view", flt0_0="open"))

    def _decide(self, correction: CorrectionRequest) -> str:
        """Carry out the posted decision (take over, handled unchanged, rejected); the notice."""
        decision = request.form.get("decision")
        reason = request.form.get("reason", "").strip()
        if len(reason) > REASON_MAX:
            raise Refused(_("Gebruik hoogstens %(n)d tekens.", n=REASON_MAX))
        if decision == "accept":
            return self._accept(correction, reason)
        if decision not in ("unchanged", "reject"):
            abort(400, _("Kies overnemen, afhandelen zonder wijziging of afwijzen."))
        if not reason:
            raise Refused(_("Schrijf de reden op; de melder en uw collega's lezen die."))
        status = (
            CorrectionStatus.UNCHANGED if decision == "unchanged" else CorrectionStatus.REJECTED
        )
        with noting(credit(correction)):
            close(correction, status, current_user.email, reason)
            db.session.commit()
        return _("Correctie #%(id)d is afgehandeld.", id=correction.id)

    def _accept(self, correction: CorrectionRequest, reason: str) -> str:
        """Apply the posted values to the school, credited to the correction; refuse a take-over
        that would change nothing, or one made on a school someone changed since."""
        school = correction.school
        loaded = request.form.get("school_version", "")
        if not SMALL_NUMBER_RE.match(loaded) or int(loaded) != school.version:
            raise Refused(self._changed_meanwhile())
        if correction.field in FORM_FIELDS:
            raise Refused(
                _(
                    "Dit voorstel noemt geen veld dat hier te wijzigen is: open het "
                    "schoolformulier via de knop hieronder."
                )
            )
        with noting(credit(correction)):
            if correction.field in DIRECT_FIELDS:
                attribute = DIRECT_FIELDS[correction.field]
                applied = apply_value(school, attribute, request.form.get("value", ""))
            elif correction.field == "adres":
                parts = {part: request.form.get(part, "") for part in ADDRESS_PARTS}
                applied = apply_address(school, parts)
            elif correction.field == "ondersteuning":
                levels = {
                    area: request.form.get(f"level-{area.id}", "") for area in support_areas()
                }
                applied = apply_support(school, levels)
            else:
                raise Refused(_("Dit soort correctie kan niet worden overgenomen."))
            if not applied:
                raise Refused(
                    _(
                        "Dit verandert niets aan de school. Pas de waarde aan, of kies "
                        "'Afgehandeld zonder wijziging' met een reden."
                    )
                )
            close(correction, CorrectionStatus.ACCEPTED, current_user.email, reason, applied)
            db.session.commit()
        message = _("Correctie #%(id)d is overgenomen.", id=correction.id)
        if correction.field == "adres":
            message += " " + _("Controleer ook de plek op de kaart in het schoolformulier.")
        return message

    @staticmethod
    def _changed_meanwhile() -> str:
        return _(
            "Iemand anders heeft de school gewijzigd nadat u deze pagina opende. Hieronder staat "
            "wat er nu in het register staat; controleer uw invoer en kies opnieuw."
        )

    def _proposal(self, correction: CorrectionRequest) -> dict:
        """The form's first values: the proposal, stripped of the words around it."""
        school = correction.school
        if correction.field in DIRECT_FIELDS:
            return {"value": suggested_value(correction.field, correction.proposed_value)}
        if correction.field == "adres":
            return proposed_address(correction, school)
        if correction.field == "ondersteuning":
            levels = {o.support_area_id: o.level.value for o in school.support_offers}
            return {f"level-{area.id}": levels.get(area.id, "") for area in support_areas()}
        return {}

    def _posted(self, correction: CorrectionRequest) -> dict:
        """What the coordinator typed, to show again next to the message."""
        return {
            name: value
            for name, value in request.form.items()
            if name in POSTED_ONCE or name.startswith("level-")
        } or self._proposal(correction)

    def _render(self, correction: CorrectionRequest, values: dict):
        school = db.session.get(School, correction.school_id)
        attribute = DIRECT_FIELDS.get(correction.field)
        current = {
            "value": getattr(school, attribute) if attribute else None,
            "address": address_text(**{p: getattr(school, p) for p in ADDRESS_PARTS}),
            "levels": {o.support_area_id: o.level.value for o in school.support_offers},
        }
        return self.render(
            "admin/correction_handle.html",
            correction=correction,
            school=school,
            attribute=attribute,
            label=LABELS.get(attribute, attribute) if attribute else None,
            current=current,
            values=values,
            areas=support_areas() if correction.field == "ondersteuning" else [],
            levels=LEVEL_CHOICES,
            fields=FIELDS,
            statuses=STATUS_LABELS,
            form_fields=FORM_FIELDS,
            editable=correction.field not in FORM_FIELDS,
            form_url=url_for(
                "school.edit_view",
                id=school.id,
                correctie=correction.id,
                url=url_for(".index_view", flt0_0="open"),
            ),
        )


class CarriesOutCorrections:
    """For the school view: `?correctie=N` on its edit form carries out correction N there.

    The form opens with the proposal filled in; a save that changes the school is credited to
    the correction in the history and closes it as taken over; a save that changes nothing
    leaves it open and says so."""

    def correction_in_form(self) -> CorrectionRequest | None:
        if "correctie" not in request.args:
            return None
        if "correction_in_form" not in g:
            number = record_id(request.args["correctie"])
            if number is None:
                abort(
                    400,
                    _(
                        "%(value)s is geen geldig recordnummer.",
                        value=request.args["correctie"][:50],
                    ),
                )
            if current_user.role not in EDITORS:
                abort(403)
            correction = db.session.get(CorrectionRequest, number)
            if correction is None or correction.school_id != record_id(request.args.get("id")):
                abort(404, _("Correctie #%(id)d hoort niet bij deze school.", id=number))
            g.correction_in_form = correction
        return g.correction_in_form

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        correction = self.correction_in_form()
        if correction is not None and correction.status is not CorrectionStatus.OPEN:
            flash(_("Correctie #%(id)d is al afgehandeld.", id=correction.id), "error")
            return redirect(url_for("correction.handle_view", id=correction.id))
        if correction is not None and request.method == "GET":
            flash(
                _(
                    "Correctie #%(id)d (%(field)s): “%(value)s”. Opslaan met een wijziging neemt "
                    "de correctie over, met dit nummer in de geschiedenis.",
                    id=correction.id,
                    field=FIELDS.get(correction.field, correction.field),
                    value=correction.proposed_value,
                ),
                "info",
            )
        return super().edit_view()

    def on_form_prefill(self, form, id):
        super().on_form_prefill(form, id)
        correction = self.correction_in_form()
        if correction is None:
            return
        if correction.field in DIRECT_FIELDS:
            form[DIRECT_FIELDS[correction.field]].data = suggested_value(
                correction.field, correction.proposed_value
            )
        elif correction.field == "adres":
            school = correction.school
            for part, value in unchanged_parts(
                school, proposed_address(correction, school)
            ).items():
                form[part].data = value

    def update_model(self, form, model) -> bool:
        correction = self.correction_in_form()
        if correction is None:
            return super().update_model(form, model)
        note = credit(correction)
        with noting(note):
            saved = super().update_model(form, model)
            if not saved:
                return False
            changes = db.session.scalars(
                select(Change)
                .where(
                    Change.record_type == School.__tablename__,
                    Change.record_id == model.id,
                    Change.note == note,
                )
                .order_by(Change.id)
            ).all()
            if not changes:
                flash(
                    _(
                        "Er is niets gewijzigd, dus correctie #%(id)d staat nog open.",
                        id=correction.id,
                    ),
                    "error",
                )
                return saved
            # In the form's words: 'huisnummer: 3; plaats: Meppel', as the history shows it.
            applied = "; ".join(
                f"{field_label(c.field, LABELS)}: {shown_value(c.field, c.new_value) or '—'}"
                for c in changes
            )
            close(correction, CorrectionStatus.ACCEPTED, current_user.email, None, applied[:2000])
            db.session.commit()
        flash(_("Correctie #%(id)d is overgenomen.", id=correction.id))
        return saved
