"""The directory's filters, declared once: their URL parameter, title, what they select and
how their values count. The pages, their JSON, the exports, the API and its OpenAPI document,
and the page cache's key all read FILTERS; adding a filter is one entry here."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import get_locale
from sqlalchemy import distinct, func, or_, select

from .db import db
from .i18n import lazy_gettext as _l
from .models import (
    Board,
    Municipality,
    Network,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from .special import CLUSTERS
from .spelling import TYPE_WORDS
from .text import place_name

TYPE_LABELS = {
    SchoolType.BAO: _l("Basisschool"),
    SchoolType.SBO: _l("Speciaal basisonderwijs"),
    SchoolType.SO: _l("Speciaal onderwijs"),
    SchoolType.SO_VSO: _l("Speciaal en voortgezet speciaal onderwijs"),
}


# What each filter selects, given its (repeatable) values.


def _in_municipalities(values):
    return School.municipality_id.in_(select(Municipality.id).where(Municipality.slug.in_(values)))


def _in_places(values):
    return func.lower(School.place).in_([v.lower() for v in values])


def _of_types(values):
    return School.school_type.in_([SchoolType(v) for v in values])


def _of_denominations(values):
    return School.denomination.in_(values)


def _of_boards(values):
    return School.board_id.in_(select(Board.id).where(Board.board_number.in_(values)))


def _in_networks(values):
    return School.network_id.in_(select(Network.id).where(Network.slug.in_(values)))


# A support filter asks for extra support in an area: basic support is what every school gives
# (the partnership's own words), so a school that only records basis there is no answer.
# ?niveau=basis asks for basis or extra.
LEVEL_PARAMETER = "niveau"
LEVELS = {
    "extra": (SupportLevel.EXTRA,),
    "basis": (SupportLevel.BASIS, SupportLevel.EXTRA),
}
DEFAULT_LEVEL = "extra"
# A level as a cell or a list names it, and as a result row says it in a sentence.
LEVEL_WORDS = {SupportLevel.BASIS: _l("basis"), SupportLevel.EXTRA: _l("extra")}
# The choices of a form that sets a level, by value: none, then each level of the enum.
LEVEL_CHOICES = {"": _l("geen"), **{level.value: LEVEL_WORDS[level] for level in SupportLevel}}
LEVEL_PHRASES = {
    SupportLevel.BASIS: _l("basisondersteuning"),
    SupportLevel.EXTRA: _l("extra ondersteuning"),
}


def level_word(level: SupportLevel) -> str:
    return str(LEVEL_WORDS[level])


def _offering_support(values, level: str = DEFAULT_LEVEL):
    return School.id.in_(
        select(SchoolSupport.school_id)
        .join(SchoolSupport.support_area)
        .where(SupportArea.code.in_(values), SchoolSupport.level.in_(LEVELS[level]))
    )


def _of_clusters(values):
    # DUO writes a school of two clusters as "3/4": it is in both.
    return or_(*(School.cluster.contains(code) for code in values))


# How each filter's values count under the other filters: (value, label, count) rows.
COUNTED = func.count(distinct(School.id))


def _count_municipalities(where):
    return _grouped(
        select(Municipality.slug, Municipality.name, COUNTED).join(School.municipality),
        where,
        Municipality.slug,
        Municipality.name,
    )


def _count_places(where):
    key = func.lower(School.place)
    query = select(key, func.max(School.place), COUNTED).where(School.place.is_not(None))
    return [(v, place_name(raw), n) for v, raw, n in _grouped(query, where, key)]


def _count_types(where):
    rows = _grouped(
        select(School.school_type, School.school_type, COUNTED), where, School.school_type
    )
    order = list(SchoolType)
    return [
        (t.value, str(TYPE_LABELS[t]), n)
        for t, _, n in sorted(rows, key=lambda r: order.index(r[0]))
    ]


def _count_denominations(where):
    query = select(School.denomination, School.denomination, COUNTED).where(
        School.denomination.is_not(None)
    )
    return _grouped(query, where, School.denomination)


def _count_boards(where):
    query = select(Board.board_number, Board.label, COUNTED).join(School.board)
    return _grouped(query, where, Board.board_number, Board.label)


def _count_networks(where):
    query = select(Network.slug, Network.name, COUNTED).join(School.network)
    return _grouped(query, where, Network.slug, Network.name)


def _count_support(where, level: str = DEFAULT_LEVEL):
    # Every area is listed, also at zero: parents should see what can be asked for.
    label = SupportArea.name_en if str(get_locale()) == "en" else SupportArea.name
    matching = select(School.id).where(*where)
    rows = db.session.execute(
        select(SupportArea.code, label, func.count(distinct(SchoolSupport.school_id)))
        .outerjoin(
            SchoolSupport,
            (SchoolSupport.support_area_id == SupportArea.id)
            & SchoolSupport.school_id.in_(matching)
            & SchoolSupport.level.in_(LEVELS[level]),
        )
        .group_by(SupportArea.code, label, SupportArea.position)
        .order_by(SupportArea.position)
    ).all()
    return [(code, name, n) for code, name, n in rows]


def _count_clusters(where):
    counted = (
        (code, str(label), db.session.scalar(select(COUNTED).where(*where, _of_clusters((code,)))))
        for code, label in CLUSTERS.items()
    )
    return [row for row in counted if row[2]]


# Each filter's known values, with their other spellings: (canonical value, label, others).
# Any case, with or without accents and punctuation, is accepted for all of them (fold).


def _spell_municipalities():
    rows = db.session.execute(select(Municipality.slug, Municipality.name, Municipality.cbs_code))
    # The CBS code with or without its GM prefix: GM0119, 0119.
    return [(slug, name, (code, code.removeprefix("GM"))) for slug, name, code in rows]


def _spell_places():
    # The value is lower(place) as the database lowers it, the same key _in_places compares
    # with (SQLite lowers ASCII only: Python's lower() would name another value for 'Ë').
    key = func.lower(School.place)
    rows = db.session.execute(
        select(key, func.max(School.place)).where(School.place.is_not(None)).group_by(key)
    )
    return [(lowered, place_name(raw), (raw,)) for lowered, raw in rows]


def _spell_types():
    words = {t: [w for w, named in TYPE_WORDS.items() if named == t.value] for t in SchoolType}
    words[SchoolType.BAO] += ["basisschool", "basisonderwijs", "bs"]
    return [(t.value, str(TYPE_LABELS[t]), words[t]) for t in SchoolType]


def _spell_denominations():
    rows = db.session.scalars(
        select(School.denomination).where(School.denomination.is_not(None)).distinct()
    )
    return [(name, name, ()) for name in rows]


def _spell_boards():
    rows = db.session.execute(select(Board.board_number, Board.label, Board.other_names))
    return [(number, label, (other or "").split("|")) for number, label, other in rows]


def _spell_networks():
    return [
        (slug, name, ()) for slug, name in db.session.execute(select(Network.slug, Network.name))
    ]


def _spell_support():
    rows = db.session.execute(select(SupportArea.code, SupportArea.name, SupportArea.name_en))
    return [(code, name, (name_en,)) for code, name, name_en in rows]


def _spell_clusters():
    return [(code, str(label), (f"cluster {code}", f"c{code}")) for code, label in CLUSTERS.items()]


def _grouped(query, where, *group) -> list[tuple[str, str, int]]:
    return [tuple(row) for row in db.session.execute(query.where(*where).group_by(*group)).all()]


@dataclass(frozen=True)
class Filter:
    """One filter of the directory, declared once: the pages, their JSON, the exports, the API
    and its OpenAPI document, and the page cache's key all read FILTERS."""

    name: str  # the URL parameter (repeatable: any of its values)
    title: object  # what people read above its values
    description: str  # for the API's documentation (an unknown value there is a 400 that
    # names the nearest known one)
    condition: Callable[[tuple[str, ...]], object]
    counts: Callable[[list], list[tuple[str, str, int]]]
    spellings: Callable[[], list[tuple[str, str, tuple[str, ...]]]]  # see _spell_*
    sorted_by_label: bool = True  # else the counts keep their own order
    choices: tuple[str, ...] | None = None  # a closed set of values
    levelled: bool = False  # condition and counts also take the asked level (LEVELS)


FILTERS = (
    Filter(
        "gemeente",
        _l("Gemeente"),
        "Municipality: its slug as in /gemeenten/<slug> (meppel), its name in any case (Meppel)"
        " or its CBS code (GM0119, 0119).",
        _in_municipalities,
        _count_municipalities,
        _spell_municipalities,
    ),
    Filter(
        "plaats",
        _l("Plaats"),
        "Place name, in any case and with or without accents.",
        _in_places,
        _count_places,
        _spell_places,
    ),
    Filter(
        "type",
        _l("Soort school"),
        "School type: its code (BAO, SBO, SO, SO+VSO) in any case, or its name"
        " (speciaal basisonderwijs).",
        _of_types,
        _count_types,
        _spell_types,
        sorted_by_label=False,
        choices=tuple(t.value for t in SchoolType),
    ),
    Filter(
        "richting",
        _l("Richting"),
        "Denomination, as DUO writes it (Openbaar), in any case.",
        _of_denominations,
        _count_denominations,
        _spell_denominations,
    ),
    Filter(
        "bestuur",
        _l("Bestuur"),
        "Board: its DUO board number (41196) or its name in any case.",
        _of_boards,
        _count_boards,
        _spell_boards,
    ),
    Filter(
        "netwerk",
        _l("Netwerk"),
        "Network: its slug as in /netwerken/<slug>, or its name in any case.",
        _in_networks,
        _count_networks,
        _spell_networks,
    ),
    Filter(
        "ondersteuning",
        _l("Ondersteuning"),
        "Support area: its code as in /api/v1/support-areas, or its Dutch or English name.",
        _offering_support,
        _count_support,
        _spell_support,
        sorted_by_label=False,
        levelled=True,
    ),
    Filter(
        "cluster",
        _l("Speciaal onderwijs voor"),
        "Cluster of special education: 1 (blind or partially sighted), 2 (deaf, hard of hearing"
        " or severe speech or language problems), 3 (intellectual or physical disability, or a"
        " long-term illness), 4 (severe behavioural or psychiatric problems); a school of two"
        " clusters (3/4) is in both.",
        _of_clusters,
        _count_clusters,
        _spell_clusters,
        sorted_by_label=False,
        choices=tuple(CLUSTERS),
    ),
)
FILTERS_BY_NAME = {f.name: f for f in FILTERS}
FACETS = tuple(FILTERS_BY_NAME)
FACET_TITLES = {f.name: f.title for f in FILTERS}
SUPPORT_FACET = next(f.name for f in FILTERS if f.levelled)
