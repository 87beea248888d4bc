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
    assert strings - translated == set(), "run `make translations` and translate the new strings"
