"""The search through changes and restarts (issue #25): what the public sees when data changes.

    .venv/bin/python benchmarks/changes.py [--tenfold] [--duration 20] [--every 5]

A benchmark, not a test; `make bench` runs it after serve.py's table, on the same national
database and at ten times the data. For each: the registry under gunicorn (2 workers, page
cache off) is started cold and timed until its first search is answered; then wrk sends the
varied mix (search_mix.py) steadily, and again while a coordinator saves a school's name
through the admin every few seconds (log in, open the edit form, post it as a browser does);
then each worker's memory (RSS, PSS and peak). The same runs with the design before issue #25
(every change: SQL answers while each worker rebuilds its index in a thread) stand beside,
set by REGISTRY_SEARCH_INDEX_DELTA_LIMIT=0.
"""

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from serve import BIN, GUNICORN, PROJECT, free_port, load_registry, stop, ten_times, wrk
from serve import write_mix as write_mixes
from sqlalchemy import create_engine, text

FLASK = [str(BIN / "flask"), "--app", "wsgi"]
EMAIL, PASSWORD = "coordinator@example.org", "grazing lighthouse marmalade 2203"
DESIGNS = {"now": {}, "before #25": {"REGISTRY_SEARCH_INDEX_DELTA_LIMIT": "0"}}


def coordinator(database_url: str) -> None:
    """A coordinator account for the editor (the benchmark's server asks no second factor)."""
    subprocess.run(
        [*FLASK, "users", "create", "--email", EMAIL, "--role", "coordinator", "--password-stdin"],
        input=PASSWORD,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": database_url, "REGISTRY_SECRET_KEY": "benchmark"},
        check=True,
        capture_output=True,
    )


def server(database_url: str, port: int, extra: dict) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REGISTRY_SECRET_KEY": "benchmark",
        "REGISTRY_PAGE_CACHE": "false",
        "REGISTRY_MFA_ROLES": "[]",
        "REGISTRY_SESSION_COOKIE_SECURE": "false",
        "ACCESS_LOG": "",
        "LOG_LEVEL": "warning",
        **extra,
    }
    return subprocess.Popen(
        [*GUNICORN, "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def get(url: str, timeout: float = 30) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (ours)
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


def cold_start(base: str, started: float, first_search: str) -> dict:
    """Seconds from the server's start until a worker answers, then the first search's time."""
    while get(base + "/healthz", timeout=5)[0] != 200:
        if time.perf_counter() - started > 120:
            raise SystemExit("the registry did not start")
        time.sleep(0.01)
    accepting = time.perf_counter() - started
    status, ms = get(base + first_search)
    assert status == 200, status
    return {"accepting s": accepting, "first search ms": ms}


class Forms(HTMLParser):
    """The fields of the last form on a page, as a browser submits them (no JavaScript)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[list[str]] = []
        self.select: list | None = None
        self.textarea: list | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self.fields = []
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append([a["name"], a.get("value") or ""])
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None]
            self.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            if self.select[1] is None or "selected" in a:
                self.select[1] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.fields.append(self.textarea)

    def handle_data(self, data) -> None:
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


class Editor(threading.Thread):
    """A coordinator saving a school's name through the admin every `every` seconds."""

    def __init__(self, base: str, school_ids: list[int], every: float) -> None:
        super().__init__(daemon=True)
        self.base, self.school_ids, self.every = base, school_ids, every
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.saved, self.failed = 0, 0
        self.stopping = threading.Event()

    def page(self, path: str, data: list | None = None) -> tuple[str, str]:
        """The page's text and the address it ended at (after redirects)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with self.opener.open(self.base + path, body, timeout=30) as response:
            return response.read().decode(), response.geturl()

    def log_in(self) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.page("/inloggen")[0])
        self.page("/inloggen", [("csrf_token", token[1]), ("email", EMAIL), ("password", PASSWORD)])

    def save(self, school_id: int, n: int) -> None:
        path = f"/admin/school/edit/?id={school_id}"
        forms = Forms()
        forms.feed(self.page(path)[0])
        fields = [(k, v or "") for k, v in forms.fields]
        fields = [(k, f"{v.split(' · ')[0]} · {n}" if k == "name" else v) for k, v in fields]
        # Saved, the admin goes back to the list; refused, it shows the form again.
        if "/edit/" in self.page(path, fields)[1]:
            self.failed += 1
        else:
            self.saved += 1

    def run(self) -> None:
        self.log_in()
        n = 0
        while not self.stopping.wait(self.every if n else 0.5):
            n += 1
            try:
                self.save(self.school_ids[n % len(self.school_ids)], n)
            except OSError:
                self.failed += 1


def memory(master: subprocess.Popen) -> list[dict]:
    """Each worker's resident, proportional (shared pages divided) and peak memory, MB."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    found = []
    for pid in children:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
        kb = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+):\s+(\d+) kB", rollup + status, re.M)}
        found.append({k: kb[k] / 1024 for k in ("Rss", "Pss", "VmHWM")})
    return found


def school_ids(database_url: str, count: int = 20) -> list[int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = connection.execute(
            text("SELECT id FROM school WHERE closed_on IS NULL ORDER BY id LIMIT :n"), {"n": count}
        ).scalars()
        found = list(ids)
    engine.dispose()
    return found


def moments(database_url: str, mix: Path, options, design: dict) -> dict:
    """Cold start, steady, with an admin change every few seconds, memory: one design."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    master = server(database_url, port, design)
    try:
        figures = cold_start(base, started, "/scholen?q=meppel&sort=plaats")
        run = {"duration": options.changes_duration, "connections": options.connections}
        figures["steady"] = wrk(base + "/", paths=mix, warmup=8, **run)
        editor = Editor(base, school_ids(database_url), options.every)
        editor.start()
        try:
            figures["changes"] = wrk(base + "/", paths=mix, warmup=3, **run)
        finally:
            editor.stopping.set()
            editor.join(30)
        figures["saved"], figures["failed"] = editor.saved, editor.failed
        figures["memory"] = memory(master)
    finally:
        stop([master])
    return figures


def table(results: dict, options) -> str:
    """One row per data size and design: the moments side by side."""
    lines = [
        "",
        f"Through changes and restarts (issue #25): the varied search page, page cache off,"
        f" wrk -t2 -c{options.connections} -d{options.changes_duration}s; a coordinator saves a"
        f" school's name through the admin every {options.every:g} s during the second run.",
        "",
        "| data, design | steady req/s | p50 / p95 / p99 ms | changing req/s | p50 / p95 / p99 ms"
        " | ÷ steady | saves | first search after start | worker RSS / PSS / peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, f in results.items():
        steady, changing = f["steady"], f["changes"]
        worker = max(f["memory"], key=lambda m: m["Rss"])
        failed = f" ({f['failed']} failed)" if f["failed"] else ""
        lines.append(
            f"| {label} | {steady['rps']:.0f} | {_latency(steady)} | {changing['rps']:.0f}"
            f" | {_latency(changing)} | {changing['rps'] / steady['rps']:.0%}"
            f" | {f['saved']}{failed}"
            f" | {f['first search ms']:.0f} ms ({f['accepting s']:.1f} s to accept)"
            f" | {worker['Rss']:.0f} / {worker['Pss']:.0f} / {worker['VmHWM']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _latency(f: dict) -> str:
    errors = f" ({f['errors']} errors)" if f["errors"] else ""
    return f"{f['p50']:.1f} / {f['p95']:.1f} / {f['p99']:.1f}{errors}"


def measure(sizes: dict[str, str], mix: Path, options) -> str:
    results = {}
    for size, url in sizes.items():
        coordinator(url)
        for design, extra in DESIGNS.items():
            print(f"measuring: through changes, {size}, {design} ...", flush=True)
            try:
                results[f"{size}, {design}"] = moments(url, mix, options, extra)
            except (SystemExit, OSError, subprocess.CalledProcessError) as error:
                print(f"  not measured: {error}", flush=True)  # the other moments still are
            print(table(results, options), flush=True)
    return table(results, options)


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every", type=float, default=5, help="seconds between admin saves")
    parser.add_argument("--changes-duration", type=int, default=20, dest="changes_duration")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--searches", type=int, default=4000)
    parser.add_argument("--tenfold", action="store_true", help="also at ten times the data")
    add_options(parser)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("loading DUO's national files ...", flush=True)
        url = load_registry(folder)
        mix = write_mixes(url, folder, options.searches)["page"]
        sizes = {"national": url}
        if options.tenfold:
            sizes["×10"] = ten_times(folder)
        print(measure(sizes, mix, options))


if __name__ == "__main__":
    sys.exit(main())
