"""The admin for coordinators (Flask-Admin), built per app inside the factory."""

from pathlib import Path

from flask import Flask, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.menu import MenuDivider, MenuLink, MenuView
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from sqlalchemy import func, select

from .. import quality
from ..db import db
from ..groupings import GROUPINGS, group_totals
from ..history import Change
from ..i18n import lazy_gettext as _l
from ..models import (
    Board,
    BoardContact,
    CorrectionRequest,
    CorrectionStatus,
    ImportLog,
    Municipality,
    Network,
    ParentWord,
    Partnership,
    School,
    SupportArea,
    User,
)
from ..rounds import open_round
from .access import RoleGuard
from .accounts import UserView
from .corrections import CorrectionView
from .duo import DuoImportView, ImportLogView
from .partnership import PartnershipView
from .rounds import BoardContactView, RoundView
from .schools import SchoolView
from .support.view import SupportView
from .views import (
    DATA_MENU,
    BoardView,
    ChangeView,
    MunicipalityView,
    NetworkView,
    ParentWordView,
    SupportAreaView,
)

# The correction list's filter on status "open": what the menu and the dashboard open.
OPEN_CORRECTIONS = {"flt0_0": CorrectionStatus.OPEN.value}
# The menu of the pages outside the admin that staff look for there.
SITE_MENU = _l("Overzichten")


class SiteLink(MenuLink):
    """A menu item leading out of the admin, to a page that needs arguments in its address."""

    def __init__(self, name, endpoint: str, **values):
        super().__init__(name, endpoint=endpoint)
        self.values = values

    def get_url(self) -> str:
        return url_for(self.endpoint, **self.values)


class OpensFiltered(MenuView):
    """A view's menu item that opens its list filtered (Correcties: the open ones)."""

    def __init__(self, name, view, **filters):
        super().__init__(name, view)
        self.filters = filters

    def get_url(self) -> str:
        return url_for(f"{self._view.endpoint}.index_view", **self.filters)


def site_links() -> list[MenuLink]:
    """The overviews and the public site, from the admin's menu: staff look for the overviews
    there, and they live on the public site."""
    return [
        *(SiteLink(g.per_label, "overviews.overview", group=key) for key, g in GROUPINGS.items()),
        SiteLink(_l("Alle overzichten en downloads"), "overviews.index"),
        MenuDivider(),
        SiteLink(_l("De openbare site"), "directory.index"),
    ]


class DashboardView(RoleGuard, AdminIndexView):
    """Counts, open corrections and the data-quality gaps, on the admin's first page."""

    @expose("/")
    def index(self):
        def per(facet):
            return [(m.label, n, pupils) for m, n, pupils in group_totals(GROUPINGS[facet]) if n]

        open_corrections = db.session.scalar(
            select(func.count(CorrectionRequest.id)).where(
                CorrectionRequest.status == CorrectionStatus.OPEN
            )
        )
        return self.render(
            "admin/dashboard.html",
            municipalities=per("gemeente"),
            networks=per("netwerk"),
            boards=per("bestuur"),
            open_corrections=open_corrections,
            open_corrections_filter=OPEN_CORRECTIONS,
            may_handle=current_user.role in CorrectionView.write_roles,
            update_round=open_round(),
            gaps=quality.data_gaps(),
        )


def init_app(app: Flask) -> Admin:
    """A new Admin per app: a module-level one would carry views over into a second app."""
    admin = Admin(
        app,
        name=str(_l("Register SWV PO 22.03")),
        url="/admin",
        theme=Bootstrap4Theme(fluid=True),
        # Not "Overzicht": the staff overviews are in the menu too.
        index_view=DashboardView(name=_l("Start"), url="/admin"),
        translations_path=str(Path(__file__).parent.parent / "translations_admin"),
    )
    admin.add_view(SchoolView(School, db, name=_l("Scholen")))
    admin.add_view(BoardView(Board, db, name=_l("Besturen")))
    admin.add_view(
        BoardContactView(
            BoardContact, db, name=_l("Contactpersonen besturen"), endpoint="board_contact"
        )
    )
    admin.add_view(MunicipalityView(Municipality, db, name=_l("Gemeenten")))
    admin.add_view(NetworkView(Network, db, name=_l("Netwerken")))
    admin.add_view(SupportAreaView(SupportArea, db, name=_l("Ondersteuningsgebieden")))
    admin.add_view(PartnershipView(Partnership, db, name=_l("Samenwerkingsverband")))
    admin.add_view(
        ParentWordView(ParentWord, db, name=_l("Woorden van ouders"), endpoint="parent_word")
    )
    admin.add_view(SupportView(name=_l("Ondersteuning"), endpoint="support", url="ondersteuning"))
    corrections = CorrectionView(
        CorrectionRequest, db, name=_l("Correcties"), endpoint="correction"
    )
    admin.add_view(corrections)
    menu, item = admin.menu(), corrections.menu
    menu[menu.index(item)] = OpensFiltered(item.name, corrections, **OPEN_CORRECTIONS)
    # Under Gegevens: the menu bar fits a 1280 px screen on one line. The dashboard points to
    # a running round, and every mail of a round links to the board's page.
    admin.add_view(
        RoundView(name=_l("Updateronde"), endpoint="rounds", url="ronde", category=DATA_MENU)
    )
    admin.add_view(ChangeView(Change, db, name=_l("Wijzigingen"), endpoint="change"))
    admin.add_view(
        DuoImportView(name=_l("Vergelijken en bijwerken"), endpoint="duo", category=_l("DUO"))
    )
    admin.add_view(
        ImportLogView(
            ImportLog, db, name=_l("Importlog"), endpoint="duo_import", category=_l("DUO")
        )
    )
    admin.add_view(UserView(User, db, name=_l("Accounts"), endpoint="user"))
    for link in site_links():
        admin.add_menu_item(link, target_category=SITE_MENU)
    return admin
