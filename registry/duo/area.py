"""Which DUO locations belong to the partnership: the official rule, kept as data.

The Regeling regio-indeling samenwerkingsverbanden passend onderwijs assigns whole
municipalities, or a municipality's 4-digit postcode areas, to a partnership. The rule lives in
`seed_data/partnership_area.csv`, so another partnership only changes that file.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT

AREA_FILE = PROJECT_ROOT / "seed_data" / "partnership_area.csv"


@dataclass(frozen=True)
class Area:
    """Municipalities by CBS code, each with the postcode areas it is restricted to (or none).

    `national` takes every location, for a national deployment and for measuring at scale.
    """

    municipalities: dict[str, frozenset[str]]
    national: bool = False

    def contains(self, municipality_code: str, postcode: str | None) -> bool:
        if self.national:
            return True
        if municipality_code not in self.municipalities:
            return False
        postcode_areas = self.municipalities[municipality_code]
        return not postcode_areas or (postcode or "")[:4] in postcode_areas

    def postcode_areas(self, municipality_code: str) -> list[str]:
        return sorted(self.municipalities.get(municipality_code, ()))

    @classmethod
    def whole_country(cls) -> "Area":
        return cls({}, national=True)

    @classmethod
    def from_file(cls, path: Path = AREA_FILE) -> "Area":
        with open(path, newline="", encoding="utf-8") as handle:
            return cls(
                {
                    row["cbs_code"].strip(): frozenset(row["postcode_areas"].split())
                    for row in csv.DictReader(handle)
                }
            )
