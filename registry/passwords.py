"""The password policy (OWASP ASVS 5, V6): long enough, not common, not guessable from the
account; no composition rules."""

import functools
import string

from .i18n import gettext as _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# Runs a password must not be: the alphabet, the digits and the letter rows of a keyboard.
SEQUENCES = (string.ascii_lowercase, string.digits, "qwertyuiopasdfghjklzxcvbnm")
SUFFIX = string.digits + string.punctuation


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked lists (zxcvbn's list; all lowercase)."""
    # Imported here, once: the module holds word lists that only a password change needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


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
    made from the e-mail address, a piece of up to three characters repeated (aaaa, abab),
    a run such as 1234 or abcd, and the current password of `user`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Gebruik minstens 12 tekens.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Gebruik hoogstens 128 tekens.")
    # Spaces and capitals add little against a guesser with a list: compare without them.
    plain = "".join(password.split()).casefold()
    common = _common_passwords()
    if any(_units(core) & common for core in {plain, plain.rstrip(SUFFIX)} if core):
        return _(
            "Dit wachtwoord staat op de lijst van veelgebruikte of gelekte wachtwoorden;"
            " kies een ander."
        )
    address = email.casefold()
    local = address.partition("@")[0]
    names = {name for name in (local, "".join(filter(str.isalnum, local))) if len(name) >= 4}
    if plain == address or any(name in plain for name in names):
        return _("Gebruik geen wachtwoord dat op uw e-mailadres lijkt.")
    if any(len(unit) <= 3 for unit in _units(plain)) or _is_run(plain):
        return _("Gebruik geen herhaald teken of eenvoudige reeks, zoals aaaa of 1234.")
    if user is not None and user.check_password(password):
        return _("Kies een ander wachtwoord dan uw huidige.")
    return None
