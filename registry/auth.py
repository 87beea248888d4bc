"""Logging in and out of the admin: the login blueprint, its forms and its limits.

Passwords are hashed with scrypt (Werkzeug). Each user carries a random session token that is
the login session's identity: logging out, a new password, a new role or board, and
deactivation each replace it, which ends every earlier session of that user at once.
"""

import functools
import hashlib
import secrets
import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import parse
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from .db import db
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import Role, User, new_token
from .passwords import password_problem
from .redirects import local_path
from .security import SafeForm, limiter

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Log in om deze pagina te zien.")
login_manager.session_protection = "strong"

bp = Blueprint("auth", __name__)

# What the login session holds besides Flask-Login's own: when the person logged in (the
# absolute lifetime counts from there), whether every factor the account needs was given, and,
# between the password and the code, whose login is waiting for its second factor.
LOGGED_IN_AT = "logged_in_at"
ALL_FACTORS_GIVEN = "all_factors"
PENDING = "pending_login"
# How long the step between a correct password and the code may take.
PENDING_SECONDS = 10 * 60
DEVICE_COOKIE = "registry_device"
DEVICE_DAYS = 180


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    """The account of this session, while its session token is current, the session is younger
    than SESSION_ABSOLUTE_LIFETIME, and every factor the account needs was given."""
    user = db.session.scalar(select(User).filter_by(session_token=token, active=True))
    if user is None:
        return None
    since = session.get(LOGGED_IN_AT)
    limit = current_app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds()
    if not isinstance(since, int | float) or not 0 <= time.time() - since <= limit:
        return None
    if user.needs_second_factor and not session.get(ALL_FACTORS_GIVEN):
        return None
    return user


class LoginForm(SafeForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(_l("Vul uw e-mailadres in."))])
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul uw wachtwoord in."))]
    )


class NewPasswordForm(SafeForm):
    """Choosing a password: by an invitation or reset link, or on the password page."""

    new = PasswordField(_l("Nieuw wachtwoord"), validators=[DataRequired()])
    repeat = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[EqualTo("new", message=_l("De twee nieuwe wachtwoorden zijn niet gelijk."))],
    )

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_new(self, field) -> None:
        if problem := password_problem(field.data, self.user.email, self.user):
            raise ValidationError(problem)


class PasswordForm(NewPasswordForm):
    current = PasswordField(_l("Huidig wachtwoord"), validators=[DataRequired()])

    def validate_current(self, field) -> None:
        if not self.user.check_password(field.data):
            g.wrong_current_password = True  # counted by the page's limit
            raise ValidationError(_("Dit is niet uw huidige wachtwoord."))


def _safe_next(target: str | None) -> str:
    """The 'next' address after logging in: a path on this site only (redirects.local_path)."""
    return local_path(target) or url_for("admin.index")


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash to check unknown addresses against, so that they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="registry-device")


class AccountGuard:
    """Wrong passwords counted per account as well as per address, so that guesses spread over
    many addresses still stop (LOGIN_ACCOUNT_LIMIT). A browser that logged in to the account
    before carries a signed device cookie and is counted on its own, so an attacker who uses up
    the account's tries does not lock the real person out of the devices they use (OWASP's
    "device cookies"). The counts live in the rate limiter's storage, shared by every worker
    when that is Redis."""

    def __init__(self, email: str) -> None:
        self.limit = parse(current_app.config["LOGIN_ACCOUNT_LIMIT"])
        device = self._device(email)
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
        self.key = (prefix, "login-device", device) if device else (prefix, "login", _digest(email))

    @staticmethod
    def _device(email: str) -> str | None:
        cookie = request.cookies.get(DEVICE_COOKIE, "")
        try:
            data = _devices().loads(cookie, max_age=DEVICE_DAYS * 86400)
        except BadData:
            return None
        if isinstance(data, dict) and data.get("a") == _digest(email):
            return str(data.get("n"))
        return None

    def allows(self) -> bool:
        return not limiter.enabled or limiter.limiter.test(self.limit, *self.key)

    def failed(self) -> None:
        if limiter.enabled:
            limiter.limiter.hit(self.limit, *self.key)


def remember_device(response, user: User) -> None:
    value = _devices().dumps({"a": _digest(user.email), "n": secrets.token_urlsafe(12)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_DAYS * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def begin_login(user: User, target: str):
    """The password was right: log in, or first ask for the second factor (or its set-up)."""
    session.clear()  # a fresh session: nothing from before the login carries over
    if not user.needs_second_factor:
        return finish_login(user, target)
    session[PENDING] = {
        "token": user.session_token,
        "until": time.time() + PENDING_SECONDS,
        "next": target,
    }
    step = "second_factor.verify" if user.totp_secret else "second_factor.enrol"
    return redirect(url_for(step))


def pending_user() -> User | None:
    """The account whose password was given in this session and that waits for its code."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not time.time() < pending.get("until", 0):
        return None
    token = pending.get("token")
    if not isinstance(token, str):
        return None
    return db.session.scalar(select(User).filter_by(session_token=token, active=True))


def finish_login(user: User, target: str | None = None):
    """Every factor was given: the session starts (and the absolute lifetime with it)."""
    pending = session.get(PENDING)
    target = target or (pending.get("next") if isinstance(pending, dict) else None)
    session.clear()
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME of inactivity
    session[LOGGED_IN_AT] = time.time()
    session[ALL_FACTORS_GIVEN] = True
    login_user(user)
    user.last_login_at = datetime.now(UTC)
    db.session.commit()
    current_app.logger.info("login: %s", user.email)
    response = redirect(_safe_next(target))
    remember_device(response, user)
    return response


def too_many_tries(form):
    flash(
        _(
            "Te veel mislukte pogingen voor dit account. Probeer het over een kwartier opnieuw,"
            " of log in op een apparaat waarop u eerder bent ingelogd."
        )
    )
    return render_template("auth/login.html", form=form), 429


@bp.route("/inloggen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        guard = AccountGuard(email)
        if not guard.allows():
            current_app.logger.warning(
                "login refused (too many tries) for %r from %s", email[:254], request.remote_addr
            )
            return too_many_tries(form)
        user = db.session.scalar(select(User).filter_by(email=email))
        if not (user and user.active and user.has_password):
            # The same scrypt work as for a real account: the time taken must not tell them apart.
            dummy = _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
            check_password_hash(dummy, form.password.data)
        elif user.check_password(form.password.data):
            return begin_login(user, _safe_next(request.args.get("next")))
        guard.failed()
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


def _account_key() -> str:
    return f"account:{current_user.get_id()}"


@bp.route("/wachtwoord", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_LIMIT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda _response: g.get("wrong_current_password", False),
)
def change_password():
    form = PasswordForm(current_user._get_current_object())
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


def init_app(app: Flask) -> None:
    app.config.setdefault("MFA_ROLES", [Role.BEHEERDER.value, Role.COORDINATOR.value])
    app.config["MFA_ROLES"] = roles_setting(app.config["MFA_ROLES"])
    # Made now, not on the first unknown address, whose answer it would slow.
    _dummy_hash(app.config["PASSWORD_HASH_METHOD"])
    login_manager.init_app(app)
    app.register_blueprint(bp)


def roles_setting(value) -> list[str]:
    """REGISTRY_MFA_ROLES as a JSON list or 'beheerder,coordinator'; unknown roles refused."""
    roles = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    unknown = set(roles) - {role.value for role in Role}
    if unknown:
        raise ValueError(f"MFA_ROLES: onbekende rol(len) {', '.join(sorted(unknown))}")
    return roles
