"""The second factor: codes from an authenticator app (TOTP, RFC 6238) and recovery codes.

Required for the roles in REGISTRY_MFA_ROLES (default beheerder and coordinator), offered to
every other account. After a correct password such an account is only "pending" (auth.py):
it reaches no admin page until it gives a code here, or sets up an app first. A code is
accepted for the time step before, at and after now, and never twice (the last accepted step
is kept); wrong codes count per account (CODE_ACCOUNT_LIMIT). Recovery codes are stored hashed
and each works once.
"""

import hashlib
import hmac
import secrets
import time
from datetime import datetime

import pyotp
import segno
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from limits import parse
from markupsafe import Markup
from sqlalchemy import DateTime, ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .auth import ALL_FACTORS_GIVEN, finish_login, pending_user
from .db import db
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import User, utcnow
from .security import SafeForm, limiter

ISSUER = "Register SWV PO 22.03"
STEP_SECONDS = 30  # RFC 6238's time step, which every authenticator app uses
RECOVERY_CODES = 10
# Recovery codes: no 0/o, 1/l/i to mix up; 10 characters of 31 are 49 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ENROLLING = "enrolling_secret"
NEW_CODES = "new_recovery_codes"
AFTER_CODES = "after_recovery_codes"

bp = Blueprint("second_factor", __name__)


class RecoveryCode(db.Model):
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _plain(code: str) -> str:
    """A code as typed, without spaces or dashes, in lower case."""
    return "".join(c for c in code.casefold() if c.isalnum())


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for `user` (the old ones end); the caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODES):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{code[:5]}-{code[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code)))
    return codes


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (30 s) before, at or after now whose code this is, or None."""
    code = _plain(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP_SECONDS
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _accept_totp(user: User, code: str) -> bool:
    """A valid code of a step after the last one accepted; that step is recorded in the same
    statement, so two requests with one code cannot both pass."""
    step = _matching_step(user.totp_secret, code) if user.totp_secret else None
    if step is None:
        return False
    return bool(
        db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _accept_recovery_code(user: User, code: str) -> bool:
    code = _plain(code)
    if len(code) != 10:
        return False
    return bool(
        db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def remaining_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


class CodeForm(SafeForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Vul de code in.")),
            Length(max=40, message=_l("Dit is geen code.")),
        ],
    )


class ReplaceForm(CodeForm):
    """Setting up another app: first a code of the current one (or a recovery code)."""

    current = StringField(
        _l("Code uit uw huidige app, of een herstelcode"),
        validators=[
            DataRequired(_l("Vul de code van uw huidige app in.")),
            Length(max=40, message=_l("Dit is geen code.")),
        ],
    )


def _code_limit(user: User):
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return parse(current_app.config["CODE_ACCOUNT_LIMIT"]), (prefix, "code", str(user.id))


def _too_many_codes(user: User) -> bool:
    limit, key = _code_limit(user)
    return limiter.enabled and not limiter.limiter.test(limit, *key)


def _wrong_code(user: User) -> None:
    limit, key = _code_limit(user)
    if limiter.enabled:
        limiter.limiter.hit(limit, *key)
    current_app.logger.warning("wrong second-factor code for %s", user.email)


TOO_MANY = _l("Te veel onjuiste codes. Wacht een kwartier en probeer het dan opnieuw.")


@bp.route("/inloggen/code", methods=["GET", "POST"])
def verify():
    """The code after a correct password: from the app, or one of the recovery codes."""
    user = pending_user()
    if user is None:
        flash(_("Log opnieuw in: de stap na het wachtwoord duurde te lang of is al voorbij."))
        return redirect(url_for("auth.login"))
    if user.totp_secret is None:
        return redirect(url_for(".enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        if _too_many_codes(user):
            flash(TOO_MANY)
            return render_template("auth/code.html", form=form), 429
        code = form.code.data
        if _accept_totp(user, code) or _accept_recovery_code(user, code):
            return finish_login(user)
        _wrong_code(user)
        db.session.rollback()
        form.code.errors.append(
            _("Deze code klopt niet, of is al gebruikt. Wacht op de volgende code van de app.")
        )
    status = 400 if form.is_submitted() else 200
    return render_template("auth/code.html", form=form), status


def _enrolling_user() -> tuple[User | None, bool]:
    """Who sets up an app here: a pending login (a role that needs one), or a logged-in user."""
    if current_user.is_authenticated:
        return current_user._get_current_object(), False
    return pending_user(), True


def qr_code(uri: str) -> Markup:
    """The provisioning address as an inline SVG, drawn here: no outside request."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 (segno's own markup of a URI it encoded)


@bp.route("/tweede-factor/instellen", methods=["GET", "POST"])
def enrol():
    user, pending = _enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if pending and user.totp_secret is not None:
        return redirect(url_for(".verify"))
    secret = session.get(ENROLLING)
    if not (isinstance(secret, str) and len(secret) == 32):
        secret = session[ENROLLING] = pyotp.random_base32(32)
    replacing = user.totp_secret is not None
    form = ReplaceForm() if replacing else CodeForm()
    if form.validate_on_submit():
        if _too_many_codes(user):
            flash(TOO_MANY)
        elif replacing and not (
            _accept_totp(user, form.current.data) or _accept_recovery_code(user, form.current.data)
        ):
            # A session alone (perhaps a stolen one) does not swap the factor: the old app's
            # code, or a recovery code, says the owner is at the keyboard.
            _wrong_code(user)
            form.current.errors.append(_("Deze code van uw huidige app klopt niet."))
        elif (step := _matching_step(secret, form.code.data)) is not None:
            return _enrolled(user, secret, step, pending)
        else:
            _wrong_code(user)
            form.code.errors.append(
                _("Deze code klopt niet. Controleer de tijd op uw telefoon en probeer het opnieuw.")
            )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "auth/enrol.html",
        form=form,
        qr=qr_code(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=user.role.value in current_app.config["MFA_ROLES"],
        replacing=replacing,
    ), status


def _enrolled(user: User, secret: str, step: int, pending: bool):
    """The app gave a right code: keep its secret, show ten recovery codes once."""
    user.totp_secret = secret
    user.totp_last_step = step  # the code just used works no more
    user.second_factor_since = utcnow()
    codes = new_recovery_codes(user)
    db.session.commit()
    current_app.logger.info("second factor set up: %s", user.email)
    if pending:
        response = finish_login(user)
        after = response.location
    else:
        session.pop(ENROLLING, None)
        session[ALL_FACTORS_GIVEN] = True
        login_user(user)
        response, after = redirect(url_for("admin.index")), url_for("accounts.account")
    session[NEW_CODES] = codes
    session[AFTER_CODES] = after
    response.location = url_for(".recovery_codes")
    return response


@bp.get("/tweede-factor/herstelcodes")
@login_required
def recovery_codes():
    """The new recovery codes, once: a reload shows them no more."""
    codes = session.pop(NEW_CODES, None)
    after = session.pop(AFTER_CODES, None) or url_for("admin.index")
    if not codes:
        return redirect(url_for("accounts.account"))
    return render_template("auth/recovery_codes.html", codes=codes, after=after)


@bp.post("/tweede-factor/nieuwe-herstelcodes")
@login_required
def renew_recovery_codes():
    user = current_user._get_current_object()
    if user.totp_secret is None:
        abort(400, _("Stel eerst een app in."))
    session[NEW_CODES] = new_recovery_codes(user)
    session[AFTER_CODES] = url_for("accounts.account")
    db.session.commit()
    return redirect(url_for(".recovery_codes"))


def reset_second_factor(user: User) -> None:
    """Take away the account's app and recovery codes (a beheerder does this when a phone is
    lost); its sessions end. The caller commits, and mails the owner."""
    user.totp_secret = None
    user.totp_last_step = None
    user.second_factor_since = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_token = secrets.token_urlsafe(32)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
