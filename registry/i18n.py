"""Dutch by default, English on request: ?lang=en, remembered in a cookie."""

from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import Babel, get_locale

LANG_COOKIE = "lang"
# Set on the request when its locale was chosen, so the answer says what it varies on.
CHOSE_LOCALE = "registry.chose_locale"
babel = Babel()


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    request.environ[CHOSE_LOCALE] = True
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in languages:
            return candidate
    # Dutch unless the browser prefers English over Dutch.
    return request.accept_languages.best_match(languages, default=languages[0])


def _remember_choice(response):
    choice = request.args.get("lang")
    if choice in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANG_COOKIE, choice, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    if request.environ.get(CHOSE_LOCALE):
        # Any answer whose words follow the language (a page, the API's messages) differs by
        # the browser's languages and the lang cookie: caches must keep the copies apart.
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def url_in_language(code: str) -> str:
    """This page, with the same parameters, in another language."""
    endpoint = request.endpoint if request.url_rule else "directory.index"
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    path = url_for(endpoint, **(request.view_args or {})) if request.url_rule else url_for(endpoint)
    return path + "?" + urlencode([*params, ("lang", code)])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.context_processor(
        lambda: {"current_locale": lambda: str(get_locale()), "url_in_language": url_in_language}
    )
