"""The one query builder behind every school listing: HTML, JSON and CSV agree by construction.

A SchoolSearch is parsed from the URL's parameters (each filter repeatable: OR within a
filter, AND across filters); `run()` answers one page with the filter counts, and
`ordered_query()` gives every match in the same order for exports (`records.export_values`).
"""

import functools
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from flask_babel import get_locale
from sqlalchemy import Select, bindparam, case, false, func, literal, or_, select

from . import geo, parent_words, search_index, spelling
from .cache import per_data_version
from .db import db
from .fields import stored_columns
from .filters import (
    DEFAULT_LEVEL,
    FACETS,
    FILTERS_BY_NAME,
    LEVEL_PARAMETER,
    LEVELS,
    SUPPORT_FACET,
)
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from .special import CLUSTERS
from .text import fold
from .validation import BRIN_RE, VESTIGINGSCODE_RE

PER_PAGE = 25
MAX_PAGE = 10_000
MAX_TEXT = 200
MAX_VALUE = 100
SORTS = ("naam", "plaats", "leerlingen", "afstand")
SORT_LABELS = {
    "naam": _l("Naam"),
    "plaats": _l("Plaats"),
    "leerlingen": _l("Aantal leerlingen"),
    "afstand": _l("Afstand"),
}


class BadParameter(ValueError):
    """A URL parameter the directory cannot use; the message says how to fix it."""

    def __init__(self, parameter: str, message) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def _text(parameter: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise BadParameter(parameter, _l("Te lang: gebruik hoogstens %(n)d tekens.", n=limit))
    # Werkzeug turns bytes that are not UTF-8 into U+FFFD; control characters have no use here.
    if "\ufffd" in value or any(ord(c) < 32 for c in value):
        raise BadParameter(parameter, _l("Bevat tekens die geen tekst zijn."))
    return value


def reference_dates() -> list[date]:
    """The dates DUO counted pupils on, oldest first."""
    return list(
        db.session.scalars(
            select(PupilCount.reference_date).distinct().order_by(PupilCount.reference_date)
        )
    )


def parse_reference_date(text: str | None) -> date | None:
    """?peildatum=YYYY-MM-DD: one of the dates DUO counted pupils on (None when not given)."""
    if not text:
        return None
    try:
        chosen = date.fromisoformat(text.strip())
    except ValueError:
        raise BadParameter(
            "peildatum", _l("Schrijf een datum als JJJJ-MM-DD, bijvoorbeeld 2025-10-01.")
        ) from None
    counted = reference_dates()
    if chosen not in counted:
        raise BadParameter(
            "peildatum",
            _l(
                "Voor %(date)s zijn geen leerlingen geteld. Kies uit %(dates)s.",
                date=chosen.isoformat(),
                dates=", ".join(d.isoformat() for d in counted),
            ),
        )
    return chosen


def known_values(facet: str) -> spelling.KnownValues:
    """A filter's values and their accepted spellings, as the data stands."""
    declared = FILTERS_BY_NAME[facet]
    return per_data_version(
        f"spellings:{facet}", lambda: spelling.KnownValues.build(declared.spellings())
    )


def vocabulary() -> spelling.Vocabulary | spelling.AmendedVocabulary:
    """Every word the search text of an open school holds, for corrections."""
    return per_data_version("vocabulary", _read_vocabulary)


def _read_vocabulary() -> spelling.Vocabulary | spelling.AmendedVocabulary:
    """From the index where one answers (its words less those only changed schools held, and
    the changed schools' words: nothing to build after a change), else from the texts."""
    view = search_index.current()
    if view is not None:
        return view.vocabulary()
    return spelling.Vocabulary.build(
        db.session.scalars(select(School.search_text).where(School.is_open))
    )


@dataclass(frozen=True)
class Unknown:
    """A filter value that names nothing known, and the known one nearest to it."""

    facet: str
    value: str
    suggestion: str | None  # a canonical value
    label: str | None  # what people read for it

    # Plain strings (not lazy ones, which pass as markup): the value is what a visitor typed.
    @property
    def not_known(self) -> str:
        title = FILTERS_BY_NAME[self.facet].title
        return _("%(filter)s “%(value)s” kennen we niet.", filter=title, value=self.value)

    @property
    def question(self) -> str | None:
        return _("Bedoelde u %(label)s?", label=self.label) if self.suggestion else None

    @property
    def message(self) -> str:
        return " ".join(str(part) for part in (self.not_known, self.question) if part)


def _text_and_postcode(args) -> tuple[str, str | None]:
    """The words to match and the postcode to measure from; a postcode typed in the search box
    means "near here", not a word to match."""
    q = _text("q", args.get("q", ""), MAX_TEXT)
    postcode_text = _text("postcode", args.get("postcode", ""), MAX_VALUE)
    if postcode_text:
        postcode = geo.parse_postcode(postcode_text)
        if postcode is None:
            raise BadParameter(
                "postcode", _l("Een postcode is 4 cijfers en 2 letters, bijvoorbeeld 7941 AB.")
            )
        return q, postcode
    if geo.parse_postcode(q):
        return "", geo.parse_postcode(q)
    return q, None


def _filter_values(args, typed_types) -> tuple[dict, list, bool]:
    """Each facet's values in their canonical spelling, the values that name nothing known, and
    whether any was respelled."""
    filters, unknown, respelled = {}, [], False
    for facet in FACETS:
        typed = [v for v in (_text(facet, v, MAX_VALUE) for v in args.getlist(facet)) if v]
        if facet == "type":
            typed += typed_types
        if not typed:
            continue
        known = known_values(facet)
        values = []
        for value in typed:
            resolved = known.resolve(value)
            if resolved is None:
                nearest = known.nearest(value)
                unknown.append(Unknown(facet, value, nearest, known.labels.get(nearest)))
                resolved = value
            respelled = respelled or resolved != value
            values.append(resolved)
        filters[facet] = tuple(dict.fromkeys(values))
    return filters, unknown, respelled


def _choices(args) -> tuple[str | None, str, int]:
    """The sort, the support level and the page asked for, each checked."""
    sort = args.get("sort") or None
    if sort is not None and sort not in SORTS:
        raise BadParameter("sort", _l("Sorteer op %(sorts)s.", sorts=", ".join(SORTS)))
    level = args.get(LEVEL_PARAMETER) or DEFAULT_LEVEL
    if level not in LEVELS:
        raise BadParameter(
            LEVEL_PARAMETER,
            _l("Kies niveau %(levels)s.", levels=" of ".join(LEVELS)),
        )
    page_text = args.get("page", "1")
    if not page_text.isascii() or not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise BadParameter("page", _l("Kies een paginanummer van 1 t/m %(n)d.", n=MAX_PAGE))
    return sort, level, int(page_text)


@dataclass(frozen=True)
class SchoolSearch:
    q: str = ""
    postcode: str | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str | None = None
    page: int = 1
    fixed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reference: date | None = None  # pupils as counted on this date (?peildatum=)
    # Filter values that name nothing known; they match nothing.
    unknown: tuple[Unknown, ...] = ()
    # Was anything asked in another spelling than the canonical one (links use that)?
    respelled: bool = False
    # The support level a support filter asks for (filters.LEVELS): extra unless ?niveau=basis.
    support_level: str = DEFAULT_LEVEL

    @classmethod
    def from_args(cls, args, fixed: Mapping[str, tuple[str, ...]] | None = None) -> "SchoolSearch":
        """Parse request.args; `fixed` filters come from the page (a board's own schools)."""
        q, postcode = _text_and_postcode(args)
        # "sbo" or "speciaal onderwijs" in the text is the type filter, not words to match.
        q, typed_types = spelling.type_words(q) if q else (q, ())
        filters, unknown, respelled = _filter_values(args, typed_types)
        sort, level, page = _choices(args)
        return cls(
            q,
            postcode,
            filters,
            sort,
            page,
            dict(fixed or {}),
            parse_reference_date(args.get("peildatum")),
            tuple(unknown),
            respelled or bool(typed_types),
            level,
        )

    def refuse_unknown(self) -> None:
        """For the API and the files: an unknown filter value is an error, not an empty list."""
        for unknown in self.unknown:
            raise BadParameter(unknown.facet, unknown.message)

    @functools.cached_property
    def reading(self) -> spelling.Reading:
        """How the text is read: synonyms both ways, corrections for unknown words."""
        return spelling.read(self.q, vocabulary() if self.q else spelling.Vocabulary.build(()))

    @property
    def origin(self) -> geo.Point | None:
        return geo.locate_postcode(self.postcode) if self.postcode else None

    @property
    def effective_sort(self) -> str:
        """The order asked, by distance only from a postcode we can place: without one the
        list is by name, as when no order is asked (the page says why it shows no distances),
        rather than no list at all for a request the API's document allows."""
        if self.sort and self.sort != "afstand":
            return self.sort
        return "afstand" if self.origin else "naam"

    def selected_all(self) -> list[tuple[str, ...]]:
        """Every filter's values, fixed ones included, in facet order."""
        return [self.selected(facet) for facet in FACETS if self.selected(facet)]

    def selected(self, facet: str) -> tuple[str, ...]:
        return self.fixed.get(facet, ()) + self.filters.get(facet, ())

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.filters)

    def args(self, with_fixed: bool = False, **changes) -> list[tuple[str, str]]:
        """The URL parameters of this search, with changes applied.

        Fixed filters are part of the page's own URL, so they are left out unless asked for
        (for links to /scholen.csv, which has no page of its own).
        """
        filters = changes.pop("filters", self.filters)
        if with_fixed:
            filters = {f: self.fixed.get(f, ()) + filters.get(f, ()) for f in FACETS}
        state = {"q": self.q, "postcode": self.postcode, "sort": self.sort, "page": self.page}
        state.update(changes)
        pairs = [(k, str(state[k])) for k in ("q", "postcode", "sort") if state[k]]
        if self.reference:
            pairs.append(("peildatum", self.reference.isoformat()))
        for facet in FACETS:
            pairs.extend((facet, v) for v in filters.get(facet, ()))
        level = state.get("support_level", self.support_level)
        if level != DEFAULT_LEVEL:
            pairs.append((LEVEL_PARAMETER, level))
        if state["page"] and state["page"] != 1:
            pairs.append(("page", str(state["page"])))
        return pairs

    def without(self, facet: str, value: str | None = None) -> "SchoolSearch":
        """This search minus one filter value (or the whole filter, or the text)."""
        if facet == "q":
            return replace(self, q="", page=1)
        kept = {f: v for f, v in self.filters.items() if f != facet}
        if value is not None:
            remaining = tuple(v for v in self.filters.get(facet, ()) if v != value)
            if remaining:
                kept[facet] = remaining
        return replace(self, filters=kept, page=1)

    def respelled_as(self, unknown: Unknown) -> "SchoolSearch":
        """This search with an unknown value replaced by the known value nearest to it."""
        values = tuple(
            unknown.suggestion if v == unknown.value else v for v in self.filters[unknown.facet]
        )
        return replace(self, filters={**self.filters, unknown.facet: values}, page=1)

    def only(self, facet: str, value: str) -> "SchoolSearch":
        """This search with one filter set to a single value: what a facet count counts."""
        return replace(self, filters={**self.filters, facet: (value,)}, page=1)


def condition(facet: str, values: tuple[str, ...], search: SchoolSearch):
    """What one filter selects, at the search's support level where the filter has levels."""
    declared = FILTERS_BY_NAME[facet]
    if declared.levelled:
        return declared.condition(values, search.support_level)
    return declared.condition(values)


def conditions(search: SchoolSearch, skip: str | None = None) -> list:
    """The WHERE clauses of a search; `skip` leaves one filter out (for its counts)."""
    clauses = [School.is_open]
    if skip != "q":
        clauses += [_matches(term) for term in search.reading.terms]
    unknown = {(u.facet, u.value) for u in search.unknown}
    for facet in FACETS:
        values = search.selected(facet) if facet != skip else search.fixed.get(facet, ())
        known = tuple(v for v in values if (facet, v) not in unknown)
        if known:
            clauses.append(condition(facet, known, search))
        elif values:
            clauses.append(false())  # only values that name nothing: nothing matches
    return clauses


def _matches(term: spelling.Term):
    """A term and its corrections start a word; its synonyms are whole words."""
    text = School.search_text
    starts = [text.like(f"% {word}%") for word in (term.typed, *term.corrections)]
    whole_words = [text.like(f"% {word} %") | text.like(f"% {word}") for word in term.synonyms]
    return or_(*starts, *whole_words)


def _relevance_text(search: SchoolSearch) -> str:
    return search.reading.corrected_text or " ".join(t.typed for t in search.reading.terms)


def _relevance(search: SchoolSearch):
    """With text and no chosen order: the exact name first, then names starting with the text,
    then schools in the place of that name, then the rest (words found elsewhere, corrections)."""
    text = _relevance_text(search)
    name_start = literal(" ") + func.lower(School.vestigingscode) + literal(f" {text}%")
    return case(
        (func.lower(School.name).in_([search.q.lower(), text]), 0),
        (School.search_text.like(name_start), 1),
        (func.lower(School.place).like(f"{text}%"), 2),
        else_=3,
    )


def latest_reference_date():
    return select(func.max(PupilCount.reference_date)).scalar_subquery()


def latest_pupils(reference: date | None = None):
    """Each school's pupil count on a reference date: the newest in the registry by default."""
    return (
        select(PupilCount.school_id, PupilCount.pupils, PupilCount.reference_date)
        .where(PupilCount.reference_date == (reference or latest_reference_date()))
        .subquery("latest_pupils")
    )


def ordered_query(search: SchoolSearch) -> Select:
    """The matches' stored public fields (fields.stored_columns) with their pupil count on the
    search's reference date ("pupils", "reference"), filtered and in the search's order."""
    latest = latest_pupils(search.reference)
    pupils = latest.c.pupils
    query = _from_schools(
        select(
            *stored_columns(), pupils.label("pupils"), latest.c.reference_date.label("reference")
        )
    )
    query = query.outerjoin(latest, latest.c.school_id == School.id).where(*conditions(search))
    name = func.lower(School.name)
    order = {
        "naam": [_relevance(search), name] if search.q and not search.sort else [name],
        "plaats": [func.lower(School.place), name],
        "leerlingen": [case((pupils.is_(None), 1), else_=0), pupils.desc(), name],
    }.get(search.effective_sort)
    if order is None:  # afstand
        unplaced = case((School.latitude.is_(None), 1), else_=0)
        distance = geo.squared_distance_expression(School.latitude, School.longitude, search.origin)
        order = [unplaced, distance, name]
    return query.order_by(*order, School.vestigingscode)


@dataclass
class SchoolRow:
    stored: dict  # the school's stored public fields by key, and its id (fields.stored_columns)
    pupils: int | None
    pupils_reference_date: date | None
    distance_km: float | None
    # The support the school recorded: (area code, area name, level), in the areas' order.
    support: tuple[tuple[str, str, SupportLevel], ...] = ()


def support_of(ids: list[int] | None) -> dict[int, tuple[tuple[str, str, SupportLevel], ...]]:
    """The recorded support of these schools (of all, with None), named in the page's
    language: one query for a page of results or a whole download."""
    name = SupportArea.name_en if str(get_locale()) == "en" else SupportArea.name
    query = (
        select(SchoolSupport.school_id, SupportArea.code, name, SchoolSupport.level)
        .join(SchoolSupport.support_area)
        .order_by(SupportArea.position)
    )
    if ids is not None:
        query = query.where(SchoolSupport.school_id.in_(ids))
    found: dict[int, list] = {}
    for school_id, code, label, level in db.session.execute(query):
        found.setdefault(school_id, []).append((code, label, level))
    return {school_id: tuple(levels) for school_id, levels in found.items()}


@dataclass(slots=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    search: SchoolSearch
    total: int
    rows: list[SchoolRow]
    facets: dict[str, list[FacetValue]]
    loosen: list[tuple[str, str, int]]  # (facet or "q", value, count without it) when empty,
    # the most results first
    more: dict[str, int] = field(default_factory=dict)  # values per facet not listed
    # Support areas the parents' words in the text point at (parent_words.py), not yet asked for.
    support_suggestions: list[parent_words.SupportSuggestion] = field(default_factory=list)

    def suggested_search(self, suggestion: parent_words.SupportSuggestion) -> "SchoolSearch":
        """The search a suggestion offers: the support filter instead of the parents' words
        (all of them: "dyslexie adhd" keeps neither as text)."""
        search = self.search
        said = {part for s in self.support_suggestions for part in s.word.split()}
        rest = " ".join(w for w in search.q.split() if not set(fold(w).split()) <= said)
        asked = tuple(dict.fromkeys((*search.filters.get(SUPPORT_FACET, ()), suggestion.area)))
        return replace(search, q=rest, filters={**search.filters, SUPPORT_FACET: asked}, page=1)

    def suggestion_text(self, suggestion: parent_words.SupportSuggestion) -> str:
        area = known_values(SUPPORT_FACET).labels.get(suggestion.area, suggestion.area)
        return _("Bedoelde u: scholen met extra ondersteuning bij %(area)s?", area=area)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    def past_the_end(self) -> str | None:
        """A message when the page asked for lies past the last one (page 1 always exists,
        with nothing on it when nothing matches)."""
        if self.search.page <= self.pages:
            return None
        return _(
            "Pagina %(page)d bestaat niet; de laatste pagina is %(pages)d.",
            page=self.search.page,
            pages=self.pages,
        )


def distance_from(origin: geo.Point | None, latitude, longitude) -> float | None:
    """Kilometres from the searched postcode, when there is one and the school has a point."""
    if origin is None or latitude is None:
        return None
    return geo.distance_km(origin, geo.Point(latitude, longitude))


def _rows(search: SchoolSearch, result) -> Iterator[SchoolRow]:
    for stored, pupils, reference_date in result:
        distance = distance_from(search.origin, stored["latitude"], stored["longitude"])
        yield SchoolRow(stored, pupils, reference_date, distance)


def count(search: SchoolSearch, skip: str | None = None) -> int:
    return db.session.scalar(select(func.count(School.id)).where(*conditions(search, skip)))


class _AskSql:
    """A search answered by the database (while no index is ready, or to check the index);
    `among`: only these schools may be on the page (the candidates of _AskOverlay)."""

    def __init__(self, search: SchoolSearch, among: list[int] | None = None) -> None:
        self.search, self.among = search, among

    def count(self, skip: str | None = None) -> int:
        return count(self.search, skip)

    def page(self) -> list[tuple[dict, int | None, date | None]]:
        found = self.search
        query = ordered_query(found)
        if self.among is not None:
            query = query.where(School.id.in_(self.among))
        query = query.limit(PER_PAGE).offset((found.page - 1) * PER_PAGE)
        rows = []
        for stored in as_dicts(query):
            rows.append((stored, stored.pop("pupils"), stored.pop("reference")))
        return rows

    def facet_counts(self, facet: str, limit: int | None) -> tuple[list, int]:
        declared, where = FILTERS_BY_NAME[facet], conditions(self.search, facet)
        if declared.levelled:
            rows = declared.counts(where, self.search.support_level)
        else:
            rows = declared.counts(where)
        return _limited(rows, self.search.filters.get(facet, ()), limit)


def _limited(rows: list, selected, limit: int | None) -> tuple[list, int]:
    """At most `limit` of a filter's (value, label, count) rows, and how many more: the same
    choice as SchoolIndex.counts, the selected, then the largest, then by name."""
    if limit is None or len(rows) <= limit:
        return rows, 0
    selected = set(selected)
    kept = sorted(rows, key=lambda r: (r[0] not in selected, -r[2], fold(str(r[1])), r[0]))
    shown = kept[: max(limit, len(selected & {r[0] for r in rows}))]
    return shown, len(rows) - len(shown)


class _AskIndex:
    """The same answers from the worker's in-memory index (search_index.py), from the rows
    in `live` only when given (the others' schools have changed since it was built)."""

    def __init__(
        self, search: SchoolSearch, index: search_index.SchoolIndex, live: np.ndarray | None = None
    ) -> None:
        self.search, self.index = search, index
        everything = np.ones(index.size, dtype=bool) if live is None else live
        self.text = everything.copy()
        for term in search.reading.terms:
            self.text &= index.term(term)
        self.everything = everything
        self.filters = {f: self._facet(f, search.selected(f)) for f in FACETS if search.selected(f)}

    def _facet(self, facet: str, values: tuple[str, ...]):
        unknown = {u.value for u in self.search.unknown if u.facet == facet}
        known = tuple(v for v in values if v not in unknown)
        if not known:
            return np.zeros(self.index.size, dtype=bool)
        return self.index.facet(facet, known, self.search.support_level)

    def matching(self, skip: str | None = None):
        mask = self.text.copy() if skip != "q" else self.everything.copy()
        for facet, selected in self.filters.items():
            if facet != skip:
                mask &= selected
            elif self.search.fixed.get(facet):
                mask &= self._facet(facet, self.search.fixed[facet])
        return mask

    def count(self, skip: str | None = None) -> int:
        return int(self.matching(skip).sum())

    @functools.cached_property
    def relevance(self) -> np.ndarray | None:
        """Per row, the relevance a text search without a chosen sort is ordered by."""
        found = self.search
        if found.q and not found.sort and found.effective_sort == "naam":
            return self.index.relevance(found.q, _relevance_text(found))
        return None

    def first(self, needed: int) -> np.ndarray:
        """The rows of the first `needed` matches, in the search's order."""
        found = self.search
        return self.index.order(
            np.flatnonzero(self.matching()),
            found.effective_sort,
            found.reference,
            found.origin,
            self.relevance,
            needed=needed,
        )

    def sort_keys(self, rows: np.ndarray, names=None, places=None):
        """The rows' (key, name rank) in the search's order: in this index's ranks, or in
        those given (another index's positions for these rows)."""
        found = self.search
        return self.index.sort_keys(
            rows, found.effective_sort, found.reference, found.origin, self.relevance, names, places
        )

    def page(self) -> list[tuple[dict, int | None, date | None]]:
        found = self.search
        shown = self.first(found.page * PER_PAGE)[(found.page - 1) * PER_PAGE :]
        return _loaded(found, [(self.index, row) for row in shown.tolist()])

    def facet_counts(self, facet: str, limit: int | None, also=()) -> tuple[list, int]:
        """The facet's counts; `also` are values listed whenever present, as selected ones."""
        selected = tuple(dict.fromkeys((*self.search.filters.get(facet, ()), *also)))
        return self.index.counts(
            facet, self.matching(facet), limit, selected, self.search.support_level
        )


def _loaded(found, shown: list[tuple]) -> list[tuple[dict, int | None, date | None]]:
    """The page's schools, (index, row) each, with their pupils on the search's date."""
    ids = [int(index.ids[row]) for index, row in shown]
    schools = {stored["id"]: stored for stored in _stored(ids)}
    # Each index's pupils on the date, looked up once (a date without counts is a whole array).
    indexes = {id(index): index for index, _row in shown}
    on_date = {key: index.pupils_on(found.reference) for key, index in indexes.items()}
    rows = []
    for school_id, (index, row) in zip(ids, shown, strict=True):
        # A school deleted since its index was built (a new one is on its way) is left out.
        if school_id in schools:
            pupils, reference = on_date[id(index)]
            count = pupils[row]
            rows.append(
                (schools[school_id], None, None)
                if np.isnan(count)
                else (schools[school_id], int(count), reference)
            )
    return rows


# Filters whose values are listed in an order of their own (SQL's), not by label. The support
# areas are too, but every part lists all of them in that order already.
ORDERED_VALUES = {
    "type": [school_type.value for school_type in SchoolType],
    search_index.CLUSTER_FACET: list(CLUSTERS),
}
# A page's candidates beyond which the overlay leaves the page to SQL: deep pages are rare.
MAX_CANDIDATES = 2000


class _AskOverlay:
    """The index without the schools changed since its build, plus a small index of those
    schools as they are now (search_changes.py): counts add up, and a page on which a changed
    school may stand is merged from both by the changed schools' ranks among the index's rows
    (View.positions, on SQLite), or else ordered by SQL among the few candidates."""

    def __init__(self, search: SchoolSearch, view: search_index.View) -> None:
        self.search, self.positions = search, view.positions
        self.kept = _AskIndex(search, view.index, view.live)
        self.changed = _AskIndex(search, view.changed)

    def count(self, skip: str | None = None) -> int:
        return self.kept.count(skip) + self.changed.count(skip)

    def page(self) -> list[tuple[dict, int | None, date | None]]:
        found = self.search
        changed = np.flatnonzero(self.changed.matching())
        if not len(changed):
            return self.kept.page()
        needed = found.page * PER_PAGE
        if needed > MAX_CANDIDATES:
            return _AskSql(found).page()
        kept = self.kept.first(needed)
        if self.positions is None:
            among = self.kept.index.ids[kept].tolist() + self.changed.index.ids[changed].tolist()
            return _AskSql(found, among=among).page()
        # The index's first rows and the changed schools, in one order: the changed schools'
        # ranks stand between the index's rows (search_index.SchoolIndex.positions_of).
        kept_keys = self.kept.sort_keys(kept)
        changed_keys = self.changed.sort_keys(changed, *self.positions)
        primary, by_name = (
            np.concatenate(keys) for keys in zip(kept_keys, changed_keys, strict=True)
        )
        both = [(self.kept.index, row) for row in kept.tolist()]
        both += [(self.changed.index, row) for row in changed.tolist()]
        order = np.lexsort((by_name, primary))[(found.page - 1) * PER_PAGE : needed]
        return _loaded(found, [both[i] for i in order.tolist()])

    def facet_counts(self, facet: str, limit: int | None) -> tuple[list, int]:
        changed = self.changed.facet_counts(facet, None)[0]
        # Limited, only the index's first values and those the changed schools add to can be
        # among the first `limit` (adding only raises a count), so only those are listed: all
        # of a facet's values (1,700 places nationally) took milliseconds a search.
        also = [value for value, _label, _n in changed] if limit is not None else ()
        kept, more = self.kept.facet_counts(
            facet, None if limit is None else limit + len(also), also
        )
        merged: dict[str, tuple[str, int]] = {}
        for value, label, n in (*kept, *changed):
            # The changed schools' label is the current one (a renamed board's schools are
            # all among them).
            merged[value] = (label, n + merged.get(value, ("", 0))[1])
        rows = [(value, label, n) for value, (label, n) in merged.items()]
        if facet in ORDERED_VALUES:  # listed in their own order, as SQL lists them
            order = ORDERED_VALUES[facet]
            rows.sort(key=lambda row: order.index(row[0]))
        shown, left = _limited(rows, self.search.filters.get(facet, ()), limit)
        return shown, left + more


def _asking(search: SchoolSearch, view: search_index.View | None):
    """Who answers: SQL while no index can, else the index, with the changes when there are."""
    if view is None:
        return _AskSql(search)
    if view.changed is None:
        return _AskIndex(search, view.index, view.live)
    return _AskOverlay(search, view)


def prepare(app) -> float:
    """Before a worker takes requests (gunicorn's post_worker_init): its search index, and the
    words and filter spellings a search reads, so that its first search costs what any
    other does. Returns the seconds it took."""
    seconds = search_index.prepare(app)
    started = time.perf_counter()
    with app.test_request_context():
        vocabulary()
        for facet in FACETS:
            known_values(facet)
    # One search page rendered, so its templates are compiled before a visitor waits on them.
    app.test_client().get("/scholen?q=school")
    return seconds + time.perf_counter() - started


def _from_schools(query: Select) -> Select:
    """A select of stored_columns() from the tables they come from."""
    return (
        query.select_from(School)
        .join(School.municipality)
        .join(School.board)
        .outerjoin(School.network)
    )


def as_dicts(query: Select, parameters: dict | None = None) -> Iterator[dict]:
    """The rows of a select of plain values as dicts by label. Run on the session's connection:
    the ORM's layer, its objects and Row lookups by key would cost more than the rows."""
    result = db.session.connection().execute(query, parameters)
    keys = list(result.keys())
    return (dict(zip(keys, row, strict=True)) for row in result)


@functools.cache
def _stored_select() -> Select:
    """Built once, with the ids as a parameter: building 20 columns, 3 joins and an IN list of
    25 values cost more than running the query."""
    query = _from_schools(select(*stored_columns()))
    return query.where(School.id.in_(bindparam("ids", expanding=True)))


def _stored(ids: list[int]) -> Iterator[dict]:
    return as_dicts(_stored_select(), {"ids": ids})


def _facet_counts(ask, facet: str, limit: int | None) -> tuple[list[tuple[str, str, int]], int]:
    """(value, label, count) for the values of one facet under all the other filters (at most
    `limit` of them: the selected and the largest), and how many more there are."""
    declared = FILTERS_BY_NAME[facet]
    # Types and support areas are a few, in their own order: always all of them.
    found, more = ask.facet_counts(facet, limit if declared.sorted_by_label else None)
    rows = [(str(v), str(label), n) for v, label, n in found]
    return sorted(rows, key=lambda r: fold(r[1])) if declared.sorted_by_label else rows, more


def run(
    search: SchoolSearch, use_index: bool = True, facet_limit: int | None = None
) -> SearchResult:
    """One page of results, the total and the counts beside every filter: from the worker's
    index when it is ready, else from SQL (the two agree: tests/test_search_index.py).
    `facet_limit` lists at most that many values per filter (0: no filter lists at all)."""
    ask = _asking(search, search_index.current() if use_index else None)
    total = ask.count()
    rows = list(_rows(search, ask.page()))
    support = support_of([row.stored["id"] for row in rows]) if rows else {}
    for row in rows:
        row.support = support.get(row.stored["id"], ())
    facets, more = {}, {}
    for facet in FACETS if facet_limit != 0 else ():
        if facet in search.fixed:
            continue
        selected = set(search.filters.get(facet, ()))
        found, more[facet] = _facet_counts(ask, facet, facet_limit)
        values = [FacetValue(v, label, n, v in selected) for v, label, n in found]
        # A selected value with no school left still shows, so it can be switched off. Its
        # label is looked up only then: the spellings are read anew after every change.
        if gone := selected - {fv.value for fv in values}:
            labels = known_values(facet).labels
            values += [FacetValue(v, labels.get(v, v), 0, True) for v in gone]
        facets[facet] = values
    loosen = []
    if total == 0:
        if search.q:
            loosen.append(("q", search.q, ask.count(skip="q")))
        for facet, values in search.filters.items():
            loosen.append((facet, ", ".join(values), ask.count(skip=facet)))
        loosen.sort(key=lambda way: -way[2])
        _keep_every_group(search, facets, facet_limit)
    # Also when the area is asked already: the word in the text would still find nothing.
    suggested = parent_words.suggestions(search.q)
    return SearchResult(search, total, rows, facets, loosen, more, suggested)


def _keep_every_group(search: SchoolSearch, facets: dict, limit: int | None) -> None:
    """With nothing found, every filter group stays with its values (at 0 where they give
    nothing), so a parent can change course without first undoing the last tick."""
    for facet, values in facets.items():
        listed = {fv.value for fv in values}
        labels = known_values(facet).labels
        missing = sorted((v for v in labels if v not in listed), key=lambda v: fold(labels[v]))
        room = None if limit is None else max(0, limit - len(values))
        values += [FacetValue(v, labels[v], 0, False) for v in missing[:room]]


def exact_school(q: str) -> School | None:
    """The school a typed vestigingscode, or a BRIN with one location, points at."""
    code = q.strip().upper()
    if VESTIGINGSCODE_RE.match(code):
        return db.session.scalar(select(School).filter_by(vestigingscode=code))
    if BRIN_RE.match(code):
        schools = db.session.scalars(select(School).filter_by(brin=code).limit(2)).all()
        return schools[0] if len(schools) == 1 else None
    return None
