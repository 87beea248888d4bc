"""Dutch by default, English on request: ?lang=en, remembered in a cookie."""

from functools import cache
from urllib.parse import urlencode

from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import get_group_symbol
from flask import Flask, abort, current_app, g, has_request_context, request, url_for
from flask_babel import Babel, get_locale, get_translations
from flask_babel.speaklater import LazyString
from markupsafe import Markup

LANG_COOKIE = "lang"
LANG_PARAMETER = "lang"
# Set on the request when its locale was chosen, so the answer says what it varies on.
CHOSE_LOCALE = "registry.chose_locale"
babel = Babel()
_BABEL_STATE = "_flask_babel"  # where Flask-Babel keeps its choices for the request, on g


def translations():
    """This request's catalogue. Flask-Babel finds it again for every string (its state on g,
    the domain, the locale and the locale's name): a seventh of a search page's processor time
    went there (docs/benchmarks.md). Here it is found once per request and kept beside the
    locale it is for, so a locale forced for a moment (flask_babel.force_locale) is noticed."""
    state = _babel_state()
    if state is not None:
        known = getattr(state, "registry_translations", None)
        if known is not None and known[0] is getattr(state, "babel_locale", None):
            return known[1]
    found = get_translations()  # chooses the locale, if it was not chosen yet
    state = _babel_state()
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.registry_translations = (state.babel_locale, found)
    return found


def _babel_state():
    try:
        return getattr(g, _BABEL_STATE)
    except (AttributeError, RuntimeError):  # not made yet; outside an app context
        return None


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    return translations().ungettext(singular, plural, num) % {"num": num, **variables}


# What Jinja's "new style" gettext does in an autoescaped template (every template here is
# HTML): the translation is markup, the values are escaped into it, and it is always formatted
# (so "%%" reads "%"). The same in one call instead of three through the template's context:
# a page translates some forty strings.
def template_gettext(string: str, **variables) -> Markup:
    return Markup(translations().ugettext(string)) % variables  # noqa: S704 (our catalogue)


def template_ngettext(singular: str, plural: str, num: int, **variables) -> Markup:
    text = Markup(translations().ungettext(singular, plural, num))  # noqa: S704
    return text % {"num": num, **variables}


def format_integer(number: int) -> str:
    """A whole number as the request's language writes it (1.808 in Dutch, 1,808 in English),
    as Flask-Babel's format_decimal writes it, at a tenth of the cost: a national overview
    prints some 30,000 figures, and finding the locale and its pattern again for each was a
    sixth of its page's processor time."""
    return integer_format()(number)


def integer_format():
    """format_integer for the request's language, found once for a loop over many figures."""
    locale = _current_locale()
    return _integer_format(str(locale)) if locale else babel_format_decimal  # outside an app


def _current_locale():
    translations()  # chooses the locale, if it was not chosen yet
    state = _babel_state()
    return getattr(state, "babel_locale", None) or get_locale()


@cache
def _integer_format(locale: str):
    group = get_group_symbol(locale)
    if babel_format_decimal(1234567, locale=locale) != f"1{group}234{group}567":
        return lambda number: babel_format_decimal(number, locale=locale)  # grouped otherwise
    if group == ",":
        return lambda number: f"{number:,}"
    return lambda number: f"{number:,}".replace(",", group)


def lazy_gettext(string: str, **variables) -> LazyString:
    """A text translated when it is shown (labels declared at import time)."""
    return LazyString(gettext, string, **variables)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    request.environ[CHOSE_LOCALE] = True
    for candidate in (request.args.get(LANG_PARAMETER), request.cookies.get(LANG_COOKIE)):
        if candidate in languages:
            return candidate
    # Dutch unless the browser prefers English over Dutch.
    return request.accept_languages.best_match(languages, default=languages[0])


def _refuse_unknown_language():
    """?lang= names a language of the site, or the answer says so (a 400) before anything
    else reads it: the page cache keys the language chosen, so an unknown one would have been
    answered as the default. A CORS preflight is answered whatever the URL (api.py)."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.getlist(LANG_PARAMETER)
    if request.method != "OPTIONS" and any(value not in languages for value in asked):
        message = gettext("Kies de taal %(languages)s.", languages=" of ".join(languages))
        abort(400, gettext("Parameter %(name)s: %(message)s", name=LANG_PARAMETER, message=message))


def _remember_choice(response):
    choice = request.args.get(LANG_PARAMETER)
    if choice in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANG_COOKIE,
            choice,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            # As the session's: Secure in production, not under `make run`'s plain http.
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    if request.environ.get(CHOSE_LOCALE):
        # Any answer whose words follow the language (a page, the API's messages) differs by
        # the browser's languages and the lang cookie: caches must keep the copies apart.
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def url_in_language(code: str) -> str:
    """This page, with the same parameters, in another language."""
    endpoint = request.endpoint if request.url_rule else "directory.index"
    params = [(k, v) for k, v in request.args.items(multi=True) if k != LANG_PARAMETER]
    path = url_for(endpoint, **(request.view_args or {})) if request.url_rule else url_for(endpoint)
    return path + "?" + urlencode([*params, (LANG_PARAMETER, code)])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Templates translate through the same once-per-request catalogue, by the functions below
    # rather than those of Jinja's i18n extension (which Flask-Babel installs).
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.globals["ngettext"] = template_ngettext
    app.before_request(_refuse_unknown_language)  # before the page cache's (cache.py)
    app.after_request(_remember_choice)
    app.context_processor(
        lambda: {"current_locale": lambda: str(get_locale()), "url_in_language": url_in_language}
    )
