"""`flask summary` counts what the site's lists count, on every reference date."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import Municipality, School
from registry.search import reference_dates

# The summary's sections and the site's lists that give the same figures.
LISTS = {"Per gemeente": "gemeenten", "Per bestuur": "besturen", "Per netwerk": "netwerken"}


def printed(output: str) -> dict[str, list[tuple[str, int, int | None]]]:
    """The summary's sections: each row's label, schools and pupils (None where not shown)."""
    sections, rows = {}, None
    for line in output.splitlines():
        if line and not line.startswith(" "):
            rows = sections.setdefault(line, [])
        elif line.strip() and rows is not None:
            numbers = []
            words = line.split()
            while words and words[-1].isdigit() and len(numbers) < 2:
                numbers.insert(0, int(words.pop()))
            label = " ".join(words)
            rows.append((label, numbers[0], numbers[1] if len(numbers) == 2 else None))
    return sections


def listed(client, listing: str, reference: date) -> list[tuple[str, int, int]]:
    """The site's list of groups as its CSV download gives it: label, schools, pupils."""
    response = client.get(f"/{listing}.csv?peildatum={reference.isoformat()}")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    key = {"gemeenten": "cbs_code", "besturen": "board_number", "netwerken": "slug"}[listing]
    return [(row["name"] or row[key], int(row["schools"]), int(row["pupils"])) for row in rows]


def test_summary_prints_counts_per_municipality_board_type_and_network(seeded_app):
    result = seeded_app.test_cli_runner().invoke(args=["summary"])
    assert result.exit_code == 0, result.output
    sections = printed(result.output)
    totals = {label: schools for label, schools, _ in sections["Totaal"]}
    assert totals["scholen"] == 117
    assert totals["besturen"] == 19
    assert totals["gemeenten"] == 7
    assert totals["netwerken"] == 3
    schools = {label: n for label, n, _ in sections["Per gemeente"]}
    assert schools["Hoogeveen"] == 35
    assert schools["Staphorst"] == 7
    assert dict((label, n) for label, n, _ in sections["Per bestuur"])["Stichting WIES"] == 14
    assert dict((label, n) for label, n, _ in sections["Per type"]) == {
        "BAO": 110,
        "SBO": 4,
        "SO": 1,
        "SO+VSO": 2,
    }
    assert dict((label, n) for label, n, _ in sections["Per netwerk"])["Steenwijk"] == 31


@pytest.mark.parametrize("closed", [False, True], ids=["all open", "a Meppel school closed"])
def test_summary_and_the_site_give_the_same_totals_on_every_reference_date(seeded_app, closed):
    with seeded_app.app_context():
        dates = reference_dates()
        if closed:
            meppel = select(School).join(School.municipality).where(Municipality.name == "Meppel")
            school = db.session.scalars(meppel.order_by(School.vestigingscode)).first()
            school.closed_on = date.today() - timedelta(days=1)
            db.session.commit()
    assert len(dates) >= 2
    client, runner = seeded_app.test_client(), seeded_app.test_cli_runner()
    for reference in dates:
        result = runner.invoke(args=["summary", "--peildatum", reference.isoformat()])
        assert result.exit_code == 0, result.output
        sections = printed(result.output)
        for section, listing in LISTS.items():
            site = listed(client, listing, reference)
            assert sections[section] == site, (reference, section)
        meppel = dict((label, n) for label, n, _ in sections["Per gemeente"])["Meppel"]
        assert meppel == (16 if closed else 17)
        totals = {label: (schools, pupils) for label, schools, pupils in sections["Totaal"]}
        in_lists = sum(schools for _, schools, _ in sections["Per gemeente"])
        assert totals["scholen"][0] == in_lists
        assert totals["scholen"][1] == sum(pupils for *_, pupils in sections["Per type"])
        assert totals["opgeheven scholen"][0] == (1 if closed else 0)


def test_summary_refuses_a_date_without_counts_in_dutch(seeded_app):
    result = seeded_app.test_cli_runner().invoke(args=["summary", "--peildatum", "2001-10-01"])
    assert result.exit_code == 2
    assert "zijn geen leerlingen geteld" in result.output
    result = seeded_app.test_cli_runner().invoke(args=["summary", "--peildatum", "gisteren"])
    assert result.exit_code == 2
    assert "JJJJ-MM-DD" in result.output
