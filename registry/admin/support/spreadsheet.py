"""The grid as a spreadsheet to fill in: its columns, one school's record, and the download
(an XLSX with a sheet that explains how to fill it in, or the plain exports' CSV).

Each row carries its version, "12-kbhdoapf": the school's version and the fingerprint of what
the row said (rows.Entry.fingerprint), so that an upload can tell a school someone else changed
after the download from one that only the user changed (upload.py, view.py)."""

import io
import re
from dataclasses import dataclass

from flask import Response
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ...exports import XLSX_TYPE, Column, Sheet, export_response, file_name, xlsx_workbook
from ...i18n import gettext as _
from ...models import School, SupportArea
from ...text import place_name
from .rows import FINGERPRINT_LENGTH, LEVELS, Scope, current_entry, support_areas

VERSION = "versie"
VERSION_RE = re.compile(rf"([0-9]{{1,9}})-([a-p]{{{FINGERPRINT_LENGTH}}})", re.IGNORECASE)


@dataclass(frozen=True)
class Shown:
    """What a downloaded row showed: the school's version and the fingerprint of its row."""

    version: int
    fingerprint: str

    @property
    def text(self) -> str:
        return f"{self.version}-{self.fingerprint}"

    @classmethod
    def parse(cls, text: str) -> "Shown | None":
        found = VERSION_RE.fullmatch(text.strip())
        return cls(int(found[1]), found[2].lower()) if found else None


def grid_columns(areas: list[SupportArea]) -> list[Column]:
    return [
        Column("vestigingscode", _("Vestigingscode"), 14),
        Column("school", _("School"), 40),
        Column("plaats", _("Plaats"), 16),
        Column("bestuur", _("Bestuur"), 30),
        *(Column(area.code, area.name, 16) for area in areas),
        # What the row showed at the download (Shown); an older download lacks it.
        Column(VERSION, _("Versie"), 13),
        Column("profiel", _("Link ondersteuningsprofiel"), 40),
        Column("vastgesteld", _("Vastgesteld op"), 14),
    ]


def grid_record(school: School, areas: list[SupportArea]) -> dict:
    entry = current_entry(school, areas)
    return {
        "vestigingscode": school.vestigingscode,
        "school": school.name,
        "plaats": place_name(school.place),
        "bestuur": school.board.label,
        **{area.code: entry.levels[area.id] for area in areas},
        VERSION: Shown(school.version, entry.fingerprint(areas)).text,
        "profiel": entry.url,
        "vastgesteld": school.support_profile_adopted_on,
    }


def explanation() -> list[str]:
    return [
        _("Vul per school en ondersteuningsgebied basis of extra in; leeg betekent geen."),
        _(
            "De link is het adres van het schoolondersteuningsprofiel, bijvoorbeeld"
            " www.school.nl/sop."
        ),
        _("De datum is die waarop het profiel is vastgesteld, bijvoorbeeld 1-8-2025."),
        _("Laat de kolomkoppen en de vestigingscodes staan; regels weglaten mag."),
        _(
            "Laat ook de kolom Versie staan zoals hij is: daaraan zien we of iemand anders een"
            " school wijzigde nadat u dit rooster downloadde. Zulke scholen worden alleen"
            " overschreven als u daarvoor kiest."
        ),
        _("Laad het bestand daarna op dezelfde pagina; u ziet eerst wat er verandert."),
    ]


def download(scope: Scope, fmt: str) -> Response:
    """The scope's grid in one of exports.FORMATS; the XLSX also explains how to fill it in."""
    areas = support_areas()
    columns = grid_columns(areas)
    records = [grid_record(school, areas) for school in scope.schools()]
    name = _("ondersteuning %(scope)s", scope=scope.title)
    if fmt != "xlsx":
        return export_response(fmt, columns, records, name)
    help_column = Column("uitleg", _("Zo vult u dit rooster in"), 100)
    body = xlsx_workbook(
        [
            Sheet(_("Ondersteuning"), columns, records, frozen="C2"),
            Sheet(
                _("Uitleg"),
                [help_column],
                [{"uitleg": line} for line in explanation()],
                autofilter=False,
            ),
        ]
    )
    disposition = f'attachment; filename="{file_name(name, "xlsx")}"'
    body = with_level_choices(body, columns, areas, len(records))
    return Response(body, mimetype=XLSX_TYPE, headers={"Content-Disposition": disposition})


def with_level_choices(body: bytes, columns: list[Column], areas, rows: int) -> bytes:
    """The grid's level cells offer the allowed words as a drop-down and refuse others, so a
    typo is caught while typing rather than at the upload. Added to the written file: the
    exports' writer streams its rows (write-only), which leaves no cells to attach it to."""
    workbook = load_workbook(io.BytesIO(body))
    sheet = workbook.worksheets[0]
    words = [level for level in LEVELS if level]
    choice = DataValidation(
        type="list",
        formula1='"' + ",".join(words) + '"',
        allow_blank=True,  # empty: geen
        showErrorMessage=True,
        errorTitle=_("Niveau"),
        error=_("Vul %(words)s in, of laat de cel leeg (geen).", words=" of ".join(words)),
        promptTitle=_("Niveau"),
        prompt=_("Kies %(words)s; leeg betekent geen.", words=" of ".join(words)),
        showInputMessage=True,
    )
    codes = {area.code for area in areas}
    for index, column in enumerate(columns, start=1):
        if column.key in codes:
            letter = get_column_letter(index)
            choice.add(f"{letter}2:{letter}{max(rows, 1) + 1}")
    sheet.add_data_validation(choice)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
