"""The maps in real Chromium: the searched postcode's marker, and the admin's pin."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.db import db
from registry.models import School

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("query", "precision", "label"),
    [
        ("postcode=7961AW", "pc6", "Uw postcode 7961 AW (midden van de postcode)"),
        ("q=8064aa", "pc4", "Uw postcode 8064 AA (midden van postcodegebied 8064)"),
    ],
)
def test_the_map_marks_the_searched_postcode(page, query, precision, label):
    page.goto(f"/scholen?{query}")
    marker = page.locator(".map .leaflet-marker-icon.map-origin")
    expect(marker).to_have_count(1)
    assert f"map-origin-{precision}" in marker.get_attribute("class")
    expect(page.get_by_role("img", name=label)).to_be_visible()
    expect(page.locator(".map .map-origin-label")).to_have_text(label)
    # Not a school: the schools stay circles, and the page says the same in words.
    assert page.locator(".map path.leaflet-interactive").count() > 0
    expect(page.locator(".search-origin")).to_contain_text("hemelsbreed gemeten vanaf het midden")


def test_without_a_postcode_the_map_has_only_schools(page):
    page.goto("/scholen?gemeente=meppel")
    expect(page.locator(".map path.leaflet-interactive").first).to_be_attached()
    assert page.locator(".map-origin").count() == 0


def test_an_unplaced_school_has_no_pin_until_the_map_is_clicked(seeded_app, admin_page, make_user):
    page = admin_page(make_user("coordinator", email="speld@example.org"))
    with seeded_app.app_context():
        # Since DUO's file 09 every seeded school has a point: take one away.
        school = db.session.scalar(select(School).filter_by(vestigingscode="00JH00"))
        school.latitude = school.longitude = school.location_precision = None
        db.session.commit()
        school_id = school.id
    page.goto(f"/admin/school/edit/?id={school_id}")
    expect(page.locator("#location-map .leaflet-tile-pane")).to_be_attached()
    expect(page.locator("#location-map .leaflet-marker-icon")).to_have_count(0)
    expect(page.locator(".location-unplaced")).to_contain_text("nog geen plek op de kaart")
    page.locator("#location-map").scroll_into_view_if_needed()
    box = page.locator("#location-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#location-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator(".location-unplaced")).to_be_hidden()
    assert page.locator("#location_precision").input_value() == "building"
    assert page.locator("#latitude").input_value() != ""
    # Clearing the fields takes the pin away again.
    page.locator("#latitude").fill("")
    page.locator("#latitude").dispatch_event("change")
    expect(page.locator("#location-map .leaflet-marker-icon")).to_have_count(0)
    expect(page.locator(".location-unplaced")).to_be_visible()


def test_a_placed_school_shows_its_pin(seeded_app, admin_page, make_user):
    page = admin_page(make_user("coordinator", email="geplaatst@example.org"))
    with seeded_app.app_context():
        school_id = db.session.scalar(select(School.id).filter_by(vestigingscode="05SX00"))
    page.goto(f"/admin/school/edit/?id={school_id}")
    expect(page.locator("#location-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator(".location-unplaced")).to_be_hidden()
