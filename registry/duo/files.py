"""Reading DUO's open-data files as DUO publishes them, refusing anything else with a message
that names the line and says what to fix.

Three files are understood, each known by its header row, never by its name: "02. alle
schoolvestigingen basisonderwijs" (addresses, one row per BAO location), "09. alle vestigingen
sbo, so en vso" (addresses of special education, with the kinds of special education each
location gives) and "06. historisch overzicht aantal leerlingen per schoolvestiging" (pupils on
1 October of each year, all PO types). An address file with a column its kind does not have is
another of DUO's files and is refused, so that a file is never compared as if it were another.
All are `;`-separated; DUO has published them in Windows-1252 and in UTF-8 with or without a
byte-order mark, so the encoding is detected.
"""

import csv
import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_decimal

from .. import validation
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..models import Municipality, School, SchoolType
from ..text import place_name, slugify
from ..uploads import CONTROL_CHARACTER, megabytes, shown
from ..validation import InvalidValue

# DUO counts pupils on 1 October; a count below 5 is published as "<5" for privacy.
REFERENCE_MONTH, REFERENCE_DAY = 10, 1
SUPPRESSED = "<5"
PUPIL_COLUMN = re.compile(r"^LEERLINGEN_([1-9][0-9]{3})$")
# A count has at most this many digits (the largest school has a few thousand pupils); a longer
# one is a broken file, and would not fit the database's integer.
PUPIL_COUNT = re.compile(r"[0-9]{1,5}")
# The registry keeps DUO's latest five counts, the overviews' five-year trend; older columns
# of the pupil file (it goes back to 1996) are not read.
PUPIL_YEARS_KEPT = 5

# DUO column -> School attribute, with the attribute's rule in validation.RULES (None without
# one), which gives the registry's canonical form.
LOCATION_FIELDS = {
    column: (attribute, validation.RULES.get(attribute))
    for column, attribute in {
        "INSTELLINGSCODE": "brin",
        "VESTIGINGSNAAM": "name",
        "STRAATNAAM": "street",
        "HUISNUMMER-TOEVOEGING": "house_number",
        "POSTCODE": "postcode",
        "PLAATSNAAM": "place",
        "DENOMINATIE": "denomination",
        "TELEFOONNUMMER": "phone",
        "INTERNETADRES": "website",
    }.items()
}
LOCATION_COLUMNS = [
    "VESTIGINGSCODE",
    *LOCATION_FIELDS,
    "GEMEENTENUMMER",
    "GEMEENTENAAM",
    "PROVINCIE",
    "BEVOEGD GEZAG NUMMER",
]
# The columns both address files have that the registry does not read.
UNREAD_LOCATION_COLUMNS = [
    *(
        f"{column} CORRESPONDENTIEADRES"
        for column in ("STRAATNAAM", "HUISNUMMER-TOEVOEGING", "POSTCODE", "PLAATSNAAM")
    ),
    *(
        f"{area} {part}"
        for area in (
            "NODAAL GEBIED",
            "RPA-GEBIED",
            "WGR-GEBIED",
            "COROPGEBIED",
            "ONDERWIJSGEBIED",
            "RMC-REGIO",
        )
        for part in ("CODE", "NAAM")
    ),
    "VAKANTIEREGIO",
]
# File 09 adds what kind of school a location is and which special education it gives: DUO's
# words, kept as DUO writes them (registry.special says them in plain words).
TYPE_COLUMN = "SOORT PRIMAIR ONDERWIJS"
SPECIAL_FIELDS = {"ONDERWIJS": "special_education", "CLUSTER": "cluster"}
# File 09's kinds of school; VSO alone (None) belongs to the secondary-school partnership and
# stays out of this registry.
SPECIAL_TYPES = {
    "SBAO": SchoolType.SBO,
    "SO": SchoolType.SO,
    "(V)SO": SchoolType.SO_VSO,
    "VSO": None,
}
# The School attributes an address file sets, besides its type.
LOCATION_ATTRIBUTES = [
    *(attribute for attribute, _rule in LOCATION_FIELDS.values()),
    *SPECIAL_FIELDS.values(),
]
# Fields that identify the row: a file with a bad one cannot be compared at all.
REQUIRED_VALUES = {"VESTIGINGSCODE", "INSTELLINGSCODE", "VESTIGINGSNAAM", "GEMEENTENUMMER"}
PUPIL_COLUMNS = ["VESTIGINGSCODE", "NAAM_VESTIGING", "SOORT_VESTIGING"]
# The longest value the registry's columns hold: PostgreSQL refuses a longer one on apply.
MAX_LENGTHS = {
    **{
        column: School.__table__.c[attribute].type.length
        for column, (attribute, _rule) in LOCATION_FIELDS.items()
    },
    "GEMEENTENAAM": Municipality.__table__.c.name.type.length,
    "PROVINCIE": Municipality.__table__.c.province.type.length,
}
SPECIAL_LENGTHS = {
    **MAX_LENGTHS,
    **{
        column: School.__table__.c[attribute].type.length
        for column, attribute in SPECIAL_FIELDS.items()
    },
}
# Control characters (uploads.CONTROL_CHARACTER) never occur in DUO's files (tab, CR and LF
# aside); NUL is refused by PostgreSQL and the others by the XLSX report, so a file with one is
# refused as a whole.
LINE_BREAK = re.compile(r"\r\n?|\n")


class DuoFileError(ValueError):
    """A file that cannot be read as a DUO file; the message says where and what to fix."""


@dataclass(frozen=True)
class FileKind:
    """One of DUO's files as the registry reads it: its columns, and which schools it lists."""

    key: str  # DuoFile.kind
    label: str  # how the command line and the admin name it
    columns: tuple[str, ...]  # the columns read, every one required
    # An address file's every column: one beyond these makes it another of DUO's files.
    known: frozenset[str]
    # The types of school it lists: only those can be missing from it (proposed for closing).
    covers: frozenset[SchoolType]
    # How long each column read may be.
    lengths: dict[str, int] = field(default_factory=dict)


BAO_FILE = FileKind(
    "locations",
    _l("adressen basisonderwijs (DUO-bestand 02)"),
    tuple(LOCATION_COLUMNS),
    frozenset([*LOCATION_COLUMNS, *UNREAD_LOCATION_COLUMNS]),
    frozenset({SchoolType.BAO}),
    MAX_LENGTHS,
)
SPECIAL_FILE = FileKind(
    "special",
    _l("adressen speciaal (basis)onderwijs (DUO-bestand 09)"),
    (TYPE_COLUMN, *LOCATION_COLUMNS, *SPECIAL_FIELDS),
    frozenset([TYPE_COLUMN, *LOCATION_COLUMNS, *SPECIAL_FIELDS, *UNREAD_LOCATION_COLUMNS]),
    frozenset(t for t in SPECIAL_TYPES.values() if t),
    SPECIAL_LENGTHS,
)
PUPIL_FILE = FileKind(
    "pupils",
    _l("leerlingen per vestiging (DUO-bestand 06)"),
    tuple(PUPIL_COLUMNS),
    frozenset(),
    frozenset(),
)
FILE_KINDS = {kind.key: kind for kind in (BAO_FILE, SPECIAL_FILE, PUPIL_FILE)}
# The columns only file 09 has: a header with one of them is file 09, whatever else it holds.
SPECIAL_ONLY = {TYPE_COLUMN, *SPECIAL_FIELDS}


@dataclass
class Location:
    """One row of the address file, in the registry's own field names and forms."""

    line: int
    vestigingscode: str
    fields: dict[str, str | None]
    board_number: str
    municipality_code: str
    municipality_name: str
    province: str
    # DUO values that break the registry's format rules: (field, value, why); not taken over.
    rejected: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class DuoFile:
    """A read file: its name, checksum and kind, with locations or pupil counts by code."""

    name: str
    checksum: str
    kind: str  # a key of FILE_KINDS: "locations" (02), "special" (09) or "pupils" (06)
    locations: dict[str, Location] = field(default_factory=dict)
    # vestigingscode -> {reference date: pupils} for the latest PUPIL_YEARS_KEPT dates;
    # suppressed and blank counts are left out.
    pupils: dict[str, dict[date, int]] = field(default_factory=dict)
    # File 09's locations that give VSO alone: read, and left out of the registry.
    vso_only: set[str] = field(default_factory=set)
    rows: int = 0

    @property
    def label(self) -> str:
        return str(FILE_KINDS[self.kind].label)


def read_duo_file(data: bytes, name: str, max_bytes: int | None = None) -> DuoFile:
    """Read any of the three DUO files, telling them apart by their header row."""
    if max_bytes is not None and len(data) > max_bytes:
        raise DuoFileError(
            _(
                "%(name)s is %(size)s MB; het maximum is %(max)s MB.",
                name=name,
                size=megabytes(len(data)),
                max=megabytes(max_bytes, limit=True),
            )
        )
    checksum = hashlib.sha256(data).hexdigest()
    text = _decode(data, name)
    _check_characters(text, name)
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=";")
    header = [column.strip().upper() for column in _next_row(reader, name) or []]
    _check_delimiter(header, name)
    kind = _kind_of(header, name)
    duo = DuoFile(name, checksum, kind.key)
    if kind is PUPIL_FILE:
        _read_pupils(duo, header, reader)
    else:
        _read_locations(duo, kind, header, reader)
    if not duo.rows:
        raise DuoFileError(_("%(name)s bevat alleen een kopregel en geen scholen.", name=name))
    return duo


def _decode(data: bytes, name: str) -> str:
    if not data.strip():
        raise DuoFileError(_("%(name)s is leeg.", name=name))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DuoFileError(
            _(
                "%(name)s is een Excel-bestand, geen CSV. Gebruik het CSV-bestand van DUO"
                " of sla het op als 'CSV (gescheiden door puntkomma)'.",
                name=name,
            )
        )
    if b"\x00" in data[:4096]:
        raise DuoFileError(
            _("%(name)s is geen tekstbestand (CSV); kies het CSV-bestand van DUO.", name=name)
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_as(data[3:], "utf-8", name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: DUO's other encoding. Windows-1252 leaves five bytes undefined, so a file
        # in yet another encoding can still be refused at the right line.
        return _decode_as(data, "cp1252", name)


def _decode_as(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d: onbekende tekens; het bestand is geen UTF-8 en"
                " geen Windows-1252. Sla het op als CSV in UTF-8.",
                name=name,
                line=line,
            )
        ) from error


def _check_characters(text: str, name: str) -> None:
    found = CONTROL_CHARACTER.search(text)
    if found:
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d: onzichtbaar stuurteken %(code)s; dat hoort niet in"
                " een bestand van DUO. Gebruik het bestand zoals DUO het publiceert.",
                name=name,
                line=len(LINE_BREAK.findall(text, 0, found.start())) + 1,
                code=f"U+{ord(found.group()):04X}",
            )
        )


def _next_row(reader, name: str) -> list[str] | None:
    """The next row, or None at the end; a value too long for the CSV reader is refused."""
    line = reader.line_num + 1
    try:
        return next(reader, None)
    except csv.Error as error:
        # In its lenient mode, which this reader uses, Python's CSV reader only fails on a
        # field above its limit: in practice an unclosed quote that swallows the lines after it.
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d: een waarde is langer dan %(max)s tekens. Staat er een"
                ' aanhalingsteken (") in die niet wordt afgesloten?',
                name=name,
                line=line,
                max=format_decimal(csv.field_size_limit()),
            )
        ) from error


def _check_delimiter(header: list[str], name: str) -> None:
    if len(header) > 1:
        return
    joined = header[0] if header else ""
    for delimiter, label in ((",", _("komma's")), ("\t", _("tabs"))):
        if delimiter in joined:
            raise DuoFileError(
                _(
                    "%(name)s, regel 1: de kolommen zijn gescheiden door %(label)s; DUO's"
                    " bestanden gebruiken een puntkomma (;). Sla het bestand op als"
                    " 'CSV (gescheiden door puntkomma)'.",
                    name=name,
                    label=label,
                )
            )
    raise DuoFileError(
        _(
            "%(name)s, regel 1: geen kolommen gevonden; dit lijkt geen CSV-bestand van DUO.",
            name=name,
        )
    )


def _kind_of(header: list[str], name: str) -> FileKind:
    """Which of DUO's files this is, by its header: a file's name is whatever its downloader
    made of it, so file 09 saved as "02.csv" is still read as file 09."""
    if SPECIAL_ONLY.intersection(header):
        return SPECIAL_FILE
    if "VESTIGINGSNAAM" in header:
        return BAO_FILE
    if any(PUPIL_COLUMN.match(column) for column in header):
        return PUPIL_FILE
    raise _missing_columns(header, LOCATION_COLUMNS, name)


def _require_columns(header: list[str], required, name: str) -> None:
    if any(column not in header for column in required):
        raise _missing_columns(header, required, name)


def _refuse_other_columns(header: list[str], kind: FileKind, name: str) -> None:
    """An address file with a column its kind does not have is another of DUO's files (the
    secondary schools' address file has the same first columns as file 02): comparing it as
    this kind would propose closing every school it does not list."""
    # Hints come from the first columns only: a crafted header may have a million.
    other = [column for column in header if column and column not in kind.known][:10]
    if other:
        raise DuoFileError(
            ngettext(
                "%(name)s, regel 1: de kolom %(columns)s hoort niet bij het bestand %(kind)s;"
                " dit lijkt een ander bestand van DUO. Het register leest de adressen van het"
                " basisonderwijs (02) en van het speciaal (basis)onderwijs (09) en de"
                " leerlingaantallen (06), zoals DUO ze publiceert.",
                "%(name)s, regel 1: de kolommen %(columns)s horen niet bij het bestand"
                " %(kind)s; dit lijkt een ander bestand van DUO. Het register leest de adressen"
                " van het basisonderwijs (02) en van het speciaal (basis)onderwijs (09) en de"
                " leerlingaantallen (06), zoals DUO ze publiceert.",
                len(other),
                name=name,
                columns=", ".join(shown(column) for column in other),
                kind=kind.label,
            )
        )


def _missing_columns(header: list[str], required: list[str], name: str) -> DuoFileError:
    missing = [column for column in required if column not in header]
    # Hints come from the first columns only: a crafted header may have a million.
    unknown = [column for column in header if column not in required][:100]
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, unknown, n=1, cutoff=0.75)
        hints.append(
            _("%(column)s (heet nu %(found)s?)", column=column, found=close[0]) if close else column
        )
    return DuoFileError(
        _(
            "%(name)s, regel 1: deze kolommen ontbreken: %(columns)s. Gebruik het bestand"
            " zoals DUO het publiceert, met de kolomnamen ongewijzigd.",
            name=name,
            columns=", ".join(hints),
        )
    )


def _rows(header: list[str], reader, name: str):
    """Yield (line number, {column: value}) for each non-empty row of the right length."""
    while (row := _next_row(reader, name)) is not None:
        line = reader.line_num
        if not any(value.strip() for value in row):
            continue
        if len(row) != len(header):
            raise DuoFileError(
                _(
                    "%(name)s, regel %(line)d: %(found)d velden, %(expected)d verwacht."
                    " Staat er een puntkomma in een waarde, of is de regel afgebroken?",
                    name=name,
                    line=line,
                    found=len(row),
                    expected=len(header),
                )
            )
        # DUO writes a missing value as a single space.
        yield line, {column: value.strip() for column, value in zip(header, row, strict=True)}


def _check_unique(seen: dict[str, int], code: str, line: int, name: str) -> None:
    if code in seen:
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d: vestigingscode %(code)s staat ook op regel"
                " %(first)d. Elke vestiging mag maar één keer voorkomen.",
                name=name,
                line=line,
                code=code,
                first=seen[code],
            )
        )
    seen[code] = line


def _bad_value(name: str, line: int, column: str, value: str, error: InvalidValue):
    return DuoFileError(
        _(
            "%(name)s, regel %(line)d, kolom %(column)s: '%(value)s' klopt niet. %(message)s",
            name=name,
            line=line,
            column=column,
            value=shown(value),
            message=error.message,
        )
    )


def _check_lengths(row: dict[str, str], line: int, name: str, lengths: dict[str, int]) -> None:
    for column, limit in lengths.items():
        value = row[column]
        stored = [value]
        if column == "GEMEENTENAAM":
            # A new municipality is stored in the registry's spelling and with a slug, and
            # either can be longer than DUO's name.
            stored += [place_name(value), slugify(place_name(value))]
        length = max(map(len, stored))
        if length > limit:
            raise DuoFileError(
                _(
                    "%(name)s, regel %(line)d, kolom %(column)s: de waarde is %(length)d tekens"
                    " lang; het register bewaart er hoogstens %(limit)d.",
                    name=name,
                    line=line,
                    column=column,
                    length=length,
                    limit=limit,
                )
            )


def _read_locations(duo: DuoFile, kind: FileKind, header: list[str], reader) -> None:
    _require_columns(header, kind.columns, duo.name)
    _refuse_other_columns(header, kind, duo.name)
    seen: dict[str, int] = {}
    for line, row in _rows(header, reader, duo.name):
        _check_lengths(row, line, duo.name, kind.lengths)
        code, board_number, municipality = _identity(row, line, duo.name)
        _check_unique(seen, code, line, duo.name)
        duo.rows += 1
        school_type = SchoolType.BAO if kind is BAO_FILE else _special_type(row, line, duo.name)
        if school_type is None:
            duo.vso_only.add(code)
            continue
        location = Location(
            line=line,
            vestigingscode=code,
            fields={"school_type": school_type.value},
            board_number=board_number,
            municipality_code="GM" + municipality.zfill(4),
            municipality_name=row["GEMEENTENAAM"],
            province=row["PROVINCIE"],
        )
        _read_fields(location, row, duo.name)
        duo.locations[code] = location


def _identity(row: dict[str, str], line: int, name: str) -> tuple[str, str, str]:
    """The location's code, its board's number and its municipality's: present and well-formed,
    or the whole file is refused."""
    for column in REQUIRED_VALUES:
        if not row[column]:
            raise DuoFileError(
                _(
                    "%(name)s, regel %(line)d: kolom %(column)s is leeg.",
                    name=name,
                    line=line,
                    column=column,
                )
            )
    try:
        code = validation.check("vestigingscode", row["VESTIGINGSCODE"])
        board_number = validation.check("board_number", row["BEVOEGD GEZAG NUMMER"])
    except InvalidValue as error:
        column = "VESTIGINGSCODE" if error.field == "vestigingscode" else "BEVOEGD GEZAG NUMMER"
        raise _bad_value(name, line, column, row[column], error) from error
    municipality = row["GEMEENTENUMMER"]
    if not re.fullmatch(r"[0-9]{1,4}", municipality):
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d, kolom GEMEENTENUMMER: '%(value)s' is geen"
                " CBS-gemeentenummer (4 cijfers).",
                name=name,
                line=line,
                value=shown(municipality),
            )
        )
    return code, board_number, municipality


def _read_fields(location: Location, row: dict[str, str], name: str) -> None:
    """The location's own fields, each checked by its rule; a broken optional one is rejected."""
    line, code = location.line, location.vestigingscode
    for column, (attribute, rule) in LOCATION_FIELDS.items():
        value = row[column] or None
        if rule is not None and value is not None:
            try:
                value = rule(value, attribute)
            except InvalidValue as error:
                if column in REQUIRED_VALUES:
                    raise _bad_value(name, line, column, row[column], error) from error
                # One school's broken web address must not hold up the whole file: the
                # value is not taken over and the preview lists it for a coordinator.
                location.rejected.append((attribute, value, str(error.message)))
                continue
        location.fields[attribute] = value
    # A basisschool gives no special education: file 02 says so by having no such columns.
    for column, attribute in SPECIAL_FIELDS.items():
        location.fields[attribute] = row.get(column) or None
    if location.fields["brin"] != code[:4]:
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d: vestigingscode %(code)s begint niet met"
                " instellingscode %(brin)s.",
                name=name,
                line=line,
                code=code,
                brin=location.fields["brin"],
            )
        )


def _special_type(row: dict[str, str], line: int, name: str) -> SchoolType | None:
    """File 09's kind of school as the registry's type; None for VSO alone."""
    value = row[TYPE_COLUMN]
    if value not in SPECIAL_TYPES:
        raise DuoFileError(
            _(
                "%(name)s, regel %(line)d, kolom %(column)s: '%(value)s' kent het register niet;"
                " DUO schrijft hier %(known)s.",
                name=name,
                line=line,
                column=TYPE_COLUMN,
                value=shown(value),
                known=", ".join(SPECIAL_TYPES),
            )
        )
    return SPECIAL_TYPES[value]


def _read_pupils(duo: DuoFile, header: list[str], reader) -> None:
    _require_columns(header, PUPIL_COLUMNS, duo.name)
    years = dict(
        sorted(
            (column, date(int(match.group(1)), REFERENCE_MONTH, REFERENCE_DAY))
            for column in header
            if (match := PUPIL_COLUMN.match(column))
        )[-PUPIL_YEARS_KEPT:]
    )
    seen: dict[str, int] = {}
    for line, row in _rows(header, reader, duo.name):
        try:
            code = validation.check("vestigingscode", row["VESTIGINGSCODE"])
        except InvalidValue as error:
            raise _bad_value(
                duo.name, line, "VESTIGINGSCODE", row["VESTIGINGSCODE"], error
            ) from error
        _check_unique(seen, code, line, duo.name)
        counts = {}
        for column, reference_date in years.items():
            value = row[column]
            if not value or value == SUPPRESSED:
                continue
            if not PUPIL_COUNT.fullmatch(value):
                raise DuoFileError(
                    _(
                        "%(name)s, regel %(line)d, kolom %(column)s: '%(value)s' is geen"
                        " aantal leerlingen.",
                        name=duo.name,
                        line=line,
                        column=column,
                        value=shown(value),
                    )
                )
            counts[reference_date] = int(value)
        duo.pupils[code] = counts
        duo.rows += 1
