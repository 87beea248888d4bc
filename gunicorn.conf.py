"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_CMD_ARGS, or the variables below).
"""

import os
import threading

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Two cores here; the usual rule is 2 x cores + 1 for I/O-bound apps, lower when memory is tight.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("THREADS", "1"))
# Each worker builds its own app: no database connection can be shared across a fork.
preload_app = False
timeout = 30
# The longest request line gunicorn takes (its default is 4094): a longer one got gunicorn's own
# HTML 400, without the API's error shape or CORS header (found by schemathesis); up to this
# the app answers in its own words. nginx's default buffer (8 kB) is the same.
limit_request_line = 8190
graceful_timeout = 20
# A worker is replaced after this many requests, so a slow leak cannot grow without bound. Not
# too often: a new worker starts with an empty page cache (measured: recycling every 5,000
# requests put 1.3 s pauses into the p95 at 1,000 requests/s).
max_requests = int(os.environ.get("MAX_REQUESTS", "200000"))
max_requests_jitter = 20000
# The benchmark turns the access log off (ACCESS_LOG=""), as its writes would be measured.
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The app itself trusts X-Forwarded-* only with REGISTRY_PROXY_COUNT set (see README).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Build the search index before the worker takes requests, so that its first search is
    answered by it (not by SQL while it is built). Rate limits (logins, codes, reset mails)
    count per worker when kept in memory, so with several workers an attacker gets that many
    times the tries: say so at every start."""
    app = getattr(worker, "wsgi", None)
    if hasattr(app, "extensions") and "search_index" in app.extensions:
        from registry import search

        # Built in a thread while this one tells the arbiter the worker lives: a build longer
        # than `timeout` (ten times the data on a busy machine) would have it killed and
        # restarted, over and over.
        built = []
        thread = threading.Thread(target=lambda: built.append(search.prepare(app)), daemon=True)
        thread.start()
        while thread.is_alive():
            worker.notify()
            thread.join(1)
        if built:
            worker.log.info("search index built in %.2f s, before taking requests", built[0])
    config = getattr(app, "config", {})
    storage = str(config.get("RATELIMIT_STORAGE_URI", "memory://"))
    if worker.cfg.workers > 1 and storage.startswith("memory"):
        worker.log.warning(
            "Rate limits are counted per worker (%d workers): set "
            "REGISTRY_RATELIMIT_STORAGE_URI=redis://host:6379/0 so that they hold for the site.",
            worker.cfg.workers,
        )
