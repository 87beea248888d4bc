"""Format rules for the codes and contact details the registry stores.

Each function takes what a person or a file typed and returns the canonical form, or raises
InvalidValue with a message fit to show next to the field.
"""

import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from .i18n import lazy_gettext as _l
from .phones import grouped_phone

BRIN_RE = re.compile(r"^[0-9]{2}[A-Z]{2}$")
VESTIGINGSCODE_RE = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9]{2}$")
BOARD_NUMBER_RE = re.compile(r"^[0-9]{5}$")
KVK_RE = re.compile(r"^[0-9]{8}$")
CBS_CODE_RE = re.compile(r"^GM[0-9]{4}$")
PC4_RE = re.compile(r"^[1-9][0-9]{3}$")
POSTCODE_RE = re.compile(r"^([1-9][0-9]{3}) ?([A-Z]{2})$")
# PostNL never issues these letter pairs (they read as abbreviations of the occupation).
FORBIDDEN_POSTCODE_LETTERS = {"SA", "SD", "SS"}
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class InvalidValue(ValueError):
    """A value that does not have the form the registry requires."""

    def __init__(self, field: str, message) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _require(field: str, value: str | None, pattern: re.Pattern, message) -> str:
    cleaned = _clean(value).upper()
    if not pattern.match(cleaned):
        raise InvalidValue(field, message)
    return cleaned


def brin(value: str, field: str = "brin") -> str:
    return _require(
        field, value, BRIN_RE, _l("Een BRIN-nummer is 2 cijfers en 2 letters, bijvoorbeeld 05SX.")
    )


def vestigingscode(value: str, field: str = "vestigingscode") -> str:
    return _require(
        field,
        value,
        VESTIGINGSCODE_RE,
        _l("Een vestigingscode is het BRIN-nummer plus 2 cijfers, bijvoorbeeld 05SX00."),
    )


def board_number(value: str, field: str = "board_number") -> str:
    return _require(
        field,
        value,
        BOARD_NUMBER_RE,
        _l("Een bestuursnummer van DUO is 5 cijfers, bijvoorbeeld 41196."),
    )


def kvk_number(value: str | None, field: str = "kvk_number") -> str | None:
    if not _clean(value):
        return None
    return _require(field, value, KVK_RE, _l("Een KvK-nummer is 8 cijfers, bijvoorbeeld 04060053."))


def cbs_code(value: str, field: str = "cbs_code") -> str:
    return _require(
        field,
        value,
        CBS_CODE_RE,
        _l("Een CBS-gemeentecode is GM plus 4 cijfers, bijvoorbeeld GM0118."),
    )


def pc4(value: str, field: str = "pc4") -> str:
    return _require(field, value, PC4_RE, _l("Een postcodegebied is 4 cijfers, bijvoorbeeld 7951."))


def postcode(value: str | None, field: str = "postcode") -> str | None:
    """Return a Dutch postcode as '1234 AB', accepting any case and an optional space."""
    cleaned = _clean(value).upper()
    if not cleaned:
        return None
    match = POSTCODE_RE.match(cleaned)
    if not match or match.group(2) in FORBIDDEN_POSTCODE_LETTERS:
        raise InvalidValue(
            field, _l("Een postcode is 4 cijfers en 2 letters, bijvoorbeeld 7961 AW.")
        )
    return f"{match.group(1)} {match.group(2)}"


def url(value: str | None, field: str = "website") -> str | None:
    """Accept a web address with or without http(s)://, as DUO publishes them without."""
    cleaned = _clean(value)
    if not cleaned:
        return None
    try:
        parts = urlsplit(cleaned if "://" in cleaned else "http://" + cleaned)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an unbalanced "[" reads as a broken IPv6 address
        parts, host = None, ""
    if (
        not parts
        or parts.scheme not in ("http", "https")
        or not HOSTNAME_RE.match(host)
        or " " in cleaned
    ):
        raise InvalidValue(
            field, _l("Vul een webadres in, bijvoorbeeld www.school.nl of https://www.school.nl.")
        )
    return cleaned


def email(value: str | None, field: str = "email") -> str | None:
    cleaned = _clean(value)
    if not cleaned:
        return None
    try:
        return validate_email(cleaned, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidValue(
            field, _l("Vul een geldig e-mailadres in, bijvoorbeeld info@school.nl.")
        ) from error


def phone(value: str | None, field: str = "phone") -> str | None:
    """Accept a Dutch or international number written with spaces, dashes or brackets; keep
    it in the one grouped form every page shows ('0522 48 13 44'), so the same number typed
    two ways is stored once and a re-typed number is no change."""
    cleaned = _clean(value)
    if not cleaned:
        return None
    digits = re.sub(r"[\s\-().]", "", cleaned)
    if not re.fullmatch(r"(\+[0-9]{10,14}|0[0-9]{9})", digits):
        raise InvalidValue(
            field, _l("Vul een telefoonnummer van 10 cijfers in, bijvoorbeeld 0522 48 13 44.")
        )
    grouped = grouped_phone(digits)
    return grouped if grouped != digits else cleaned  # a foreign number: as it was typed


def latitude(value: float | None, field: str = "latitude") -> float | None:
    if value is not None and not -90 <= value <= 90:
        raise InvalidValue(field, _l("Een breedtegraad ligt tussen -90 en 90."))
    return value


def longitude(value: float | None, field: str = "longitude") -> float | None:
    if value is not None and not -180 <= value <= 180:
        raise InvalidValue(field, _l("Een lengtegraad ligt tussen -180 en 180."))
    return value


# Each rule by the name of the attribute it checks: a name means one kind of value in every
# model (Board.postcode and School.postcode are both postcodes). This is the one place a rule is
# tied to a field; the models check every value set (models.apply_rules), the admin's forms check
# next to the field (admin.adaptations.RegistryConverter) and the DUO reader checks what it reads
# (duo.files), all by looking the attribute up here. Control characters are refused by column
# type instead (plain_text).
RULES = {
    "brin": brin,
    "vestigingscode": vestigingscode,
    "board_number": board_number,
    "kvk_number": kvk_number,
    "cbs_code": cbs_code,
    "pc4": pc4,
    "postcode": postcode,
    "website": url,
    "support_profile_url": url,
    "email": email,
    "contact_email": email,
    "phone": phone,
    "contact_phone": phone,
    "latitude": latitude,
    "longitude": longitude,
}


def check(attribute: str, value):
    """The value in its canonical form by the attribute's rule in RULES; as given without one."""
    rule = RULES.get(attribute)
    return value if rule is None else rule(value, attribute)


def link_href(website: str | None) -> str | None:
    """A clickable address; plain http because sites redirect to https, not the other way."""
    if not website:
        return None
    return website if "://" in website else "http://" + website


# Control characters (C0, DEL and C1): no one types them, pasted ones hide in names and break XLSX
# files and PostgreSQL (NUL). Multi-line text keeps its tab and line breaks.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MULTILINE_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


CONTROL_MESSAGE = _l(
    "Dit veld bevat een onzichtbaar stuurteken (bijvoorbeeld een tab of regeleinde, vaak"
    " meegekopieerd); typ de tekst opnieuw of plak hem zonder opmaak."
)
MULTILINE_CONTROL_MESSAGE = _l(
    "Deze tekst bevat een onzichtbaar stuurteken (vaak meegekopieerd); typ de tekst opnieuw"
    " of plak hem zonder opmaak."
)


def plain_text(value, field: str = "tekst", multiline: bool = False):
    """Refuse invisible control characters (a tab or line break only in multi-line text)."""
    pattern = MULTILINE_CONTROL_RE if multiline else CONTROL_RE
    if isinstance(value, str) and pattern.search(value):
        raise InvalidValue(field, MULTILINE_CONTROL_MESSAGE if multiline else CONTROL_MESSAGE)
    return value
