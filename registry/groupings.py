"""The three groupings of schools (municipality, board, network), declared once, and their totals.

Every count goes through search.py's query builder: a group's figures are its schools as the
directory lists them (open, under the same conditions), summed with the pupils of the same
reference date, so a total is the sum of its list on every date.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from flask import url_for
from sqlalchemy import distinct, func, select

from .db import db
from .filters import FACET_TITLES
from .i18n import lazy_gettext as _l
from .models import Board, Municipality, Network, School, SchoolSupport, SchoolType, SupportLevel
from .search import (
    SchoolSearch,
    conditions,
    latest_pupils,
    parse_reference_date,
    reference_dates,
)


@dataclass(frozen=True)
class Grouping:
    """One way of grouping schools: its table, School's link to it and its names in URLs."""

    facet: str  # the directory filter that selects one group's schools (search.FACETS)
    model: type
    foreign_key: object  # School's column that points at the group
    key: str  # the group's attribute in its URL and in the filter
    listing: str  # the list of all groups, /besturen
    endpoint: str  # the page of one group
    url_arg: str
    per_label: object  # the overview's title

    @property
    def label(self):
        return FACET_TITLES[self.facet]

    def url(self, record, **args) -> str:
        return url_for(self.endpoint, **{self.url_arg: getattr(record, self.key)}, **args)


# In the order the overviews offer them.
GROUPINGS = {
    grouping.facet: grouping
    for grouping in (
        Grouping(
            "gemeente",
            Municipality,
            School.municipality_id,
            "slug",
            "gemeenten",
            "directory.municipality",
            "slug",
            _l("Per gemeente"),
        ),
        Grouping(
            "bestuur",
            Board,
            School.board_id,
            "board_number",
            "besturen",
            "directory.board",
            "number",
            _l("Per bestuur"),
        ),
        Grouping(
            "netwerk",
            Network,
            School.network_id,
            "slug",
            "netwerken",
            "directory.network",
            "slug",
            _l("Per netwerk"),
        ),
    )
}
BY_LISTING = {grouping.listing: grouping for grouping in GROUPINGS.values()}


class Tally(NamedTuple):
    schools: int
    pupils: int
    counted: int = 0  # schools among them with a pupil count on the date: 0 means unknown


NOTHING = Tally(0, 0)


class GroupTotal(NamedTuple):
    record: object
    schools: int
    pupils: int


def chosen_reference(text: str | None) -> date | None:
    """?peildatum= as the school lists check it, else the newest date (None: nothing counted)."""
    counted = reference_dates()
    return parse_reference_date(text) or (counted[-1] if counted else None)


def _tally(search: SchoolSearch, *by, join=()) -> dict[tuple, Tally]:
    """Open schools and their pupils per value of the `by` columns, counting the schools the
    search lists with the pupils it shows (`join` adds a table to group by)."""
    latest = latest_pupils(search.reference)
    query = select(
        *by,
        func.count(School.id),
        func.coalesce(func.sum(latest.c.pupils), 0),
        func.count(latest.c.pupils),
    )
    query = query.select_from(School)
    if join:
        query = query.join(*join)
    rows = db.session.execute(
        query.outerjoin(latest, latest.c.school_id == School.id)
        .where(*conditions(search))
        .group_by(*by)
    ).all()
    return {tuple(row[: len(by)]): Tally(row[-3], int(row[-2]), row[-1]) for row in rows}


def tallies(
    grouping: Grouping, reference: date | None = None, within: SchoolSearch | None = None
) -> dict[int, Tally]:
    """Per group id with open schools: their number and pupils on `reference` (default newest),
    of the schools `within` lists (default all)."""
    found = breakdown(grouping, reference=reference, within=within)
    return {group: tally for (group,), tally in found.items()}


def group_totals(grouping: Grouping, reference: date | None = None) -> list[GroupTotal]:
    """Every group by name, with its open schools and their pupils on `reference` (default
    newest): the lists, the dashboard, the overviews and the API share it."""
    counted = tallies(grouping, reference)
    model = grouping.model
    records = db.session.scalars(select(model).order_by(model.name, getattr(model, grouping.key)))
    return [GroupTotal(record, *counted.get(record.id, NOTHING)[:2]) for record in records]


def _narrowed(within: SchoolSearch | None, reference: date | None = None) -> SchoolSearch:
    """The schools `within` lists (all open schools by default), counted on `reference`."""
    return replace(within or SchoolSearch(), reference=reference)


def breakdown(
    grouping: Grouping,
    *columns,
    reference: date | None = None,
    within: SchoolSearch | None = None,
) -> dict[tuple, Tally]:
    """Open schools and pupils per group id and value of some School columns: the overviews'
    cells (no columns: per group), of the schools `within` lists (default all)."""
    rows = _tally(_narrowed(within, reference), grouping.foreign_key, *columns)
    return {key: tally for key, tally in rows.items() if key[0] is not None}


def support_recorded(grouping: Grouping, within: SchoolSearch | None = None) -> dict[int, int]:
    """Per group id: how many of its open schools have their support recorded at all. A school
    without any record is unknown, not a school that offers nothing."""
    recorded = School.id.in_(select(SchoolSupport.school_id))
    rows = db.session.execute(
        select(grouping.foreign_key, func.count(distinct(School.id)))
        .where(recorded, *conditions(_narrowed(within)))
        .group_by(grouping.foreign_key)
    ).all()
    return {group: n for group, n in rows if group is not None}


def support_offers(
    grouping: Grouping, within: SchoolSearch | None = None
) -> dict[tuple[int, int, SupportLevel], int]:
    """Open schools per (support area id, group id, level): who offers which support where."""
    rows = _tally(
        _narrowed(within),
        SchoolSupport.support_area_id,
        grouping.foreign_key,
        SchoolSupport.level,
        join=(SchoolSupport, SchoolSupport.school_id == School.id),
    )
    return {key: tally.schools for key, tally in rows.items()}


def totals(search: SchoolSearch) -> list[tuple[SchoolType, int, int]]:
    """Schools and pupils per type under the page's fixed filters only (a board's totals), on
    the search's reference date."""
    rows = _tally(SchoolSearch(fixed=search.fixed, reference=search.reference), School.school_type)
    return [(kind, *rows[(kind,)][:2]) for kind in SchoolType if (kind,) in rows]
