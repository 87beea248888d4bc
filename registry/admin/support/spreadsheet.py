"""The grid as a spreadsheet to fill in: its columns, one school's record, and the download
(an XLSX with a sheet that explains how to fill it in, or the plain exports' CSV)."""

from flask import Response

from ...exports import XLSX_TYPE, Column, Sheet, export_response, file_name, xlsx_workbook
from ...i18n import gettext as _
from ...models import School, SupportArea
from ...text import place_name
from .rows import Scope, current_entry, support_areas


def grid_columns(areas: list[SupportArea]) -> list[Column]:
    return [
        Column("vestigingscode", _("Vestigingscode"), 14),
        Column("school", _("School"), 40),
        Column("plaats", _("Plaats"), 16),
        Column("bestuur", _("Bestuur"), 30),
        *(Column(area.code, area.name, 16) for area in areas),
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
    return Response(body, mimetype=XLSX_TYPE, headers={"Content-Disposition": disposition})
