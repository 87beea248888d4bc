"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_CMD_ARGS, or the variables below).
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Two cores here; the usual rule is 2 x cores + 1 for I/O-bound apps, lower when memory is tight.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("THREADS", "1"))
# Each worker builds its own app: no database connection can be shared across a fork.
preload_app = False
timeout = 30
graceful_timeout = 20
# A worker is replaced after this many requests: a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The benchmark turns the access log off (ACCESS_LOG=""), as its writes would be measured.
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The app itself trusts X-Forwarded-* only with REGISTRY_PROXY_COUNT set (see README).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
