"""Where Flask-Admin 2 is taught the registry's ways: its wording yields to ours, a view is built
when first used, uploads state their limit, forms carry CSRF and the model's rules, enums and
their filters go by value, and worklists are filters of their own."""

import threading
from enum import Enum

from flask import current_app, request
from flask_admin import babel as admin_babel
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form.widgets import Select2Widget
from flask_admin.model.form import converts
from flask_wtf.form import _Auto
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

from ..errors import error_response
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..security import SafeForm
from ..uploads import too_large
from ..validation import RULES, InvalidValue, check
from .labels import VALUE_LABELS
from .widgets import ChoiceRequired


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


class BuiltOnFirstUse:
    """Flask-Admin builds a model view's columns, forms, filters and actions in its constructor:
    for the admin's views 30 of the 47 ms an app takes to build, paid by every worker as it
    starts and by every test. Here a view is built the first time it answers a request, or
    when anything first reads what the build makes: a worker that only serves parents builds
    no admin form, and one that edits schools builds the school view alone."""

    # What Flask-Admin's init_actions and _refresh_cache set on a view (tests/test_admin.py
    # checks this against what a build adds): reading one of them builds the view.
    BUILT = frozenset(
        {
            "_actions",
            "_actions_data",
            "_list_columns",
            "_sortable_columns",
            "_details_columns",
            "_export_columns",
            "_form_ajax_refs",
            "_create_form_class",
            "_edit_form_class",
            "_delete_form_class",
            "_action_form_class",
            "_list_form_class",
            "_search_supported",
            "_column_choices_map",
            "_filters",
            "_filter_groups",
            "_filter_args",
            "_form_create_rules",
            "_form_edit_rules",
            # Set empty by Flask-Admin's SQLAlchemy view before its build fills them: held
            # back until then, so that reading one builds the view rather than finding it empty.
            *("_search_fields", "_filter_joins", "_sortable_joins"),
            # Set by that view's constructor from the list's columns.
            "_auto_joins",
        }
    )
    _building_lock = threading.RLock()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__.pop("_auto_joins", None)  # None, from scaffold_auto_joins below

    def init_actions(self) -> None:
        """Deferred to build()."""

    def _refresh_cache(self) -> None:
        """Deferred to build()."""
        state = self.__dict__
        state["_unbuilt"] = {name: state.pop(name) for name in self.BUILT if name in state}

    @property
    def is_built(self) -> bool:
        return "_unbuilt" not in self.__dict__

    def build(self) -> None:
        """Flask-Admin's own init_actions and _refresh_cache, once: a second thread that asks
        meanwhile waits for the first to finish."""
        if "_unbuilt" not in self.__dict__:
            return
        with self._building_lock:
            state = self.__dict__
            if "_unbuilt" not in state or "_building" in state:
                return  # built while this thread waited, or being built by this thread
            state["_building"] = True
            state.update(state["_unbuilt"])
            try:
                super().init_actions()
                super()._refresh_cache()
                self._auto_joins = self.column_select_related_list or self.scaffold_auto_joins()
            finally:
                del state["_building"]
            del state["_unbuilt"]

    def scaffold_auto_joins(self):
        if "_unbuilt" in self.__dict__ and "_building" not in self.__dict__:
            return None  # the constructor asks before the build: deferred to it
        return super().scaffold_auto_joins()

    def __getattr__(self, name: str):
        # Only called for an attribute the instance lacked a moment ago. Another thread may
        # have finished the build since, so look again after build() (which returns at once
        # when built); in the thread that is building, what it has not set yet is still
        # missing (Flask-Admin asks with hasattr) and object's own lookup says so.
        if name in self.BUILT:
            self.build()
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _handle_view(self, name, **kwargs):
        self.build()
        return super()._handle_view(name, **kwargs)


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


def tolerant(validate):
    """A filter's validate that says no instead of raising. Wrapping twice changes nothing: a
    view's filters are declared on its class, shared by every app a process builds (the tests
    build one per test), and a wrapper per app nested past Python's recursion limit."""
    if getattr(validate, "is_tolerant", False):
        return validate

    def checked(value) -> bool:
        try:
            return validate(value)
        except (LookupError, TypeError, OverflowError):
            return False

    checked.is_tolerant = True
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
