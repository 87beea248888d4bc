"""Dutch phone numbers in the grouped form people read and spreadsheets keep as text.

The grouping follows the usual Dutch writing (NEN 1775): area code, then the subscriber
number in groups, e.g. 0522 25 85 00, 010 123 45 67, 06 12 34 56 78. Only the spacing
changes: a number that is not a Dutch number of a known length comes back exactly as stored.
"""

import re

# Separators people type inside a number (validation.phone accepts the same ones).
_SEPARATORS = re.compile(r"[\s\-().]")
# Geographic area codes of three digits (010 Rotterdam, 020 Amsterdam, ...); the others have four.
_SHORT_AREA_CODES = frozenset(
    f"0{n}" for n in (10, 20, 30, 33, 35, 36, 38, 40, 43, 45, 46, 50, 53, 55, 58, *range(70, 80))
)
# Free and paid information numbers: 0800 1234 or 0900 123 45 67.
_INFORMATION_CODES = ("0800", "0900", "0906", "0909")


def grouped_phone(stored: str | None) -> str | None:
    """'0522258500' -> '0522 25 85 00', '+31612345678' -> '+31 6 12 34 56 78'; anything
    else (a foreign number, a wrong length, words) as stored."""
    if not stored:
        return stored
    digits = _SEPARATORS.sub("", stored)
    if digits.startswith("+31"):
        national = _national("0" + digits[3:])
        return "+31 " + national[1:] if national else stored
    return _national(digits) or stored


def _national(digits: str) -> str | None:
    """The grouped form of a national number ('0' and its digits), or None."""
    if not digits.isdigit() or not digits.startswith("0"):
        return None
    if digits.startswith(_INFORMATION_CODES):
        code, rest = digits[:4], digits[4:]
        if len(rest) == 4:
            return f"{code} {rest}"
        return f"{code} {_subscriber(rest)}" if len(rest) == 7 else None
    if len(digits) != 10:
        return None
    if digits.startswith("06"):
        return f"06 {_subscriber(digits[2:])}"
    # 08x and 09x are the non-geographic numbers of three digits (088 companies, 085 VoIP).
    short = digits[:3] in _SHORT_AREA_CODES or digits[1] in "89"
    split = 3 if short else 4
    return f"{digits[:split]} {_subscriber(digits[split:])}"


def _subscriber(digits: str) -> str:
    """Pairs, the first a three when the count is odd: '258500' -> '25 85 00',
    '1234567' -> '123 45 67'."""
    head = 3 if len(digits) % 2 else 2
    groups = [digits[:head]] + [digits[i : i + 2] for i in range(head, len(digits), 2)]
    return " ".join(groups)
