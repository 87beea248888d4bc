"""The overviews' pictures, laid out here and drawn as SVG by templates/overviews/_parts.html.

Three plain shapes (a line per group, a bar split in parts, a grid of shaded cells) need no
charting library: pygal writes inline <style> and <script> that the site's Content-Security-
Policy refuses, and matplotlib is tens of megabytes to draw a few lines. Geometry here, markup in
the template, so the page and the PDF show the very same picture, with presentation attributes
only (no style attribute, which the policy would also refuse).
"""

from dataclasses import dataclass, field

from flask_babel import format_percent

from ..groupings import NOTHING, Tally
from ..i18n import gettext as _
from ..models import SchoolType, SupportLevel
from ..text import xml_text

SPARK_WIDTH, SPARK_HEIGHT = 220, 56
MAX_GROUPS = 40
# Five steps of the site's accent blue, light to dark; text on the two darkest is white.
SHADES = ("#e3edf7", "#b9d1ea", "#7fa9d6", "#3f7bb8", "#0b5394")
SPECIAL = (SchoolType.SBO, SchoolType.SO, SchoolType.SO_VSO)


@dataclass
class Spark:
    """One group's pupils over the counted dates, scaled to its own range (labelled)."""

    label: str
    values: list[int | None]
    segments: list[str] = field(default_factory=list)  # polyline points; a gap breaks the line
    dots: list[tuple[float, float]] = field(default_factory=list)
    change: str = ""


def sparks(groups, trend, over_time, when) -> dict:
    rows = []
    for group in groups:
        values = [
            (t.pupils if (t := over_time[day].get(group.id, NOTHING)).counted else None)
            for day in trend
        ]
        spark = Spark(xml_text(group.label), values)
        known = [v for v in values if v is not None]
        if known:
            low, high = min(known), max(known)
            span = (high - low) or 1
            step = (SPARK_WIDTH - 16) / max(len(values) - 1, 1)
            segment = []
            for index, value in enumerate(values):
                if value is None:
                    spark.segments += [" ".join(segment)] if segment else []
                    segment = []
                    continue
                x = 8 + index * step
                y = 8 + (SPARK_HEIGHT - 16) * (1 - (value - low) / span)
                segment.append(f"{x:.1f},{y:.1f}")
                spark.dots.append((round(x, 1), round(y, 1)))
            spark.segments += [" ".join(segment)] if segment else []
            if values[0] and values[-1] is not None:
                spark.change = format_percent(values[-1] / values[0] - 1, "+#,##0.0%;-#,##0.0%")
        rows.append(spark)
    return {
        "kind": "trend",
        "title": _(
            "Leerlingen van %(first)s tot en met %(last)s",
            first=when(trend[0]),
            last=when(trend[-1]),
        )
        if trend
        else _("Leerlingen"),
        "dates": [when(day) for day in trend],
        "rows": rows,
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
    }


@dataclass
class Bar:
    label: str
    pupils: dict  # per school type, None when not counted
    parts: list[tuple[str, float, float, str]] = field(default_factory=list)  # type, x, width, fill
    share: str = ""


def special_share(groups, per_type) -> dict:
    """Per group: which part of its pupils go to SBO and SO, on the chosen date."""
    fills = {SchoolType.BAO: SHADES[1], SchoolType.SBO: SHADES[3], SchoolType.SO: SHADES[4]}
    fills[SchoolType.SO_VSO] = "#052b4f"
    rows = []
    for group in groups:
        tallies = {t: per_type.get((group.id, t), NOTHING) for t in SchoolType}
        # No school of a type: no pupils. Schools without a count: unknown, a gap.
        pupils = {t: v.pupils if v.counted or not v.schools else None for t, v in tallies.items()}
        bar = Bar(xml_text(group.label), pupils)
        total = sum(v or 0 for v in pupils.values())
        if total:
            x = 0.0
            for kind in SchoolType:
                width = 100 * (pupils[kind] or 0) / total
                if width:
                    bar.parts.append((kind.value, round(x, 2), round(width, 2), fills[kind]))
                x += width
            special = sum(pupils[t] or 0 for t in SPECIAL)
            bar.share = format_percent(special / total, "#,##0.0%")
        rows.append(bar)
    legend = [(kind.value, fills[kind]) for kind in SchoolType]
    return {
        "kind": "share",
        "title": _("Aandeel leerlingen in SBO en SO"),
        "rows": rows,
        "types": [t.value for t in SchoolType],
        "legend": legend,
    }


def heat_map(groups, support: dict, schools: dict) -> dict:
    """Per group and support area: the share of schools that recorded their support and offer
    it at extra level. A group without records is a gap, not a zero."""
    recorded, offers, areas = support["recorded"], support["offers"], support["areas"]
    rows = []
    for group in groups:
        known = recorded.get(group.id, 0)
        cells = []
        for area, _name in areas:
            if not known:
                cells.append(None)
                continue
            extra = offers.get((area, group.id, SupportLevel.EXTRA), 0)
            share = extra / known
            shade = min(int(share * len(SHADES)), len(SHADES) - 1)
            cells.append((format_percent(share, "#,##0%"), SHADES[shade], shade >= 3))
        rows.append((xml_text(group.label), known, schools.get(group.id, 0), cells))
    return {
        "kind": "heat",
        "title": _("Extra ondersteuning per ondersteuningsgebied"),
        "areas": [name for _area, name in areas],
        "rows": rows,
        "anything": any(recorded.values()),
        "shades": SHADES,
    }


@dataclass(frozen=True)
class Whole:
    """The whole selection as one group, for charts of more groups than anyone could read."""

    label: str
    id: int = 0


def _summed(tallies) -> Tally:
    return Tally(*(sum(column) for column in zip(NOTHING, *tallies, strict=True)))


def as_one(groups, trend, over_time, per_type, support, schools):
    """The charts' figures for all groups added up (the tables keep every group)."""
    ids = {group.id for group in groups}
    offers = {}
    for (area, group, level), n in support["offers"].items():
        if group in ids:
            offers[(area, 0, level)] = offers.get((area, 0, level), 0) + n
    return (
        [Whole(_("Alle %(n)d samen", n=len(groups)))],
        {day: {0: _summed(over_time[day].get(g, NOTHING) for g in ids)} for day in trend},
        {(0, t): _summed(per_type.get((g, t), NOTHING) for g in ids) for t in SchoolType},
        {
            **support,
            "offers": offers,
            "recorded": {0: sum(support["recorded"].get(g, 0) for g in ids)},
        },
        {0: sum(schools.get(g, 0) for g in ids)},
    )


def overview_charts(groups, trend, over_time, per_type, support, schools, when) -> list[dict]:
    """The three pictures; beyond MAX_GROUPS (a national overview) of the selection as a whole,
    as a picture of a thousand lines shows nothing and takes minutes to print."""
    many = len(groups) > MAX_GROUPS
    if many:
        groups, over_time, per_type, support, schools = as_one(
            groups, trend, over_time, per_type, support, schools
        )
    pictures = [
        sparks(groups, trend, over_time, when),
        special_share(groups, per_type),
        heat_map(groups, support, schools),
    ]
    for picture in pictures:
        picture["summed"] = many
    return pictures
