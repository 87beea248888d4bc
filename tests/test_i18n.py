from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from registry import PROJECT_ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("registry/**.py", "python"), ("templates/**.html", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for *_, message, _, _ in extract_from_dir(str(PROJECT_ROOT), METHODS, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_interface_string_has_an_english_translation():
    po_path = Path(PROJECT_ROOT, "registry/translations/en/LC_MESSAGES/messages.po")
    with open(po_path, "rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id
        and "fuzzy" not in m.flags
        and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    strings = source_messages()
    assert len(strings) > 30
    assert strings - translated == set(), "run `make extract-messages`, then translate"


def test_a_request_translates_in_its_own_language_and_in_a_forced_one(app):
    """The catalogue is found once per request (registry/i18n.py); a locale forced for a moment
    is still honoured, and the request's own comes back after it."""
    from flask import render_template_string
    from flask_babel import force_locale

    from registry.i18n import gettext, lazy_gettext, ngettext

    label = lazy_gettext("Scholen zoeken")
    with app.test_request_context("/?lang=en"):
        assert gettext("Scholen zoeken") == str(label) == "Find a school"
        assert ngettext("%(num)d school", "%(num)d scholen", 3) == "3 schools"
        with force_locale("nl"):
            assert gettext("Scholen zoeken") == str(label) == "Scholen zoeken"
            assert render_template_string("{{ _('Scholen zoeken') }}") == "Scholen zoeken"
        assert render_template_string("{{ _('Scholen zoeken') }}") == "Find a school"
        # A template's translation is markup; the values put into it are escaped.
        shown = (
            "{{ _('Bedoelde u %(text)s?', text=text) }}"
            " {{ ngettext('%(num)d school', '%(num)d scholen', 2) }}"
        )
        assert render_template_string(shown, text="<b>") == "Did you mean &lt;b&gt;? 2 schools"
    with app.test_request_context("/"):
        assert gettext("Scholen zoeken") == "Scholen zoeken"
        assert ngettext("%(num)d school", "%(num)d scholen", 1) == "1 school"
    assert gettext("Scholen zoeken") == "Scholen zoeken"  # outside any request: as written
