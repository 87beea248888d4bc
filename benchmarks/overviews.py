"""Rendering the overviews as PDF and HTML: time and peak memory, regional and national.

    .venv/bin/python benchmarks/overviews.py [--database-url URL] [--repeat 3] [--profile URL]
        [--data regional|national] [--beside DIR]

A benchmark, not a test. The database is filled once (the seed, or DUO's national address
and pupil files: 6,122 locations); each overview then runs in a fresh process through its
public URL with the page cache off, so every request renders and the peak memory (resident
set size) is that overview's own, interpreter and app included. The time is the median of
--repeat requests after one warm-up (fonts and templates loaded), with the processor time
the process spent on it (on a loaded machine the wall time grows, the processor time hardly
does). --profile URL prints
cProfile's top functions for one render of that URL on the national data instead.

This machine's speed drifts by up to two times from hour to hour, so two runs an hour apart
compare badly. --beside DIR renders each URL with this checkout and with the one in DIR (say
`git worktree add /tmp/old <commit>`, its catalogues compiled, the same migrations) at the same
moment, one process on each core, on the same database, and prints both with their ratio.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import database_config, in_fresh_process, peak_rss_mb
from exports import fill
from pypdf import PdfReader

from registry import create_app
from registry.db import db

URLS = (
    "/overzichten/bestuur.pdf",
    "/overzichten/gemeente.pdf",
    "/overzichten/netwerk.pdf",
    "/overzichten/bestuur",
)
SETTINGS = {"SECRET_KEY": "benchmark", "PAGE_CACHE": False, "RATELIMIT_ENABLED": False}


def render(url: str, repeat: int, database: dict, folder: str) -> tuple:
    """(median seconds, median CPU seconds, pages, bytes, peak MB) for rendering url `repeat`
    times."""
    app = create_app({**SETTINGS, **database}, instance_path=folder)
    client = app.test_client()
    client.get(url)
    times, processor = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        body = response.get_data()
        times.append(time.perf_counter() - start)
        processor.append(time.process_time() - cpu)
        assert response.status_code == 200, (url, response.status_code)
    pages = len(PdfReader(io.BytesIO(body)).pages) if url.endswith(".pdf") else 0
    with app.app_context():
        db.engine.dispose()
    return statistics.median(times), statistics.median(processor), pages, len(body), peak_rss_mb()


def profile(url: str, database: dict, folder: str) -> None:
    app = create_app({**SETTINGS, **database}, instance_path=folder)
    client = app.test_client()
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    assert client.get(url).status_code == 200
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def beside(other: Path, url: str, repeat: int, database: dict, folder: str) -> list[dict]:
    """render() of url by this checkout and by the one in `other`, at the same moment."""
    here = Path(__file__).resolve().parent.parent
    runs = [
        subprocess.Popen(
            [sys.executable, __file__, "--render", url, "--repeat", str(repeat)],
            env={**os.environ, "PYTHONPATH": str(root), "BENCH_DATABASE": json.dumps(database)},
            cwd=folder,
            stdout=subprocess.PIPE,
            text=True,
        )
        for root in (here, other)
    ]
    return [json.loads(run.communicate()[0].splitlines()[-1]) for run in runs]


def render_one(url: str, repeat: int) -> None:
    """--render: one checkout's render() for --beside, as a line of JSON."""
    seconds, cpu, pages, _size, peak = render(
        url, repeat, json.loads(os.environ["BENCH_DATABASE"]), os.getcwd()
    )
    print(json.dumps({"seconds": seconds, "cpu": cpu, "pages": pages, "peak": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", choices=("regional", "national"), action="append")
    parser.add_argument("--profile", metavar="URL")
    parser.add_argument("--beside", metavar="DIR", type=Path)
    parser.add_argument("--render", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.render:
        render_one(options.render, options.repeat)
        return
    dialect = "postgresql" if options.database_url else "sqlite"
    datasets = options.data or (["national"] if options.profile else ["regional", "national"])
    if not options.profile:
        print(f"Overviews without page cache, database {dialect}, median of {options.repeat}")
        print(
            f"{'data':<10} {'url':<26} {'seconds':>8} {'CPU s':>7} {'pages':>6} {'kB':>7}"
            f" {'peak MB':>8}"
        )
    for data in datasets:
        with (
            tempfile.TemporaryDirectory() as folder,
            database_config(options.database_url, folder) as database,
        ):
            in_fresh_process(fill, data, database, folder)
            if options.profile:
                in_fresh_process(profile, options.profile, database, folder)
                continue
            for url in URLS:
                if options.beside:
                    ours, theirs = beside(options.beside, url, options.repeat, database, folder)
                    ratio = ours["cpu"] / theirs["cpu"]
                    print(
                        f"{data:<10} {url:<26} CPU s here {ours['cpu']:.3f}, in"
                        f" {options.beside} {theirs['cpu']:.3f}: {ratio:.2f}×;"
                        f" pages {ours['pages']} / {theirs['pages']}",
                        flush=True,
                    )
                    continue
                seconds, cpu, pages, size, peak = in_fresh_process(
                    render, url, options.repeat, database, folder
                )
                print(
                    f"{data:<10} {url:<26} {seconds:>8.3f} {cpu:>7.3f} {pages or '':>6}"
                    f" {size / 1000:>7.0f} {peak:>8.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
