"""An overview table's rows as markup, joined in Python. The whole country's board overview
has some 10,000 cells: a Jinja loop per cell, each cell with its class attribute, cost the page
a third of its time, and WeasyPrint a tenth of its PDF's (parsing the attributes, then matching
them). So a figure is a bare <td>, right-aligned by both stylesheets; only words carry a class.
Every value is escaped here."""

from markupsafe import Markup, escape

from ..i18n import integer_format
from .paper import Table, shown


def table_rows(table: Table, links: bool = True) -> Markup:
    """The body rows and the total row of `table`; names link to their group's page when
    `links` (the page) and the table has them, never on paper."""
    integer = integer_format()
    hrefs = table.links if links else []

    def cells(row: list) -> str:
        parts = []
        for index, cell in enumerate(row[1:], 1):
            text = escape(shown(cell, integer))
            kind = "words" if isinstance(cell, str) else ""
            if index in table.wrapping:
                kind = f"{kind} wraps".lstrip()
            parts.append(f'<td class="{kind}">{text}</td>' if kind else f"<td>{text}</td>")
        return "".join(parts)

    lines = []
    for index, row in enumerate(table.rows):
        link = hrefs[index] if index < len(hrefs) else None
        name = f'<a href="{escape(link)}">{escape(row[0])}</a>' if link else escape(row[0])
        lines.append(f'<tr><th scope="row">{name}</th>{cells(row)}</tr>')
    if table.total:
        name = escape(table.total[0])
        lines.append(f'<tr class="total"><th scope="row">{name}</th>{cells(table.total)}</tr>')
    return Markup("\n".join(lines))  # noqa: S704 (every value escaped above)
