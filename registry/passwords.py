"""The password policy (OWASP ASVS 5, V6): long enough, not common, not guessable from the
account; no composition rules."""

import functools
import re
import string
import unicodedata

from .i18n import gettext as _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# Runs a password must not be: the alphabet, the digits and the letter rows of a keyboard.
SEQUENCES = (string.ascii_lowercase, string.digits, "qwertyuiopasdfghjklzxcvbnm")
SUFFIX = string.digits + string.punctuation
# Parts of an e-mail address shorter than this (jan, org) are in too many good passwords.
MIN_NAME_LENGTH = 4
LOCAL_PART_SEPARATORS = re.compile(r"[._+-]")

# Refused outright. A control character (tab, newline, NUL, escape) cannot be typed into a
# password field: browsers drop newlines from it and Tab moves on. One arrives only pasted or
# from a script, and the next device or program may drop it too, which locks the person out.
# A lone surrogate cannot even be encoded to be hashed.
REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})
# Invisible: format characters (zero-width spaces and joiners, soft hyphen, byte-order mark,
# direction marks, tags), private-use and unassigned code points, and the default-ignorable
# fillers and variation selectors that Unicode files under letters and marks. They are allowed
# (a zero-width joiner builds emoji), but do not count towards the length and are left out of
# every comparison.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Co", "Cn"})
INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]))
)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked lists (zxcvbn's list; all lowercase)."""
    # Imported here, once: the module holds word lists that only a password change needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _without_marks(text: str) -> str:
    return "".join(char for char in text if not unicodedata.combining(char))


@functools.cache
def _look_alikes() -> dict[str, str]:
    """Each character that imitates ASCII, and what it imitates (Unicode TR39 prototypes)."""
    # Imported here, once: the package reads a 900 kB table when imported.
    from confusable_homoglyphs.confusables import confusables_data

    table = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        prototypes = (_without_marks(glyph["c"]) for glyph in glyphs)  # Greek η is n̩
        latin = next((text for text in prototypes if text and text.isascii()), "")
        if not latin:
            continue
        # TR39 gives every capital I look-alike the prototype l (I, l and 1 look alike); read
        # case-folded, a capital I is an i.
        table[char] = "I" * len(latin) if char.isupper() and set(latin) == {"l"} else latin
    return table


def _is_invisible(char: str) -> bool:
    return char in INVISIBLE or unicodedata.category(char) in INVISIBLE_CATEGORIES


@functools.lru_cache(maxsize=4096)  # bounded: the keys are whatever people send
def _skeleton(char: str) -> str:
    """What `char` looks like, case-folded, in ASCII where it imitates ASCII ('' if unseen).

    NFKD turns full-width, mathematical and other compatibility forms into their plain
    letters (what NFKC would) and splits off accents, which are dropped; a digit of any script
    is its value; the look-alike table reads Cyrillic а as a and Greek ο as o.
    """
    if _is_invisible(char):
        return ""
    if unicodedata.category(char) == "Nd":
        return str(unicodedata.decimal(char))
    look_alikes = _look_alikes()
    plain = _without_marks(unicodedata.normalize("NFKD", char))
    folded = "".join(look_alikes.get(part, part) for part in plain).casefold()
    return "".join(look_alikes.get(part, part) for part in folded)


def _fold(text: str) -> str:
    """`text` as the policy compares it: what it looks like, without spaces or capitals
    (which add little against a guesser with a list)."""
    return "".join("".join(map(_skeleton, text)).split())


def _address_names(email: str) -> set[str]:
    """The address and every part of it a password could be built from, folded."""
    address = _fold(email)
    local, _at, domain = address.rpartition("@")
    names = {address, local, "".join(filter(str.isalnum, local)), domain}
    names.update(LOCAL_PART_SEPARATORS.split(local), domain.split("."))
    return {name for name in names if len(name) >= MIN_NAME_LENGTH}


def _units(text: str) -> set[str]:
    """Every piece that `text` is a repetition of, itself included ('abab' -> ab, abab)."""
    return {
        text[:size]
        for size in range(1, len(text) + 1)
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text
    }


def _is_run(text: str) -> bool:
    """Whether `text` walks along one of SEQUENCES, forwards or backwards, wrapping round."""
    for sequence in SEQUENCES:
        wrapped = sequence * (len(text) // len(sequence) + 2)
        if text in wrapped or text[::-1] in wrapped:
            return True
    return False


def password_problem(password: str, email: str, user=None) -> str | None:
    """Why a chosen password is refused (a message for the person), or None when it is fine.

    OWASP ASVS 5 V6: a length of 12 to 128 and no composition rules; refused are common and
    leaked passwords (also repeated, or with digits or symbols added at the end), anything
    made from the e-mail address or a part of it, a piece of up to three characters repeated
    (aaaa, abab), a run such as 1234 or abcd, and the current password of `user`.

    Each rule judges what the password looks like: invisible characters do not count and
    look-alikes of other scripts read as the letters they imitate. The password itself is
    kept as typed.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Gebruik hoogstens 128 tekens.")
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in password):
        return _("Gebruik geen besturingstekens, zoals een tab of een nieuwe regel.")
    visible = "".join(char for char in password if not _is_invisible(char))
    # Each code point is a character (NIST SP 800-63B); after NFC, also an é typed as e and
    # an accent.
    if len(unicodedata.normalize("NFC", visible)) < MIN_PASSWORD_LENGTH:
        return _("Gebruik minstens 12 tekens.")
    plain = _fold(password)
    common = _common_passwords()
    if any(_units(core) & common for core in {plain, plain.rstrip(SUFFIX)} if core):
        return _(
            "Dit wachtwoord staat op de lijst van veelgebruikte of gelekte wachtwoorden;"
            " kies een ander."
        )
    # Containment in the whole text also covers the text without its suffix.
    texts = (plain, "".join(filter(str.isalnum, plain)))
    if any(name in text for name in _address_names(email) for text in texts):
        return _("Gebruik geen wachtwoord dat op uw e-mailadres lijkt.")
    if any(len(unit) <= 3 for unit in _units(plain)) or _is_run(plain):
        return _("Gebruik geen herhaald teken of eenvoudige reeks, zoals aaaa of 1234.")
    if user is not None and user.check_password(password):
        return _("Kies een ander wachtwoord dan uw huidige.")
    return None
