"""Accounts, roles and logging in: who may see and change what in the admin.

Passwords are hashed with scrypt (Werkzeug). Each user carries a random session token that is
the login session's identity: logging out, a new password, a new role or board, and
deactivation each replace it, which ends every earlier session of that user at once.
"""

import enum
import functools
import secrets
import string
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import ForeignKey, String, event, func, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from . import validation
from .db import db
from .models import Board, portable_enum, utcnow
from .security import SafeForm, limiter

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


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
        self.password_hash = generate_password_hash(password)
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


@event.listens_for(Session, "before_flush")
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


# Runs a password must not be: the alphabet, the digits and the letter rows of a keyboard.
SEQUENCES = (string.ascii_lowercase, string.digits, "qwertyuiopasdfghjklzxcvbnm")
SUFFIX = string.digits + string.punctuation


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked lists (zxcvbn's list; all lowercase)."""
    # Imported here, once: the module holds word lists that only a password change needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _units(text: str) -> set[str]:
    """Every piece that `text` is a repetition of, itself included ('abab' -> ab, abab)."""
    return {
        text[:size]
        for size in range(1, len(text) + 1)
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text
    }


def _is_run(text: str) -> bool:
    """Whether `text` walks along one of SEQUENCES, forwards or backwards, wrapping round."""
    for sequence in SEQUENCES:
        wrapped = sequence * (len(text) // len(sequence) + 2)
        if text in wrapped or text[::-1] in wrapped:
            return True
    return False


def password_problem(password: str, email: str, user: User | None = None) -> str | None:
    """Why a chosen password is refused (a message for the person), or None when it is fine.

    OWASP ASVS 5 V6: a length of 12 to 128 and no composition rules; refused are common and
    leaked passwords (also repeated, or with digits or symbols added at the end), anything
    made from the e-mail address, a piece of up to three characters repeated (aaaa, abab),
    a run such as 1234 or abcd, and the current password of `user`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Gebruik minstens 12 tekens.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Gebruik hoogstens 128 tekens.")
    # Spaces and capitals add little against a guesser with a list: compare without them.
    plain = "".join(password.split()).casefold()
    common = _common_passwords()
    if any(_units(core) & common for core in {plain, plain.rstrip(SUFFIX)} if core):
        return _(
            "Dit wachtwoord staat op de lijst van veelgebruikte of gelekte wachtwoorden;"
            " kies een ander."
        )
    address = email.casefold()
    local = address.partition("@")[0]
    names = {name for name in (local, "".join(filter(str.isalnum, local))) if len(name) >= 4}
    if plain == address or any(name in plain for name in names):
        return _("Gebruik geen wachtwoord dat op uw e-mailadres lijkt.")
    if any(len(unit) <= 3 for unit in _units(plain)) or _is_run(plain):
        return _("Gebruik geen herhaald teken of eenvoudige reeks, zoals aaaa of 1234.")
    if user is not None and user.check_password(password):
        return _("Kies een ander wachtwoord dan uw huidige.")
    return None


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
def _dummy_hash() -> str:
    """A hash to check unknown addresses against, so that they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16))


@bp.route("/inloggen", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(email=form.email.data.strip().lower()))
        if not (user and user.active):
            # The same scrypt work as for a real account: the time taken must not tell them apart.
            check_password_hash(_dummy_hash(), form.password.data)
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
    _dummy_hash()  # made now, not on the first unknown address, whose answer it would slow
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
