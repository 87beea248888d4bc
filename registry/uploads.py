"""What every upload shares (DUO files, support spreadsheets): its size in words people read,
and values quoted back in a message without what would garble it."""

import math
import re

from flask_babel import format_decimal

from .i18n import gettext as _

# Control characters: shown as a replacement character when a value is quoted back.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The size limits are binary megabytes, as the upload page and DUO_MAX_BYTES count them.
MEGABYTE = 1024 * 1024
# Values quoted back in a message are cut to this length.
SHOWN_LENGTH = 40


def megabytes(size: int, limit: bool = False) -> str:
    """A size in MB as users read it: a file's rounded up to one decimal, a limit rounded down,
    so that a file over the limit never reads as within it."""
    tenths = size * 10 / MEGABYTE
    if limit:
        return format_decimal(math.floor(tenths) / 10, format="#,##0.#")
    return format_decimal(math.ceil(tenths) / 10, format="#,##0.0")


def too_large(size: int, limit: int) -> str:
    """The message for a file of `size` bytes, above `limit`."""
    return _(
        "Het bestand is te groot: %(size)s MB; het maximum is %(max)s MB.",
        size=megabytes(size),
        max=megabytes(limit, limit=True),
    )


def shown(value: str) -> str:
    """A value quoted back to the user: control characters visible, cut to a readable length."""
    value = CONTROL_CHARACTER.sub("\N{REPLACEMENT CHARACTER}", value)
    return value if len(value) <= SHOWN_LENGTH else value[:SHOWN_LENGTH] + "…"
