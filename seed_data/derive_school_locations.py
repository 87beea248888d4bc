"""Derive seed_data/school_locations.csv: a point and its precision for every school.

Run from the project root when schools.csv or the geo sources change:

    python seed_data/derive_school_locations.py \
        ../shared/data/geo/raw/bag-adressen_Drenthe_*.csv.zst

For each school with a postcode it takes, in order of preference: the exact address point
(postcode + house number + addition) from the BAG address file, the mean of its 6-position
postcode, the mean of its 4-digit postcode. Schools without an address get no row.
"""

import csv
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def read_table(name: str, key: str) -> dict[str, tuple[str, str]]:
    with open(HERE / name, newline="", encoding="utf-8") as handle:
        return {row[key]: (row["lat"], row["lon"]) for row in csv.DictReader(handle)}


def address_key(postcode: str, number: str, addition: str) -> tuple[str, str, str]:
    return postcode.replace(" ", "").upper(), number, addition.replace("-", "").upper()


def read_address_points(zst_path: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    # zstd from the system: the standard library cannot read .zst before Python 3.14.
    text = subprocess.run(  # noqa: S603
        ["zstd", "-dc", zst_path],  # noqa: S607 check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout
    points = {}
    for row in csv.DictReader(text.splitlines(), delimiter=";"):
        addition = row["huisletter"] + row["huisnummertoevoeging"]
        points[address_key(row["postcode"], row["huisnummer"], addition)] = (row["lat"], row["lon"])
    return points


def main(zst_path: str) -> None:
    pc4 = read_table("pc4_centroids_nl.csv", "pc4")
    pc6 = read_table("pc6_centroids_drenthe_7700-8439.csv", "pc6")
    addresses = read_address_points(zst_path)
    out_rows = []
    with open(HERE / "schools.csv", newline="", encoding="utf-8") as handle:
        for school in csv.DictReader(handle):
            if not school["postcode"]:
                continue
            number, _, addition = school["house_number"].partition("-")
            key = address_key(school["postcode"], number, addition)
            if key in addresses:
                point, precision, source = addresses[key], "building", "BAG address point"
            elif key[0] in pc6:
                point, precision, source = pc6[key[0]], "pc6", "PC6 mean of address points"
            else:
                point, precision, source = pc4[school["pc4"]], "pc4", "PC4 mean of addresses (2021)"
            out_rows.append([school["vestigingscode"], *point, precision, source])
    with open(HERE / "school_locations.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["vestigingscode", "latitude", "longitude", "precision", "source"])
        writer.writerows(out_rows)


if __name__ == "__main__":
    main(sys.argv[1])
