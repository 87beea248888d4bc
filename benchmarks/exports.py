"""Exporting every school as CSV and XLSX: time and peak memory, regional and national.

    .venv/bin/python benchmarks/exports.py [--database-url URL] [--repeat 5]

A benchmark, not a test. The database is filled once (the seed, or DUO's national address
and pupil files: 6,122 locations); each export then runs in a fresh process through the
public directory's download (`/scholen.csv`, `/scholen.xlsx`, every matching row), so the
peak memory (resident set size) is that export's own, interpreter and app included. The
time is the median of --repeat downloads, the body read to the end.
"""

import argparse
import statistics
import tempfile
import time

from common import NATIONAL_AUGUST, NATIONAL_PUPILS, database_config, in_fresh_process, peak_rss_mb
from flask_migrate import upgrade

from registry import create_app
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import KINDS, compare
from registry.duo.files import read_duo_file
from registry.seed import load_seed

FORMATS = {"CSV": "/scholen.csv", "CSV voor Excel": "/scholen.excel.csv", "XLSX": "/scholen.xlsx"}


def fill(data: str, database: dict, folder: str) -> None:
    app = create_app({"SECRET_KEY": "benchmark", **database}, instance_path=folder)
    with app.app_context():
        upgrade()
        if data == "national":
            files = [
                read_duo_file(p.read_bytes(), p.name) for p in (NATIONAL_AUGUST, NATIONAL_PUPILS)
            ]
            apply_comparison(compare(files, Area.whole_country()), kinds=KINDS)
        else:
            load_seed()
        db.engine.dispose()


def export(url: str, repeat: int, database: dict, folder: str) -> tuple[float, int, int, float]:
    """(median seconds, rows, bytes, peak MB) for downloading url `repeat` times. The page
    cache is off: it keeps a finished XLSX, and every download after the first would time it."""
    config = {"SECRET_KEY": "benchmark", "PAGE_CACHE": False, **database}
    app = create_app(config, instance_path=folder)
    client = app.test_client()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    rows = body.count(b"\n") - 1 if not url.endswith("xlsx") else -1
    with app.app_context():
        db.engine.dispose()
    return statistics.median(times), rows, len(body), peak_rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    dialect = "postgresql" if options.database_url else "sqlite"
    print(f"Export of every school, database {dialect}, median of {options.repeat}")
    print(f"{'data':<10} {'format':<15} {'seconds':>8} {'rows':>6} {'kB':>7} {'peak MB':>8}")
    for data in ("regional", "national"):
        with (
            tempfile.TemporaryDirectory() as folder,
            database_config(options.database_url, folder) as database,
        ):
            in_fresh_process(fill, data, database, folder)
            for label, url in FORMATS.items():
                seconds, rows, size, peak = in_fresh_process(
                    export, url, options.repeat, database, folder
                )
                shown = "" if rows < 0 else rows
                kilobytes = size / 1000
                print(
                    f"{data:<10} {label:<15} {seconds:>8.3f} {shown:>6}"
                    f" {kilobytes:>7.0f} {peak:>8.0f}"
                )


if __name__ == "__main__":
    main()
