"""Configuration: defaults, then instance/config.py, then REGISTRY_* and DATABASE_URL."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

# The checkout: templates, static files and seed_data/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
# Always trusted unless TRUSTED_HOSTS says otherwise: `make run`, the tests' client and server.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def load(app: Flask, test_config: dict | None) -> None:
    """Fill app.config; tests pass their own mapping instead of reading the environment."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + str(Path(app.instance_path) / "registry.sqlite3"),
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_DEFAULT_TIMEZONE="Europe/Amsterdam",
        LANGUAGES=("nl", "en"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure by default; `make run` turns it off for the local http:// development server.
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        # A login ends after this long without a request (the cookie is renewed on each one).
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=60),
        # ...and after this long in any case, however active (OWASP ASVS 5 7.3.2): a working
        # day and a bit, so a forgotten or stolen session never lasts into the next day.
        SESSION_ABSOLUTE_LIFETIME=timedelta(hours=12),
        # Wrong passwords: per client address, and per account from browsers that never logged
        # in to it (auth.AccountGuard); wrong current passwords on /wachtwoord per account;
        # second-factor codes per account; reset mails per address and per account.
        LOGIN_ADDRESS_LIMIT="10 per minute",
        LOGIN_ACCOUNT_LIMIT="5 per 15 minutes",
        PASSWORD_CHANGE_LIMIT="5 per 15 minutes",  # noqa: S106 (a rate, not a password)
        CODE_ACCOUNT_LIMIT="5 per 15 minutes",
        RESET_ADDRESS_LIMIT="5 per hour",
        RESET_MAILS_PER_HOUR=3,
        # The forgotten-password page answers no sooner than this, whether or not the address
        # has an account, so its time tells nothing.
        RESET_ANSWER_SECONDS=0.4,
        RATELIMIT_STORAGE_URI="memory://",
        # Where the public site lives, for links in files the command line writes; its host is
        # one the site answers to (see trusted_hosts).
        PUBLIC_URL="http://127.0.0.1:5000",
        RATELIMIT_HEADERS_ENABLED=True,
        # Renders of an overview as PDF or XLSX per client address (cache hits are not counted).
        OVERVIEW_FILE_LIMIT="20 per minute",
        # Behind a reverse proxy: how many proxies' X-Forwarded-* headers to trust (0 = none).
        PROXY_COUNT=0,
        LOG_LEVEL="INFO",
        # Werkzeug's password hash; scrypt is memory-hard. The test suite, which logs in a few
        # hundred times, sets a cheap one (tests/conftest.py); nothing else should.
        PASSWORD_HASH_METHOD="scrypt",  # noqa: S106 (a method's name, not a password)
        # DUO's national address file is about 2 MB; uploads above this are refused (413).
        DUO_MAX_BYTES=20 * 1024 * 1024,
        MAX_CONTENT_LENGTH=21 * 1024 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("REGISTRY")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)

    # JSON fields in the order the API declares them, not alphabetically.
    app.json.sort_keys = False
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    for name in ("PERMANENT_SESSION_LIFETIME", "SESSION_ABSOLUTE_LIFETIME"):
        if isinstance(app.config[name], int | float):  # from the environment: seconds
            app.config[name] = timedelta(seconds=app.config[name])


def trusted_hosts(config) -> list[str]:
    """The hosts the site answers to: TRUSTED_HOSTS as configured, else PUBLIC_URL's and local.

    Flask answers any other Host (or X-Forwarded-Host behind the proxy) with a 400: links built
    for it would point elsewhere, and a cached page would hand them to the next visitor.
    """
    configured = config.get("TRUSTED_HOSTS")
    if isinstance(configured, str):  # REGISTRY_TRUSTED_HOSTS=a.nl,b.nl rather than a JSON list
        return configured.replace(",", " ").split()
    if configured is not None:
        return list(configured)
    public = urlsplit(config["PUBLIC_URL"]).hostname
    return list(dict.fromkeys(host for host in (public, *LOCAL_HOSTS) if host))


def sqlalchemy_url(url: str) -> str:
    """Point plain postgres:// URLs (as hosting platforms hand them out) at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance: Path) -> str:
    """Read the installation's secret key, creating a random one on first start.

    There is deliberately no built-in fallback: a fixed default would let anyone forge
    sessions on every installation that forgot to configure one.
    """
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
