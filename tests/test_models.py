from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from registry.db import db
from registry.models import (
    Board,
    LocationPrecision,
    Municipality,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from registry.validation import InvalidValue

pytestmark = pytest.mark.usefixtures("ctx")


def make_board(number="41196"):
    return Board(board_number=number, name="Stichting WIES", kvk_number="04060053")


def make_municipality():
    return Municipality(cbs_code="GM1690", name="De Wolden", slug="de-wolden", province="Drenthe")


def make_school(code="05SX00", **fields):
    values = {
        "vestigingscode": code,
        "brin": code[:4],
        "name": "De Arendsvleugel",
        "school_type": SchoolType.BAO,
        "postcode": "7961 AW",
        "municipality": make_municipality(),
        "board": make_board(),
    }
    values.update(fields)
    return School(**values)


def school_count():
    return db.session.scalar(select(func.count(School.id)))


def test_a_valid_school_is_stored_with_timestamps():
    db.session.add(make_school(website="www.dearendsvleugel.nl", phone="0522481344"))
    db.session.commit()
    school = db.session.scalar(select(School))
    assert school.vestigingscode == "05SX00"
    assert school.created_at is not None and school.updated_at is not None
    assert str(school) == "De Arendsvleugel (05SX00)"
    assert str(school.board) == "Stichting WIES (41196)"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vestigingscode", "5SX00"),
        ("brin", "05S"),
        ("postcode", "7961"),
        ("website", "geen"),
        ("email", "info@"),
        ("phone", "123"),
        ("latitude", 100.0),
    ],
)
def test_malformed_values_are_refused_before_reaching_the_database(field, value):
    with pytest.raises(InvalidValue) as caught:
        make_school(**{field: value})
    assert caught.value.field == field
    assert school_count() == 0


def test_board_formats_are_checked():
    with pytest.raises(InvalidValue, match="kvk_number"):
        Board(board_number="41196", name="X", kvk_number="123")
    with pytest.raises(InvalidValue, match="board_number"):
        Board(board_number="4119A", name="X")


def test_a_school_pointing_to_an_unknown_board_is_refused_and_nothing_is_written():
    municipality = make_municipality()
    db.session.add(municipality)
    db.session.commit()
    db.session.add(
        School(
            vestigingscode="05SX00",
            brin="05SX",
            name="X",
            school_type=SchoolType.BAO,
            municipality_id=municipality.id,
            board_id=999_999,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert school_count() == 0


def test_a_duplicate_vestigingscode_is_refused():
    db.session.add(make_school())
    db.session.commit()
    duplicate = make_school(
        municipality=db.session.scalar(select(Municipality)), board=db.session.scalar(select(Board))
    )
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert school_count() == 1


def test_a_duplicate_board_number_is_refused():
    db.session.add_all([make_board(), make_board()])
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_the_database_requires_the_vestigingscode_to_start_with_the_brin():
    db.session.add(make_school(brin="06PS"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_required_fields_are_not_null():
    db.session.add(
        School(
            vestigingscode="05SX00",
            brin="05SX",
            school_type=SchoolType.BAO,
            municipality=make_municipality(),
            board=make_board(),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_location_needs_both_coordinates_and_a_precision():
    db.session.add(make_school(latitude=52.7, longitude=6.2))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(
        make_school(latitude=52.7, longitude=6.2, location_precision=LocationPrecision.PC4)
    )
    db.session.commit()
    assert school_count() == 1


def test_an_unknown_school_type_is_refused():
    db.session.add(make_school(school_type="VO"))
    with pytest.raises(StatementError):
        db.session.commit()


def test_pupil_counts_are_unique_per_date_and_not_negative():
    school = make_school()
    school.pupil_counts.append(PupilCount(reference_date=date(2025, 10, 1), pupils=-1))
    db.session.add(school)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    school = make_school()
    school.pupil_counts += [
        PupilCount(reference_date=date(2025, 10, 1), pupils=98),
        PupilCount(reference_date=date(2025, 10, 1), pupils=99),
    ]
    db.session.add(school)
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_school_offers_each_support_area_once_at_one_level():
    area = SupportArea(code="gedrag", name="Gedrag", name_en="Behaviour")
    school = make_school()
    school.support_offers.append(SchoolSupport(support_area=area, level=SupportLevel.EXTRA))
    db.session.add(school)
    db.session.commit()
    assert str(school.support_offers[0]) == "Gedrag: extra"
    school.support_offers.append(SchoolSupport(support_area=area, level=SupportLevel.BASIS))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_closed_schools_are_not_open_from_their_closing_date():
    today = date.today()
    municipality, board = make_municipality(), make_board()
    db.session.add_all(
        [
            make_school("05SX00", municipality=municipality, board=board),
            make_school("06PS00", municipality=municipality, board=board, closed_on=today),
            make_school(
                "07AB00",
                municipality=municipality,
                board=board,
                closed_on=today + timedelta(days=30),
            ),
        ]
    )
    db.session.commit()
    open_codes = db.session.scalars(select(School.vestigingscode).where(School.is_open)).all()
    assert sorted(open_codes) == ["05SX00", "07AB00"]
    assert not db.session.scalar(select(School).filter_by(vestigingscode="06PS00")).is_open


def test_a_closing_date_before_the_opening_date_is_refused():
    db.session.add(make_school(opened_on=date(2020, 8, 1), closed_on=date(2019, 7, 31)))
    with pytest.raises(IntegrityError):
        db.session.commit()
