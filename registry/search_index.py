"""The directory's searches answered in memory: one index per worker, built from the database.

SQL stays the source of truth (exports of every row read it, and a property test proves that
this index gives the same ids, order and counts as search.py's SQL for any search). The index
holds the open schools as columns (numpy): a code per school for each filter, so a filter is
`isin` and its counts a `bincount` over the matching rows; the words of every search text
with the rows holding them, so a word prefix is a slice of the sorted words; coordinates for
a vectorised distance; and the orders the database itself sorts by (its collation decides),
as ranks. A search then touches only arrays, and loads just the 25 schools it shows.

A change of the data costs no rebuild: when the data version changes (or the day does: a
school closes on a date), the worker finds the schools changed since its build in one scan
(search_changes.py) and answers from the index without them plus a small index of just them,
never from a stale row. A full build follows in a thread when many changed, or when the data
has been quiet for a while; gunicorn builds the first before a worker takes requests.
"""

import bisect
import functools
import gc
import threading
import time
from array import array
from dataclasses import dataclass
from datetime import date

import numpy as np
from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select

from . import search_changes, spelling
from .cache import data_version
from .db import db
from .filters import DEFAULT_LEVEL, LEVELS, SUPPORT_FACET, TYPE_LABELS
from .models import (
    Board,
    Municipality,
    Network,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from .special import CLUSTERS
from .text import fold, place_name

FACET_COLUMNS = ("gemeente", "plaats", "type", "richting", "bestuur", "netwerk")
CLUSTER_FACET = "cluster"  # several per school, as the support areas: a matrix of its own
NO_ROWS = np.zeros(0, dtype=np.int32)


class Sorted:
    """Strings sorted once with their rows, so that those starting with a text are a slice."""

    def __init__(self, strings: list[str | None]) -> None:
        order = sorted((t, i) for i, t in enumerate(strings) if t is not None)
        self.strings = [t for t, _i in order]
        self.rows = np.array([i for _t, i in order], dtype=np.int64)

    def starting(self, text: str) -> np.ndarray:
        low = bisect.bisect_left(self.strings, text)
        high = bisect.bisect_left(self.strings, text + "\uffff", low)
        return self.rows[low:high]


class Codes:
    """One filter's values as small integers: code i stands for values[i], labels[i]."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.labels: list[str] = []
        self.index: dict[str, int] = {}

    def rank_by_name(self) -> None:
        """Each value's place in name order (fold), for choosing among equal counts."""
        order = sorted(
            range(len(self.values)), key=lambda c: (fold(str(self.labels[c])), self.values[c])
        )
        self.rank = np.empty(len(order), dtype=np.int64)
        self.rank[order] = np.arange(len(order))

    def code(self, value: str | None, label: str | None) -> int:
        if value is None:
            return -1
        if value not in self.index:
            self.index[value] = len(self.values)
            self.values.append(value)
            self.labels.append(label)
        return self.index[value]


# How a school's support in an area is held in the index, and the least a level asks for.
SUPPORT_RANK = {SupportLevel.BASIS: 1, SupportLevel.EXTRA: 2}


def _lowest_rank(level: str) -> int:
    return min(SUPPORT_RANK[asked] for asked in LEVELS[level])


@dataclass
class SchoolIndex:
    ids: np.ndarray  # school ids, in the database's name order: position = name rank
    versions: np.ndarray  # School.version per row as read: a row at another now has changed
    texts: list[str]  # search_text per row
    by_name: dict[str, np.ndarray]  # lower(name), as the database lowers it -> rows
    after_code: "Sorted"  # each search_text after its " <code> ": the name, street, ...
    places: "Sorted"  # lower(place) as the database lowers it (rows without one left out)
    words: list[str]  # every word of the texts, sorted
    # The rows holding words[i] are postings[starts[i]:starts[i + 1]]: one array, not an array
    # per word (at ten times the national data, 90,000 words, mostly vestigingscodes).
    postings: np.ndarray
    starts: np.ndarray
    codes: dict[str, np.ndarray]  # filter -> code per row (-1: none)
    values: dict[str, Codes]
    support: np.ndarray  # rows x areas: 0 none, 1 basis, 2 extra (SUPPORT_RANK)
    clusters: np.ndarray  # rows x CLUSTERS, bool (a school of "3/4" in both)
    areas: list[tuple[str, str, str]]  # (code, name, name_en) in their order
    place_rank: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    pupils: dict[date, np.ndarray]  # per reference date, NaN where not counted
    latest: date | None
    # Per row, the keys of the database's name and place orders (see positions_of).
    lower_names: list[str]
    lower_places: list[str | None]
    vestigingscodes: list[str]

    @classmethod
    def build(cls, connection=None, only: list[int] | None = None) -> "SchoolIndex":
        """The open schools (of `only`: just those ids, for the schools changed since a
        build), read on `connection` (one snapshot: see snapshot()) or the session's."""
        # Core rows, not the ORM's: its row machinery would double the time (and it is seconds
        # at ten times the national data).
        connection = connection or db.session.connection()
        chosen = _only(School.id, only)
        name_order = (func.lower(School.name), School.vestigingscode)
        # Streamed, each row taken apart as it comes: holding all the rows at once (16 values
        # each) was most of a build's peak memory at ten times the national data.
        rows = connection.execution_options(yield_per=2000).execute(
            select(
                School.id,
                School.search_text,
                func.lower(School.name),
                func.lower(School.place),
                School.place,
                School.vestigingscode,
                Municipality.slug,
                Municipality.name,
                School.school_type,
                School.denomination,
                Board.board_number,
                Board.label,
                Network.slug,
                Network.name,
                School.latitude,
                School.longitude,
                School.version,
            )
            .join(School.municipality)
            .join(School.board)
            .outerjoin(School.network)
            .where(School.is_open, *chosen)
            .order_by(*name_order)
        )
        read = _RowReader()
        for i, r in enumerate(rows):
            read.add(i, r)
        n = len(read.ids)
        position = {school_id: i for i, school_id in enumerate(read.ids)}
        values = read.finish_values()
        words, starts, postings = _postings(read.by_word)
        areas, support = _support(connection, position, only, n)
        clusters = _clusters(connection, position, chosen, n)
        place_rank = _place_rank(connection, position, chosen, name_order, n)
        pupils = _pupils(connection, position, only, n)
        return cls(
            ids=np.array(read.ids, dtype=np.int64),
            versions=np.array(read.versions, dtype=np.int64),
            texts=read.texts,
            by_name=_rows_by(read.names),
            after_code=Sorted(read.after_code),
            places=Sorted(read.places),
            words=words,
            postings=postings,
            starts=starts,
            codes={facet: np.array(codes, dtype=np.int32) for facet, codes in read.columns.items()},
            values=values,
            support=support,
            clusters=clusters,
            areas=[(code, name, name_en) for _id, code, name, name_en in areas],
            place_rank=place_rank,
            latitude=np.array(read.latitude, dtype=np.float64),
            longitude=np.array(read.longitude, dtype=np.float64),
            pupils=pupils,
            latest=connection.scalar(select(func.max(PupilCount.reference_date))),
            lower_names=read.names,
            lower_places=read.places,
            vestigingscodes=read.vestigingscodes,
        )

    @property
    def size(self) -> int:
        return len(self.ids)

    @functools.cached_property
    def vocabulary(self) -> spelling.Vocabulary:
        """Its words, for the search's prefix checks and corrections (see View.vocabulary)."""
        return spelling.Vocabulary.of_words(self.words)

    @functools.cached_property
    def id_order(self) -> np.ndarray:
        """The rows in the order of their school ids (to find a school's row by its id)."""
        return np.argsort(self.ids, kind="stable")

    # Text: the same words LIKE '% word%' finds, from the sorted words.

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[rows] = True
        return mask

    def _starting(self, prefix: str) -> np.ndarray:
        low = bisect.bisect_left(self.words, prefix)
        high = bisect.bisect_left(self.words, prefix + "\uffff", low)
        # The words starting with the prefix are neighbours, so their rows are one slice.
        return self._rows(self.postings[self.starts[low] : self.starts[high]])

    def _exact(self, word: str) -> np.ndarray:
        at = bisect.bisect_left(self.words, word)
        found = at < len(self.words) and self.words[at] == word
        return self._rows(
            self.postings[self.starts[at] : self.starts[at + 1]] if found else NO_ROWS
        )

    def _phrase(self, phrase: str, whole: bool) -> np.ndarray:
        """Rows whose text holds the phrase at a word's start (LIKE '% phrase%'), or as whole
        words (LIKE '% phrase %' OR LIKE '% phrase')."""
        words = phrase.split()
        mask = self._exact(words[-1]) if whole else self._starting(words[-1])
        for word in words[:-1]:
            mask &= self._exact(word)
        if len(words) > 1:
            needle = f" {phrase}"
            for i in np.flatnonzero(mask):
                text = self.texts[i]
                kept = (f"{needle} " in text or text.endswith(needle)) if whole else needle in text
                mask[i] = kept
        return mask

    def term(self, term) -> np.ndarray:
        mask = self._phrase(term.typed, whole=False)
        for word in term.corrections:
            mask |= self._phrase(word, whole=False)
        for word in term.synonyms:
            mask |= self._phrase(word, whole=True)
        return mask

    # Filters.

    def facet(self, facet: str, values: tuple[str, ...], level: str = DEFAULT_LEVEL) -> np.ndarray:
        if facet == SUPPORT_FACET:
            columns = [j for j, (code, *_names) in enumerate(self.areas) if code in values]
            return (self.support[:, columns] >= _lowest_rank(level)).any(axis=1)
        if facet == CLUSTER_FACET:
            columns = [j for j, code in enumerate(CLUSTERS) if code in values]
            return self.clusters[:, columns].any(axis=1)
        known = self.values[facet].index
        codes = [known[v] for v in values if v in known]
        return np.isin(self.codes[facet], codes)

    def counts(
        self,
        facet: str,
        mask: np.ndarray,
        limit: int | None = None,
        selected=(),
        level: str = DEFAULT_LEVEL,
    ) -> tuple[list[tuple[str, str, int]], int]:
        """(value, label, count) as the SQL counts give them (search.py sorts them), at most
        `limit` of them: the selected, then the largest, then by name; and how many more."""
        if facet == CLUSTER_FACET:
            sums = self.clusters[mask].sum(axis=0)
            found = [
                (code, str(label), int(sums[j]))
                for j, (code, label) in enumerate(CLUSTERS.items())
                if sums[j]
            ]
            return found, 0
        if facet == SUPPORT_FACET:
            english = str(get_locale()) == "en"
            sums = (self.support[mask] >= _lowest_rank(level)).sum(axis=0)
            found = [
                (code, name_en if english else name, int(sums[j]))
                for j, (code, name, name_en) in enumerate(self.areas)
            ]
            return found, 0
        codes = self.codes[facet][mask]
        named = self.values[facet]
        counted = np.bincount(codes[codes >= 0], minlength=len(named.values))
        present = np.flatnonzero(counted)
        more = 0
        if limit is not None and len(present) > limit:
            kept = np.array(
                [named.index[v] for v in selected if v in named.index and counted[named.index[v]]],
                dtype=np.int64,
            )
            others = present[~np.isin(present, kept)]
            largest = others[np.lexsort((named.rank[others], -counted[others]))]
            chosen = np.concatenate([kept, largest[: max(0, limit - len(kept))]])
            more, present = len(present) - len(chosen), chosen
        found = [(named.values[c], named.labels[c], int(counted[c])) for c in present.tolist()]
        if facet == "type":
            found = [(v, str(TYPE_LABELS[SchoolType(v)]), n) for v, _label, n in found]
        return found, more

    # Order.

    def pupils_on(self, reference: date | None) -> tuple[np.ndarray, date | None]:
        chosen = reference or self.latest
        if chosen not in self.pupils:
            return np.full(self.size, np.nan), chosen
        return self.pupils[chosen], chosen

    def order(
        self, rows: np.ndarray, sort: str, reference: date | None, origin, relevance, needed: int
    ) -> np.ndarray:
        """The first `needed` matching rows in the search's order (name rank breaks every tie,
        as in SQL). Only those are sorted: a page of 25 out of 60,000 costs no full sort."""
        primary = self._primary(rows, sort, reference, origin, relevance, self.place_rank)
        if primary is None:
            return rows[:needed]  # the rows stand in name order already
        return _first(rows, primary, needed)

    def _primary(self, rows, sort, reference, origin, relevance, places) -> np.ndarray | None:
        """Per row, the search order's key before the name (None: the name alone orders)."""
        if sort == "plaats":
            return places[rows]
        if sort == "leerlingen":
            pupils = self.pupils_on(reference)[0][rows]
            return np.where(np.isnan(pupils), np.inf, -pupils)
        if sort == "afstand":
            scale = np.cos(np.radians(origin.latitude))
            d_lat = self.latitude[rows] - origin.latitude
            d_lon = (self.longitude[rows] - origin.longitude) * scale
            distance = d_lat * d_lat + d_lon * d_lon
            return np.where(np.isnan(distance), np.inf, distance)  # unplaced: last
        if relevance is not None:
            return relevance[rows]
        return None

    def sort_keys(
        self, rows: np.ndarray, sort: str, reference, origin, relevance, names=None, places=None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The search's order per row as (key, name rank), as order() sorts: in this index's
        own ranks (its rows, place_rank), or in another index's given as `names` and `places`
        (positions_of), so that two indexes' rows sort as one."""
        by_name = (rows if names is None else names[rows]).astype(np.float64)
        places = self.place_rank if places is None else places
        primary = self._primary(rows, sort, reference, origin, relevance, places)
        return (by_name if primary is None else primary.astype(np.float64)), by_name

    # Where the rows of another index (the schools changed since this build) stand in this
    # one's orders, so that a page holding them needs no SQL to be put in order. The keys are
    # those the build's ORDER BY compares, compared as SQLite compares them (its lower() and
    # BINARY collation are Python's code point order; NULL places first); other databases
    # order such pages themselves (View.positions is None).

    def name_key(self, row: int) -> tuple[str, str]:
        return self.lower_names[row], self.vestigingscodes[row]

    def place_key(self, row: int) -> tuple:
        place = self.lower_places[row]
        return place is not None, place or "", *self.name_key(row)

    @functools.cached_property
    def by_place(self) -> np.ndarray:
        """The rows in place order (place_rank is each row's place in it)."""
        order = np.empty(self.size, dtype=np.int64)
        order[self.place_rank] = np.arange(self.size)
        return order

    def positions_of(self, other: "SchoolIndex") -> tuple[np.ndarray, np.ndarray]:
        """For each row of `other`: its rank in this index's name order and in its place
        order, between this index's rows (a rank of 4.5 stands after row 4 and before row 5;
        several between the same two rows in their own order)."""
        rows = range(self.size)
        names = _between(other, other.name_key, lambda key: _insertion(rows, key, self.name_key))
        places = _between(
            other, other.place_key, lambda key: _insertion(self.by_place, key, self.place_key)
        )
        return names, places

    def relevance(self, q: str, text: str) -> np.ndarray:
        """The SQL relevance of search.py, per row: 0 the exact name, 1 a name that starts
        with the text, 2 a place that starts with it, 3 the rest."""
        ranks = np.full(self.size, 3, dtype=np.int8)
        ranks[self.places.starting(text)] = 2
        ranks[self.after_code.starting(text)] = 1
        for name in {q.lower(), text}:
            ranks[self.by_name.get(name, NO_ROWS)] = 0
        return ranks


def _insertion(rows, key, key_of) -> int:
    return bisect.bisect_left(rows, key, key=lambda row: key_of(int(row)))


def _between(other: "SchoolIndex", key_of, insertion) -> np.ndarray:
    """Each of other's rows' rank among the rows `insertion` counts (those before its key),
    as a fraction between two of them, other's rows in their own order between the same two."""
    count = other.size
    ranks = np.empty(count, dtype=np.float64)
    for k, row in enumerate(sorted(range(count), key=key_of)):
        ranks[row] = insertion(key_of(row)) - 1 + (k + 1) / (count + 1)
    return ranks


def _first(rows: np.ndarray, keys: np.ndarray, needed: int) -> np.ndarray:
    """The `needed` rows with the smallest keys, in order of key and then row (name rank).
    Unknowns sort last (inf). Every row whose key ties the last one taken is a candidate, so
    the result is exactly that of sorting them all."""
    if needed < len(rows):
        last = np.partition(keys, needed - 1)[needed - 1]
        candidates = keys <= last
        rows, keys = rows[candidates], keys[candidates]
    return rows[np.lexsort((rows, keys))][:needed]


class _RowReader:
    """Takes the build's streamed rows apart as they come, into C arrays (array, not lists of
    Python numbers, until they become numpy's) and the filters' codes."""

    def __init__(self) -> None:
        self.values = {facet: Codes() for facet in FACET_COLUMNS}
        for school_type in SchoolType:  # the filter lists types in this order
            self.values["type"].code(school_type.value, school_type)
        self.columns = {facet: array("i") for facet in FACET_COLUMNS}
        self.ids, self.versions = array("q"), array("q")
        self.latitude, self.longitude = array("d"), array("d")
        self.texts: list[str] = []
        self.names: list[str] = []
        self.vestigingscodes: list[str] = []
        self.after_code: list[str] = []
        self.places: list[str | None] = []
        self.by_word: dict[str, array] = {}
        # The largest raw spelling of a place names it, as the SQL counts do (max(place)).
        self.place_labels: dict[str, str] = {}

    def add(self, i: int, r) -> None:
        (school_id, text, lower_name, lower_place, place, code, m_slug, m_name) = r[:8]
        (school_type, denomination, b_number, b_label, n_slug, n_name, lat, lon) = r[8:16]
        self.ids.append(school_id)
        self.versions.append(r[16])
        self.texts.append(text)
        self.names.append(lower_name)
        self.vestigingscodes.append(code)
        self.after_code.append(text[len(f" {code.lower()} ") :])  # the name, street, ...
        self.places.append(lower_place)
        self.latitude.append(np.nan if lat is None else lat)
        self.longitude.append(np.nan if lon is None else lon)
        if lower_place is not None:
            self.place_labels[lower_place] = max(self.place_labels.get(lower_place, place), place)
        values, columns = self.values, self.columns
        columns["gemeente"].append(values["gemeente"].code(m_slug, m_name))
        columns["plaats"].append(values["plaats"].code(lower_place, lower_place))
        columns["type"].append(values["type"].code(SchoolType(school_type).value, None))
        columns["richting"].append(values["richting"].code(denomination, denomination))
        columns["bestuur"].append(values["bestuur"].code(b_number, b_label))
        columns["netwerk"].append(values["netwerk"].code(n_slug, n_name))
        for word in set(text.split()):
            found = self.by_word.get(word)
            if found is None:
                found = self.by_word[word] = array("i")
            found.append(i)

    def finish_values(self) -> dict[str, "Codes"]:
        places = self.values["plaats"]
        places.labels = [place_name(self.place_labels[v]) for v in places.values]
        for named in self.values.values():
            named.rank_by_name()
        return self.values


def _postings(by_word: dict[str, array]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sorted words, and the rows of words[i] as postings[starts[i]:starts[i + 1]]."""
    words = sorted(by_word)
    starts = np.zeros(len(words) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(by_word[w]) for w in words])
    postings = np.empty(starts[-1], dtype=np.int32)
    for word, at in zip(words, starts[:-1].tolist(), strict=True):
        found = by_word.pop(word)
        postings[at : at + len(found)] = found
    return words, starts, postings


def _support(connection, position: dict, only, n: int) -> tuple[list, np.ndarray]:
    """The support areas in their order, and rows x areas of SUPPORT_RANK."""
    areas = connection.execute(
        select(SupportArea.id, SupportArea.code, SupportArea.name, SupportArea.name_en).order_by(
            SupportArea.position
        )
    ).all()
    area_column = {area_id: j for j, (area_id, *_rest) in enumerate(areas)}
    support = np.zeros((n, len(areas)), dtype=np.int8)
    for school_id, area_id, level in connection.execute(
        select(SchoolSupport.school_id, SchoolSupport.support_area_id, SchoolSupport.level).where(
            *_only(SchoolSupport.school_id, only)
        )
    ):
        if school_id in position:
            support[position[school_id], area_column[area_id]] = SUPPORT_RANK[level]
    return areas, support


def _clusters(connection, position: dict, chosen: list, n: int) -> np.ndarray:
    clusters = np.zeros((n, len(CLUSTERS)), dtype=bool)
    for school_id, cluster in connection.execute(
        select(School.id, School.cluster).where(
            School.is_open, School.cluster.is_not(None), *chosen
        )
    ):
        if school_id not in position:
            continue  # opened after the main rows were read (only without a snapshot)
        for j, code in enumerate(CLUSTERS):
            clusters[position[school_id], j] = code in cluster
    return clusters


def _place_rank(connection, position: dict, chosen: list, name_order, n: int) -> np.ndarray:
    place_rank = np.empty(n, dtype=np.int64)
    by_place = connection.scalars(
        select(School.id)
        .where(School.is_open, *chosen)
        .order_by(func.lower(School.place), *name_order)
    )
    for rank, school_id in enumerate(by_place):
        if school_id in position:
            place_rank[position[school_id]] = rank
    return place_rank


def _pupils(connection, position: dict, only, n: int) -> dict[date, np.ndarray]:
    """Pupils per reference date, NaN where a school was not counted."""
    pupils: dict[date, np.ndarray] = {}
    for school_id, reference, count in connection.execute(
        select(PupilCount.school_id, PupilCount.reference_date, PupilCount.pupils).where(
            *_only(PupilCount.school_id, only)
        )
    ):
        if school_id in position:
            if reference not in pupils:
                pupils[reference] = np.full(n, np.nan)
            pupils[reference][position[school_id]] = count
    return pupils


def _only(column, ids: list[int] | None) -> list:
    return [] if ids is None else [column.in_(ids)]


def _rows_by(keys) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        rows.setdefault(key, []).append(i)
    return {key: np.array(found, dtype=np.int64) for key, found in rows.items()}


@dataclass(frozen=True)
class View:
    """What answers a search now: the index, without the rows of schools changed since its
    build (live; None: none changed), and those schools as they are now (changed)."""

    index: SchoolIndex
    live: np.ndarray | None = None
    changed: SchoolIndex | None = None
    # The changed schools' ranks in the index's name and place orders (positions_of), where
    # the database orders as Python compares; None: SQL orders a page that holds one.
    positions: tuple[np.ndarray, np.ndarray] | None = None

    def vocabulary(self) -> spelling.Vocabulary | spelling.AmendedVocabulary:
        """Every word of an open school's search text: the index's words that a live row
        still holds, and the changed schools' words. Nothing is built after a change (building
        the words anew took 15-30 ms nationally, in each worker, on the first search after each
        change): a word's rows are looked up only when a search asks about it."""
        index = self.index
        if self.live is None and self.changed is None:
            return index.vocabulary
        live = self.live

        def holds(low: int, high: int) -> bool:
            if live is None:
                return high > low
            return bool(live[index.postings[index.starts[low] : index.starts[high]]].any())

        added = self.changed.vocabulary if self.changed is not None else NO_WORDS
        return spelling.AmendedVocabulary(index.vocabulary, holds, added)


NO_WORDS = spelling.Vocabulary.of_words(())


class Holder:
    """A worker's index, its view of the data as it stands, and whether a new one is built."""

    def __init__(self) -> None:
        self.index: SchoolIndex | None = None
        self.view: View | None = None
        self.key = None  # the data version and day the view is for
        self.changed_at = 0.0  # when the view last took a change in (time.monotonic)
        self.building = False
        self.lock = threading.Lock()


def current() -> View | None:
    """The index and what changed since it was built, or None while no index can answer (the
    caller then asks SQL): before the first build, and while a new build is due because much
    changed. A worker's first search starts its first build unless it was built at start."""
    app = current_app._get_current_object()
    if not app.config["SEARCH_INDEX"]:
        return None
    version = data_version()
    if version is None:
        return None
    holder: Holder = app.extensions["search_index"]
    key = (version, date.today())  # noqa: DTZ011 (School.is_open compares with the local date)
    with holder.lock:
        if holder.key == key and _quiet_for(app, holder):
            _rebuild(app, holder)  # no change for a while: a convenient moment
        if holder.key != key:
            _take_changes_in(app, holder, key)
        return holder.view


def _take_changes_in(app, holder: Holder, key) -> None:
    """The view for the data as it stands: the index and the schools changed since its build,
    found in one scan (milliseconds). Many changes start a new build, which the view answers
    meanwhile; too many for a small index of the changes (or none built yet) leave SQL to
    answer until it is ready."""
    delta = None
    if holder.index is not None:
        with db.engine.connect() as connection:
            delta = search_changes.changes_since(
                holder.index, connection, app.config["SEARCH_INDEX_DELTA_LIMIT"]
            )
    if delta is None or delta.size + delta.stale > app.config["SEARCH_INDEX_REBUILD_AT"]:
        if app.config["SEARCH_INDEX_IN_BACKGROUND"]:
            _rebuild(app, holder)
        else:
            holder.index, delta = build_now(), search_changes.Delta(None, None)
    holder.key, holder.changed_at = key, time.monotonic()
    if delta is None:
        holder.view = None
        return
    positions = None
    if delta.changed is not None and db.engine.dialect.name == "sqlite":
        positions = holder.index.positions_of(delta.changed)
    holder.view = View(holder.index, delta.live, delta.changed, positions)


def _quiet_for(app, holder: Holder) -> bool:
    view = holder.view
    return (
        view is not None
        and (view.live is not None or view.changed is not None)
        and time.monotonic() - holder.changed_at > app.config["SEARCH_INDEX_REBUILD_QUIET"]
    )


def _rebuild(app, holder: Holder) -> None:
    if not app.config["SEARCH_INDEX_IN_BACKGROUND"]:
        holder.index, holder.view = build_now(), None
        holder.key = None  # taken in at once by current()
        return
    if not holder.building:
        holder.building = True
        threading.Thread(target=_build_in_background, args=(app, holder), daemon=True).start()


def build_now() -> SchoolIndex:
    """A full build on a connection of its own (not the request's transaction)."""
    with db.engine.connect() as connection:
        return SchoolIndex.build(connection)


def _build_in_background(app, holder: Holder) -> None:
    index = None
    with app.app_context():
        try:
            index = build_now()
        except Exception:
            app.logger.exception("the search index could not be built; SQL answers meanwhile")
    with holder.lock:
        holder.building = False  # a failed build is tried again when due again
        if index is not None:
            # The next search finds what changed while it was built (its rows' versions).
            holder.index, holder.view, holder.key = index, None, None
    if index is not None:
        settle()


def settle() -> None:
    """An index is hundreds of thousands of long-lived objects: left to the collector, each
    full collection would walk them all, a pause of a tenth of a second on some random
    request. Frozen, they are skipped; the previous index's are thawed and collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def prepare(app) -> float:
    """Build the worker's index before it takes requests (gunicorn's post_worker_init), so
    that its first search is answered by it; returns the seconds it took."""
    started = time.perf_counter()
    with app.app_context():
        holder: Holder = app.extensions["search_index"]
        if app.config["SEARCH_INDEX"]:
            index = build_now()
            with holder.lock:
                holder.index, holder.view, holder.key = index, None, None
            settle()
    return time.perf_counter() - started


def init_app(app) -> None:
    app.config.setdefault("SEARCH_INDEX", True)
    # Off: a build the data needs is made in the request that next searches (tests use this,
    # so that no thread outlives them).
    app.config.setdefault("SEARCH_INDEX_IN_BACKGROUND", True)
    # More schools changed since the build than this, and a new one is built in a thread
    # while the index and a small index of the changed schools answer...
    app.config.setdefault("SEARCH_INDEX_REBUILD_AT", 500)
    # ... and more than this, SQL answers until it is ready (each change of the data reads
    # the changed schools into their small index: a few milliseconds per hundred).
    app.config.setdefault("SEARCH_INDEX_DELTA_LIMIT", 5000)
    # Seconds without a change after which the changed schools are built into the index.
    app.config.setdefault("SEARCH_INDEX_REBUILD_QUIET", 300)
    app.extensions["search_index"] = Holder()
