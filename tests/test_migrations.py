from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from registry.db import db
from registry.models import Board, PupilCount, School


def test_migrations_build_exactly_the_schema_the_models_describe(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrading_an_existing_database_keeps_its_data(seeded_app):
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.website = "https://www.dearendsvleugel.nl"
        db.session.commit()
        db.session.remove()
        upgrade()
        assert db.session.scalar(select(func.count(School.id))) == 117
        assert db.session.scalar(select(func.count(Board.id))) == 19
        assert db.session.scalar(select(func.count(PupilCount.id))) == 585
        assert db.session.scalar(select(School.website).filter_by(vestigingscode="05SX00")) == (
            "https://www.dearendsvleugel.nl"
        )


def test_every_migration_can_be_undone_and_redone(app):
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, db.metadata) == []


def test_the_search_text_migration_fills_existing_schools(seeded_app):
    with seeded_app.app_context():
        db.session.remove()
        downgrade(revision="f743e8433fb8")
        upgrade()
        texts = dict(db.session.execute(select(School.vestigingscode, School.search_text)).all())
        assert len(texts) == 117
        assert all(text.startswith(" ") and len(text) > 10 for text in texts.values())
        fresh = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        fresh.refresh_search_text(fresh.board, fresh.municipality)
        assert texts["05SX00"] == fresh.search_text
