"""DUO's national files: time and peak memory of reading, comparing and importing them.

    .venv/bin/python benchmarks/duo_import.py [--database-url URL]

A benchmark, not a test. Every measurement runs in a fresh process, so the peak memory it
reports (resident set size) is that step's own, interpreter and app included:

- import: DUO's 2026-08 address file, its address file of special education (09) and the
  pupil file into an empty database (read, compare, apply everything in one transaction with
  its history rows);
- parse + compare: the 2026-08 file against a registry holding the 2026-04 file.
"""

import argparse
import tempfile
import time

from common import (
    NATIONAL_APRIL,
    NATIONAL_AUGUST,
    NATIONAL_PUPILS,
    database_config,
    in_fresh_process,
    peak_rss_mb,
)
from flask_migrate import upgrade
from sqlalchemy import func, select

from registry import create_app
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import KINDS, compare
from registry.duo.files import read_duo_file
from registry.models import PupilCount, School

# DUO's address file of special education, whole (905 locations; 818 without VSO alone).
NATIONAL_SPECIAL = NATIONAL_AUGUST.parent / (
    "duo_09-alle-vestigingen-sbo-so-en-vso_NATIONAL_via-hahebo-daad5c8_utf8.csv"
)


def step(name: str, database: dict, folder: str) -> dict:
    """One step in this (fresh) process; returns its timings and peak memory."""
    app = create_app({"SECRET_KEY": "benchmark", **database}, instance_path=folder)
    timings = {}
    with app.app_context():
        if name == "migrate":
            upgrade()
        elif name == "load april":
            files = [read_duo_file(NATIONAL_APRIL.read_bytes(), NATIONAL_APRIL.name)]
            apply_comparison(compare(files, Area.whole_country()), kinds=KINDS)
        else:
            paths = (
                [NATIONAL_AUGUST, NATIONAL_SPECIAL, NATIONAL_PUPILS]
                if name == "import"
                else [NATIONAL_AUGUST]
            )
            start = time.perf_counter()
            files = [read_duo_file(path.read_bytes(), path.name) for path in paths]
            timings["parse"] = time.perf_counter() - start
            comparison = compare(files, Area.whole_country())
            timings["compare"] = time.perf_counter() - start - timings["parse"]
            timings["differences"] = len(comparison.differences)
            if name == "import":
                apply_comparison(comparison, kinds=KINDS)
                timings["apply"] = (
                    time.perf_counter() - start - timings["parse"] - timings["compare"]
                )
                timings["schools"] = db.session.scalar(select(func.count(School.id)))
                timings["pupil counts"] = db.session.scalar(select(func.count(PupilCount.id)))
            timings["total"] = time.perf_counter() - start
        db.engine.dispose()
    timings["peak MB"] = peak_rss_mb()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    options = parser.parse_args()
    dialect = "postgresql" if options.database_url else "sqlite"
    print(f"DUO national files, database {dialect}")
    for label, steps in (
        ("national import into an empty database", ["migrate", "import"]),
        (
            "parse + compare 2026-08 with a registry of 2026-04",
            ["migrate", "load april", "compare"],
        ),
    ):
        with (
            tempfile.TemporaryDirectory() as folder,
            database_config(options.database_url, folder) as database,
        ):
            for name in steps:
                result = in_fresh_process(step, name, database, folder)
        figures = ", ".join(
            f"{key} {value:.2f} s"
            if isinstance(value, float) and key != "peak MB"
            else f"{key} {value:.0f}"
            if key == "peak MB"
            else f"{key} {value}"
            for key, value in result.items()
        )
        print(f"{label}: {figures}")


if __name__ == "__main__":
    main()
