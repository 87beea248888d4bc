"""Text helpers shared by search, seed and templates."""

import functools
import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
# The control characters XML 1.0 cannot hold (tab, LF and CR it can): an SVG label, an XLSX
# cell or a PDF's text would be refused with one of them.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# DUO writes place names in capitals, with a few abbreviations to tell namesakes apart.
_PLACE_WORDS = {"GEM": "gem.", "DR": "Dr"}
_JOINING_WORDS = {"EN", "AAN", "OP", "BIJ", "VAN", "IN", "ONDER", "OVER", "TER"}
_ARTICLES = {"DE", "DEN", "DER", "HET"}


@functools.lru_cache(maxsize=65536)  # the same labels are sorted by it on every search
def fold(text: str | None) -> str:
    """Lower case without accents or punctuation: 'IJhorst', 'ijhorst' and 'Ĳhorst' agree."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = decomposed.encode("ascii", "ignore").decode()
    return " ".join(_NON_WORD.sub(" ", ascii_text.lower()).split())


def slugify(text: str) -> str:
    return fold(text).replace(" ", "-")


@functools.lru_cache(maxsize=8192)
def place_name(duo_place: str | None) -> str:
    """'ALTEVEER GEM DE WOLDEN' -> 'Alteveer gem. De Wolden', 'IJHORST' -> 'IJhorst',
    'CAPELLE AAN DEN IJSSEL' -> 'Capelle aan den IJssel', 'S GRAVENHAGE' -> "'s-Gravenhage"."""
    if not duo_place:
        return ""

    def word(part: str) -> str:
        if part in _PLACE_WORDS:
            return _PLACE_WORDS[part]
        if part.startswith("IJ"):
            return "IJ" + part[2:].lower()
        return part[:1] + part[1:].lower()

    words = duo_place.split()
    if len(words) > 1 and words[0] in ("S", "'S"):
        words = ["'s-" + words[1], *words[2:]]
    named = []
    for index, w in enumerate(words):
        previous = words[index - 1] if index else ""
        # Joining words inside a name are lower case ('Bergen op Zoom', 'Horst aan de Maas');
        # 'De' starts a name ('Alteveer gem. De Wolden') unless a joining word comes before it.
        lower = index and (w in _JOINING_WORDS or (w in _ARTICLES and previous in _JOINING_WORDS))
        named.append(w.lower() if lower else "-".join(word(p) for p in w.split("-")))
    return " ".join(named).replace("'S-", "'s-")


def xml_text(value):
    """Text without the control characters XML cannot hold; other values as they are."""
    return _NOT_IN_XML.sub("", value) if isinstance(value, str) else value


def street_line(street: str | None, house_number: str | None) -> str:
    """Street and number as on a letter: 'Middenweg 2-4' (one text: '2-4' is no date)."""
    return " ".join(part for part in (street, house_number) if part)


def address_text(street, house_number, postcode, place) -> str:
    """An address as people write it: 'Bleekhof 2, 7961 AW Ruinerwold'; missing parts left out."""
    second = " ".join(part for part in (postcode, place_name(place)) if part)
    return ", ".join(part for part in (street_line(street, house_number), second) if part)


def address_of(record) -> str:
    """The address of anything with the four address parts (a school, a board, the partnership)."""
    return address_text(record.street, record.house_number, record.postcode, record.place)
