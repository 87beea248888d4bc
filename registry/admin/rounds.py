"""Update rounds in the admin: the coordinators' dashboard (start, progress, close), each
board's round page where it confirms its schools, and the boards' contact persons."""

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts import AccountRefused, new_account, send_link
from ..db import db
from ..exports import FORMATS, Column, export_response
from ..history import noting
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Board, BoardContact, Role, User
from ..rounds import (
    OUTCOME_LABELS,
    ROUND_PARAMETER,
    RoundRefused,
    board_schools,
    close,
    completeness,
    confirm,
    gaps_per_school,
    latest_round,
    open_round,
    outcomes,
    progress,
    start,
    today,
)
from ..validation import BOARD_NUMBER_RE
from .access import EDITORS, EVERYONE, SMALL_NUMBER_RE, OwnBoardOnly, RoleGuard, as_ids, record_id
from .base import RegistryModelView
from .views import DATA_MENU, LABELS

PROGRESS_COLUMNS = [
    Column("board_number", _l("Bestuursnummer"), 14),
    Column("board", _l("Bestuur"), 40),
    Column("schools", _l("Scholen"), 10),
    Column("confirmed", _l("Bevestigd"), 11),
    Column("changed", _l("Gewijzigd en bevestigd"), 11),
    Column("waiting", _l("Nog niet"), 10),
    Column("gaps", _l("Open gaten"), 11),
    Column("reachable", _l("Te bereiken"), 11),
]


class RoundView(RoleGuard, BaseView):
    """Coordinators run rounds and follow them; a board's staff confirm their own schools."""

    read_roles = EVERYONE
    write_roles = EDITORS | {Role.BESTUUR}

    def _board(self, number: str) -> Board:
        """The board in the address, judged for this user: a board's staff only their own."""
        board = None
        if BOARD_NUMBER_RE.match(number):
            board = db.session.scalar(select(Board).filter_by(board_number=number))
        if board is None:
            abort(404)
        if current_user.role is Role.BESTUUR:
            if board.id != current_user.board_id:
                abort(403)
        elif current_user.role not in EDITORS:
            abort(403)
        return board

    @expose("/")
    def index(self):
        if current_user.role is Role.BESTUUR:
            return redirect(url_for(".board_page", number=current_user.board.board_number))
        rnd = open_round() or latest_round()
        return self.render(
            "admin/round_index.html",
            round=rnd,
            rows=progress(rnd) if rnd else [],
            fields=completeness(),
            may_run=current_user.role in EDITORS,
            today=today(),
        )

    @expose("/start", methods=("POST",))
    def start_view(self):
        if current_user.role not in EDITORS:
            abort(403)
        try:
            deadline = date.fromisoformat(request.form.get("deadline", ""))
        except ValueError:
            flash(_("Vul de uiterste datum in als dag, maand en jaar."), "error")
            return redirect(url_for(".index"))
        note = request.form.get("note", "")[:2000]
        try:
            started = start(deadline, note, current_user.email)
        except RoundRefused as refused:
            flash(str(refused), "error")
            return redirect(url_for(".index"))
        db.session.commit()
        flash(
            _(
                "%(round)s is gestart: %(mailed)d besturen gemaild.",
                round=started.round,
                mailed=len(started.mailed),
            ),
            "success",
        )
        if started.unreachable:
            flash(
                _(
                    "Niet te bereiken (geen contactpersoon of account): %(boards)s",
                    boards=", ".join(b.label for b in started.unreachable),
                ),
                "warning",
            )
        return redirect(url_for(".index"))

    @expose("/sluiten", methods=("POST",))
    def close_view(self):
        if current_user.role not in EDITORS:
            abort(403)
        rnd = open_round()
        if rnd is None:
            abort(400, _("Er loopt geen updateronde."))
        close(rnd, current_user.email)
        db.session.commit()
        flash(_("%(round)s is gesloten; de voortgang blijft bewaard.", round=rnd), "success")
        return redirect(url_for(".index"))

    @expose("/voortgang.<fmt>")
    def progress_download(self, fmt: str):
        if fmt not in FORMATS or current_user.role is Role.BESTUUR:
            abort(404)
        rnd = open_round() or latest_round()
        if rnd is None:
            abort(404)
        yes, no = _("ja"), _("nee")
        records = [
            {
                "board_number": row.board.board_number,
                "board": row.board.label,
                "schools": row.schools,
                "confirmed": row.confirmed,
                "changed": row.changed,
                "waiting": row.waiting,
                "gaps": row.gaps,
                "reachable": yes if row.reachable else no,
            }
            for row in progress(rnd)
        ]
        return export_response(fmt, PROGRESS_COLUMNS, records, str(rnd))

    @expose("/bestuur/<number>/")
    def board_page(self, number: str):
        board = self._board(number)
        rnd = open_round() or latest_round()
        schools = board_schools(board)
        return self.render(
            "admin/round_board.html",
            board=board,
            round=rnd,
            schools=schools,
            done=outcomes(rnd) if rnd else {},
            gaps=gaps_per_school(board),
            outcome_labels=OUTCOME_LABELS,
            parameter=ROUND_PARAMETER,
            may_confirm=rnd is not None and rnd.is_open and self.may_write(),
        )

    @expose("/bestuur/<number>/bevestigen", methods=("POST",))
    def confirm_view(self, number: str):
        """'Klopt' for one school, or for every school not yet confirmed: each as the page
        showed it (its version), so nothing is confirmed that the board did not see."""
        board = self._board(number)
        if not self.may_write():
            abort(403)
        rnd = open_round()
        if rnd is None:
            abort(400, _("Er loopt geen updateronde."))
        page = url_for(".board_page", number=board.board_number)
        schools = {s.id: s for s in board_schools(board)}
        if request.form.get("alles"):
            done = outcomes(rnd)
            chosen = [s for s in schools.values() if s.id not in done]
        else:
            school = schools.get(record_id(request.form.get("school")) or 0)
            if school is None:
                abort(404)  # not an open school of this board
            chosen = [school]
        stale = []
        for school in chosen:
            shown = request.form.get(f"v-{school.id}", "")
            if not (SMALL_NUMBER_RE.match(shown) and int(shown) == school.version):
                stale.append(school.name)
        if stale:
            flash(
                _(
                    "Niets bevestigd: %(schools)s is gewijzigd nadat u deze pagina opende."
                    " Bekijk de gegevens opnieuw.",
                    schools=", ".join(stale),
                ),
                "error",
            )
            return redirect(page)
        try:
            with noting(rnd.history_note):
                for school in chosen:
                    confirm(rnd, school, current_user.email)
                db.session.commit()
        except (IntegrityError, StaleDataError):
            # A second click, or a colleague, confirmed the same school at the same moment.
            db.session.rollback()
            flash(_("Deze school is zojuist al bevestigd; bekijk de pagina opnieuw."), "info")
            return redirect(page)
        flash(
            _("Bevestigd: %(schools)s.", schools=", ".join(s.name for s in chosen))
            if chosen
            else _("Alle scholen waren al bevestigd."),
            "success",
        )
        anchor = f"#school-{chosen[0].id}" if len(chosen) == 1 else ""
        return redirect(page + anchor)


class BoardContactView(OwnBoardOnly, RegistryModelView):
    """The people a board is asked through; a board's staff keep their own board's list."""

    menu_category = DATA_MENU
    read_roles = write_roles = EDITORS | {Role.BESTUUR}
    column_list = ["board", "name", "email", "position"]
    column_labels = {**LABELS, "name": _l("Naam"), "email": _l("E-mail"), "position": _l("Functie")}
    column_searchable_list = ["name", "email"]
    column_default_sort = "name"
    form_columns = ["board", "name", "email", "position"]
    foreign_board_message = _l("U kunt alleen de contactpersonen van uw eigen bestuur beheren.")

    def _own(self, query):
        if current_user.role is Role.BESTUUR:
            return query.filter(BoardContact.board_id == current_user.board_id)
        return query

    def get_query(self):
        return self._own(super().get_query())

    def get_count_query(self):
        return self._own(super().get_count_query())

    def on_model_change(self, form, model, is_created):
        self.check_own_board(model)

    def is_action_allowed(self, name: str) -> bool:
        if name == "invite":
            return current_user.role in EDITORS
        return super().is_action_allowed(name)

    @action(
        "invite",
        _l("Uitnodigen als bestuursaccount"),
        _l(
            "Elke gekozen contactpersoon zonder account krijgt een account voor zijn bestuur"
            " en een e-mail om een wachtwoord te kiezen. Doorgaan?"
        ),
    )
    def action_invite(self, ids):
        if current_user.role not in EDITORS:
            abort(403)
        contacts = db.session.scalars(
            select(BoardContact).where(BoardContact.id.in_(as_ids(ids)))
        ).all()
        for contact in contacts:
            if db.session.scalar(select(User.id).filter_by(email=contact.email.lower())):
                flash(_("%(email)s heeft al een account.", email=contact.email))
                continue
            try:
                user = new_account(
                    contact.email, Role.BESTUUR, contact.board.board_number, contact.name
                )
            except AccountRefused as refused:
                flash(str(refused), "error")
                continue
            send_link(user, invited_by=current_user.email)
            flash(_("Uitnodiging verstuurd aan %(email)s.", email=contact.email))
        db.session.commit()
