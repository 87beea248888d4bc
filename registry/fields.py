"""The public fields of a school and of each grouping, declared once: the JSON records, the
CSV/XLSX columns, the OpenAPI schemas, the column chooser's and the admin's labels are all read
from these tables.

Adding a field is one line here (plus its label's English translation); where its value
comes from is `source`: a School attribute, or one of its board's, municipality's or
network's ("board.name"); computed fields (address, pupils, distance, url) have none.
`present` turns a stored value into the form every surface shows (JSON, downloads, pages).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

from .i18n import lazy_gettext as _l
from .models import (
    CONTACT_FIELDS,
    Board,
    LocationPrecision,
    Municipality,
    Network,
    School,
    SchoolType,
)
from .phones import grouped_phone


@dataclass(frozen=True)
class SchoolField:
    key: str  # the stable machine name: JSON field, plain CSV header, ?kolom= value
    label: object  # the header people read (Dutch; English through the catalogue)
    width: int  # spreadsheet column width, in characters
    schema: dict  # its JSON Schema in the OpenAPI document
    source: str | None = None
    exported: bool = False  # in the download's default set of columns
    present: Callable | None = None  # stored value -> shown value; None: shown as stored
    words: dict | None = None  # stored code -> its word, in the files people read


def _nullable(kind: str, **schema) -> dict:
    return {"type": kind, "nullable": True, **schema}


# The admin names them so too (admin/labels.VALUE_LABELS): one msgid, one translation.
PRECISION_WORDS = {
    LocationPrecision.BUILDING.value: _l("gebouw (precies)"),
    LocationPrecision.PC6.value: _l("postcode (bij benadering)"),
    LocationPrecision.PC4.value: _l("postcodegebied (ruw)"),
}

TEXT = {"type": "string"}
DATE = _nullable("string", format="date")
# One text cell for street and number: a separate "2-4" becomes 2 April in a Dutch spreadsheet.
ADDRESS = _nullable(
    "string", description="Street and house number, as on a letter: 'Middenweg 2-4'."
)
PHONE = _nullable(
    "string",
    description="Grouped as written in the Netherlands: '0522 25 85 00', '06 12 34 56 78', "
    "'+31 6 12 34 56 78'. A number that cannot be grouped (foreign, unusual length) as stored.",
)

SCHOOL_FIELDS = (
    SchoolField(
        "vestigingscode",
        _l("Vestigingscode"),
        14,
        {"type": "string", "pattern": "^[0-9]{2}[A-Z]{2}[0-9]{2}$"},
        "vestigingscode",
        True,
    ),
    SchoolField("name", _l("Naam"), 48, TEXT, "name", True),
    SchoolField(
        "type",
        _l("Soort"),
        9,
        {"type": "string", "enum": [t.value for t in SchoolType]},
        "school_type",
        True,
    ),
    SchoolField("denomination", _l("Richting"), 24, _nullable("string"), "denomination", True),
    SchoolField("address", _l("Adres"), 30, ADDRESS, exported=True),
    SchoolField("street", _l("Straat"), 24, _nullable("string"), "street"),
    SchoolField("house_number", _l("Huisnummer"), 11, _nullable("string"), "house_number"),
    SchoolField("postcode", _l("Postcode"), 10, _nullable("string"), "postcode", True),
    SchoolField("place", _l("Plaats"), 20, _nullable("string"), "place", True),
    SchoolField("municipality", _l("Gemeente"), 16, TEXT, "municipality.name", True),
    SchoolField("board_number", _l("Bestuursnummer"), 14, TEXT, "board.board_number"),
    SchoolField("board", _l("Bestuur"), 40, _nullable("string"), "board.name", True),
    SchoolField("network", _l("Netwerk"), 12, _nullable("string"), "network.name", True),
    SchoolField("phone", _l("Telefoon"), 16, PHONE, "phone", True, grouped_phone),
    SchoolField("email", _l("E-mail"), 28, _nullable("string"), "email", True),
    SchoolField("website", _l("Website"), 32, _nullable("string"), "website", True),
    SchoolField(
        "support_levels",
        _l("Ondersteuning"),
        36,
        _nullable(
            "string",
            description="The support the school recorded, per area with its level, in the "
            "request's language: 'Leren: extra, Gedrag: basis'. Empty while it recorded none.",
        ),
    ),
    SchoolField("pupils", _l("Leerlingen"), 11, _nullable("integer", minimum=0), exported=True),
    SchoolField("pupils_reference_date", _l("Teldatum"), 12, DATE, exported=True),
    SchoolField("latitude", _l("Breedtegraad"), 12, _nullable("number"), "latitude"),
    SchoolField("longitude", _l("Lengtegraad"), 12, _nullable("number"), "longitude"),
    SchoolField(
        "location_precision",
        _l("Precisie locatie"),
        12,
        _nullable("string", enum=[p.value for p in LocationPrecision] + [None]),
        "location_precision",
        words=PRECISION_WORDS,
    ),
    SchoolField("distance_km", _l("Afstand (km)"), 12, _nullable("number")),
    SchoolField(
        "board_confirmed_on",
        _l("Gecontroleerd door het bestuur op"),
        14,
        DATE,
        "board_confirmed_on",
    ),
    SchoolField("closed_on", _l("Gesloten op"), 12, DATE, "closed_on"),
    SchoolField("url", _l("Adres op de site"), 40, TEXT),
)

_BY_KEY = {f.key: f for f in SCHOOL_FIELDS}
# A board's address and contact: the API gives them, the list's download does not.
_CONTACT = tuple(replace(_BY_KEY[key], exported=False) for key in CONTACT_FIELDS)
_SLUG = SchoolField("slug", _l("Code in het webadres"), 16, TEXT, "slug")

# Each grouping's own fields (groupings.GROUPINGS' facets), in order: the API's items and their
# schema (named after the model), the lists' downloads (the exported ones) and the admin's labels.
GROUP_FIELDS = {
    "bestuur": (
        SchoolField("board_number", _l("Bestuursnummer"), 14, TEXT, "board_number", True),
        SchoolField("name", _l("Naam"), 40, _nullable("string"), "name", True),
        SchoolField("kvk_number", _l("KvK-nummer"), 14, _nullable("string"), "kvk_number", True),
        *_CONTACT,
        SchoolField("dissolved_on", _l("Opgeheven op"), 14, DATE, "dissolved_on", True),
    ),
    "gemeente": (
        SchoolField("cbs_code", _l("CBS-code"), 14, TEXT, "cbs_code", True),
        SchoolField("name", _l("Naam"), 40, TEXT, "name", True),
        _SLUG,
        SchoolField("province", _l("Provincie"), 14, TEXT, "province", True),
        SchoolField(
            "postcode_areas",
            _l("Postcodegebieden"),
            30,
            {"type": "array", "items": {"type": "string"}},
            "postcode_areas",
        ),
    ),
    "netwerk": (
        SchoolField(_SLUG.key, _SLUG.label, _SLUG.width, TEXT, "slug", True),
        SchoolField("name", _l("Naam"), 40, TEXT, "name", True),
        SchoolField("description", _l("Beschrijving"), 40, _nullable("string"), "description"),
        SchoolField("confirmed", _l("Bevestigd"), 11, {"type": "boolean"}, "confirmed", True),
    ),
}
# What every group's item ends with: its open schools and their pupils on the reference date.
GROUP_TOTALS = (
    SchoolField("schools", _l("Scholen"), 10, {"type": "integer", "minimum": 0}, exported=True),
    SchoolField("pupils", _l("Leerlingen"), 11, {"type": "integer", "minimum": 0}, exported=True),
    SchoolField("pupils_reference_date", _l("Teldatum"), 12, DATE),
    SchoolField("url", _l("Adres op de site"), 40, TEXT),
)

_RELATED = {"municipality": Municipality, "board": Board, "network": Network}


@functools.cache
def stored_columns() -> tuple:
    """The fields with a source as labelled columns (and the school's id), to select from
    School joined to its municipality and board and, outer, its network. Result pages and
    exports read these plain values, not School objects: several times cheaper per row."""
    columns = [School.id.label("id")]
    for f in SCHOOL_FIELDS:
        if f.source:
            relation, _dot, attribute = f.source.rpartition(".")
            columns.append(
                getattr(_RELATED[relation] if relation else School, attribute).label(f.key)
            )
    return tuple(columns)


def stored_values(school: School) -> dict:
    """The same values, read from a loaded School (a school page, the admin's selection)."""
    stored = {"id": school.id}
    for f in SCHOOL_FIELDS:
        if f.source:
            value = school
            for attribute in f.source.split("."):
                value = getattr(value, attribute) if value is not None else None
            stored[f.key] = value
    return stored
