"""The coordinators' screens for boards, municipalities, networks, support, accounts and the
change log; schools have their own module."""

from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from ..db import db
from ..exports import Column, export_response
from ..fields import GROUP_FIELDS, SCHOOL_FIELDS
from ..history import Change, readable_changes, when
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import CONTACT_FIELDS, Board, Role, School
from ..quality import BOARD_GAPS
from .access import EVERYONE
from .adaptations import WorklistFilter
from .base import RegistryModelView
from .labels import choices, field_label, shown_value

# The public fields of schools and groups are labelled in the fields tables; the admin adds its
# own columns.
LABELS = {
    **{f.source: f.label for f in SCHOOL_FIELDS if f.source and "." not in f.source},
    **{f.source: f.label for group in GROUP_FIELDS.values() for f in group},
    "brin": _l("BRIN"),
    "municipality": _l("Gemeente"),
    "board": _l("Bestuur"),
    "network": _l("Netwerk"),
    "opened_on": _l("Geopend op"),
    "support_profile_url": _l("Schoolondersteuningsprofiel"),
    "support_profile_adopted_on": _l("Profiel vastgesteld op"),
    "verified_on": _l("Laatst gecontroleerd"),
    "support_offers": _l("Ondersteuning"),
    "pupil_counts": _l("Leerlingen"),
    "other_names": _l("Andere namen"),
    "contact_name": _l("Contactpersoon"),
    "contact_email": _l("E-mail contactpersoon"),
    "contact_phone": _l("Telefoon contactpersoon"),
    "code": _l("Code"),
    "name_en": _l("Naam (Engels)"),
    "position": _l("Volgorde"),
    "support_area": _l("Gebied"),
    "level": _l("Niveau"),
    "note": _l("Toelichting"),
    "reference_date": _l("Teldatum"),
    "pupils": _l("Leerlingen"),
    "role": _l("Rol"),
    "active": _l("Actief"),
    "last_login_at": _l("Laatst ingelogd"),
    "second_factor_since": _l("Tweede stap sinds"),
    "correction_mail": _l("Mail over correcties"),
    "digest_sent_at": _l("Laatste samenvatting verstuurd"),
    "language": _l("Taal"),
    "special_education": _l("Speciaal onderwijs"),
    "cluster": _l("Cluster"),
    "changed_at": _l("Tijdstip"),
    "actor": _l("Door"),
    "record_type": _l("Soort record"),
    "record_label": _l("Record"),
    "action": _l("Actie"),
    "field": _l("Veld"),
    "old_value": _l("Oud"),
    "new_value": _l("Nieuw"),
    "created_at": _l("Ingediend"),
    "proposed_value": _l("Voorstel"),
    "contact": _l("Contact"),
    "status": _l("Status"),
    "school": _l("School"),
    "updated_at": _l("Gewijzigd"),
    "handled_at": _l("Behandeld op"),
    "handled_by": _l("Behandeld door"),
    "reason": _l("Reden"),
    "applied_value": _l("Overgenomen als"),
    "proposed_street": _l("Voorgestelde straat"),
    "proposed_house_number": _l("Voorgesteld huisnummer"),
    "proposed_postcode": _l("Voorgestelde postcode"),
    "proposed_place": _l("Voorgestelde plaats"),
}


# The reference data coordinators edit now and then, in one menu.
DATA_MENU = _l("Gegevens")


class BoardView(RegistryModelView):
    menu_category = DATA_MENU
    column_list = ["board_number", "name", "kvk_number", "place", "dissolved_on"]
    column_labels = LABELS
    column_searchable_list = ["board_number", "name", "other_names", "kvk_number"]
    column_filters = ["dissolved_on", *(WorklistFilter(gap, Board.id) for gap in BOARD_GAPS)]
    column_default_sort = "name"
    form_columns = [
        "board_number",
        "name",
        "other_names",
        "kvk_number",
        *CONTACT_FIELDS,
        "dissolved_on",
    ]

    def on_model_delete(self, model):
        count = db.session.scalar(select(func.count(School.id)).where(School.board_id == model.id))
        if count:
            raise ValidationError(
                _(
                    "%(board)s heeft nog %(n)d scholen. Verhuis of sluit die eerst; een bestuur "
                    "dat stopt, krijgt een datum bij 'Opgeheven op'.",
                    board=model.name,
                    n=count,
                )
            )


class MunicipalityView(RegistryModelView):
    menu_category = DATA_MENU
    can_delete = False
    column_list = ["cbs_code", "name", "province"]
    column_labels = LABELS
    form_columns = ["cbs_code", "name", "slug", "province"]


class NetworkView(RegistryModelView):
    menu_category = DATA_MENU
    column_list = ["name", "confirmed", "contact_name", "contact_email"]
    column_labels = LABELS
    column_filters = ["confirmed"]
    form_columns = [
        "name",
        "slug",
        "description",
        "contact_name",
        "contact_email",
        "contact_phone",
        "confirmed",
    ]

    def on_model_delete(self, model):
        if model.schools:
            raise ValidationError(
                _(
                    "Netwerk %(name)s heeft nog %(n)d scholen;"
                    " wijs ze eerst een ander netwerk toe.",
                    name=model.name,
                    n=len(model.schools),
                )
            )


class SupportAreaView(RegistryModelView):
    menu_category = DATA_MENU
    column_list = ["position", "name", "name_en", "code"]
    column_labels = LABELS
    column_default_sort = "position"
    form_columns = ["code", "name", "name_en", "description", "position"]


class ParentWordView(RegistryModelView):
    """The words parents type for support, and the area each points at (parent_words.py)."""

    menu_category = DATA_MENU
    column_list = ["word", "support_area"]
    column_labels = {**LABELS, "word": _l("Woord van ouders")}
    column_searchable_list = ["word"]
    column_default_sort = "word"
    form_columns = ["word", "support_area"]


class ChangeView(RegistryModelView):
    """The global change log: read-only, filterable, downloadable."""

    read_roles = EVERYONE - {Role.BESTUUR}
    can_create = can_edit = can_delete = False
    can_view_details = False
    column_list = [
        "changed_at",
        "actor",
        "record_type",
        "record_label",
        "action",
        "field",
        "old_value",
        "new_value",
        "note",
    ]
    column_labels = LABELS
    column_choices = choices("record_type")
    column_formatters = {
        key: lambda view, _c, m, name: view.shown(m)[name]
        for key in ("changed_at", "field", "old_value", "new_value")
    }
    column_default_sort = ("changed_at", True)
    column_filters = ["record_type", "actor", "changed_at", "field", "action"]
    column_searchable_list = ["record_label", "old_value", "new_value"]
    list_template = "admin/change_list.html"

    def _visible(self, query):
        return query.filter(readable_changes(current_user.role))

    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def shown(self, change: Change) -> dict:
        """One change as the screen's columns show it: the file says what the screen says."""
        return {
            "changed_at": when(change.changed_at),
            "actor": change.actor,
            "record_type": shown_value("record_type", change.record_type),
            "record_label": change.record_label,
            "action": change.action,
            "field": field_label(change.field, LABELS),
            "old_value": shown_value(change.field, change.old_value),
            "new_value": shown_value(change.field, change.new_value),
            "note": change.note or "",
        }

    @expose("/export.csv")
    def export_csv(self):
        """The list under its search and filters, with the screen's headers and values, for
        a Dutch spreadsheet (';', byte-order mark)."""
        view_args = self._get_list_extra_args()
        _count, query = self.get_list(
            0,
            "changed_at",
            True,
            view_args.search,
            self._get_list_filter_args(),
            execute=False,
            page_size=0,
        )
        columns = [Column(key, LABELS[key]) for key in self.column_list]
        statement = query.statement

        def rows():
            # Run the query while the response streams, inside the streaming context.
            for change in db.session.scalars(statement):
                yield self.shown(change)

        return export_response("excel.csv", columns, rows(), "wijzigingen")
