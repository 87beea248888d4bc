"""The partnership's own contact and how admission to SBO and SO works: one record coordinators
edit, shown on every special school's page, the home page and /over, a gap where it is empty."""

import html
import re

import pytest
from helpers import csrf_from, form_fields, with_values
from sqlalchemy import func, select

from registry.db import db
from registry.models import Partnership

FIELDS = ("name", "street", "house_number", "postcode", "place", "phone", "email", "website")
# Every page that shows the partnership's block.
PAGES = ("/", "/over", "/scholen/00JH00", "/scholen/06SV09", "/scholen/19SK00", "/scholen/19RN00")
FILLED = {
    "name": "Samenwerkingsverband Voorbeeld",
    "street": "Voorbeeldstraat",
    "house_number": "1",
    "postcode": "7941AB",
    "place": "Meppel",
    "phone": "0522 123456",
    "email": "info@voorbeeld.example",
    "website": "www.voorbeeld.example",
    "admission": "Bel ons eerst.\r\nDe school van uw kind vraagt de verklaring aan.",
}


def block(page: str) -> str:
    found = re.search(r'<section class="partnership".*?</section>', page, re.S)
    assert found, "no partnership block"
    return html.unescape(found.group(0))


def edit(client, **values):
    form = form_fields(client.get("/admin/partnership/edit/?id=1").get_data(as_text=True))
    return client.post("/admin/partnership/edit/?id=1", data=with_values(form, **values))


def test_the_one_record_starts_empty_nothing_invented(seeded_app):
    with seeded_app.app_context():
        [partnership] = db.session.scalars(select(Partnership)).all()
        assert all(getattr(partnership, f) is None for f in (*FIELDS, "admission"))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_that_shows_the_contact_shows_each_empty_field_as_a_gap(client, path):
    shown = block(client.get(path).get_data(as_text=True))
    assert "toelaatbaarheidsverklaring van het samenwerkingsverband nodig" in shown
    assert shown.count("nog niet ingevuld") == 6  # name, address, phone, e-mail, website, how


def test_a_basisschool_page_has_no_partnership_block(client):
    assert 'class="partnership"' not in client.get("/scholen/05SX00").get_data(as_text=True)


def test_the_home_page_links_to_the_special_schools(client):
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="(/scholen\?type=[^"]+)">Alle scholen voor speciaal', page).group(1)
    listing = client.get(html.unescape(link))
    assert listing.status_code == 200  # the canonical spelling: no redirect
    assert re.search(r"\b7 scholen\b", listing.get_data(as_text=True))


def test_a_coordinator_fills_it_in_and_every_page_shows_it_at_once(seeded_app, client, login):
    before = client.get("/scholen/19SK00")  # rendered into the page cache
    assert "nog niet ingevuld" in block(before.get_data(as_text=True))
    coordinator = login("coordinator")
    response = edit(coordinator, **FILLED)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    for path in PAGES:
        shown = block(client.get(path).get_data(as_text=True))
        assert "nog niet ingevuld" not in shown, path
        assert "Samenwerkingsverband Voorbeeld" in shown
        assert "Voorbeeldstraat 1, 7941 AB Meppel" in shown
        assert '<a href="tel:0522123456">0522 12 34 56</a>' in shown
        assert '<a href="mailto:info@voorbeeld.example">' in shown
        assert 'href="http://www.voorbeeld.example"' in shown
        assert "<p>Bel ons eerst.</p><p>De school van uw kind vraagt" in shown
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(Partnership.id))) == 1
        assert db.session.get(Partnership, 1).postcode == "7941 AB"


def test_a_field_emptied_again_is_a_gap_again(client, login):
    coordinator = login("coordinator")
    assert edit(coordinator, **FILLED).status_code == 302
    assert edit(coordinator, phone="", admission="").status_code == 302
    shown = block(client.get("/scholen/19SK00").get_data(as_text=True))
    assert shown.count("nog niet ingevuld") == 2 and "Samenwerkingsverband Voorbeeld" in shown


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "info@", "e-mailadres"),
        ("postcode", "79411 AB", "postcode"),
        ("name", "Samen\x1bwerking", "stuurteken"),
    ],
)
def test_a_wrong_value_is_refused_with_a_dutch_message(seeded_app, login, field, value, message):
    response = edit(login("coordinator"), **{field: value})
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True)).lower()
    with seeded_app.app_context():
        assert getattr(db.session.get(Partnership, 1), field) is None


@pytest.mark.parametrize("role", ["beheerder", "coordinator"])
def test_coordinators_and_beheerders_edit(login, role):
    client = login(role)
    assert client.get("/admin/partnership/").status_code == 200
    assert edit(client, name="Samenwerkingsverband Voorbeeld").status_code == 302


@pytest.mark.parametrize("role", ["bestuur", "medewerker"])
def test_other_roles_read_but_do_not_edit(seeded_app, login, role):
    client = login(role, "41196" if role == "bestuur" else None)
    assert client.get("/admin/partnership/").status_code == 200
    assert client.get("/admin/partnership/details/?id=1").status_code == 200
    assert client.get("/admin/partnership/edit/?id=1").status_code in (302, 403)
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    response = client.post(
        "/admin/partnership/edit/?id=1", data={"csrf_token": token, "name": "Overgenomen"}
    )
    assert response.status_code in (302, 403)
    with seeded_app.app_context():
        assert db.session.get(Partnership, 1).name is None


def test_there_is_one_record_never_a_second_nor_none(seeded_app, login):
    client = login("coordinator")
    assert client.get("/admin/partnership/new/").status_code == 302
    page = client.get("/admin/partnership/").get_data(as_text=True)
    assert "/admin/partnership/new/" not in page and "/admin/partnership/delete/" not in page
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(Partnership.id))) == 1


@pytest.mark.parametrize(
    ("values", "query"),
    [
        ({"name": "x" * 201}, "?id=1"),
        ({"admission": "Bel\x1bons"}, "?id=1"),
        ({"website": "javascript:alert(1)"}, "?id=1"),
        ({"name": "Ander"}, "?id=2"),
        ({"name": "Ander"}, "?id=1&id=2"),
        ({"name": "Ander"}, "?id=1%00"),
    ],
)
def test_hostile_edits_change_nothing_and_never_fail(seeded_app, login, values, query):
    client = login("coordinator")
    form = form_fields(client.get("/admin/partnership/edit/?id=1").get_data(as_text=True))
    response = client.post(f"/admin/partnership/edit/{query}", data=with_values(form, **values))
    assert response.status_code in (200, 302, 400, 404)
    with seeded_app.app_context():
        partnership = db.session.get(Partnership, 1)
        assert all(getattr(partnership, f) is None for f in (*FIELDS, "admission"))
    assert "javascript:" not in client.get("/").get_data(as_text=True)
