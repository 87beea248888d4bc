"""Accounts, roles and logging in: who may see and change what in the admin.

Passwords are hashed with scrypt (Werkzeug). Each user carries a random session token that is
the login session's identity: logging out, a new password, a new role or board, and
deactivation each replace it, which ends every earlier session of that user at once.
"""

import enum
import functools
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import ForeignKey, String, func, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from . import validation
from .db import db, listen_once
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import Board, portable_enum, utcnow
from .passwords import password_problem
from .security import SafeForm, limiter


class Role(enum.StrEnum):
    BEHEERDER = "beheerder"  # everything, including accounts
    COORDINATOR = "coordinator"  # edits schools, boards, networks, municipalities, support
    BESTUUR = "bestuur"  # board staff: edits their own board's schools only
    MEDEWERKER = "medewerker"  # staff: reads and exports


ROLE_LABELS = {
    Role.BEHEERDER: _l("Beheerder"),
    Role.COORDINATOR: _l("Coördinator"),
    Role.BESTUUR: _l("Bestuursmedewerker"),
    Role.MEDEWERKER: _l("Medewerker"),
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The rights: changing any of them ends the account's sessions (see the listener below).
    # active_history loads the old value before a change, so that assigning the same value
    # again, as Flask-Admin does with every field on each save, counts as no change.
    role: Mapped[Role] = mapped_column(portable_enum(Role, "user_role"), active_history=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"), active_history=True)
    active: Mapped[bool] = mapped_column(default=True, active_history=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    board: Mapped[Board | None] = relationship(active_history=True)

    @validates("email")
    def _check_email(self, _key, value):
        return validation.email(value).lower()

    def set_password(self, password: str) -> None:
        """Store a new password and end every session that used the old one."""
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )
        self.session_token = new_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __str__(self) -> str:
        return self.email


RIGHTS = ("role", "board_id", "board", "active")


def _end_sessions_on_new_rights(session: Session, _context, _instances) -> None:
    """A new role or board, or (de)activation, ends the account's sessions wherever it is made."""
    for obj in session.dirty:
        if isinstance(obj, User) and any(
            inspect(obj).attrs[key].history.has_changes() for key in RIGHTS
        ):
            obj.session_token = new_token()


login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Log in om deze pagina te zien.")
login_manager.session_protection = "strong"

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    return db.session.scalar(select(User).filter_by(session_token=token, active=True))


class LoginForm(SafeForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(_l("Vul uw e-mailadres in."))])
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul uw wachtwoord in."))]
    )


class PasswordForm(SafeForm):
    current = PasswordField(_l("Huidig wachtwoord"), validators=[DataRequired()])
    new = PasswordField(_l("Nieuw wachtwoord"), validators=[DataRequired()])
    repeat = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[EqualTo("new", message=_l("De twee nieuwe wachtwoorden zijn niet gelijk."))],
    )

    def validate_current(self, field) -> None:
        if not current_user.check_password(field.data):
            raise ValidationError(_("Dit is niet uw huidige wachtwoord."))

    def validate_new(self, field) -> None:
        if problem := password_problem(field.data, current_user.email, current_user):
            raise ValidationError(problem)


# How a browser reads a Location (WHATWG URL parser): C0 controls and spaces are stripped
# from both ends, tabs and newlines are dropped anywhere, and a backslash counts as a slash.
C0_AND_SPACE = "".join(map(chr, range(0x21)))
TAB_AND_NEWLINE = dict.fromkeys(map(ord, "\t\n\r"))
MAX_NEXT_LENGTH = 2000


def _safe_next(target: str | None) -> str:
    """The 'next' address after logging in, read as the browser will: a path on this site only.

    Judging the raw value is not enough: a tab or a backslash in it can turn a path into
    '//evil.example', which the browser follows to another site.
    """
    if target and len(target) <= MAX_NEXT_LENGTH:
        url = target.strip(C0_AND_SPACE).translate(TAB_AND_NEWLINE).replace("\\", "/")
        if url.startswith("/") and not url.startswith("//") and url.isprintable():
            parts = urlsplit(url)
            if not parts.scheme and not parts.netloc:
                return url
    return url_for("admin.index")


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash to check unknown addresses against, so that they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


@bp.route("/inloggen", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(email=form.email.data.strip().lower()))
        if not (user and user.active):
            # The same scrypt work as for a real account: the time taken must not tell them apart.
            dummy = _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
            check_password_hash(dummy, form.password.data)
        elif user.check_password(form.password.data):
            session.clear()  # a fresh session: nothing from before the login carries over
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME of inactivity
            login_user(user)
            user.last_login_at = datetime.now(UTC)
            db.session.commit()
            current_app.logger.info("login: %s", user.email)
            return redirect(_safe_next(request.args.get("next")))
        current_app.logger.warning(
            "failed login for %r from %s", form.email.data[:254], request.remote_addr
        )
        flash(
            _(
                "Dit e-mailadres en wachtwoord horen niet bij elkaar,"
                " of het account is uitgeschakeld."
            )
        )
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/uitloggen")
def logout():
    if current_user.is_authenticated:
        # A copy of this cookie (or any other session of this user) must not outlive the logout.
        current_user.session_token = new_token()
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("U bent uitgelogd."))
    return redirect(url_for("auth.login"))


@bp.route("/wachtwoord", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        current_user.set_password(form.new.data)
        db.session.commit()
        # This session follows the new token; all others end. Pass the user, not the proxy:
        # Flask-Login keeps what it is given as current_user, and a proxy to itself recurses.
        login_user(current_user._get_current_object())
        flash(_("Uw wachtwoord is gewijzigd. Andere sessies zijn afgesloten."))
        return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


def create_user(
    email: str, role: Role, board_number: str | None = None, name=None
) -> tuple[User, str]:
    """Create an account with a random password; returns the user and the password to hand over."""
    board = None
    if role is Role.BESTUUR:
        board = db.session.scalar(select(Board).filter_by(board_number=board_number or ""))
        if board is None:
            raise click.ClickException(
                "Een bestuursmedewerker hoort bij een bestuur: geef --board NUMMER."
            )
    password = secrets.token_urlsafe(12)
    user = User(email=email, role=role, board=board, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user, password


users_cli = AppGroup("users", help="Accounts for the admin.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--board", "board_number", help="DUO board number, for role bestuur.")
@click.option("--name")
def create_command(email: str, role: str, board_number: str | None, name: str | None) -> None:
    """Create an account; its random password is printed once."""
    if db.session.scalar(select(User).filter_by(email=email.strip().lower())):
        raise click.ClickException(f"Er is al een account voor {email}.")
    try:
        user, password = create_user(email, Role(role), board_number, name)
    except validation.InvalidValue as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Account {user.email} ({user.role.value}) aangemaakt. Wachtwoord: {password}")


@users_cli.command("bootstrap")
@click.option(
    "--email", envvar="REGISTRY_ADMIN_EMAIL", default="beheerder@example.org", show_default=True
)
def bootstrap_command(email: str) -> None:
    """On a database without accounts, create a beheerder and print its password once."""
    if db.session.scalar(select(func.count(User.id))):
        return
    user, password = create_user(email, Role.BEHEERDER)
    click.echo(
        "\n  Eerste beheerder aangemaakt. Log in op /inloggen met\n"
        f"    e-mailadres: {user.email}\n    wachtwoord:  {password}\n"
        "  Dit wachtwoord wordt niet nog eens getoond; wijzig het na het inloggen.\n"
    )


def init_app(app: Flask) -> None:
    listen_once(Session, "before_flush", _end_sessions_on_new_rights)
    # Made now, not on the first unknown address, whose answer it would slow.
    _dummy_hash(app.config["PASSWORD_HASH_METHOD"])
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
