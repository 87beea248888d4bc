"""The school screens: editing with support and pupils inline, and batch changes."""

from datetime import date

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from sqlalchemy import and_, inspect, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict
from wtforms import FloatField
from wtforms.validators import ValidationError

from .. import geo
from ..db import db
from ..exports import ExportError, choose_columns, export_response
from ..fields import stored_values
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Board, LocationPrecision, Network, PupilCount, Role, School, SchoolSupport
from ..quality import BOARD_PARAMETER, SCHOOL_GAPS
from ..records import DEFAULT_EXPORT, SCHOOL_COLUMNS, school_links, school_values
from ..search import BadParameter, SchoolRow, SchoolSearch, conditions, latest_pupils
from ..text import place_name
from ..validation import BOARD_NUMBER_RE
from .access import EDITORS, OwnBoardOnly, as_ids, record_id
from .adaptations import WorklistFilter
from .base import RegistryModelView
from .corrections import CarriesOutCorrections
from .labels import choices
from .views import LABELS

# The admin's list has no "near a postcode": a distance column would always be empty.
ADMIN_HIDDEN_COLUMNS = {"distance_km"}


class BoardNumberFilter(BaseSQLAFilter):
    """The schools of one board, by its DUO number: what a board's worklist links add."""

    def __init__(self) -> None:
        super().__init__(School.board_id, _l("Bestuursnummer"))
        self.parameter = BOARD_PARAMETER

    def validate(self, value) -> bool:
        return bool(BOARD_NUMBER_RE.match(value))

    def apply(self, query, value, alias=None):
        return query.filter(School.board.has(Board.board_number == value))

    def operation(self):
        return _l("is")


class ClosedSchoolsFilter(BaseSQLAFilter):
    """Closed schools: out of the list, as the directory leaves them out, unless asked for."""

    CHOICES = {"ook": _l("ook"), "alleen": _l("alleen"), "nee": _l("nee")}

    def __init__(self) -> None:
        super().__init__(School.closed_on, _l("Gesloten scholen"), options=self.CHOICES.items())
        self.parameter = "gesloten"

    def validate(self, value) -> bool:
        return value in self.CHOICES

    def apply(self, query, value, alias=None):
        if value == "ook":
            return query
        return query.filter(School.is_open if value == "nee" else ~School.is_open)

    def operation(self):
        return _l("tonen")


class SchoolView(OwnBoardOnly, CarriesOutCorrections, RegistryModelView):
    write_roles = EDITORS | {Role.BESTUUR}
    foreign_board_message = _l("U kunt alleen scholen van uw eigen bestuur beheren.")
    can_delete = False  # schools close (closed_on) and keep their history
    column_list = [
        "vestigingscode",
        "name",
        "school_type",
        "place",
        "municipality",
        "board",
        "network",
        "verified_on",
    ]  # closed schools are a filter ("Gesloten scholen"); their date is on the record (1280 px)
    # Filters on a related record's name carry the relation's Dutch label, not the path to it.
    column_labels = {
        **LABELS,
        "municipality.name": _l("Gemeente"),
        "board.name": _l("Bestuur"),
        "network.name": _l("Netwerk"),
        "support_offers.support_area.name": _l("Ondersteuningsgebied"),
    }
    column_filters = [
        "municipality.name",
        "school_type",
        "board.name",
        "network.name",
        "denomination",
        "closed_on",
        "verified_on",
        "support_offers.support_area.name",
        *(WorklistFilter(gap, School.id) for gap in SCHOOL_GAPS),
        BoardNumberFilter(),
        ClosedSchoolsFilter(),
    ]
    column_choices = choices("location_precision", "school_type")
    column_default_sort = "name"
    list_template = "admin/school_list.html"
    create_template = "admin/school_create.html"
    edit_template = "admin/school_edit.html"
    column_formatters = {
        "board": lambda _v, _c, m, _n: m.board.label,
        "place": lambda _v, _c, m, _n: place_name(m.place),
    }
    form_columns = [
        "vestigingscode",
        "brin",
        "name",
        "school_type",
        "denomination",
        "street",
        "house_number",
        "postcode",
        "place",
        "municipality",
        "board",
        "network",
        "phone",
        "email",
        "website",
        "latitude",
        "longitude",
        "location_precision",
        "opened_on",
        "closed_on",
        "support_profile_url",
        "support_profile_adopted_on",
        "verified_on",
    ]
    # SQLAlchemy 2 maps float to Double, which Flask-Admin's converter does not know.
    form_overrides = {"latitude": FloatField, "longitude": FloatField}
    inline_models = [
        (
            SchoolSupport,
            {"form_columns": ["id", "support_area", "level", "note"], "column_labels": LABELS},
        ),
        (PupilCount, {"form_columns": ["id", "reference_date", "pupils"], "column_labels": LABELS}),
    ]

    @property
    def can_create(self) -> bool:
        return current_user.is_authenticated and current_user.role in EDITORS

    def init_search(self) -> bool:
        """The list searches as the directory does (_apply_search), not column by column."""
        return True

    def search_placeholder(self) -> str:
        return _("Naam, plaats, straat, postcode, bestuur of gemeente")

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """The directory's query builder reads the words (registry/search.py), so the same
        words find the same schools; whether closed ones count is ClosedSchoolsFilter's part."""
        try:
            reading = SchoolSearch.from_args(MultiDict({"q": search}))
        except BadParameter as error:
            abort(400, str(error.message))
        # conditions() always holds the open-schools clause; the filter decides that here.
        open_only = School.is_open.expression
        clauses = [
            c for c in conditions(reading) if not getattr(c, "expression", c).compare(open_only)
        ]
        if reading.postcode and not reading.q:
            # A postcode typed in the directory sorts by distance; a list has no distance.
            clauses.append(School.postcode.startswith(reading.postcode))
        where = and_(True, *clauses)
        if count_query is not None:
            count_query = count_query.filter(where)
        return query.filter(where), count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, **kwargs):
        """Without a choice for closed schools, the list leaves them out, as the directory does."""
        filters = list(filters or ())
        if not any(isinstance(self._filters[index], ClosedSchoolsFilter) for index, *_ in filters):
            index = next(
                i for i, f in enumerate(self._filters) if isinstance(f, ClosedSchoolsFilter)
            )
            filters.append((index, self.get_filter_arg(index, self._filters[index]), "nee"))
        return super().get_list(page, sort_column, sort_desc, search, filters, execute, **kwargs)

    def on_model_change(self, form, model, is_created):
        self.check_own_board(model)
        if model.vestigingscode and model.brin and not model.vestigingscode.startswith(model.brin):
            raise ValidationError(_("De vestigingscode begint met het BRIN-nummer."))
        if (model.latitude is None) != (model.longitude is None):
            raise ValidationError(_("Vul breedte- én lengtegraad in, of geen van beide."))
        if model.latitude is not None and model.location_precision is None:
            raise ValidationError(_("Geef aan hoe precies de locatie is."))
        g.placement_note = self._place(model, is_created)

    def after_model_change(self, form, model, is_created):
        # Said once the save is committed: a refused save moved nothing.
        if note := g.pop("placement_note", None):
            flash(*note)

    @staticmethod
    def _place(model: School, is_created: bool) -> tuple[str, str] | None:
        """Place the school by its postcode as the DUO import does, when the postcode is new or
        the school has no point; a point placed by hand at the building stays. Returns the
        message that says what became of the point, if it changed or the new postcode has none.
        """
        attrs = inspect(model).attrs
        postcode_moved = is_created or attrs.postcode.history.has_changes()
        before = tuple(
            next(iter(attrs[name].history.deleted or attrs[name].history.unchanged), None)
            for name in ("latitude", "longitude")
        )
        if not geo.follows_postcode(model):
            if postcode_moved and not is_created and before == (model.latitude, model.longitude):
                return _(
                    "De school staat met de hand op het gebouw en is niet verplaatst; "
                    "controleer op de kaart of dat bij het nieuwe adres past."
                ), "warning"
            return None
        if model.latitude is not None and not postcode_moved:
            return None
        placed = geo.place_by_postcode(model)
        moved = before != (model.latitude, model.longitude)
        if placed is None:
            if not (postcode_moved or moved):
                return None
            if model.postcode:
                unknown = _(
                    "Waar postcode %(postcode)s ligt, weten we niet, dus de school heeft geen plek"
                    " op de kaart en geen afstand.",
                    postcode=model.postcode,
                )
            else:
                unknown = _(
                    "Zonder postcode heeft de school geen plek op de kaart en geen afstand."
                )
            return unknown + " " + _("Klik op de kaart om haar op het gebouw te zetten."), "warning"
        if not moved:
            return None
        if placed.precision is LocationPrecision.PC6:
            return _(
                "De school staat nu op de kaart op het midden van postcode %(postcode)s.",
                postcode=placed.postcode,
            ), "info"
        area = _(
            "De school staat nu op de kaart op het midden van postcodegebied %(area)s.",
            area=placed.area,
        )
        # The same words as the directory uses beside its map (directory/_map_origin.html).
        unknown = _(
            "Waar postcode %(postcode)s precies ligt, weten we niet.", postcode=placed.postcode
        )
        return area + " " + unknown, "info"

    def _selected(self, ids) -> list[School]:
        schools = db.session.scalars(select(School).where(School.id.in_(as_ids(ids)))).all()
        return [s for s in schools if self.may_edit_record(s)]

    @action("verified", _l("Markeer als gecontroleerd (vandaag)"))
    def action_verified(self, ids):
        return redirect(url_for(".batch_view", kind="verified", ids=",".join(ids)))

    @action("assign_network", _l("Netwerk toewijzen"))
    def action_assign_network(self, ids):
        return redirect(url_for(".batch_view", kind="assign_network", ids=",".join(ids)))

    @expose("/bulk/<kind>/", methods=("GET", "POST"))
    def batch_view(self, kind: str):
        """Confirm and apply a batch change to the chosen schools or to the whole filtered list."""
        if kind not in ("verified", "assign_network"):
            abort(404)
        if not self.may_write():
            abort(403)
        if request.values.get("filter") == "all":
            schools = [s for s in self.filtered_schools() if self.may_edit_record(s)]
        else:
            ids = request.values.get("ids", "")
            schools = self._selected(ids.split(",") if ids else [])
        networks = db.session.scalars(select(Network).order_by(Network.name)).all()
        if request.method == "POST":
            if kind == "verified":
                for school in schools:
                    school.verified_on = date.today()  # noqa: DTZ011 (a calendar day)
                message = _("%(n)d scholen gemarkeerd als gecontroleerd.", n=len(schools))
            else:
                network_id = record_id(request.form.get("network_id", ""))
                network = db.session.get(Network, network_id) if network_id else None
                if network is None:
                    flash(_("Kies een netwerk."), "error")
                    return self._render_batch(kind, schools, networks), 400
                for school in schools:
                    school.network = network
                message = _(
                    "%(n)d scholen toegewezen aan netwerk %(network)s.",
                    n=len(schools),
                    network=network.name,
                )
            db.session.commit()
            flash(message)
            return redirect(url_for(".index_view"))
        return self._render_batch(kind, schools, networks)

    def _render_batch(self, kind, schools, networks):
        return self.render(
            "admin/batch.html",
            kind=kind,
            schools=schools,
            networks=networks,
            ids=",".join(str(s.id) for s in schools),
        )

    @expose("/export.<any(csv, 'excel.csv', xlsx):fmt>")
    def export_view(self, fmt: str):
        """The list under its current search and filters, as a file (every role may read)."""
        latest = latest_pupils()
        pupils = {
            school_id: (count, reference)
            for school_id, count, reference in db.session.execute(select(latest)).all()
        }
        link = school_links(external=True)
        rows = (
            school_values(
                SchoolRow(stored_values(school), *pupils.get(school.id, (None, None)), None), link
            )
            for school in self.filtered_schools()
        )
        try:
            columns = choose_columns(SCHOOL_COLUMNS, request.args.getlist("kolom"), DEFAULT_EXPORT)
        except ExportError as error:
            abort(400, str(error.args[0]))
        return export_response(fmt, columns, rows, "scholen-beheer")

    @expose("/download/")
    def download_view(self):
        """Choose the columns and the format of the list under its current search and filters."""
        current = [(key, value) for key, value in request.args.items(multi=True) if key != "kolom"]
        return self.render(
            "admin/school_download.html",
            current=current,
            columns=[c for key, c in SCHOOL_COLUMNS.items() if key not in ADMIN_HIDDEN_COLUMNS],
            default=DEFAULT_EXPORT,
        )

    def filtered_schools(self) -> list[School]:
        """Every school the list shows under its current search and filters (all pages)."""
        view_args = self._get_list_extra_args()
        _count, query = self.get_list(
            0,
            None,
            None,
            view_args.search,
            self._get_list_filter_args(),
            execute=False,
            page_size=0,
        )
        return list(
            query.options(
                joinedload(School.municipality),
                joinedload(School.board),
                joinedload(School.network),
            ).all()
        )
