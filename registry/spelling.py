"""Every way of naming a thing finds it: filter values in any spelling, and search text that
forgives typos, the abbreviations of Dutch school names and the names of school types.

Pure functions over what the registry knows (search.py hands them the known values, built once
per data version); rapidfuzz measures the distances.
"""

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .text import fold

# Words that mean the same in school names, each group both ways: "sint" finds "St Bernardus",
# "cbs" finds "Christelijke Basisschool De Wegwijzer" (folded, as search_text holds them).
SYNONYMS = (
    ("sint", "st"),
    ("cbs", "christelijke basisschool"),
    ("obs", "openbare basisschool"),
    ("pcb", "pcbs", "protestants christelijke basisschool"),
    ("rk", "r k", "rkbs", "rooms katholieke", "roomskatholieke"),
    ("kc", "ikc", "kindcentrum", "integraal kindcentrum"),
    ("bs", "basisschool"),
)
# Words for a school type: typed in the search box they act as the type filter.
TYPE_WORDS = {
    "sbo": "SBO",
    "speciaal basisonderwijs": "SBO",
    "so": "SO",
    "speciaal onderwijs": "SO",
    "vso": "SO+VSO",
    "so vso": "SO+VSO",
}
_LONGEST_PHRASE = max(len(p.split()) for p in [*TYPE_WORDS, *(p for g in SYNONYMS for p in g)])
_SYNONYM_GROUP = {phrase: group for group in SYNONYMS for phrase in group}


def typo_allowance(word: str) -> int:
    """Edits forgiven in a word: none below 4 letters, one from 4, two from 8."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


@dataclass(frozen=True)
class KnownValues:
    """One filter's values: every accepted spelling (folded) leads to the canonical value."""

    canonical: dict[str, str]  # folded spelling -> canonical value
    labels: dict[str, str]  # canonical value -> what people read

    @classmethod
    def build(cls, values: Iterable[tuple[str, str, Iterable[str]]]) -> "KnownValues":
        """From (canonical value, label, other spellings) rows; the first claim on a spelling
        wins, and a canonical value always stands for itself."""
        canonical: dict[str, str] = {}
        labels: dict[str, str] = {}
        rows = list(values)
        for value, label, _others in rows:
            labels[value] = label
            canonical[fold(value) or value] = value
        for value, label, others in rows:
            for spelling in (label, *others):
                if spelling:
                    canonical.setdefault(fold(spelling), value)
        return cls(canonical, labels)

    def resolve(self, typed: str) -> str | None:
        """The canonical value for a typed one, or None when it names nothing known."""
        if typed in self.labels:
            return typed
        return self.canonical.get(fold(typed))

    def nearest(self, typed: str) -> str | None:
        """The known value whose spelling is closest to an unknown one, when one is close."""
        found = process.extractOne(
            fold(typed), self.canonical.keys(), scorer=fuzz.ratio, score_cutoff=70
        )
        return self.canonical[found[0]] if found else None


@dataclass(frozen=True)
class Vocabulary:
    """The words of every school's search text, sorted, for prefix checks and corrections."""

    words: tuple[str, ...]
    by_length: dict[int, list[str]]  # only words of a near length can be a few edits away

    @classmethod
    def build(cls, texts: Iterable[str]) -> "Vocabulary":
        return cls.of_words(sorted({word for text in texts for word in text.split()}))

    @classmethod
    def of_words(cls, sorted_words: Iterable[str]) -> "Vocabulary":
        words = tuple(sorted_words)
        by_length: dict[int, list[str]] = {}
        for word in words:
            by_length.setdefault(len(word), []).append(word)
        return cls(words, by_length)

    def has_prefix(self, word: str) -> bool:
        at = bisect.bisect_left(self.words, word)
        return at < len(self.words) and self.words[at].startswith(word)

    def corrections(self, word: str) -> list[str]:
        """The known words nearest to a word no known word starts with, within its typo
        allowance (at most three: each is one more word to match)."""
        if self.has_prefix(word):
            return []
        return nearest(self.candidates(word))

    def candidates(self, word: str) -> list[tuple[int, str]]:
        """(distance, word) for every known word within the word's typo allowance."""
        allowance = typo_allowance(word)
        if not allowance:
            return []
        found = []
        for length in range(len(word) - allowance, len(word) + allowance + 1):
            found += [
                (distance, candidate)
                for candidate, distance, _index in process.extract(
                    word,
                    self.by_length.get(length, ()),
                    scorer=Levenshtein.distance,
                    score_cutoff=allowance,
                    limit=None,
                )
            ]
        return found

    def span(self, prefix: str) -> tuple[int, int]:
        """Where the words starting with `prefix` stand in `words`: [low, high)."""
        low = bisect.bisect_left(self.words, prefix)
        return low, bisect.bisect_left(self.words, prefix + "\uffff", low)


def nearest(found: list[tuple[int, str]]) -> list[str]:
    """The nearest of (distance, word) candidates, at most three, in order (a word may be a
    candidate twice: standing in a base and added again)."""
    if not found:
        return []
    least = min(distance for distance, _word in found)
    return sorted({w for distance, w in found if distance == least})[:3]


@dataclass(frozen=True)
class AmendedVocabulary:
    """A vocabulary after changes without building it again: the words of `base` that
    `holds(low, high)` says still stand (any of base.words[low:high]), and the words `added`.
    Answers as Vocabulary.build of the texts as they are now would."""

    base: Vocabulary
    holds: Callable[[int, int], bool]
    added: Vocabulary

    def has_prefix(self, word: str) -> bool:
        return self.holds(*self.base.span(word)) or self.added.has_prefix(word)

    def corrections(self, word: str) -> list[str]:
        if self.has_prefix(word):
            return []
        standing = [
            (distance, candidate)
            for distance, candidate in self.base.candidates(word)
            if self.holds(at := bisect.bisect_left(self.base.words, candidate), at + 1)
        ]
        return nearest(standing + self.added.candidates(word))

    @property
    def words(self) -> tuple[str, ...]:
        """Every word, sorted (for checks: a search needs only the two questions above)."""
        base = self.base.words
        standing = (word for i, word in enumerate(base) if self.holds(i, i + 1))
        return tuple(sorted({*standing, *self.added.words}))


@dataclass(frozen=True)
class Term:
    """One word (or phrase) of the search text and what else it may match as a whole word."""

    typed: str  # matched as the start of a word, as typed
    synonyms: tuple[str, ...] = ()  # matched as whole words ("st" must not find "stad")
    corrections: tuple[str, ...] = ()  # known words near an unknown one, matched like it

    @property
    def corrected(self) -> str | None:
        return self.corrections[0] if self.corrections else None


@dataclass(frozen=True)
class Reading:
    """How a search text is read: its terms, each matched by its typed words or another form."""

    terms: tuple[Term, ...]

    @property
    def corrected_text(self) -> str | None:
        """The text with each unknown word replaced by its correction, when any was."""
        if not any(t.corrected for t in self.terms):
            return None
        return " ".join(t.corrected or t.typed for t in self.terms)


def phrases(text: str) -> list[str]:
    """The folded words of a text, with known multi-word phrases kept together."""
    words = fold(text).split()
    found, at = [], 0
    while at < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - at), 0, -1):
            phrase = " ".join(words[at : at + size])
            if size == 1 or phrase in _SYNONYM_GROUP or phrase in TYPE_WORDS:
                found.append(phrase)
                at += size
                break
    return found


def type_words(text: str) -> tuple[str, tuple[str, ...]]:
    """Split the names of school types off a text: ('sbo de vlinder') -> ('de vlinder', SBO)."""
    kept, types = [], []
    for phrase in phrases(text):
        if phrase in TYPE_WORDS:
            types.append(TYPE_WORDS[phrase])
        else:
            kept.append(phrase)
    return " ".join(kept), tuple(dict.fromkeys(types))


def read(text: str, vocabulary: Vocabulary | AmendedVocabulary) -> Reading:
    """The terms of a search text (type words already split off): synonyms both ways, and for
    a word nothing starts with, the known words within its typo allowance."""
    terms = []
    for phrase in phrases(text):
        group = _SYNONYM_GROUP.get(phrase)
        if group:
            terms.append(Term(phrase, synonyms=tuple(p for p in group if p != phrase)))
            continue
        corrections = tuple(vocabulary.corrections(phrase))
        terms.append(Term(phrase, corrections=corrections))
    return Reading(tuple(terms))
