"""The admin in real Chromium: axe on every kind of page, its language, and its width."""

import json

import pytest
from helpers import serious_axe_violations
from sqlalchemy import select
from test_admin_html import admin_paths, admin_scene, html_pages
from test_admin_menu import report

from registry import PROJECT_ROOT
from registry.db import db
from registry.models import School

pytestmark = pytest.mark.browser


@pytest.fixture
def coordinator_page(seeded_app, admin_page, make_user):
    """A logged-in beheerder, who sees every page."""
    email = make_user("beheerder", email="toegankelijk@example.org")
    with seeded_app.app_context():
        ids = {"school": db.session.scalar(select(School.id).filter_by(vestigingscode="05SX00"))}
    # axe is added as a script the page did not name, which the admin's CSP does not allow.
    return admin_page(email, bypass_csp=True), ids


def test_axe_finds_no_serious_violation_on_the_admin(seeded_app, coordinator_page, login):
    """The pages test_admin_html.py gives the HTML checker, in its working admin (open and
    handled corrections, a round, a DUO comparison waiting, an import applied)."""
    page, _ids = coordinator_page
    client = login("beheerder")
    paths = list(html_pages(client, admin_paths(seeded_app, admin_scene(seeded_app, client))))
    assert len(paths) >= 60
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        if "lang=en" not in path:
            assert page.locator("html").get_attribute("lang") == "nl", path
        if serious := serious_axe_violations(page):
            found[path] = serious
    assert found == {}, json.dumps(found, indent=2)


def test_the_admin_speaks_english_when_chosen(coordinator_page):
    page, _ids = coordinator_page
    page.goto("/admin/school/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_menu_fits_one_line_at_1280_pixels(coordinator_page):
    page, ids = coordinator_page
    page.set_viewport_size({"width": 1280, "height": 800})
    paths = ("/admin/", "/admin/school/", "/admin/school/edit/?id={school}", "/admin/?lang=en")
    for path in paths:
        page.goto(path.format(**ids))
        navbar = page.locator("nav.navbar").bounding_box()
        assert navbar["height"] < 70, path  # one line of links, not two or three
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
    page.goto("/admin/?lang=nl")
    page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "admin-1280.png"))


def test_a_long_form_saves_from_the_top(seeded_app, coordinator_page):
    page, ids = coordinator_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/admin/school/edit/?id={ids['school']}")
    page.locator("#website").fill("https://bovenaan.example.nl")
    top = page.get_by_role("button", name="Wijzigingen opslaan")
    assert top.bounding_box()["y"] < 800  # visible without scrolling
    top.click()
    assert "opgeslagen" in page.locator(".alert").first.inner_text()
    with seeded_app.app_context():
        assert db.session.get(School, ids["school"]).website == "https://bovenaan.example.nl"


def test_open_corrections_are_on_the_first_screen(seeded_app, coordinator_page):
    page, _ids = coordinator_page
    report(seeded_app)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/admin/")
        button = page.get_by_role("link", name="Correcties behandelen")
        assert page.get_by_text("1 open correctie").is_visible()
        box = button.bounding_box()
        assert box["y"] + box["height"] <= height, (width, box)
        button.click()
        assert "flt0_0=open" in page.url
