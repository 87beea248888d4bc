"""Text helpers shared by search, seed and templates."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
# DUO writes place names in capitals, with a few abbreviations to tell namesakes apart.
_PLACE_WORDS = {"GEM": "gem.", "DR": "Dr"}


def fold(text: str | None) -> str:
    """Lower case without accents or punctuation: 'IJhorst', 'ijhorst' and 'Ĳhorst' agree."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = decomposed.encode("ascii", "ignore").decode()
    return " ".join(_NON_WORD.sub(" ", ascii_text.lower()).split())


def slugify(text: str) -> str:
    return fold(text).replace(" ", "-")


def place_name(duo_place: str | None) -> str:
    """'ALTEVEER GEM DE WOLDEN' -> 'Alteveer gem. De Wolden', 'IJHORST' -> 'IJhorst'."""
    if not duo_place:
        return ""

    def word(part: str) -> str:
        if part in _PLACE_WORDS:
            return _PLACE_WORDS[part]
        if part.startswith("IJ"):
            return "IJ" + part[2:].lower()
        return part[:1] + part[1:].lower()

    return " ".join("-".join(word(p) for p in w.split("-")) for w in duo_place.split())
