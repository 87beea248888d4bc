"""The overviews' tables, and how each fits A4: one Table makes the page, the workbook and the
PDF; for_paper decides portrait, landscape or parts, and the columns' printed widths."""

import re
from dataclasses import dataclass, field, replace
from datetime import date

from flask_babel import format_date

from ..i18n import format_integer, integer_format
from ..i18n import gettext as _
from ..text import xml_text

# How many characters of 9pt Liberation Sans fit across A4 inside the margins (about 1.8 mm
# each, bold headers included), and how wide a name may grow before it wraps.
PORTRAIT, LANDSCAPE = 100, 148
CHARACTER_MM = 1.84  # 186 mm across portrait, 273 mm across landscape
NAME_WIDTH = 30
TEXT_WIDTH = 15  # 'niet vastgelegd' on one line
CELL_PADDING = 2
WORD_BREAKS = re.compile(r"\s+|(?<=-)")
GAP = "—"  # a value nobody recorded: shown as a gap, never as 0


def short_date(day: date) -> str:
    """A date as people write it: 1 okt 2025 (1 Oct 2025)."""
    return format_date(day, "d MMM y")


def shown(value, integer=format_integer) -> str:
    """A cell as the page and the PDF print it (`integer`: i18n.integer_format() in a loop)."""
    if value is None:
        return GAP
    return integer(value) if isinstance(value, int) else str(value)


@dataclass
class Table:
    """Rows under columns of (group, label): a column group heads its columns on paper and on
    screen; in a workbook each header reads 'group label'. On paper each column has a width in
    mm (`printed`), so WeasyPrint lays the table out at once instead of measuring every cell."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[list]
    total: list | None = None
    links: list[str | None] = field(default_factory=list)
    part: str = ""
    landscape: bool = False
    printed: list[float] = field(default_factory=list)
    # Every cell after the name counts its column's label (schools per denomination): on paper,
    # too wide for a landscape page, such a table becomes a list (see `listed`).
    counts: bool = False
    wrapping: frozenset[int] = frozenset()  # columns whose cells wrap at spaces on paper
    sheet: "Table | None" = None  # in a workbook, when its cells hold words around figures

    def __post_init__(self) -> None:
        # Names from the data end up in a page, a PDF and a workbook, and none can hold a control
        # character: openpyxl refuses one, WeasyPrint loses the PDF's whole text layer over it.
        self.columns = [(xml_text(g), xml_text(label)) for g, label in self.columns]
        self.rows = [[xml_text(v) for v in row] for row in self.rows]
        self.total = [xml_text(v) for v in self.total] if self.total else self.total

    @property
    def flat_header(self) -> list[str]:
        return [f"{g} {label}" if g else label for g, label in self.columns]

    @property
    def header_rows(self) -> list[list[tuple[str, int, int, str, str]]]:
        """The header as (label, colspan, rowspan, scope, class) cells, in one row or two; a
        column's header aligns as its cells do (names and words left, figures right)."""
        words = self.wrapping | {
            i
            for i in range(1, len(self.columns))
            if self.rows and all(isinstance(row[i], str) for row in self.rows)
        }
        align = [
            "name" if i == 0 else "words" if i in words else "num" for i in range(len(self.columns))
        ]
        if not any(g for g, _label in self.columns):
            return [[(label, 1, 1, "col", align[i]) for i, (_g, label) in enumerate(self.columns)]]
        top, below = [], []
        for i, (g, label) in enumerate(self.columns):
            if not g:
                top.append((label, 1, 2, "col", align[i]))
            elif top and top[-1][0] == g and top[-1][3] == "colgroup":
                top[-1] = (g, top[-1][1] + 1, 1, "colgroup", "num")
                below.append((label, 1, 1, "col", align[i]))
            else:
                top.append((g, 1, 1, "colgroup", "num"))
                below.append((label, 1, 1, "col", align[i]))
        return [top, below]

    @property
    def printed_width(self) -> float:
        return round(sum(self.printed), 1)

    def widths(self) -> list[int]:
        """Each column's width in characters as printed: its longest word or figure."""
        cells = self.rows + ([self.total] if self.total else [])
        widths, integer = [], integer_format()
        for index, (_group, label) in enumerate(self.columns):
            values = [row[index] for row in cells]
            # Figures never wrap; names and words wrap at spaces beyond a comfortable width,
            # and a line may break at a space and after a hyphen (Protestants-|Christelijk).
            limit = NAME_WIDTH if index == 0 else TEXT_WIDTH
            figures = [len(integer(v)) for v in values if isinstance(v, int)]
            texts = {shown(v) for v in values if not isinstance(v, int)}
            words = [len(w) for t in (label, *texts) for w in WORD_BREAKS.split(t) if w]
            whole = [min(len(t), limit) for t in texts]
            widths.append(max([1, *figures, *words, *whole]))
        return widths

    def columns_subset(self, keep: list[int], part: str) -> "Table":
        pick = lambda row: [row[i] for i in keep]  # noqa: E731
        return replace(
            self,
            columns=pick(self.columns),
            rows=[pick(row) for row in self.rows],
            total=pick(self.total) if self.total else None,
            part=part,
        )


def for_paper(table: Table) -> list[Table]:
    """The table on A4: portrait when it fits, else landscape, else split into parts that each
    repeat the name column, so nothing is ever cut at the page's edge."""
    widths = [w + CELL_PADDING for w in table.widths()]
    if sum(widths) <= PORTRAIT:
        return [printed(table, widths, PORTRAIT)]
    if sum(widths) <= LANDSCAPE:
        return [printed(replace(table, landscape=True), widths, LANDSCAPE)]
    if table.counts:
        return [listed(table)]
    parts, current = [], []
    for index in range(1, len(widths)):
        if current and widths[0] + sum(widths[i] for i in current) + widths[index] > LANDSCAPE:
            parts.append(current)
            current = []
        current.append(index)
    parts.append(current)
    return [
        printed(
            table.columns_subset([0, *keep], _("deel %(n)d van %(of)d", n=number, of=len(parts))),
            [widths[i] for i in (0, *keep)],
            LANDSCAPE,
        )
        for number, keep in enumerate(parts, 1)
    ]


def printed(table: Table, widths: list[int], page: int) -> Table:
    """The table with its columns' widths in mm; the page's room to spare widens the name
    column up to its longest name, so fewer names wrap."""
    cells = table.rows + ([table.total] if table.total else [])
    longest = max([len(str(row[0])) for row in cells], default=0) + CELL_PADDING
    name = min(max(widths[0], longest), widths[0] + page - sum(widths))
    widths = [name, *widths[1:]]
    return replace(
        table,
        landscape=page == LANDSCAPE,
        printed=[round(w * CHARACTER_MM, 1) for w in widths],
    )


def listed(table: Table) -> Table:
    """A table of counts too wide for a landscape page, as a list: per row its total and what
    it counts, 'Openbaar 12 · Rooms-Katholiek 3', on portrait pages. The whole country's boards
    by their 21 denominations were three landscape parts of mostly zeros: 75 pages, and 18,000
    cells to lay out (two thirds of the PDF's render time); as a list, one column to read down.
    The total row lists every column's total."""
    labels = [label for _group, label in table.columns[1:]]
    counted = table.columns[1][0]

    def row(cells: list) -> list:
        counts = cells[1:]
        items = [f"{label} {shown(n)}" for label, n in zip(labels, counts, strict=True) if n]
        return [cells[0], sum(n or 0 for n in counts), " · ".join(items)]

    as_list = replace(
        table,
        columns=[table.columns[0], (counted, _("totaal")), (counted, table.title)],
        rows=[row(cells) for cells in table.rows],
        total=row(table.total) if table.total else None,
        counts=False,
        wrapping=frozenset({2}),
    )
    name, total = [w + CELL_PADDING for w in as_list.widths()[:2]]
    widths = [name, total, PORTRAIT - name - total]
    return replace(as_list, printed=[round(w * CHARACTER_MM, 1) for w in widths])
