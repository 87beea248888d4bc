"""The partnership's own contact and how admission to SBO and SO works: one record, which
coordinators and beheerders edit and every other role reads."""

from ..i18n import lazy_gettext as _l
from ..models import CONTACT_FIELDS
from .access import EDITORS, EVERYONE
from .base import RegistryModelView
from .views import DATA_MENU

LABELS = {
    "name": _l("Naam"),
    "street": _l("Straat"),
    "house_number": _l("Huisnummer"),
    "postcode": _l("Postcode"),
    "place": _l("Plaats"),
    "phone": _l("Telefoon"),
    "email": _l("E-mail"),
    "website": _l("Website"),
    "admission": _l("Toelating tot SBO en SO"),
    "created_at": _l("Aangemaakt"),
    "updated_at": _l("Gewijzigd"),
}


class PartnershipView(RegistryModelView):
    """The one record its migration made: edited, never created or deleted."""

    read_roles = EVERYONE
    write_roles = EDITORS
    menu_category = DATA_MENU
    can_create = can_delete = False
    column_list = ["name", "place", "phone", "email", "website", "updated_at"]
    column_labels = LABELS
    form_columns = ["name", *CONTACT_FIELDS, "admission"]
    column_descriptions = {
        "name": _l(
            "Staat met het bezoekadres, de telefoon, het e-mailadres en de website op elke"
            " pagina van een SBO- of SO-school, op de startpagina en op de pagina Over. Wat"
            " leeg is, staat daar als 'nog niet ingevuld'."
        ),
        "admission": _l(
            "In een paar zinnen voor ouders: hoe zij of de school een toelaatbaarheidsverklaring"
            " voor SBO of SO aanvragen bij het samenwerkingsverband."
        ),
    }
    form_widget_args = {"admission": {"rows": 6}}
