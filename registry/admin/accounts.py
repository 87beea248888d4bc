"""Accounts, for beheerders: invited by mail, never handed a password; a lost phone's second
factor taken away (logged in the history and mailed to the owner)."""

from flask import flash
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from wtforms.validators import ValidationError

from .. import mail
from ..accounts import send_link
from ..db import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Role, User
from ..second_factor import reset_second_factor
from .access import as_ids
from .base import RegistryModelView
from .labels import choices
from .views import LABELS


class UserView(RegistryModelView):
    read_roles = {Role.BEHEERDER}
    write_roles = {Role.BEHEERDER}
    column_list = [
        "email",
        "name",
        "role",
        "board",
        "active",
        "second_factor_since",
        "last_login_at",
    ]
    column_labels = LABELS
    column_choices = choices("role")
    column_filters = ["role", "active"]
    form_columns = ["email", "name", "role", "board", "active"]
    can_delete = False  # deactivate instead: the history keeps pointing at the account

    def on_model_change(self, form, model, is_created):
        if model.role is Role.BESTUUR and model.board is None:
            raise ValidationError(_("Een bestuursmedewerker hoort bij een bestuur."))
        if (
            not is_created
            and model.id == current_user.id
            and (not model.active or model.role is not Role.BEHEERDER)
        ):
            raise ValidationError(_("U kunt uw eigen beheerrechten niet intrekken."))

    def after_model_change(self, form, model, is_created):
        """A new account gets its invitation once it is saved (the mail leaves after the
        request has answered)."""
        if is_created:
            send_link(model, invited_by=current_user.email)
            db.session.commit()
            flash(
                _(
                    "Account aangemaakt. %(email)s krijgt een e-mail met een link om zelf een"
                    " wachtwoord te kiezen (7 dagen geldig).",
                    email=model.email,
                )
            )

    def _chosen(self, ids) -> list[User]:
        return db.session.scalars(select(User).where(User.id.in_(as_ids(ids)))).all()

    @action(
        "send_link",
        _l("Uitnodiging of herstellink sturen"),
        _l(
            "De persoon krijgt een e-mail met een link om een (nieuw) wachtwoord te kiezen."
            " Doorgaan?"
        ),
    )
    def action_send_link(self, ids):
        for user in self._chosen(ids):
            if not user.active:
                flash(_("%(email)s is uitgeschakeld: geen link verstuurd.", email=user.email))
                continue
            send_link(user, invited_by=current_user.email)
            flash(_("Link verstuurd aan %(email)s.", email=user.email))
        db.session.commit()

    @action(
        "reset_second_factor",
        _l("Tweede stap terugzetten"),
        _l(
            "De app en de herstelcodes van dit account werken daarna niet meer; de persoon stelt"
            " bij het inloggen een nieuwe app in. Doorgaan?"
        ),
    )
    def action_reset_second_factor(self, ids):
        for user in self._chosen(ids):
            if user.totp_secret is None:
                flash(_("%(email)s had geen tweede stap ingesteld.", email=user.email))
                continue
            reset_second_factor(user)
            mail.queue(
                user.email,
                "second_factor_reset",
                language=user.language,
                user=user,
                who=current_user.email,
            )
            flash(_("De tweede stap van %(email)s is teruggezet.", email=user.email))
        db.session.commit()
