"""What the forgiving search costs at national scale (a benchmark, not a test).

    .venv/bin/python benchmarks/forgiving_search.py [--searches 300] [--database-url URL]

Loads DUO's national files (6,122 locations) into a fresh database, then sends distinct
searches through the app in-process with the page cache off: words drawn from the schools'
own names and places with one letter dropped (a typo the search must forgive), each beside the
word it is corrected to (the same schools, found exactly), plus abbreviations and type words.
Prints the median and 95th percentile per request of each kind, the extra time a typo costs,
the time spent reading the text alone (spelling.read), and the time to build the vocabulary
after a change of the data.
"""

import argparse
import random
import statistics
import tempfile
import time

from common import NATIONAL_AUGUST, NATIONAL_PUPILS, database_config
from flask_migrate import upgrade
from sqlalchemy import select

from registry import create_app, spelling
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import KINDS, compare
from registry.duo.files import read_duo_file
from registry.models import School


def drawn_words(count: int, rng: random.Random) -> list[str]:
    """Distinct words of 6+ letters from the open schools' names and places."""
    texts = db.session.scalars(select(School.name).where(School.is_open)).all()
    texts += db.session.scalars(select(School.place).distinct()).all()
    words = sorted({w for t in texts for w in spelling.fold(t).split() if len(w) >= 6})
    return rng.sample(words, min(count, len(words)))


def with_typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word))
    return word[:at] + word[at + 1 :]


def timed(client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def line(label: str, times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return f"| {label} | {len(times)} | {statistics.median(times):.1f} | {p95:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    rng = random.Random(22_03)  # noqa: S311 (a repeatable draw, not a secret)
    with (
        tempfile.TemporaryDirectory() as folder,
        database_config(options.database_url, folder) as database,
    ):
        config = {"SECRET_KEY": "benchmark", "PAGE_CACHE": False, **database}
        app = create_app(config, instance_path=folder)
        with app.app_context():
            upgrade()
            files = [
                read_duo_file(p.read_bytes(), p.name) for p in (NATIONAL_AUGUST, NATIONAL_PUPILS)
            ]
            apply_comparison(compare(files, Area.whole_country()), kinds=KINDS)
            locations = db.session.scalar(select(db.func.count(School.id)))
            words = drawn_words(options.searches, rng)
            typos = [with_typo(w, rng) for w in words]
            with app.test_request_context():
                start = time.perf_counter()
                vocabulary = spelling.Vocabulary.build(
                    db.session.scalars(select(School.search_text).where(School.is_open))
                )
                build_ms = (time.perf_counter() - start) * 1000
                start = time.perf_counter()
                readings = [spelling.read(typo, vocabulary) for typo in typos]
                read_ms = (time.perf_counter() - start) * 1000 / len(typos)
            # A typo against the word it is corrected to: the same schools, so the difference
            # is what forgiving costs. Typos that are the start of another word need no help.
            pairs = [
                (typo, reading.corrected_text)
                for typo, reading in zip(typos, readings, strict=True)
                if reading.corrected_text
            ]
        client = app.test_client()
        client.get("/scholen.json?q=warm")  # the vocabulary and spellings, once per data version
        dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        # Interleaved, so that both kinds meet the same load on the machine.
        both = timed(
            client,
            [f"/scholen.json?q={q}" for typo, corrected in pairs for q in (corrected, typo)],
        )
        exact, forgiven = both[0::2], both[1::2]
        shorthand = timed(
            client,
            [
                f"/scholen.json?q={q}"
                for q in ("sint+jozef", "cbs+de+wegwijzer", "obs+de+regenboog", "rk+bs", "sbo") * 20
            ],
        )
        print(f"{locations:,} locations, database {dialect}, page cache off, /scholen.json\n")
        print("| searches | n | median ms | p95 ms |\n|---|---:|---:|---:|")
        print(line("the corrected word, as written (exact)", exact))
        print(line("the word with one letter dropped (forgiven)", forgiven))
        print(line("abbreviations and type words", shorthand))
        extra = statistics.median(forgiven) - statistics.median(exact)
        print(f"\nextra per forgiven request (median): {extra:.1f} ms")
        print(f"reading a text with a typo (spelling.read alone): {read_ms:.2f} ms")
        print(f"building the vocabulary ({len(vocabulary.words):,} words): {build_ms:.0f} ms")
        found = sum(1 for t in typos if client.get(f"/scholen.json?q={t}").json["total"])
        print(f"typos corrected: {len(pairs)} of {len(typos)} (the rest start another word)")
        print(f"typos that still found schools: {found} of {len(typos)}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
