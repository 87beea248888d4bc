import shutil
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import (
    Board,
    LocationPrecision,
    Municipality,
    Network,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
)
from registry.seed import SEED_DIR, SeedError, load_seed

pytestmark = pytest.mark.usefixtures("ctx")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def counts():
    return {
        model.__name__: count(model)
        for model in (Municipality, Network, Board, School, PupilCount, SupportArea, SchoolSupport)
    }


def school(code):
    return db.session.scalar(select(School).filter_by(vestigingscode=code))


def test_seed_loads_the_region():
    load_seed()
    assert counts() == {
        "Municipality": 7,
        "Network": 3,
        "Board": 19,
        "School": 117,
        "PupilCount": 117 * 5,
        "SupportArea": 6,
        # No source says which school offers what: coordinators fill it in.
        "SchoolSupport": 0,
    }
    types = Counter(db.session.scalars(select(School.school_type)))
    assert types == {SchoolType.BAO: 110, SchoolType.SBO: 4, SchoolType.SO: 1, SchoolType.SO_VSO: 2}


def test_seed_matches_the_duo_record_of_de_arendsvleugel():
    load_seed()
    arendsvleugel = school("05SX00")
    assert arendsvleugel.name == "Protestants Christelijke Basisschool De Arendsvleugel"
    assert arendsvleugel.brin == "05SX"
    assert arendsvleugel.place == "RUINERWOLD"
    assert (arendsvleugel.street, arendsvleugel.house_number, arendsvleugel.postcode) == (
        "Bleekhof",
        "2",
        "7961 AW",
    )
    assert arendsvleugel.board.board_number == "41196"
    assert arendsvleugel.board.name == "Stichting WIES"
    assert arendsvleugel.board.kvk_number == "04060053"
    assert arendsvleugel.municipality.cbs_code == "GM1690"
    assert arendsvleugel.denomination == "Protestants-Christelijk"
    assert arendsvleugel.website == "www.dearendsvleugel.nl"
    assert [(c.reference_date.year, c.pupils) for c in arendsvleugel.pupil_counts] == [
        (2021, 82),
        (2022, 84),
        (2023, 84),
        (2024, 92),
        (2025, 98),
    ]
    assert arendsvleugel.pupil_counts[-1].reference_date == date(2025, 10, 1)
    assert arendsvleugel.location_precision is LocationPrecision.BUILDING
    assert arendsvleugel.latitude == pytest.approx(52.7206, abs=1e-4)


def test_pupil_totals_match_duo_for_every_year():
    load_seed()
    totals = dict(
        db.session.execute(
            select(PupilCount.reference_date, func.sum(PupilCount.pupils))
            .join(PupilCount.school)
            .where(School.school_type == SchoolType.BAO)
            .group_by(PupilCount.reference_date)
        ).all()
    )
    assert {d.year: n for d, n in totals.items()} == {
        2021: 15849,
        2022: 15687,
        2023: 15585,
        2024: 15488,
        2025: 15525,
    }


def test_locations_are_recorded_with_their_precision_and_missing_ones_stay_empty():
    load_seed()
    precision = Counter(db.session.scalars(select(School.location_precision)))
    assert precision == {
        LocationPrecision.BUILDING: 69,
        LocationPrecision.PC6: 8,
        LocationPrecision.PC4: 40,
    }
    # The special schools' address, phone and website come from DUO's file 09, and their
    # point from their postcode, as the import places any school.
    special = school("19SK00")
    assert special.school_type is SchoolType.SO_VSO
    assert (special.street, special.house_number, special.postcode) == (
        "Colijnstraat",
        "4",
        "7942 BH",
    )
    assert special.latitude is not None and special.location_precision is LocationPrecision.PC6


def test_partly_included_municipalities_list_their_postcode_areas():
    load_seed()
    by_name = {m.name: m for m in db.session.scalars(select(Municipality))}
    assert [a.pc4 for a in by_name["Staphorst"].postcode_areas] == ["7951", "7955"]
    assert [a.pc4 for a in by_name["Zwartewaterland"].postcode_areas] == ["8064"]
    assert by_name["Meppel"].wholly_in_partnership
    for municipality in (by_name["Staphorst"], by_name["Zwartewaterland"]):
        allowed = {a.pc4 for a in municipality.postcode_areas}
        assert {s.postcode[:4] for s in municipality.schools if s.postcode} <= allowed


def test_networks_are_seeded_unconfirmed_and_cover_every_school():
    load_seed()
    networks = {n.slug: n for n in db.session.scalars(select(Network))}
    assert set(networks) == {"hoogeveen", "meppel", "steenwijk"}
    assert not any(n.confirmed for n in networks.values())
    assert {n: len(networks[n].schools) for n in networks} == {
        "hoogeveen": 49,
        "meppel": 37,
        "steenwijk": 31,
    }


def test_seeding_twice_changes_nothing():
    assert load_seed()["schools"] == 117
    before = counts()
    assert load_seed() == {}
    assert counts() == before


def test_seeding_again_keeps_a_coordinators_edit():
    load_seed()
    school("05SX00").website = "https://www.dearendsvleugel.nl/ondersteuning"
    db.session.commit()
    load_seed()
    assert school("05SX00").website == "https://www.dearendsvleugel.nl/ondersteuning"


def test_a_broken_seed_file_writes_nothing(tmp_path):
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    schools_csv = seed_dir / "schools.csv"
    # De Arendsvleugel is the first school in the file: a broken postcode there must still
    # leave the boards and municipalities loaded before it unwritten.
    schools_csv.write_text(
        schools_csv.read_text(encoding="utf-8").replace("7961 AW", "7961 A"), encoding="utf-8"
    )
    with pytest.raises(SeedError, match=r"^schools\.csv:2: postcode: Een postcode is"):
        load_seed(seed_dir)
    assert set(counts().values()) == {0}


def test_a_school_with_an_unknown_board_in_the_seed_writes_nothing(tmp_path):
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    schools_csv = seed_dir / "schools.csv"
    schools_csv.write_text(
        schools_csv.read_text(encoding="utf-8").replace(",41196,", ",99999,"), encoding="utf-8"
    )
    with pytest.raises(SeedError, match="99999"):
        load_seed(seed_dir)
    assert set(counts().values()) == {0}


def test_a_duplicate_code_in_a_seed_file_writes_nothing(tmp_path):
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    boards_csv = seed_dir / "boards.csv"
    lines = boards_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    boards_csv.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    with pytest.raises(SeedError, match=r"boards\.csv:21: board_number 41196 staat dubbel"):
        load_seed(seed_dir)
    assert set(counts().values()) == {0}
