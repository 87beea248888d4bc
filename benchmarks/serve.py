"""`make bench`: the registry at national scale under load, beside Datasette and the ceiling.

    .venv/bin/python benchmarks/serve.py [--duration 10] [--connections 4] [--searches 4000]
                                         [--markdown FILE]

A benchmark, not a test. It loads DUO's national files (6,122 BAO locations from file 02 and
818 special-education locations from file 09) into a fresh SQLite database, builds the same
rows into a Datasette database with full-text search, and serves
side by side: the registry under gunicorn (2 workers, gunicorn.conf.py) with its page cache on
and off, Datasette on the same data, and a minimal Flask route under the same gunicorn
settings (the ceiling). It measures, with wrk at a fixed concurrency after a warm-up: a few
single URLs (what a page cache remembers), then what users send: a varied mix of thousands of
distinct searches drawn from the national data (search_mix.py), each with Datasette's nearest
equivalent. Then it copies every location ten times and runs the mix again, and builds the
search index at both sizes, printing how cost grows. The table gives requests/s, p50/p95/p99
latency, the peak memory (VmHWM) of each worker, and ratios to Datasette and to the ceiling.
Last, changes.py: the search through changes and restarts, now and with the design before.
"""

import argparse
import csv
import functools
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

from common import NATIONAL_AUGUST, NATIONAL_PUPILS
from duo_import import NATIONAL_SPECIAL
from flask_migrate import upgrade
from search_mix import multiply, searches

from registry import create_app
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import KINDS, compare
from registry.duo.files import read_duo_file
from registry.search_index import SchoolIndex

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BIN = Path(sys.executable).parent
# (what, registry URL, Datasette's comparable URL)
SCENARIOS = [
    (
        "search: text + 2 filters + counts",
        "/scholen?q=school&gemeente=amsterdam&type=BAO",
        "/national/schools?_search=school&gemeentenaam=AMSTERDAM&_size=25"
        "&_facet=gemeentenaam&_facet=denominatie&_facet=provincie",
    ),
    ("school page", "/scholen/05SX00", "/national/schools/1"),
    (
        "JSON API list",
        "/api/v1/schools?gemeente=amsterdam",
        "/national/schools.json?gemeentenaam=AMSTERDAM",
    ),
    ("CSV of all rows", "/scholen.csv", "/national/schools.csv?_stream=on&_size=max"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_registry(folder: Path) -> str:
    url = f"sqlite:///{folder}/registry.sqlite3"
    app = create_app({"SECRET_KEY": "benchmark", "SQLALCHEMY_DATABASE_URI": url}, str(folder))
    with app.app_context():
        upgrade()
        paths = (NATIONAL_AUGUST, NATIONAL_SPECIAL, NATIONAL_PUPILS)
        files = [read_duo_file(p.read_bytes(), p.name) for p in paths]
        apply_comparison(compare(files, Area.whole_country()), kinds=KINDS)
        db.engine.dispose()
    return url


def load_datasette(folder: Path) -> Path:
    """DUO's national address files (02, and 09 without VSO alone, as the registry takes it)
    as one table, with full-text search on name and place."""
    path = folder / "national.db"
    with open(NATIONAL_AUGUST, newline="", encoding="cp1252") as handle:
        primary = list(csv.DictReader(handle, delimiter=";"))
    with open(NATIONAL_SPECIAL, newline="", encoding="utf-8") as handle:
        special = [
            row
            for row in csv.DictReader(handle, delimiter=";")
            if row["SOORT PRIMAIR ONDERWIJS"] != "VSO"
        ]
    names = list(special[0])  # file 09 has every column of file 02, and three more
    columns = [c.lower().replace(" ", "_").replace("-", "_") for c in names]
    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE schools ({', '.join(columns)})")
        marks = ", ".join("?" * len(columns))
        connection.executemany(
            f"INSERT INTO schools VALUES ({marks})",
            [[row.get(name, "").strip() for name in names] for row in primary + special],
        )
        for column in ("gemeentenaam", "denominatie", "provincie"):
            connection.execute(f"CREATE INDEX schools_{column} ON schools ({column})")
        connection.execute(
            "CREATE VIRTUAL TABLE schools_fts USING fts5"
            '(vestigingsnaam, plaatsnaam, content="schools")'
        )
        connection.execute("INSERT INTO schools_fts (schools_fts) VALUES ('rebuild')")
    return path


def start(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{command[0]} did not start on port {port}")


def wrk(
    url: str, duration: int, connections: int, paths: Path | None = None, warmup: int = 3
) -> dict:
    """Warm up, then measure: requests/s, p50/p95/p99 in ms, errors. With `paths`, every
    request is the next of those paths (a varied mix) instead of the one URL. The warm-up
    also gives each worker the time to build its search index (SQL answers meanwhile)."""
    base = ["wrk", "-t", "2", "-c", str(connections), "--timeout", "10s"]
    env = {**os.environ, "BENCH_LUA_DIR": str(HERE), "BENCH_PATHS": str(paths or "")}
    script = str(HERE / ("mix.lua" if paths else "latency.lua"))
    subprocess.run(
        [*base, "-d", f"{warmup}s", "-s", script, url], capture_output=True, check=True, env=env
    )
    output = subprocess.run(
        [*base, "-d", f"{duration}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    rps, p50, p95, p99, errors, requests = line.split()[1:]
    return {
        "rps": float(rps),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "errors": int(errors),
        "requests": int(requests),
    }


def peak_mb(master: subprocess.Popen) -> float:
    """The largest peak resident memory among a server's processes (gunicorn: its workers)."""
    pids = [master.pid]
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def registry_app(database_url: str, folder: Path):
    return create_app(
        {"SECRET_KEY": "benchmark", "SQLALCHEMY_DATABASE_URI": database_url}, str(folder)
    )


def write_mix(database_url: str, folder: Path, count: int) -> dict[str, Path]:
    """The varied mix as path files: the search page, the API list, Datasette's page and JSON."""
    app = registry_app(database_url, folder)
    with app.app_context():
        pairs = searches(count)
        db.engine.dispose()
    facets = "&_size=25&_facet=gemeentenaam&_facet=denominatie&_facet=provincie"
    files = {
        "page": [f"/scholen?{ours}" for ours, _theirs in pairs],
        "api": [f"/api/v1/schools?{ours}" for ours, _theirs in pairs],
        "datasette page": [f"/national/schools?{theirs}{facets}" for _ours, theirs in pairs],
        "datasette json": [f"/national/schools.json?{theirs}&_size=25" for _o, theirs in pairs],
    }
    for name, paths in files.items():
        (folder / f"mix-{name.replace(' ', '-')}.txt").write_text("\n".join(paths) + "\n")
    return {name: folder / f"mix-{name.replace(' ', '-')}.txt" for name in files}


def ten_times(folder: Path) -> str:
    """A copy of the national database with every location ten times (new vestigingscodes)."""
    shutil.copy(folder / "registry.sqlite3", folder / "registry10.sqlite3")
    url = f"sqlite:///{folder}/registry10.sqlite3"
    app = registry_app(url, folder)
    with app.app_context():
        multiply(10)
        db.engine.dispose()
    return url


def index_figures(database_url: str, folder: Path) -> dict:
    """Locations, the index's build time and the memory it holds (tracemalloc sees numpy)."""
    app = registry_app(database_url, folder)
    with app.test_request_context():
        start_time = time.perf_counter()
        index = SchoolIndex.build()
        seconds = time.perf_counter() - start_time
        del index
        # Traced apart: tracemalloc slows the build several times over.
        tracemalloc.start()
        index = SchoolIndex.build()
        held = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        db.engine.dispose()
    return {"locations": index.size, "seconds": seconds, "mb": held}


def registry_server(database_url: str, port: int, cache: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REGISTRY_SECRET_KEY": "benchmark",
        "REGISTRY_PAGE_CACHE": "true" if cache else "false",
        "ACCESS_LOG": "",
        "LOG_LEVEL": "warning",
    }
    command = [*GUNICORN, "-b", f"127.0.0.1:{port}", "wsgi:app"]
    return start(command, env, port)


GUNICORN = [str(BIN / "gunicorn"), "-c", str(PROJECT / "gunicorn.conf.py"), "-w", "2"]


def main() -> None:
    import changes  # it uses this module's servers and wrk: imported once this one is whole

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--searches", type=int, default=4000, help="distinct searches in the mix")
    parser.add_argument("--markdown", type=Path, help="Also write the table to this file.")
    changes.add_options(parser)
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (Debian's package)")
    measure = functools.partial(wrk, duration=options.duration, connections=options.connections)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("loading DUO's national files into the registry and into Datasette ...")
        database_url = load_registry(folder)
        national = load_datasette(folder)
        mix = write_mix(database_url, folder, options.searches)
        ports = {name: free_port() for name in ("registry", "uncached", "datasette", "ceiling")}
        env = {**os.environ, "ACCESS_LOG": "", "LOG_LEVEL": "warning"}
        servers = {
            "registry": registry_server(database_url, ports["registry"], cache=True),
            "registry, page cache off": registry_server(
                database_url, ports["uncached"], cache=False
            ),
            "ceiling": start(
                [
                    *GUNICORN,
                    "-b",
                    f"127.0.0.1:{ports['ceiling']}",
                    "--chdir",
                    str(HERE),
                    "minimal_app:app",
                ],
                env,
                ports["ceiling"],
            ),
            "datasette": start(
                [
                    str(BIN / "datasette"),
                    "serve",
                    str(national),
                    "-p",
                    str(ports["datasette"]),
                    "--setting",
                    "facet_time_limit_ms",
                    "1000",
                    "--setting",
                    "sql_time_limit_ms",
                    "5000",
                ],
                env,
                ports["datasette"],
            ),
        }
        registry = f"http://127.0.0.1:{ports['registry']}"
        uncached = f"http://127.0.0.1:{ports['uncached']}"
        datasette = f"http://127.0.0.1:{ports['datasette']}"
        try:
            ceiling = measure(f"http://127.0.0.1:{ports['ceiling']}/")
            rows = []
            for label, ours, theirs in SCENARIOS:
                print(f"measuring: {label} ...")
                rows.append((label, measure(registry + ours), measure(datasette + theirs)))
            varied = [
                ("varied search page, page cache on", registry, "page", "datasette page"),
                ("varied search page, page cache off", uncached, "page", "datasette page"),
                ("varied API list, page cache off", uncached, "api", "datasette json"),
            ]
            for label, base, ours, theirs in varied:
                print(f"measuring: {label} ...")
                rows.append(
                    (
                        label,
                        measure(base + "/", paths=mix[ours], warmup=8),
                        measure(datasette + "/", paths=mix[theirs]),
                    )
                )
            memory = {name: peak_mb(process) for name, process in servers.items()}
        finally:
            stop(servers.values())
        print("copying every location ten times ...")
        tenfold_url = ten_times(folder)
        port = free_port()
        tenfold = {"registry ×10, page cache off": registry_server(tenfold_url, port, False)}
        try:
            base = f"http://127.0.0.1:{port}/"
            print("measuring: ten times the data ...")
            tenfold_rows = [
                (
                    "varied search page, page cache off",
                    measure(base, paths=mix["page"], warmup=15),
                ),
                ("varied API list, page cache off", measure(base, paths=mix["api"], warmup=8)),
            ]
            memory.update({name: peak_mb(process) for name, process in tenfold.items()})
        finally:
            stop(tenfold.values())
        indexes = [index_figures(url, folder) for url in (database_url, tenfold_url)]
        through_changes = changes.measure(
            {"national": database_url, "×10": tenfold_url}, mix["page"], options
        )
    report = table(rows, ceiling, memory, options, indexes[0]["locations"])
    report += tenfold_table(rows, tenfold_rows, ceiling, indexes, options)
    report += through_changes
    print(report)
    if options.markdown:
        options.markdown.parent.mkdir(parents=True, exist_ok=True)
        options.markdown.write_text(report)


def stop(processes) -> None:
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def tenfold_table(rows, tenfold_rows, ceiling, indexes, options) -> str:
    national = {label: mine for label, mine, _theirs in rows}
    lines = [
        "",
        f"Ten times the data ({indexes[1]['locations']:,} locations: every national location"
        f" copied with new vestigingscodes), the same {options.searches:,} searches:",
        "",
        "| page | ×1 req/s | ×10 req/s | ×10 p50 / p95 / p99 ms | ×10 ÷ ceiling |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, mine in tenfold_rows:
        before = national[label]
        lines.append(
            f"| {label} | {before['rps']:.0f} | {mine['rps']:.0f} | {mine['p50']:.1f} /"
            f" {mine['p95']:.1f} / {mine['p99']:.1f} | {mine['rps'] / ceiling['rps']:.1%} |"
        )
    lines += [
        "",
        "The search index per worker: "
        + "; ".join(
            f"{i['locations']:,} locations built in {i['seconds']:.2f} s, holding {i['mb']:.0f} MB"
            for i in indexes
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def table(rows, ceiling, memory, options, locations: int) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"Measured {date.today():%Y-%m-%d} on {machine}; wrk -t2 -c{options.connections}"  # noqa: DTZ011
        f" -d{options.duration}s after a warm-up (3 s; 8 s for the mixes, 15 s at ten times:"
        f" each worker builds its search index); {locations:,} locations.",
        "",
        "| page | registry req/s | p50 / p95 / p99 ms | Datasette req/s | p50 / p95 / p99 ms"
        " | registry ÷ Datasette | registry ÷ ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, mine, theirs in rows:
        errors = f" ({mine['errors']} errors)" if mine["errors"] else ""
        lines.append(
            f"| {label}{errors} | {mine['rps']:.0f} | {mine['p50']:.1f} / {mine['p95']:.1f} /"
            f" {mine['p99']:.1f} | {theirs['rps']:.0f} | {theirs['p50']:.1f} /"
            f" {theirs['p95']:.1f} / {theirs['p99']:.1f} | {mine['rps'] / theirs['rps']:.1f}×"
            f" | {mine['rps'] / ceiling['rps']:.0%} |"
        )
    lines += [
        "",
        f"Ceiling (minimal Flask route, same gunicorn settings): {ceiling['rps']:.0f} req/s,"
        f" p50 / p95 / p99 {ceiling['p50']:.1f} / {ceiling['p95']:.1f} / {ceiling['p99']:.1f} ms.",
        "Peak memory per process (VmHWM, largest worker): "
        + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
