from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from registry import validation
from registry.db import db
from registry.duo.files import LOCATION_COLUMNS, LOCATION_FIELDS, DuoFileError, read_duo_file
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
from registry.validation import RULES, InvalidValue

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


# A value each rule refuses.
REFUSED = {
    validation.brin: "1XW",
    validation.vestigingscode: "5SX00",
    validation.board_number: "4119",
    validation.kvk_number: "4060053",
    validation.cbs_code: "0118",
    validation.pc4: "0799",
    validation.postcode: "7961",
    validation.url: "geen website",
    validation.email: "info@",
    validation.phone: "bel ons",
    validation.latitude: 91.0,
    validation.longitude: -181.0,
}
# The DUO column each attribute the address file gives is read from.
DUO_COLUMNS = {
    "vestigingscode": "VESTIGINGSCODE",
    "board_number": "BEVOEGD GEZAG NUMMER",
    **{attribute: column for column, (attribute, _rule) in LOCATION_FIELDS.items()},
}
DUO_ROW = {
    "VESTIGINGSCODE": "05SX00",
    "INSTELLINGSCODE": "05SX",
    "VESTIGINGSNAAM": "De Arendsvleugel",
    "STRAATNAAM": "Schoolstraat",
    "HUISNUMMER-TOEVOEGING": "1",
    "POSTCODE": "7961 AW",
    "PLAATSNAAM": "RUINERWOLD",
    "DENOMINATIE": "Protestants-Christelijk",
    "TELEFOONNUMMER": "0522481344",
    "INTERNETADRES": "www.dearendsvleugel.nl",
    "GEMEENTENUMMER": "1690",
    "GEMEENTENAAM": "De Wolden",
    "PROVINCIE": "Drenthe",
    "BEVOEGD GEZAG NUMMER": "41196",
}


def refusal(check, value) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        check(value)
    return caught.value


def duo_refusal(column: str, value) -> str:
    """What the DUO reader says of one bad value in an otherwise good address file."""
    row = {**DUO_ROW, column: value}
    data = ";".join(LOCATION_COLUMNS) + "\r\n" + ";".join(row[c] for c in LOCATION_COLUMNS)
    try:
        duo = read_duo_file(data.encode(), "02.csv")
    except DuoFileError as error:
        return str(error)
    return " ".join(why for _field, _value, why in duo.locations["05SX00"].rejected)


def test_every_rule_has_a_refused_example():
    assert set(RULES.values()) <= REFUSED.keys()


@pytest.mark.parametrize("attribute", RULES)
def test_models_admin_forms_and_the_duo_reader_refuse_by_the_same_rule(app, attribute):
    """One table, three consumers: a value the attribute's rule refuses is refused by every
    model with that attribute, by the admin form of that model and by the DUO reader, with
    the rule's own message."""
    rule = RULES[attribute]
    bad = REFUSED[rule]
    message = str(refusal(rule, bad).message)
    models = [m.class_ for m in db.Model.registry.mappers if attribute in m.column_attrs]
    assert models, f"no model has {attribute}: a stale entry in RULES"
    views = {getattr(v, "model", None): v for v in app.extensions["admin"][0]._views}
    for model in models:
        refused = refusal(lambda value, model=model: setattr(model(), attribute, value), bad)
        assert (refused.field, str(refused.message)) == (attribute, message)
        view = views.get(model)
        if view is not None and attribute in (view.form_columns or ()):
            with app.test_request_context(method="POST", data={attribute: str(bad)}):
                form = view.create_form()
                form.validate()
                assert form[attribute].errors == [message], model
    if attribute in DUO_COLUMNS:
        assert message in duo_refusal(DUO_COLUMNS[attribute], str(bad))
