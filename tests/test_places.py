"""Where a school and a searched postcode stand: the admin places a typed address as the DUO
import would, and the search page carries the point it measures distances from."""

import re

import pytest
from helpers import form_fields, with_values
from sqlalchemy import select

from registry import geo
from registry.db import db
from registry.models import Board, LocationPrecision, Municipality, School

ARENDSVLEUGEL = "05SX00"  # placed by hand at its building (7961 AW)
PC6_PLACED = "13UL00"  # at the centre of 7904 LG
UNPLACED = "00JH00"  # a special school, unplaced in the tests that need it (`unplace`)


def unplace(app, code: str) -> None:
    """Since DUO's file 09 every seeded school has an address and a point: take them away,
    as for a school a coordinator adds without a postcode."""
    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode=code))
        school.street = school.house_number = school.postcode = None
        school.latitude = school.longitude = school.location_precision = None
        db.session.commit()


def stored(app, code: str) -> School:
    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode=code))
        db.session.expunge(school)
        return school


def edit(client, app, code: str, **changes):
    school_id = stored(app, code).id
    page = client.get(f"/admin/school/edit/?id={school_id}").get_data(as_text=True)
    return client.post(
        f"/admin/school/edit/?id={school_id}",
        data=with_values(form_fields(page), **changes),
        follow_redirects=True,
    )


def alerts(response) -> str:
    return " ".join(
        re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    )


def test_a_new_pc6_postcode_moves_the_school_to_its_centre(seeded_app, login):
    response = edit(
        login("coordinator"),
        seeded_app,
        PC6_PLACED,
        street="Dijkhuizen",
        house_number="10",
        postcode="7961aw",
        place="RUINERWOLD",
    )
    assert "op het midden van postcode 7961 AW" in alerts(response)
    school = stored(seeded_app, PC6_PLACED)
    centre = geo.pc6_points()["7961AW"]
    assert (school.latitude, school.longitude) == (centre.latitude, centre.longitude)
    assert school.location_precision is LocationPrecision.PC6


def test_a_postcode_outside_the_pc6_table_gives_its_area_centre(seeded_app, login):
    assert "8064AA" not in geo.pc6_points()
    response = edit(login("coordinator"), seeded_app, PC6_PLACED, postcode="8064 AA")
    assert "op het midden van postcodegebied 8064" in alerts(response)
    school = stored(seeded_app, PC6_PLACED)
    centre = geo.pc4_points()["8064"]
    assert (school.latitude, school.longitude) == (centre.latitude, centre.longitude)
    assert school.location_precision is LocationPrecision.PC4


def test_a_postcode_without_a_known_centre_leaves_the_school_unplaced(seeded_app, login):
    response = edit(login("coordinator"), seeded_app, PC6_PLACED, postcode="1099 ZZ")
    assert "Waar postcode 1099 ZZ ligt, weten we niet" in alerts(response)
    school = stored(seeded_app, PC6_PLACED)
    assert (school.latitude, school.longitude, school.location_precision) == (None, None, None)
    public = seeded_app.test_client().get(f"/scholen/{PC6_PLACED}.json").get_json()
    assert public["latitude"] is None


def test_a_point_at_the_building_stays_when_the_house_number_changes(seeded_app, login):
    before = stored(seeded_app, ARENDSVLEUGEL)
    assert before.location_precision is LocationPrecision.BUILDING
    response = edit(login("coordinator"), seeded_app, ARENDSVLEUGEL, house_number="4")
    assert "opgeslagen" in alerts(response) and "midden" not in alerts(response)
    after = stored(seeded_app, ARENDSVLEUGEL)
    assert after.house_number == "4"
    assert (after.latitude, after.longitude) == (before.latitude, before.longitude)
    assert after.location_precision is LocationPrecision.BUILDING


def test_a_point_at_the_building_stays_on_a_new_postcode_with_a_reminder(seeded_app, login):
    before = stored(seeded_app, ARENDSVLEUGEL)
    response = edit(login("coordinator"), seeded_app, ARENDSVLEUGEL, postcode="7941 AB")
    assert "met de hand op het gebouw" in alerts(response)
    after = stored(seeded_app, ARENDSVLEUGEL)
    assert (after.latitude, after.longitude) == (before.latitude, before.longitude)
    assert after.location_precision is LocationPrecision.BUILDING


def test_clearing_a_point_at_the_building_puts_it_back_on_the_postcode(seeded_app, login):
    edit(login("coordinator"), seeded_app, ARENDSVLEUGEL, latitude="", longitude="")
    school = stored(seeded_app, ARENDSVLEUGEL)
    centre = geo.pc6_points()["7961AW"]
    assert (school.latitude, school.longitude) == (centre.latitude, centre.longitude)
    assert school.location_precision is LocationPrecision.PC6


def test_a_new_school_with_a_postcode_is_placed(seeded_app, login):
    client = login("coordinator")
    page = client.get("/admin/school/new/").get_data(as_text=True)
    assert re.search(r'src="/static/js/admin-location\.js\?v=[0-9a-f]{12}"', page)
    with seeded_app.app_context():  # a new school's board, municipality and type are chosen
        board = db.session.scalar(select(Board.id).filter_by(board_number="41196"))
        meppel = db.session.scalar(select(Municipality.id).filter_by(slug="meppel"))
    response = client.post(
        "/admin/school/new/",
        data=with_values(
            form_fields(page),
            vestigingscode="99ZZ00",
            brin="99ZZ",
            name="Nieuwe school",
            street="Kerkstraat",
            house_number="1",
            postcode="7941 AB",
            place="MEPPEL",
            board=str(board),
            municipality=str(meppel),
            school_type="BAO",
        ),
        follow_redirects=True,
    )
    assert "op het midden van postcode 7941 AB" in alerts(response)
    school = stored(seeded_app, "99ZZ00")
    centre = geo.pc6_points()["7941AB"]
    assert (school.latitude, school.longitude) == (centre.latitude, centre.longitude)
    assert school.location_precision is LocationPrecision.PC6


def test_an_unplaced_school_has_no_pin_on_the_admin_map(seeded_app, login):
    unplace(seeded_app, UNPLACED)
    school = stored(seeded_app, UNPLACED)
    assert school.latitude is None
    page = login("coordinator").get(f"/admin/school/edit/?id={school.id}").get_data(as_text=True)
    fields = dict(form_fields(page))
    assert (fields["latitude"], fields["longitude"]) == ("", "")
    # admin-location.js draws a pin only from the fields, and says so when they are empty.
    script = re.search(
        r'<script src="/static/js/admin-location\.js\?v=[0-9a-f]{12}"(.*?)></script>', page, re.S
    )
    assert "nog geen plek op de kaart" in script.group(1)


def test_saving_an_unplaced_school_without_postcode_says_nothing_of_places(seeded_app, login):
    unplace(seeded_app, UNPLACED)
    response = edit(login("coordinator"), seeded_app, UNPLACED, website="https://x.example.nl")
    assert "kaart" not in alerts(response)
    assert stored(seeded_app, UNPLACED).location_precision is None


def origin_of(html: str) -> dict | None:
    """The searched point the page carries for directory.js, as its attributes."""
    match = re.search(r"<p class=\"search-origin\"([^>]*)>(.*?)</p>", html, re.S)
    if match is None:
        return None
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(1)))
    return {
        **attributes,
        "marks the map": "data-map-origin" in match.group(1),
        "text": match.group(2),
    }


@pytest.mark.parametrize(
    ("query", "precision", "point", "label", "text"),
    [
        (
            "postcode=7961AW",
            "pc6",
            geo.pc6_points()["7961AW"],
            "Uw postcode 7961 AW (midden van de postcode)",
            "vanaf het midden van postcode 7961 AW.",
        ),
        (
            "q=7961+aw",
            "pc6",
            geo.pc6_points()["7961AW"],
            "Uw postcode 7961 AW (midden van de postcode)",
            "vanaf het midden van postcode 7961 AW.",
        ),
        (
            "postcode=8064AA",
            "pc4",
            geo.pc4_points()["8064"],
            "Uw postcode 8064 AA (midden van postcodegebied 8064)",
            "vanaf het midden van postcodegebied 8064. Waar postcode 8064 AA precies ligt",
        ),
        (
            "postcode=7941",
            "pc4",
            geo.pc4_points()["7941"],
            "Uw postcodegebied 7941 (midden)",
            "vanaf het midden van postcodegebied 7941.",
        ),
    ],
)
def test_the_search_page_carries_the_searched_point(client, query, precision, point, label, text):
    origin = origin_of(client.get(f"/scholen?{query}").get_data(as_text=True))
    assert origin["marks the map"]
    assert origin["precision"] == precision
    assert (float(origin["lat"]), float(origin["lon"])) == (point.latitude, point.longitude)
    assert origin["label"] == label
    assert text in origin["text"]


@pytest.mark.parametrize("query", ["", "q=meppel", "gemeente=meppel", "postcode=1099ZZ"])
def test_without_a_placed_postcode_the_page_carries_no_point(client, query):
    assert origin_of(client.get(f"/scholen?{query}").get_data(as_text=True)) is None


def test_an_address_correction_taken_over_moves_the_school_to_its_new_postcode(seeded_app, login):
    from helpers import form_fields, with_values
    from sqlalchemy import select

    from registry.db import db
    from registry.models import CorrectionRequest, LocationPrecision, School

    with seeded_app.app_context():
        school = db.session.scalar(
            select(School).where(School.location_precision != LocationPrecision.BUILDING)
        )
        correction = CorrectionRequest(
            school=school,
            field="adres",
            proposed_value="Bleekhof 2, 7961 AW Ruinerwold",
            proposed_street="Bleekhof",
            proposed_house_number="2",
            proposed_postcode="7961 AW",
            proposed_place="Ruinerwold",
        )
        db.session.add(correction)
        db.session.commit()
        school_id, correction_id, before = school.id, correction.id, school.latitude
    client = login("coordinator")
    url = f"/admin/correction/behandelen/?id={correction_id}"
    page = client.get(url).get_data(as_text=True)
    answer = client.post(url, data=with_values(form_fields(page), decision="accept"))
    assert answer.status_code == 302
    with seeded_app.app_context():
        moved = db.session.get(School, school_id)
        assert moved.postcode == "7961 AW" and moved.location_precision is LocationPrecision.PC6
        assert moved.latitude != before
