"""What every admin view shares: role checks on the server, CSRF, conflict detection, history."""

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import babel as admin_babel
from flask_admin import expose
from flask_admin import helpers as admin_helpers
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form.widgets import Select2Widget
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_login import current_user
from flask_wtf.form import _Auto
from jinja2 import pass_context
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..corrections import STATUS_LABELS
from ..db import db
from ..errors import error_response
from ..filters import TYPE_LABELS
from ..history import Change, day, readable_changes, readable_text, when
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import CORRECTION_MAIL_LABELS, ROLE_LABELS, LocationPrecision, Role
from ..redirects import local_path
from ..security import SafeForm
from ..uploads import too_large
from ..validation import RULES, InvalidValue, check
from .widgets import ChoiceRequired

EDITORS = {Role.BEHEERDER, Role.COORDINATOR}
EVERYONE = set(Role)

# A record id as our pages write it: a positive integer that fits PostgreSQL's bigint.
RECORD_ID_RE = re.compile(r"^[1-9][0-9]{0,17}$")
# Flask-Admin's numeric list parameters; a page past a million is never a real request.
SMALL_NUMBER_RE = re.compile(r"^[0-9]{1,6}$")
NUMERIC_PARAMETERS = {"page", "page_size", "sort", "desc", "offset", "limit"}
# Parameters our pages send as lists; every other query parameter is read as one value, and
# a second copy is refused: Flask-Admin reads the first `id` in one place and all of them in
# another. Of posted fields, these are the ones that name what a request acts on.
LIST_PARAMETERS = {"kolom", "bestand", "kies", "soort"}
SINGLE_FIELDS = {"id", "list_form_pk", "action", "ids", "network_id", "decision", "url"}


class _OurWordingWins(admin_babel.CustomDomain):
    """Flask-Babel merges the catalogues in order and the later one wins; Flask-Admin lists the
    app's own (translations_admin/) first, so its plain Dutch would never show."""

    @property
    def translation_directories(self) -> list[str]:
        directories = super().translation_directories
        admin = getattr(admin_babel.get_current_view(), "admin", None)
        ours = getattr(admin, "translations_path", None)
        if ours in directories:
            directories = [d for d in directories if d != ours] + [ours]
        return directories

    def get_translations_cache(self, ctx):
        """One cache per list of catalogues: a string looked up outside a view must not fix
        Flask-Admin's wording for every view after it."""
        return self.cache.setdefault(tuple(self.translation_directories), {})


# Flask-Admin translates through one module-level domain; its class is the only hook.
admin_babel.domain.__class__ = _OurWordingWins


def _is_local(target: str) -> bool:
    """The admin's return address (`url=`) is followed only if it is already a path on this
    site as a browser reads it. Flask-Admin's own check compared hosts after urljoin, which
    took 'http:evil.example' for a path here; browsers go to evil.example."""
    return local_path(target) == target


# Every view reads `url=` through helpers.get_redirect_target (list, details, edit, create,
# delete, actions; the history page too), and that asks this module-level function: the one
# place to judge them all. An address refused here falls back to the view's own list.
admin_helpers.is_safe_url = _is_local


# How the admin names the stored values of enumerations: in forms, lists, filters, details and
# the history alike (each view's column_choices and the converter below read this table).
VALUE_LABELS = {
    "location_precision": {
        LocationPrecision.BUILDING: _l("gebouw (precies)"),
        LocationPrecision.PC6: _l("postcode (bij benadering)"),
        LocationPrecision.PC4: _l("postcodegebied (ruw)"),
    },
    "school_type": TYPE_LABELS,
    "status": STATUS_LABELS,
    "role": ROLE_LABELS,
    "correction_mail": CORRECTION_MAIL_LABELS,
    "record_type": {
        "school": _l("school"),
        "board": _l("bestuur"),
        "municipality": _l("gemeente"),
        "network": _l("netwerk"),
        "support_area": _l("ondersteuningsgebied"),
        "correction_request": _l("correctie"),
        "user_account": _l("account"),
        "board_contact": _l("contactpersoon bestuur"),
        "parent_word": _l("woord van ouders"),
        "partnership": _l("samenwerkingsverband"),
    },
}


def choices(*fields: str) -> dict[str, list[tuple[str, object]]]:
    """Flask-Admin's column_choices for these enumerations, from VALUE_LABELS."""
    return {field: list(VALUE_LABELS[field].items()) for field in fields}


def field_label(field: str | None, labels) -> str:
    """A field of the history as a person names it ('phone' → 'telefoon', 'leerlingen
    2025-10-01' → 'leerlingen 1 okt 2025'); lower case, as it reads inside a table, unless the
    label is an abbreviation (BRIN, KvK-nummer)."""
    if not field:
        return ""
    label = str(labels.get(field, field))
    label = " ".join(readable_text(word) for word in label.split(" "))
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def shown_value(field: str | None, text: str | None) -> str:
    """A value the history stored as text, as the admin shows it: an enumeration by its label,
    a moment as '30 nov 2026 09:12'."""
    if text is None:
        return ""
    if field in VALUE_LABELS:
        return str(VALUE_LABELS[field].get(text, text))
    return readable_text(text)


def changes_since(record, version: int, name: Callable[[str | None], str]) -> list[str]:
    """What others changed in a record after the version a form showed, as the admin says it:
    'telefoon: “…” → “…” (who, when)', each field as `name` calls it."""
    changes = db.session.scalars(
        select(Change)
        .where(
            Change.record_type == record.__tablename__,
            Change.record_id == record.id,
            Change.record_version > version,
        )
        .order_by(Change.changed_at, Change.id)
    )
    return [
        _(
            "%(field)s: “%(old)s” → “%(new)s” (%(who)s, %(when)s)",
            field=name(c.field) or c.action,
            old=shown_value(c.field, c.old_value),
            new=shown_value(c.field, c.new_value),
            who=c.actor,
            when=when(c.changed_at),
        )
        for c in changes
    ]


# Dates and moments as people read them, in lists and details; yes/no in words, not icons;
# an enumeration by its label (Flask-Admin's own shows the member's name: "SO_VSO").
TYPE_FORMATTERS = {
    datetime: lambda _view, value, _name: when(value),
    date: lambda _view, value, _name: day(value),
    bool: lambda _view, value, _name: _("ja") if value else _("nee"),
    Enum: lambda _view, value, name: str(VALUE_LABELS.get(name, {}).get(value, value.value)),
}


def record_id(value) -> int | None:
    """A posted or linked record id as an integer, or None when it cannot be one."""
    text = str(value) if isinstance(value, str | int) else ""
    return int(text) if RECORD_ID_RE.match(text) else None


def as_ids(values) -> list[int]:
    """Row ids as posted by a list page (strings), as the integers PostgreSQL compares; one
    that cannot be a record id is refused rather than silently dropped."""
    ids = [record_id(v) for v in values]
    if None in ids:
        abort(400, _("Een van de gekozen regels heeft een ongeldig recordnummer."))
    return ids


def check_admin_parameters() -> None:
    """Refuse ambiguous or malformed parameters before any admin view reads them (400)."""
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    repeated += [name for name in SINGLE_FIELDS if len(request.form.getlist(name)) > 1]
    # A form may repeat the id of the address it posts to, but not name another record.
    if len(set(request.args.getlist("id") + request.form.getlist("id"))) > 1:
        repeated.append("id")
    for name in repeated:
        if name not in LIST_PARAMETERS:
            abort(400, _("De parameter %(name)s staat er meer dan eens in.", name=name[:50]))
    for name in ("id", "list_form_pk", "rowid"):
        for value in request.args.getlist(name) + request.form.getlist(name):
            if record_id(value) is None:
                abort(400, _("%(value)s is geen geldig recordnummer.", value=value[:50]))
    for name in NUMERIC_PARAMETERS & request.args.keys():
        if not SMALL_NUMBER_RE.match(request.args[name]):
            abort(400, _("Vul bij %(name)s een geheel getal in.", name=name))


class TakesUploads:
    """A view that takes a file: a request above MAX_CONTENT_LENGTH is refused by Werkzeug while
    the form is read, which the CSRF check does before the view's access check, so this page
    states the limit (`upload_limit()`, the view's own) and nothing else."""

    def upload_limit(self) -> int:
        raise NotImplementedError

    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        blueprint.register_error_handler(RequestEntityTooLarge, self._too_large)
        return blueprint

    def _too_large(self, _error):
        size, limit = request.content_length or 0, current_app.config["MAX_CONTENT_LENGTH"]
        if limit is None or size <= limit:
            # Too many parts or too long a field, not too large a file.
            return error_response(413, _("Het verzoek is te groot: te veel of te lange velden."))
        return error_response(413, too_large(size, self.upload_limit()))


class RoleGuard:
    """Who may open a view (read_roles) and who may change through it (write_roles).

    Flask-Admin calls is_accessible before every endpoint of a view (list, edit, actions,
    AJAX), so the check holds on the server whatever the interface shows.
    """

    read_roles: set[Role] = EVERYONE
    write_roles: set[Role] = EDITORS

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.read_roles

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is None:
            check_admin_parameters()
        return refused

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def may_write(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.write_roles

    def render(self, template, **kwargs):
        """Every admin page shows its moments one way: '30 nov 2026 09:12'."""
        kwargs.setdefault("when", when)
        return super().render(template, **kwargs)


def rule(attribute: str):
    """A WTForms validator for the attribute's rule in validation.RULES (the model's message)."""

    def validate(_form, field):
        if field.data in (None, ""):
            return
        try:
            check(attribute, field.data)
        except InvalidValue as error:
            raise ValidationError(str(error.message)) from error

    return validate


class AdminForm(SafeForm):
    """Flask-WTF's form (its CSRF token is the one CSRFProtect checks on every POST) plus what
    Flask-Admin's own BaseForm adds: the record being edited, which its Unique check needs."""

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class RegistryConverter(AdminModelConverter):
    """Form fields from the model's columns, with the registry's format rules and enums."""

    def convert(self, model, mapper, name, prop, field_args, hidden_pk):
        """A field whose attribute has a rule in validation.RULES checks it next to the field,
        so no view lists rules and a form can never miss one its model has."""
        if name in RULES:
            field_args = dict(field_args or {})
            field_args["validators"] = [*field_args.get("validators", ()), rule(name)]
        field = super().convert(model, mapper, name, prop, field_args, hidden_pk)
        widget = getattr(getattr(field, "field_class", None), "widget", None)
        if isinstance(widget, Select2Widget):
            # A required select opens with an empty choice, as HTML wants.
            field.kwargs["widget"] = ChoiceRequired(multiple=widget.multiple)
        return field

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra):
        """Our enums store their values ("SO+VSO", "building"); Flask-Admin's own converter
        compares the stored member by its name, so the current choice would not show."""
        field = super().convert_enum(column, field_args, **extra)
        field.kwargs["coerce"] = lambda v: v.value if isinstance(v, Enum) else str(v)
        field.kwargs["blank_text"] = "—"  # an empty option is not valid HTML
        labels = VALUE_LABELS.get(column.name, {})
        field.kwargs["choices"] = [(v, labels.get(v, v)) for v, _shown in field.kwargs["choices"]]
        return field


class _ByValue:
    """Our enums are stored, offered and linked by value (`?flt0_0=open`); Flask-Admin 2.2's
    enum filters offer the values but look the member up by name, so every choice in the
    filter menu gave "Ongeldige filterwaarde". Without an enum class they parse the text as
    their plain kind does (one value, or a comma list); the member is then found by value."""

    def _on_column_resolved(self) -> None:
        super()._on_column_resolved()
        self.members, self.enum_class = self.enum_class, None

    def clean(self, value):
        cleaned = super().clean(value)
        if isinstance(cleaned, list):
            return [self.members(v) for v in cleaned]
        return self.members(cleaned)


class _EnumEqual(_ByValue, sqla_filters.EnumEqualFilter):
    pass


class _EnumNotEqual(_ByValue, sqla_filters.EnumFilterNotEqual):
    pass


class _EnumInList(_ByValue, sqla_filters.EnumFilterInList):
    pass


class _EnumNotInList(_ByValue, sqla_filters.EnumFilterNotInList):
    pass


class RegistryFilterConverter(sqla_filters.FilterConverter):
    enum = (_EnumEqual, _EnumNotEqual, sqla_filters.EnumFilterEmpty, _EnumInList, _EnumNotInList)


def _tolerant(validate):
    def checked(value) -> bool:
        try:
            return validate(value)
        except (LookupError, TypeError, OverflowError):
            return False

    return checked


class WorklistFilter(BaseSQLAFilter):
    """The records of one data-quality gap (quality.SCHOOL_GAPS, BOARD_GAPS), under the gap's
    own parameter, so the dashboard's and /over's links are readable and stay valid."""

    def __init__(self, gap, column) -> None:
        super().__init__(column, gap.filter_name, options=[("ja", _l("ja"))])
        self.gap = gap
        self.parameter = gap.key

    def validate(self, value) -> bool:
        return value == "ja"

    def apply(self, query, value, alias=None):
        return query.filter(self.gap.where())

    def operation(self):
        return _l("is")


class RegistryModelView(RoleGuard, ModelView):
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
            flt.validate = _tolerant(flt.validate)
        return filters

    def worklists(self) -> list:
        """The gaps whose worklist filters the list is under (quality.SCHOOL_GAPS, BOARD_GAPS)."""
        return [
            self._filters[index].gap
            for index, *_rest in self._get_list_filter_args() or ()
            if isinstance(self._filters[index], WorklistFilter)
        ]

    def render(self, template, **kwargs):
        """A list under a worklist says on every row what is missing (column 'Ontbreekt')."""
        if "list_columns" in kwargs and (gaps := self.worklists()):
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


class OwnBoardOnly:
    """For views of records that belong to a board (`model.board`): a bestuur account edits only
    its own board's, judged on the record as loaded and on what the save makes of it."""

    foreign_board_message = _l("U kunt alleen de gegevens van uw eigen bestuur beheren.")

    def may_edit_record(self, model) -> bool:
        if current_user.role is Role.BESTUUR:
            return model.board_id == current_user.board_id
        return super().may_edit_record(model)

    def check_own_board(self, model) -> None:
        # The relationship, not board_id: the foreign key is only synced at flush.
        if (
            current_user.role is Role.BESTUUR
            and getattr(model.board, "id", None) != current_user.board_id
        ):
            raise ValidationError(str(self.foreign_board_message))
