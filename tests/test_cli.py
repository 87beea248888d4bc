import shutil

from sqlalchemy import func, inspect, select

from registry.db import db
from registry.models import School
from registry.seed import SEED_DIR


def test_db_upgrade_creates_the_schema(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {
        "school",
        "board",
        "municipality",
        "network",
        "pupil_count",
        "support_area",
        "school_support",
        "partnership_postcode_area",
        "alembic_version",
    } <= tables


def test_seed_command_loads_once_then_reports_nothing_to_add(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "schools: 117 toegevoegd" in first.output
    assert "boards: 19 toegevoegd" in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "niets toegevoegd" in second.output


def test_seed_if_empty_leaves_a_filled_database_alone(seeded_app):
    with seeded_app.app_context():
        db.session.delete(db.session.scalar(select(School).filter_by(vestigingscode="05SX00")))
        db.session.commit()
    result = seeded_app.test_cli_runner().invoke(args=["seed", "--if-empty"])
    assert "al scholen" in result.output
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(School.id))) == 116


def test_seed_command_reports_a_broken_file_and_fails(app, tmp_path):
    broken = tmp_path / "seed"
    shutil.copytree(SEED_DIR, broken)
    (broken / "schools.csv").write_text(
        (broken / "schools.csv").read_text(encoding="utf-8").replace("05SX00", "05SX0"),
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["seed", "--from", str(broken)])
    assert result.exit_code == 1
    assert "niets gewijzigd" in result.output
    assert "vestigingscode" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(School.id))) == 0
