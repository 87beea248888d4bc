"""CSRF protection for every form, rate limits, and the security headers of every response."""

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import FieldList, FormField

csrf = CSRFProtect()


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class SafeForm(FlaskForm):
    """Every form of the app: Flask-WTF's CSRF, and no NUL character in any field's data.

    No one types a NUL, and PostgreSQL refuses one in any text value (even in a lookup such
    as a uniqueness check), so a posted NUL would end in a 500 instead of a message.
    """

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, FieldList | FormField):
                # Lists and sub-forms take no filters; the fields inside them are bound here too.
                return unbound_field.bind(form=form, **options)
            filters = [_without_nul, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, filters=filters, **options)


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


def _security_headers(response):
    csp = ADMIN_CSP if request.path.startswith("/admin") else PUBLIC_CSP
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)
