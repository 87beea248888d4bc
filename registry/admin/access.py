"""Who may open and change what in the admin, judged on the server for every request: roles per
view, a board's own records, and parameters that could name something other than they seem."""

import re

from flask import abort, redirect, request, url_for
from flask_admin import helpers as admin_helpers
from flask_login import current_user
from wtforms.validators import ValidationError

from ..history import when
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Role
from ..redirects import local_path

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


def _is_local(target: str) -> bool:
    """The admin's return address (`url=`) is followed only if it is already a path on this
    site as a browser reads it. Flask-Admin's own check compared hosts after urljoin, which
    took 'http:evil.example' for a path here; browsers go to evil.example."""
    return local_path(target) == target


# Every view reads `url=` through helpers.get_redirect_target (list, details, edit, create,
# delete, actions; the history page too), and that asks this module-level function: the one
# place to judge them all. An address refused here falls back to the view's own list.
admin_helpers.is_safe_url = _is_local


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
