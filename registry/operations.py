"""Running in production: a health check, reverse-proxy headers, an audit log, backups."""

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask import Blueprint, Flask, current_app, request
from flask.cli import with_appcontext
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from .db import db

bp = Blueprint("operations", __name__)

NOT_ASCII = re.compile(r"[^\x00-\x7f]")


class AsciiQueryString:
    """The query string as a browser sends it: every byte past ASCII percent-encoded.

    gunicorn hands the request line's bytes on as they came (PEP 3333: QUERY_STRING holds them
    as latin-1 text), and Werkzeug decodes them as strict UTF-8 wherever request.args or
    request.full_path is read, so a raw 0xE9 was an exception in the first hook that read
    them and again in the error page's choice of language: a 500 on every route. Encoded here,
    such a byte reads as `%E9` does (kept as text), and raw UTF-8 reads as it did.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            environ["QUERY_STRING"] = NOT_ASCII.sub(lambda c: f"%{ord(c[0]):02X}", query)
        return self.wsgi_app(environ, start_response)


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: 200 while the database answers, else 503."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


def _log_refusal(response):
    """Refused access (401/403) is worth knowing about: who tried what."""
    if response.status_code in (401, 403):
        who = current_user.email if current_user and current_user.is_authenticated else "anoniem"
        current_app.logger.warning(
            "access refused: %s %s by %s from %s",
            request.method,
            request.path,
            who,
            request.remote_addr,
        )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_log_refusal)
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Behind nginx or a load balancer, trust this many proxies' X-Forwarded-* headers, so that
    # rate limits, logs and external URLs see the client's address and https. Not a path prefix
    # (X-Forwarded-Prefix): the site is served at the root, and a forwarded prefix would turn
    # every link into one off the site.
    proxies = int(app.config.get("PROXY_COUNT", 0))
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.wsgi_app = AsciiQueryString(app.wsgi_app)
    app.cli.add_command(backup_command)


def backup_sqlite(database: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the app keeps serving.

    The copy holds password hashes, so only its owner may read it: the file is created 0600
    (and refused if it exists) before SQLite writes into it; SQLite gives its journal the
    same mode.
    """
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with (
            closing(sqlite3.connect(database)) as source,
            closing(sqlite3.connect(target)) as destination,
            destination,
        ):
            source.backup(destination)
    except BaseException:
        target.unlink(missing_ok=True)  # a half copy must not pass for a backup
        raise


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Schrijf een consistente kopie van de SQLite-database naar TARGET (PostgreSQL: gebruik
    pg_dump)."""
    if not target.parent.is_dir():
        raise click.ClickException(f"De map {target.parent} bestaat niet.")
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "Deze database is PostgreSQL: maak een back-up met pg_dump, bijvoorbeeld\n"
            f"  pg_dump --format=custom --file={target} "
            f'"{url.set(drivername="postgresql").render_as_string(hide_password=True)}"\n'
            "en zet hem terug met pg_restore --clean --dbname=... (zie README)."
        )
    try:
        backup_sqlite(Path(url.database), target)
    except FileExistsError as error:
        raise click.ClickException(f"{target} bestaat al; kies een nieuwe bestandsnaam.") from error
    except PermissionError as error:
        raise click.ClickException(f"Geen toestemming om {target} te schrijven.") from error
    click.echo(f"Back-up geschreven naar {target}")
