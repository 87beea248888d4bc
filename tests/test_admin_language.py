"""The admin in plain Dutch: Flask-Admin's wording, enumerations, field names and moments."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from registry.db import db
from registry.history import Change, readable_text, when
from registry.models import CorrectionRequest, CorrectionStatus, LocationPrecision, School

MACHINE_DUTCH = [
    "artikelen",
    "Weergave Record",
    "Een Record Bewerken",
    "met succes",
    "Nieuwe Record Maken",
    "Toepassing",
    "Met geselecteerd",
    ">OPEN<",
    ">ACCEPTED<",
    ">building<",
    "T08:",
    "+00:00",
]


@pytest.fixture
def admin(seeded_app, login):
    """A beheerder, a handled correction and a located school: every kind of value to show."""
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        school.phone = "0522 654321"
        school.location_precision = LocationPrecision.PC6  # was building
        handled = CorrectionRequest(school=school, field="telefoon", proposed_value="0522 123456")
        db.session.add(handled)
        db.session.add(CorrectionRequest(school=school, field="email", proposed_value="x@y.nl"))
        db.session.commit()
        handled.status = CorrectionStatus.REJECTED
        handled.reason = "Klopt al"
        handled.handled_at = datetime(2026, 11, 30, 8, 12, tzinfo=UTC)
        db.session.commit()
    return login("beheerder")


PAGES = [
    "/admin/",
    "/admin/school/",
    "/admin/school/details/?id=1",
    "/admin/school/edit/?id=1",
    "/admin/school/geschiedenis/?id=1",
    "/admin/board/",
    "/admin/correction/",
    "/admin/correction/details/?id=1",
    "/admin/change/",
    "/admin/user/",
    "/admin/duo/",
]


@pytest.mark.parametrize("path", PAGES)
def test_no_machine_dutch_and_the_page_says_its_language(admin, path):
    html = admin.get(path).get_data(as_text=True)
    assert '<html lang="nl">' in html
    found = [words for words in MACHINE_DUTCH if words in html]
    assert found == [], path


def test_english_when_chosen(admin):
    html = admin.get("/admin/school/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html


def test_flask_admins_own_words_read_as_a_person_wrote_them(admin):
    listing = admin.get("/admin/school/").get_data(as_text=True)
    assert "50 per pagina" in listing and "Filter toevoegen" in listing
    assert "Met de gekozen regels" in listing
    row_box = r'name="rowid" class="action-checkbox" value="\d+" aria-label="[^"]+ kiezen"'
    assert re.search(row_box, listing)
    details = admin.get("/admin/school/details/?id=1").get_data(as_text=True)
    assert ">Gegevens<" in details and ">Bewerken<" in details


def test_enumerations_are_named_in_lists_filters_details_and_forms(admin):
    corrections = admin.get("/admin/correction/").get_data(as_text=True)
    assert "Afgewezen" in corrections and ">Open<" in corrections
    assert '"Afgewezen"' in corrections  # the status filter's choices
    details = admin.get("/admin/school/details/?id=1").get_data(as_text=True)
    assert "postcode (bij benadering)" in details
    form = admin.get("/admin/school/edit/?id=1").get_data(as_text=True)
    assert '<option selected value="pc6">postcode (bij benadering)</option>' in form
    assert '<option value="building">gebouw (precies)</option>' in form
    accounts = admin.get("/admin/user/").get_data(as_text=True)
    assert "Beheerder" in accounts and ">beheerder<" not in accounts


def test_the_history_names_fields_and_moments_as_people_do(seeded_app, admin):
    history = admin.get("/admin/school/geschiedenis/?id=1").get_data(as_text=True)
    assert "<td>telefoon</td>" in history and "<td>phone</td>" not in history
    assert re.search(r"<td>leerlingen 1 okt \d{4}</td>", history)  # DUO's counting day
    assert "<td>precisie locatie</td>" in history
    assert "<td>gebouw (precies)</td>" in history
    assert "<td>postcode (bij benadering)</td>" in history
    with seeded_app.app_context():
        moment = db.session.scalar(select(Change.changed_at).order_by(Change.id.desc()).limit(1))
    assert re.search(r"<td>\d{1,2} [a-z]{3} \d{4} \d\d:\d\d</td>", history)
    log = admin.get("/admin/change/?search=Arendsvleugel").get_data(as_text=True)
    assert "telefoon" in log and ">phone<" not in log
    assert str(moment.year) in log
    correction_history = admin.get("/admin/correction/geschiedenis/?id=1").get_data(as_text=True)
    assert "30 nov 2026 09:12" in correction_history  # 08:12 UTC is 09:12 in Amsterdam
    assert "Afgewezen" in correction_history


def test_moments_read_in_the_partnerships_time_zone(seeded_app):
    with seeded_app.test_request_context():
        assert when(datetime(2026, 11, 30, 8, 12, tzinfo=UTC)) == "30 nov 2026 09:12"
        assert when(datetime(2026, 7, 1, 8, 12)) == "1 jul 2026 10:12"  # naive is UTC; summer
        assert readable_text("2026-11-30T08:57:42.976023+00:00") == "30 nov 2026 09:57"
        assert readable_text("2025-08-01") == "1 aug 2025"
        assert readable_text("2025-13-45") == "2025-13-45"
        assert readable_text("0522 123456") == "0522 123456"
    with seeded_app.test_request_context("/?lang=en"):
        assert when(datetime(2026, 11, 30, 8, 12, tzinfo=UTC)) == "30 Nov 2026 09:12"


def test_the_school_form_saves_from_the_top_and_posts_to_its_own_address(admin):
    form = admin.get("/admin/school/edit/?id=1").get_data(as_text=True)
    assert 'action=""' not in form
    assert form.index("Wijzigingen opslaan") < form.index('id="name"')
    assert 'action="/admin/school/edit/?id=1"' in form
    assert "<legend" not in re.sub(r"<fieldset.*?</fieldset>", "", form, flags=re.S)
    assert '<legend class="col-form-label">Ondersteuning</legend>' in form
    assert 'id="support_offers-button"' in form  # the inline list itself, not its escaped text
    assert 'for="support_offers"' not in form  # no label pointing at a list of records
    new = admin.get("/admin/network/new/").get_data(as_text=True)
    assert 'action=""' not in new and 'action="/admin/network/new/' in new
