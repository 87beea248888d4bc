"""What an overview holds: its schools narrowed by the directory's filters, and the tables of
schools and pupils, denominations and support per municipality, board or network."""

from dataclasses import dataclass, field
from datetime import date

from flask import abort, request, url_for
from flask_babel import get_locale
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..db import db
from ..filters import FACET_TITLES, FACETS
from ..groupings import (
    GROUPINGS,
    NOTHING,
    Grouping,
    breakdown,
    support_offers,
    support_recorded,
    tallies,
)
from ..i18n import gettext as _
from ..models import School, SchoolType, SupportArea, SupportLevel
from ..search import BadParameter, SchoolSearch, reference_dates
from . import charts
from .charts import SPECIAL
from .paper import GAP, Table, short_date

TREND_YEARS = 5


@dataclass
class Overview:
    """What one overview shows: its tables and charts, for which schools, on which date."""

    kind: str
    search: SchoolSearch
    reference: date | None
    available: list[date]
    trend: list[date]
    selection: list[tuple[str, list[str]]]
    tables: list[Table]
    charts: list
    sheets: list[Table] = field(default_factory=list)  # the workbook's: tables as numbers

    @property
    def grouping(self) -> Grouping:
        return GROUPINGS[self.kind]

    @property
    def title(self) -> str:
        names = "; ".join(", ".join(values) for _title, values in self.selection)
        base = _("Overzicht %(per)s", per=str(self.grouping.per_label).lower())
        return f"{base}: {names}" if names else base

    def args(self, **changes) -> dict:
        """The overview's URL parameters, for links to its other formats and choices."""
        return self.args_of(self.search, **changes)

    def args_of(self, search: SchoolSearch, **changes) -> dict:
        args = {facet: list(values) for facet, values in search.filters.items()}
        args.update(changes)
        if self.reference:
            args["peildatum"] = self.reference.isoformat()
        return args


def overview_search(files: bool) -> SchoolSearch:
    """The directory's filters and ?peildatum= as the school lists read them (400 if wrong);
    the overviews have no search text, order or pages, so those parameters are not read. A
    file refuses a value that names nothing, as the directory's files do; the page says so."""
    read = {*FACETS, "peildatum"}
    try:
        search = SchoolSearch.from_args(
            MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in read])
        )
        if files:
            search.refuse_unknown()
    except BadParameter as error:
        abort(400, f"{error.parameter}: {error.message}")
    return search


def selection_names(search: SchoolSearch) -> list[tuple[str, list[str]]]:
    """Each chosen filter with its values as people know them (Meppel, not meppel)."""
    chosen = []
    for facet, values in search.filters.items():
        grouping = GROUPINGS.get(facet)
        names = list(values)
        if grouping is not None:
            key = getattr(grouping.model, grouping.key)
            found = {
                getattr(r, grouping.key): r.label
                for r in db.session.scalars(select(grouping.model).where(key.in_(values)))
            }
            names = [found.get(v, v) for v in values]
        chosen.append((str(FACET_TITLES[facet]), names))
    return chosen


def groups_within(grouping: Grouping, search: SchoolSearch) -> list:
    """The groups with schools the search lists, in the overviews' order (by label)."""
    found = tallies(grouping, within=search)
    records = db.session.scalars(select(grouping.model).where(grouping.model.id.in_(found)))
    return sorted(records, key=lambda record: record.label)


def _sum(values) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def schools_and_pupils(ov: Overview, groups: list, per_type: dict, over_time: dict) -> Table:
    """Open schools per type, and their pupils on each counted date up to the chosen one."""
    types = list(SchoolType)
    pupils = _("Leerlingen")
    columns = [
        ("", _("Naam")),
        *[(_("Scholen"), t.value) for t in types],
        (_("Scholen"), _("totaal")),
        *[(pupils, short_date(day)) for day in ov.trend],
    ]

    def counted(tally) -> int | None:
        return tally.pupils if tally.counted else None

    rows = [
        [
            group.label,
            *[per_type.get((group.id, t), NOTHING).schools for t in types],
            sum(per_type.get((group.id, t), NOTHING).schools for t in types),
            *[counted(over_time[day].get(group.id, NOTHING)) for day in ov.trend],
        ]
        for group in groups
    ]
    total = [_("Totaal"), *[_sum(r[i] for r in rows) for i in range(1, len(columns))]]
    return Table(str(ov.grouping.per_label), columns, rows, total)


def denominations(ov: Overview, groups: list) -> Table:
    cells = breakdown(ov.grouping, School.denomination, within=ov.search)
    kinds = sorted({d or GAP for _group, d in cells})
    count = {(group, d or GAP): tally.schools for (group, d), tally in cells.items()}
    rows = [[g.label, *[count.get((g.id, d), 0) for d in kinds]] for g in groups]
    total = [_("Totaal"), *[sum(r[i] for r in rows) for i in range(1, len(kinds) + 1)]]
    columns = [("", _("Naam")), *[(_("Scholen per richting"), d) for d in kinds]]
    return Table(_("Richting"), columns, rows, total, counts=True)


def support_areas() -> list[tuple[int, str]]:
    name = SupportArea.name_en if str(get_locale()) == "en" else SupportArea.name
    return list(db.session.execute(select(SupportArea.id, name).order_by(SupportArea.position)))


def coverage(ov: Overview, groups: list, schools: dict) -> tuple[Table, dict]:
    """Group × support area: of the schools that recorded their support, how many offer it at
    basic and at extra level. Nothing recorded reads 'niet vastgelegd', never 0."""
    offers = support_offers(ov.grouping, within=ov.search)
    recorded = support_recorded(ov.grouping, within=ov.search)
    areas = support_areas()
    unknown = _("niet vastgelegd")

    def cell(extra: int, basis: int, known: int) -> str:
        if not known:
            return unknown
        return _("%(extra)d extra, %(basis)d basis", extra=extra, basis=basis)

    def level(area: int, ids: list[int], wanted: SupportLevel) -> int:
        return sum(offers.get((area, g, wanted), 0) for g in ids)

    def row(label: str, ids: list[int]) -> list:
        known = sum(recorded.get(g, 0) for g in ids)
        return [
            label,
            _("%(n)d van %(of)d", n=known, of=sum(schools.get(g, 0) for g in ids)),
            *[
                cell(level(a, ids, SupportLevel.EXTRA), level(a, ids, SupportLevel.BASIS), known)
                for a, _name in areas
            ],
        ]

    columns = [
        ("", _("Naam")),
        ("", _("Scholen die het vastlegden")),
        *[(_("Ondersteuning"), name) for _a, name in areas],
    ]
    title = _("Ondersteuning per %(group)s", group=str(ov.grouping.label).lower())
    table = Table(
        title,
        columns,
        [row(g.label, [g.id]) for g in groups],
        row(_("Totaal"), [g.id for g in groups]),
    )

    def figures(label: str, ids: list[int]) -> list:
        """The same row as numbers a spreadsheet can add up; nothing recorded is empty, not 0."""
        known = sum(recorded.get(g, 0) for g in ids)
        levels = [
            level(a, ids, wanted) if known else None
            for a, _name in areas
            for wanted in (SupportLevel.EXTRA, SupportLevel.BASIS)
        ]
        return [label, sum(schools.get(g, 0) for g in ids), known, *levels]

    table.sheet = Table(
        title,
        [
            ("", _("Naam")),
            ("", _("Scholen")),
            ("", _("Scholen die het vastlegden")),
            *[(name, word) for _a, name in areas for word in (_("extra"), _("basis"))],
        ],
        [figures(g.label, [g.id]) for g in groups],
        figures(_("Totaal"), [g.id for g in groups]),
    )
    return table, {"offers": offers, "recorded": recorded, "areas": areas}


def pupils_per_type(ov: Overview, groups: list, per_type: dict) -> Table:
    """The page's table under its bar chart, for the workbook: pupils per type of school on
    the chosen date and the share in special education, as numbers (a percentage)."""
    types = list(SchoolType)

    def row(label: str, ids: list[int]) -> list:
        tallies = [[per_type.get((g, t), NOTHING) for g in ids] for t in types]
        # No school of a type: no pupils; schools without a count: unknown, empty.
        pupils = [
            _sum(v.pupils if v.counted or not v.schools else None for v in of_type)
            for of_type in tallies
        ]
        total = _sum(pupils)
        special = sum(n or 0 for t, n in zip(types, pupils, strict=True) if t in SPECIAL)
        share = round(100 * special / total, 1) if total else None
        return [label, *pupils, total, share]

    return Table(
        _("Leerlingen per soort school"),
        [
            ("", _("Naam")),
            *[(_("Leerlingen"), t.value) for t in types],
            (_("Leerlingen"), _("totaal")),
            ("", _("Aandeel SBO en SO (%)")),
        ],
        [row(g.label, [g.id]) for g in groups],
        row(_("Totaal"), [g.id for g in groups]),
    )


def build_overview(kind: str, files: bool = True) -> Overview:
    search = overview_search(files)
    available = reference_dates()
    reference = search.reference or (available[-1] if available else None)
    trend = [d for d in available if reference and d <= reference][-TREND_YEARS:]
    ov = Overview(kind, search, reference, available, trend, selection_names(search), [], [])
    groups = groups_within(ov.grouping, search)
    per_type = breakdown(ov.grouping, School.school_type, reference=reference, within=search)
    over_time = {day: tallies(ov.grouping, day, within=search) for day in trend}
    first = schools_and_pupils(ov, groups, per_type, over_time)
    first.links = [
        url_for_overview(kind, ov, getattr(g, ov.grouping.key)) if len(groups) > 1 else None
        for g in groups
    ]
    total_column = len(SchoolType) + 1  # after the name and the schools per type
    schools = {g.id: row[total_column] for g, row in zip(groups, first.rows, strict=True)}
    support, support_data = coverage(ov, groups, schools)
    ov.tables = [first, denominations(ov, groups)]
    ov.sheets = [first, pupils_per_type(ov, groups, per_type), *ov.tables[1:]]
    # Until some school in the selection records its support, every row of that table would
    # read '0 van N' and 'niet vastgelegd': the heat map says so in one sentence instead (the
    # whole country's boards were 18 of a PDF's 53 pages, and a third of its render time).
    if any(support_data["recorded"].values()):
        ov.tables.append(support)
        ov.sheets.append(support.sheet)
    ov.charts = charts.overview_charts(
        groups, trend, over_time, per_type, support_data, schools, short_date
    )
    return ov


def url_for_overview(kind: str, ov: Overview, key: str) -> str:
    """This overview narrowed to one of its groups: one click from the region to Meppel."""
    return url_for("overviews.overview", group=kind, **ov.args(**{kind: [key]}))
