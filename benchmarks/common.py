"""What the benchmark scripts share: a throw-away database, DUO's national files, peak memory."""

import contextlib
import resource
import sys
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import create_engine, text

from registry.config import sqlalchemy_url

DUO = Path(__file__).resolve().parent.parent / "seed_data" / "duo"
NATIONAL_AUGUST = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_NATIONAL_via-sessyll-bb794a7_2026-08.csv"
)
NATIONAL_APRIL = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_NATIONAL_via-duda-carval-563a9f9_2026-04.csv"
)
NATIONAL_PUPILS = DUO / (
    "duo_06-historisch-overzicht-leerlingen-per-schoolvestiging_1996-2025_NATIONAL"
    "_via-sessyll-bb794a7.csv"
)


@contextlib.contextmanager
def database_config(url: str | None, folder: str):
    """SQLAlchemy settings for an empty database that is removed afterwards."""
    if not url:
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3"}
        return
    url, schema = sqlalchemy_url(url), f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        }
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def in_fresh_process(function, *args):
    """Run function(*args) in a new interpreter, so its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()
