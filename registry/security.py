"""CSRF protection for every form, rate limits, and the security headers of every response."""

from flask import Flask, abort, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import FileStorage
from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.validators import ValidationError

from .i18n import gettext as _
from .static_files import is_static
from .validation import InvalidValue, plain_text

csrf = CSRFProtect()


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


def _plain_text(multiline: bool):
    def validate(_form, field):
        try:
            plain_text(field.data, field.name, multiline=multiline)
        except InvalidValue as error:
            raise ValidationError(str(error.message)) from error

    return validate


class SafeForm(FlaskForm):
    """Every form of the app: Flask-WTF's CSRF, and no NUL character in any field's data.

    No one types a NUL, and PostgreSQL refuses one in any text value (even in a lookup such
    as a uniqueness check), so a posted NUL would end in a 500 instead of a message. Other
    control characters (a pasted tab in a name) are refused next to their field.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Only the posted form's text fields. Flask-WTF would also read uploaded files and
            a JSON body as fields: a file sent as 'email', or a number, is not text, and every
            validator after it would fail with an error instead of a message."""
            if formdata is _Auto:
                return request.form if _is_submitted() and request.form else None
            # Flask-Admin hands its forms request.form with request.files merged in.
            if hasattr(formdata, "lists") and any(
                isinstance(value, FileStorage)
                for _name, values in formdata.lists()
                for value in values
            ):
                return request.form
            return formdata

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, FieldList | FormField):
                # Lists and sub-forms take no filters; the fields inside them are bound here too.
                return unbound_field.bind(form=form, **options)
            filters = [_without_nul, *unbound_field.kwargs.get("filters", ())]
            validators = list(unbound_field.kwargs.get("validators") or ())
            if issubclass(unbound_field.field_class, StringField):
                multiline = issubclass(unbound_field.field_class, TextAreaField)
                validators.append(_plain_text(multiline))
            return unbound_field.bind(form=form, filters=filters, validators=validators, **options)


# Storage comes from RATELIMIT_STORAGE_URI: memory for one process, Redis across workers.
limiter = Limiter(get_remote_address)


# The public pages run no inline script at all. Flask-Admin's templates still use inline
# event handlers (onclick=...), which no nonce can allow, so /admin needs 'unsafe-inline'.
TILES = "https://tile.openstreetmap.org"
PUBLIC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    f"img-src 'self' data: {TILES}; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
ADMIN_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: {TILES}; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def for_a_logged_in_user() -> bool:
    """Is this an answer for someone logged in? (Not a static file: it is the same for everyone
    and reads no session, so it varies on no Cookie.)
    Such a page may hold what others must not see: no browser or proxy keeps it, so the back
    button after logging out shows nothing."""
    return not is_static() and bool(current_user) and current_user.is_authenticated


def _security_headers(response):
    csp = ADMIN_CSP if request.path.startswith("/admin") else PUBLIC_CSP
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if for_a_logged_in_user():
        response.headers["Cache-Control"] = "no-store"
    max_age = current_app.config["HSTS_MAX_AGE"]
    if max_age:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(max_age)}")
    return response


def _every_cookie_secure(response):
    """In production (SESSION_COOKIE_SECURE, on unless `make run` turns it off) no cookie
    travels over plain http: ours say so when set, and this holds for those a library sets on
    its own (Flask-Login clears its remember-me cookie without the flag)."""
    cookies = response.headers.getlist("Set-Cookie")
    if current_app.config["SESSION_COOKIE_SECURE"] and any(
        "; Secure" not in cookie for cookie in cookies
    ):
        del response.headers["Set-Cookie"]
        for cookie in cookies:
            secure = cookie if "; Secure" in cookie else f"{cookie}; Secure"
            response.headers.add("Set-Cookie", secure)
    return response


def _refuse_nul_in_address():
    """A NUL in the path or query is never a real address; PostgreSQL would refuse the lookup
    it leads to with an error, so it is a clear 400 here, before any view runs."""
    if "\x00" in request.path or any("\x00" in k + v for k, v in request.args.items(multi=True)):
        abort(400, _("Het adres bevat een ongeldig teken (NUL)."))


def init_app(app: Flask) -> None:
    # Strict-Transport-Security only where the site is served over https (behind a proxy that
    # terminates TLS): REGISTRY_HSTS_MAX_AGE=31536000. Off by default: plain http would ignore
    # it, and turning it on for a host without https locks browsers out for the whole period.
    app.config.setdefault("HSTS_MAX_AGE", 0)
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(_refuse_nul_in_address)
    app.after_request(_security_headers)
    app.after_request(_every_cookie_secure)
