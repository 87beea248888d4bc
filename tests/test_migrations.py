"""Migrations: an empty database upgrades to the schema the models describe, and back."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select

from registry.db import db
from registry.models import Board, PupilCount, School

# The first migration: the oldest database that holds schools.
FIRST_REVISION = "f743e8433fb8"


def schema_differences() -> list:
    """What `flask db migrate` would write into a new migration (nothing, if they agree)."""
    with db.engine.connect() as connection:
        # The options the app gives Alembic (compare_type, ...), so this compares as it does.
        options = current_app.extensions["migrate"].configure_args
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def test_an_empty_database_upgrades_to_exactly_the_schema_the_models_describe(make_app):
    with make_app().app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        assert schema_differences() == []


def test_every_migration_can_be_undone_and_redone(make_app):
    with make_app().app_context():
        upgrade()
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert schema_differences() == []


def test_upgrading_an_existing_database_keeps_its_data(seeded_app):
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.website = "https://www.dearendsvleugel.nl"
        db.session.commit()
        db.session.remove()
        downgrade(revision=FIRST_REVISION)
        upgrade()
        assert db.session.scalar(select(func.count(School.id))) == 117
        assert db.session.scalar(select(func.count(Board.id))) == 19
        assert db.session.scalar(select(func.count(PupilCount.id))) == 585
        assert db.session.scalar(select(School.website).filter_by(vestigingscode="05SX00")) == (
            "https://www.dearendsvleugel.nl"
        )


def test_the_search_text_migration_fills_existing_schools(seeded_app):
    with seeded_app.app_context():
        db.session.remove()
        downgrade(revision=FIRST_REVISION)
        upgrade()
        texts = dict(db.session.execute(select(School.vestigingscode, School.search_text)).all())
        assert len(texts) == 117
        assert all(text.startswith(" ") and len(text) > 10 for text in texts.values())
        fresh = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        fresh.refresh_search_text(fresh.board, fresh.municipality)
        assert texts["05SX00"] == fresh.search_text


def test_phone_numbers_are_brought_into_one_grouped_form(seeded_app):
    from sqlalchemy import text

    from registry.models import Network, Partnership

    with seeded_app.app_context():
        db.session.remove()
        downgrade(revision="0070e47c8f64")
        with db.engine.begin() as connection:
            # As DUO wrote them and as a coordinator once typed them (issue #27).
            for code, phone in (("05SX00", "0522252124"), ("06PS00", "0522 252126")):
                connection.execute(
                    text("UPDATE school SET phone = :phone WHERE vestigingscode = :code"),
                    {"phone": phone, "code": code},
                )
            connection.execute(text("UPDATE board SET phone = '+31 522 481 344'"))
            connection.execute(text("UPDATE network SET contact_phone = '06-12345678'"))
            connection.execute(text("UPDATE partnership SET phone = '+49 30 1234567'"))
        upgrade()
        phones = dict(db.session.execute(select(School.vestigingscode, School.phone)).all())
        assert (phones["05SX00"], phones["06PS00"]) == ("0522 25 21 24", "0522 25 21 26")
        assert set(db.session.scalars(select(Board.phone))) == {"+31 522 48 13 44"}
        assert set(db.session.scalars(select(Network.contact_phone))) == {"06 12 34 56 78"}
        assert db.session.scalar(select(Partnership.phone)) == "+49 30 1234567"  # foreign
