"""Placing postcodes on the map and measuring straight-line distances."""

import csv
import math
import re
from dataclasses import dataclass
from functools import cache

from .config import PROJECT_ROOT
from .models import LocationPrecision

PC4_FILE = PROJECT_ROOT / "seed_data" / "pc4_centroids_nl.csv"
PC6_FILE = PROJECT_ROOT / "seed_data" / "pc6_centroids_drenthe_7700-8439.csv"
POSTCODE_RE = re.compile(r"^\s*([1-9][0-9]{3})\s?([A-Za-z]{2})?\s*$")


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def _read_points(path, key: str) -> dict[str, Point]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        return {row[key]: Point(float(row["lat"]), float(row["lon"])) for row in rows}


@cache
def pc4_points() -> dict[str, Point]:
    """The centre of every 4-digit postcode area in the country (2021), read once."""
    return _read_points(PC4_FILE, "pc4")


@cache
def pc6_points() -> dict[str, Point]:
    """The centre of every 6-position postcode in the Drenthe part of the region."""
    return _read_points(PC6_FILE, "pc6")


def parse_postcode(text: str) -> str | None:
    """'7941ab', '7941 AB' or '7941' -> '7941 AB' / '7941'; anything else -> None."""
    match = POSTCODE_RE.match(text or "")
    if not match:
        return None
    digits, letters = match.groups()
    return f"{digits} {letters.upper()}" if letters else digits


def locate_postcode(postcode: str) -> Point | None:
    """A parent's postcode: its own centre where known (Drenthe), else its 4-digit area's.

    The 4-digit centre is a median 353 m off and up to a few km in the countryside, so the
    6-position one is used wherever the data has it. None when neither is known.
    """
    return postcode_point(postcode)[0]


def postcode_point(postcode: str | None) -> tuple[Point | None, LocationPrecision | None]:
    """A school's point from its postcode alone, with how precise that point is."""
    if not postcode:
        return None, None
    if point := pc6_points().get(postcode.replace(" ", "")):
        return point, LocationPrecision.PC6
    if point := pc4_points().get(postcode[:4]):
        return point, LocationPrecision.PC4
    return None, None


@dataclass(frozen=True)
class PlacedPostcode:
    """A postcode and the point that stands for it: its own centre (pc6) or its area's (pc4)."""

    postcode: str
    point: Point
    precision: LocationPrecision

    @property
    def area(self) -> str:
        return self.postcode[:4]

    @property
    def has_letters(self) -> bool:
        return len(self.postcode) > 4


def place_postcode(postcode: str | None) -> PlacedPostcode | None:
    """The point a postcode stands for, as the search and the DUO import find it, if known."""
    point, precision = postcode_point(postcode)
    return PlacedPostcode(postcode, point, precision) if point else None


def follows_postcode(school) -> bool:
    """Whether a school's point comes from its postcode: not once placed by hand at the building."""
    return school.latitude is None or school.location_precision != LocationPrecision.BUILDING


def place_by_postcode(school) -> PlacedPostcode | None:
    """Put a school where the DUO import would (PC6 centre, else PC4); unplaced when unknown."""
    placed = place_postcode(school.postcode)
    school.latitude = placed.point.latitude if placed else None
    school.longitude = placed.point.longitude if placed else None
    school.location_precision = placed.precision if placed else None
    return placed


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def squared_distance_expression(latitude, longitude, origin: Point):
    """An SQL expression that orders rows by distance from origin, on any database.

    Plain arithmetic (no trigonometry, which SQLite may lack): longitude degrees are scaled
    by cos(latitude) at the origin; within a region the ordering equals the true one.
    """
    scale = math.cos(math.radians(origin.latitude))
    d_lat = latitude - origin.latitude
    d_lon = (longitude - origin.longitude) * scale
    return d_lat * d_lat + d_lon * d_lon
