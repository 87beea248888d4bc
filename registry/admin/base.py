"""The model view every admin screen builds on: its access, forms, labels and filters come from
access.py, adaptations.py and labels.py; here conflict detection on save and the history page."""

from flask import abort, flash, g, request
from flask_admin import expose
from flask_admin import helpers as admin_helpers
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_login import current_user
from jinja2 import pass_context
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..db import db
from ..history import Change, readable_changes
from ..i18n import gettext as _
from ..validation import InvalidValue
from .access import SMALL_NUMBER_RE, RoleGuard, as_ids, record_id
from .adaptations import (
    AdminForm,
    BuiltOnFirstUse,
    RegistryConverter,
    RegistryFilterConverter,
    WorklistFilter,
    tolerant,
)
from .labels import TYPE_FORMATTERS, changes_since, field_label, shown_value


class RegistryModelView(BuiltOnFirstUse, RoleGuard, ModelView):
    form_base_class = AdminForm
    model_form_converter = RegistryConverter
    filter_converter = RegistryFilterConverter()
    page_size = 50
    can_view_details = True
    can_set_page_size = True
    list_template = "admin/registry_list.html"
    column_type_formatters = {**typefmt.BASE_FORMATTERS, **TYPE_FORMATTERS}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, **TYPE_FORMATTERS}
    # Bookkeeping no reader needs, and secrets no page may show (a hash, a token, a TOTP key).
    column_details_exclude_list = [
        "search_text",
        "version",
        "password_hash",
        "session_token",
        "totp_secret",
        "totp_last_step",
    ]
    # The menu group the view sits under (None: on the menu bar itself), so the bar fits a
    # 1280 px screen on one line.
    menu_category = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("category", self.menu_category)
        super().__init__(*args, **kwargs)

    create_template = "admin/registry_create.html"
    edit_template = "admin/registry_edit.html"
    details_template = "admin/registry_details.html"

    @property
    def can_create(self) -> bool:
        return self.may_write()

    def get_filters(self):
        """Flask-Admin's filters expect only ValueError from a bad value; a choice filter raises
        KeyError on an unknown one. Any bad value now gets Flask-Admin's own message."""
        filters = super().get_filters()
        for flt in filters or ():
            flt.validate = tolerant(flt.validate)
        return filters

    def worklists(self, active_filters) -> list:
        """The gaps whose worklist filters the list is under (quality.SCHOOL_GAPS, BOARD_GAPS),
        from the filters the list view read (reading them again flashed a bad value twice)."""
        return [
            self._filters[index].gap
            for index, *_rest in active_filters or ()
            if isinstance(self._filters[index], WorklistFilter)
        ]

    def render(self, template, **kwargs):
        """A list under a worklist says on every row what is missing (column 'Ontbreekt')."""
        if "list_columns" in kwargs and (gaps := self.worklists(kwargs.get("active_filters"))):
            g.worklists = gaps
            kwargs["list_columns"] = [*kwargs["list_columns"], ("missing", _("Ontbreekt"))]
        return super().render(template, **kwargs)

    @pass_context
    def get_list_value(self, context, model, name):
        if name == "missing":
            reasons = dict.fromkeys(str(r) for gap in g.worklists for r in gap.missing(model))
            return ", ".join(reasons)
        return super().get_list_value(context, model, name)

    def get_filter_arg(self, index, flt) -> str:
        """A filter with a parameter of its own (a worklist) is named by it; the others keep
        Flask-Admin's number."""
        return getattr(flt, "parameter", None) or super().get_filter_arg(index, flt)

    def scaffold_form(self):
        """Every form carries the version it was loaded at (see update_model)."""
        form_class = super().scaffold_form()
        form_class.loaded_version = HiddenField()
        return form_class

    @property
    def can_edit(self) -> bool:
        return self.may_write()

    @property
    def can_delete(self) -> bool:
        return self.may_write()

    def is_action_allowed(self, name: str) -> bool:
        return self.may_write() and super().is_action_allowed(name)

    def may_edit_record(self, model) -> bool:
        return self.may_write()

    def get_one(self, id):
        """The record behind one well-formed id, through the view's own query, so what a role
        may not list it cannot open by its id either; anything else (a list, text, a number
        past 64 bits) is no record at all rather than a database error."""
        number = record_id(id)
        if number is None:
            return None
        return self.get_query().filter(self.model.id == number).one_or_none()

    @action(
        "delete",
        admin_lazy_gettext("Delete"),
        admin_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Flask-Admin's own, with the posted ids as the integers PostgreSQL compares."""
        return super().action_delete(as_ids(ids))

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        model = self.get_one(request.args.get("id"))
        if model is not None and not self.may_edit_record(model):
            abort(403)
        return super().edit_view()

    def delete_model(self, model) -> bool:
        if not self.may_edit_record(model):
            abort(403)
        return super().delete_model(model)

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        if hasattr(model, "version"):
            form.loaded_version.data = model.version

    def update_model(self, form, model) -> bool:
        """Refuse a save made on an older version, keeping what the user typed."""
        # Judged on the record as loaded, before the form writes into it; on_model_change
        # judges what the record becomes.
        if not self.may_edit_record(model):
            abort(403)
        loaded = str(form.loaded_version.data or "")
        loaded = int(loaded) if SMALL_NUMBER_RE.match(loaded) else 0
        if hasattr(model, "version") and loaded and loaded != model.version:
            self._explain_conflict(form, model, loaded)
            return False
        # Flask-Admin catches the save's exceptions itself and hands them to
        # handle_view_exception, which needs the form to explain a lost race (StaleDataError:
        # another save committed between our version check and our UPDATE).
        g.saving = (form, model.id, loaded)
        return super().update_model(form, model)

    def _explain_conflict(self, form, model, loaded: int) -> None:
        labels = self.column_labels or {}
        lines = changes_since(model, loaded, lambda field: field_label(field, labels))
        flash(
            _(
                "Iemand anders heeft dit record gewijzigd nadat u het opende. Uw invoer staat "
                "nog in het formulier; controleer de wijzigingen hieronder en sla opnieuw op "
                "om ze te overschrijven."
            )
            + " "
            + "; ".join(lines),
            "error",
        )
        # The next save is a deliberate choice made with the other changes in view.
        form.loaded_version.data = model.version
        form.loaded_version.raw_data = [str(model.version)]

    def handle_view_exception(self, exc) -> bool:
        if isinstance(exc, InvalidValue | ValidationError):
            flash(str(getattr(exc, "message", exc)), "error")
            return True
        if isinstance(exc, StaleDataError) and "saving" in g:
            db.session.rollback()
            form, model_id, loaded = g.saving
            self._explain_conflict(form, self.get_one(str(model_id)), loaded)
            return True
        return super().handle_view_exception(exc)

    @expose("/geschiedenis/")
    def history_view(self):
        """The change history of one record: field, old → new, who and when."""
        model = self.get_one(request.args.get("id", ""))
        if model is None:
            abort(404)
        changes = db.session.scalars(
            select(Change)
            .where(
                Change.record_type == model.__tablename__,
                Change.record_id == model.id,
                readable_changes(current_user.role),
            )
            .order_by(Change.changed_at.desc(), Change.id.desc())
        ).all()
        return self.render(
            "admin/history.html",
            model=model,
            changes=changes,
            field_label=lambda field: field_label(field, self.column_labels or {}),
            shown_value=shown_value,
            return_url=admin_helpers.get_redirect_target(),
        )
