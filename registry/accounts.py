"""Accounts that reach people: invitations, a forgotten password, the account page, and the
`users` commands. No password is ever shown, mailed, flashed or printed: a person chooses
their own through a single-use link (account_tokens.py).
"""

import sys
import time
from datetime import timedelta

import click
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask.cli import AppGroup
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import EmailField, RadioField
from wtforms.validators import DataRequired, Length

from . import account_tokens, mail, validation
from .account_tokens import Purpose, TokenRefused
from .auth import NewPasswordForm, begin_login
from .db import db
from .history import acting_as
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import CORRECTION_MAIL_LABELS, ROLE_LABELS, Board, CorrectionMail, Role, User, utcnow
from .passwords import password_problem
from .second_factor import remaining_recovery_codes
from .security import SafeForm, limiter

bp = Blueprint("accounts", __name__)

# Who gets mail about corrections the public reports: the roles that handle them.
CORRECTION_HANDLERS = (Role.COORDINATOR, Role.BEHEERDER)


class AccountRefused(Exception):
    """An account that cannot be made as asked; the message says why, in Dutch."""


def new_account(email: str, role: Role, board_number: str | None, name: str | None) -> User:
    """An account without a password yet (the caller invites it or sets one, and commits)."""
    email = validation.email(email.strip()).lower()
    if db.session.scalar(select(User.id).filter_by(email=email)):
        raise AccountRefused(_("Er is al een account voor %(email)s.", email=email))
    board = None
    if role is Role.BESTUUR:
        board = db.session.scalar(select(Board).filter_by(board_number=board_number or ""))
        if board is None:
            raise AccountRefused(
                _("Een bestuursmedewerker hoort bij een bestuur: geef het nummer.")
            )
    user = User(email=email, role=role, board=board, name=name or None)
    db.session.add(user)
    db.session.flush()
    return user


def send_link(user: User, invited_by: str | None = None) -> str:
    """Mail the person a link to choose a password: an invitation while they have none yet,
    else a reset link. Returns the link (for `users bootstrap`, which has no mail to rely on)."""
    purpose = Purpose.RESET if user.has_password else Purpose.INVITATION
    token = account_tokens.issue(user, purpose)
    endpoint = "accounts.invitation" if purpose is Purpose.INVITATION else "accounts.reset"
    link = mail.public_link(endpoint, token=token)
    mail.queue(
        user.email,
        purpose.value,
        language=user.language,
        user=user,
        link=link,
        role=ROLE_LABELS[user.role],
        invited_by=invited_by,
        valid_for=account_tokens.VALID_FOR[purpose],
    )
    return link


def _token_page(token: str, purpose: Purpose):
    """Choosing a password through a link; then on to the second factor, as after a login."""
    try:
        found = account_tokens.find(token, purpose)
    except TokenRefused as refused:
        return render_template("auth/link_refused.html", message=refused.message), 400
    user = found.user
    form = NewPasswordForm(user)
    if form.validate_on_submit():
        if not account_tokens.use(found):
            db.session.rollback()
            return render_template("auth/link_refused.html", message=account_tokens.USED), 400
        had_password = user.has_password
        user.set_password(form.new.data)  # a new session token: every session of it ends
        if had_password:
            mail.queue(user.email, "password_changed", language=user.language, user=user)
        db.session.commit()
        current_app.logger.info("password chosen through a %s link: %s", purpose, user.email)
        response = begin_login(user, url_for("admin.index"))  # a fresh session: flash after
        flash(_("Uw wachtwoord is opgeslagen."))
        return response
    status = 400 if form.is_submitted() else 200
    invitation = purpose is Purpose.INVITATION
    return render_template(
        "auth/choose_password.html", form=form, user=user, invitation=invitation
    ), status


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def invitation(token: str):
    return _token_page(token, Purpose.INVITATION)


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def reset(token: str):
    return _token_page(token, Purpose.RESET)


class ForgottenForm(SafeForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[
            DataRequired(_l("Vul uw e-mailadres in.")),
            Length(max=254, message=_l("Gebruik hoogstens 254 tekens.")),
        ],
    )


def _send_reset(email: str) -> None:
    """A reset link to an active account, at most RESET_MAILS_PER_HOUR an hour."""
    user = db.session.scalar(select(User).filter_by(email=email, active=True))
    if user is None:
        current_app.logger.info("reset asked for an unknown or inactive address")
        return
    hour_ago = utcnow() - timedelta(hours=1)
    if (
        account_tokens.issued_since(user, Purpose.RESET, hour_ago)
        >= current_app.config["RESET_MAILS_PER_HOUR"]
    ):
        current_app.logger.warning("reset mails for %s: limit reached", user.email)
        return
    send_link(user)
    db.session.commit()
    current_app.logger.info("reset link sent to %s", user.email)


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_ADDRESS_LIMIT"], methods=["POST"])
def forgotten():
    """The same answer, in the same time, whether or not the address has an account."""
    form = ForgottenForm()
    if form.validate_on_submit():
        started = time.monotonic()
        _send_reset(form.email.data.strip().lower())
        time.sleep(
            max(0.0, current_app.config["RESET_ANSWER_SECONDS"] - time.monotonic() + started)
        )
        return render_template("auth/forgotten.html", form=None, sent=True)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgotten.html", form=form, sent=False), status


class AccountForm(SafeForm):
    correction_mail = RadioField(
        _l("Mail over correcties die het publiek meldt"),
        choices=[(choice.value, label) for choice, label in CORRECTION_MAIL_LABELS.items()],
    )
    language = RadioField(
        _l("Taal van de e-mails"), choices=[("nl", "Nederlands"), ("en", "English")]
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = AccountForm(
        data={"correction_mail": user.correction_mail.value, "language": user.language}
    )
    if form.validate_on_submit():
        user.correction_mail = CorrectionMail(form.correction_mail.data)
        user.language = form.language.data
        db.session.commit()
        flash(_("Uw instellingen zijn opgeslagen."))
        return redirect(url_for(".account"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "auth/account.html",
        form=form,
        user=user,
        handles_corrections=user.role in CORRECTION_HANDLERS,
        recovery_codes_left=remaining_recovery_codes(user) if user.totp_secret else 0,
        second_factor_required=user.role.value in current_app.config["MFA_ROLES"],
    ), status


users_cli = AppGroup("users", help="Accounts voor het beheer.")
ROLE_CHOICE = click.Choice([r.value for r in Role])


def _made(email: str, role: str, board_number: str | None, name: str | None) -> User:
    try:
        return new_account(email, Role(role), board_number, name)
    except validation.InvalidValue as error:
        raise click.ClickException(str(error.message)) from error
    except AccountRefused as error:
        raise click.ClickException(str(error)) from error


@users_cli.command("invite")
@click.option("--email", required=True, help="E-mailadres van de persoon.")
@click.option("--role", type=ROLE_CHOICE, required=True, help="Rol van het account.")
@click.option("--board", "board_number", help="DUO-bestuursnummer, bij rol bestuur.")
@click.option("--name", help="Naam van de persoon.")
def invite_command(email: str, role: str, board_number: str | None, name: str | None) -> None:
    """Maak een account en mail de persoon een link (7 dagen geldig) om een wachtwoord te
    kiezen."""
    with acting_as("command line"):
        user = _made(email, role, board_number, name)
        send_link(user, invited_by=None)
        db.session.commit()
    mail.deliver_queued()
    click.echo(f"Account {user.email} ({user.role.value}) aangemaakt; uitnodiging verstuurd.")


@users_cli.command("create")
@click.option("--email", required=True, help="E-mailadres van de persoon.")
@click.option("--role", type=ROLE_CHOICE, required=True, help="Rol van het account.")
@click.option("--board", "board_number", help="DUO-bestuursnummer, bij rol bestuur.")
@click.option("--name", help="Naam van de persoon.")
@click.option("--password-stdin", is_flag=True, help="Lees het wachtwoord van standaardinvoer.")
def create_command(
    email: str, role: str, board_number: str | None, name: str | None, password_stdin: bool
) -> None:
    """Voor scripts: een account met het wachtwoord van standaardinvoer (nooit getoond)."""
    if not password_stdin:
        raise click.UsageError(
            "Geef het wachtwoord via standaardinvoer (--password-stdin), of nodig de persoon"
            " uit met `users invite`."
        )
    password = sys.stdin.readline().rstrip("\r\n")
    with acting_as("command line"):
        user = _made(email, role, board_number, name)
        if problem := password_problem(password, user.email):
            db.session.rollback()
            raise click.ClickException(f"Wachtwoord geweigerd: {problem}")
        user.set_password(password)
        db.session.commit()
    click.echo(f"Account {user.email} ({user.role.value}) aangemaakt.")


@users_cli.command("bootstrap")
@click.option(
    "--email",
    envvar="REGISTRY_ADMIN_EMAIL",
    default="beheerder@example.org",
    show_default=True,
    help="E-mailadres van de eerste beheerder (of REGISTRY_ADMIN_EMAIL).",
)
def bootstrap_command(email: str) -> None:
    """In een database zonder accounts: een eerste beheerder en een eenmalige link om het
    account in te stellen."""
    if db.session.scalar(select(func.count(User.id))):
        return
    with acting_as("command line"):
        user = _made(email, Role.BEHEERDER.value, None, None)
        link = send_link(user)
        db.session.commit()
    mail.deliver_queued()
    click.echo(
        "\n  Eerste beheerder aangemaakt: "
        f"{user.email}\n  Kies het wachtwoord via deze link (7 dagen geldig, één keer te"
        f" gebruiken):\n    {link}\n"
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
