"""Error pages that answer in JSON or HTML, whichever the client asked for."""

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from .i18n import lazy_gettext as _l

# Werkzeug's own descriptions are English; these are what our users read.
MESSAGES = {
    400: _l("Het verzoek klopt niet. Controleer wat u invulde en probeer het opnieuw."),
    403: _l("U hebt geen toegang tot deze pagina."),
    404: _l("Deze pagina bestaat niet (meer). Controleer het adres of zoek opnieuw."),
    405: _l("Deze actie kan op deze pagina niet."),
    413: _l("Het bestand is te groot."),
    429: _l("Te veel verzoeken kort na elkaar. Wacht even en probeer het opnieuw."),
    500: _l("Er ging iets mis aan onze kant. Probeer het later opnieuw."),
}
FOREIGN_HOST = _l("Deze site is niet bereikbaar via dit adres.")


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    # HTML first: a client that takes anything (curl's */*) gets the page a browser would.
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, message: str):
    """The one error shape: {"error": {"status": ..., "message": ...}} or the HTML page."""
    if wants_json():
        return {"error": {"status": status, "message": message}}, status
    return render_template("errors/error.html", status=status, message=message), status


def _handle_http_exception(error: HTTPException):
    status = error.code or 500
    # abort(404, "...") in our views gives a specific (translated) message; keep it.
    specific = error.description != type(error).description
    message = error.description if specific else MESSAGES.get(status, error.name)
    body, status = error_response(status, str(message))
    # What the exception says besides its page: Allow on a 405, Retry-After on a 503.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def _handle_csrf_error(_error: CSRFError):
    message = _l(
        "Het formulier is verlopen of niet compleet."
        " Laad de pagina opnieuw en probeer het nog eens."
    )
    return error_response(400, str(message))


def _handle_rate_limit(_error):
    # Flask-Limiter describes the limit in English ("10 per 1 hour"); say it plainly instead.
    return error_response(429, str(MESSAGES[429]))


def _foreign_host(_error: SecurityError):
    """The usual 400 page or JSON, in Dutch, for a request to a host the site does not serve.

    Flask refuses the host before it binds the URL map to the request, so there is nothing to
    build the page's links with: bind one to PUBLIC_URL, never to the host that was refused.
    """
    request_ctx.url_adapter = current_app.url_map.bind(
        urlsplit(current_app.config["PUBLIC_URL"]).netloc,
        script_name=request.root_path or "/",
        url_scheme=request.scheme,
    )
    return error_response(400, str(FOREIGN_HOST))


def init_app(app: Flask) -> None:
    app.register_error_handler(SecurityError, _foreign_host)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(429, _handle_rate_limit)
    app.register_error_handler(HTTPException, _handle_http_exception)
