"""Time directory requests on the seeded regional data (a benchmark, not a test).

    .venv/bin/python benchmarks/search_requests.py [--requests 200] [--database-url URL]

Builds a fresh database (SQLite in a temporary folder, or a throw-away schema in the
PostgreSQL database of --database-url), seeds it, then sends each request through the WSGI
app in-process and prints the median and 95th percentile time per request.
"""

import argparse
import statistics
import tempfile
import time

from common import database_config
from flask_migrate import upgrade

from registry import create_app
from registry.db import db
from registry.seed import load_seed

REQUESTS = {
    "search: text + 2 filters + counts": (
        "/scholen?q=school&gemeente=meppel&gemeente=hoogeveen&type=BAO"
    ),
    "search: everything, page 1": "/scholen",
    "search: near a postcode": "/scholen?postcode=7941AB",
    "search JSON": "/scholen.json?q=kindcentrum&type=BAO",
    "search CSV (all rows)": "/scholen.csv",
    "school page": "/scholen/05SX00",
    "board page": "/besturen/41196",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        database_config(options.database_url, folder) as database,
    ):
        app = create_app({"SECRET_KEY": "benchmark", **database}, instance_path=folder)
        with app.app_context():
            upgrade()
            load_seed()
        client = app.test_client()
        dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"{options.requests} requests each, database {dialect}")
        print(f"{'request':<36} {'median ms':>10} {'p95 ms':>8}")
        for label, url in REQUESTS.items():
            for _ in range(5):
                client.get(url)  # warm-up: templates compiled, caches filled
            times = []
            for _ in range(options.requests):
                start = time.perf_counter()
                response = client.get(url)
                response.get_data()
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{label:<36} {statistics.median(times):>10.1f} {p95:>8.1f}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
