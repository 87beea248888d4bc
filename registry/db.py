"""The SQLAlchemy base, the db and migrate extensions, and engine settings."""

from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

# Named constraints keep Alembic migrations reproducible across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def listen_once(target, name: str, listener) -> None:
    """Register a SQLAlchemy event listener from a module's init_app: events on the Session
    class hold for the whole process, so a second app must not register it again."""
    if not event.contains(target, name, listener):
        event.listen(target, name, listener)


def init_app(app: Flask) -> None:
    """Bind db and migrations to the app and tune SQLite connections."""
    db.init_app(app)
    # Batch mode lets Alembic alter tables on SQLite, which has almost no ALTER TABLE.
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)


def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL lets readers work during a write; SQLite leaves foreign keys off unless asked."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
