"""The coordinators' journeys in real Chromium."""

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import pyotp
import pytest
from helpers import PASSWORD, TOTP_SECRET
from playwright.sync_api import expect
from sqlalchemy import select

from registry.db import db
from registry.models import School

pytestmark = pytest.mark.browser


def log_in(page, email, password=PASSWORD, secret=TOTP_SECRET, ahead=False):
    """Log in as a person would; where the account asks for a code, type the app's (`ahead`:
    the next one, when the current one was just used to set the app up)."""
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(re.compile(r"/(admin/|inloggen/code)$"))
    if page.url.endswith("/inloggen/code"):
        page.get_by_role("textbox", name="Code").fill(app_code(secret, ahead))
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url("**/admin/")


def app_code(secret: str, ahead: bool = False) -> str:
    return pyotp.TOTP(secret).at(time.time() + (30 if ahead else 0))


def newest_mail(app, to: str):
    folder = Path(app.instance_path) / "mail"
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == to:
            return message
    raise AssertionError(f"no mail to {to}")


def choose_password_and_set_up_the_app(page, link: str, password: str) -> str:
    """From an invitation link to the admin: a password, an app (its secret typed from the
    page, as a person without a camera would), the recovery codes. Returns the secret."""
    page.goto(link)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(password)
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill(password)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    page.wait_for_url("**/tweede-factor/instellen")
    expect(page.get_by_role("img", name=re.compile("QR-code"))).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_role("textbox", name="Code").fill(app_code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url("**/tweede-factor/herstelcodes")
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="Ik heb ze bewaard, verder").click()
    page.wait_for_url("**/admin/")
    return secret


def test_new_beheerder_invites_a_coordinator_who_edits_a_school(seeded_app, live_server, browser):
    bootstrap = seeded_app.test_cli_runner().invoke(
        args=["users", "bootstrap", "--email", "baas@example.org"]
    )
    first_link = re.search(r"http://\S+(/uitnodiging/\S+)", bootstrap.output).group(1)
    context = browser.new_context(base_url=live_server, locale="nl-NL")
    context.set_default_timeout(10_000)
    page = context.new_page()
    choose_password_and_set_up_the_app(page, first_link, "zonnige dagen aan het meer")

    page.goto("/admin/user/new/")
    page.locator("#email").fill("coord@example.org")
    page.locator("#role").select_option("coordinator", force=True)
    page.get_by_role("button", name="Opslaan", exact=True).click()
    assert "krijgt een e-mail met een link" in page.locator(".alert").first.inner_text()
    page.get_by_role("button", name="Uitloggen").click()

    invitation = newest_mail(seeded_app, "coord@example.org")
    link = re.search(r"http://\S+(/uitnodiging/\S+)", invitation.get_body("plain").get_content())
    secret = choose_password_and_set_up_the_app(page, link.group(1), "zeven zeilboten op zee")
    page.get_by_role("button", name="Uitloggen").click()
    log_in(page, "coord@example.org", "zeven zeilboten op zee", secret, ahead=True)
    page.goto(link.group(1))  # the invitation a second time
    assert "al gebruikt" in page.locator("main").inner_text()
    with seeded_app.app_context():
        school_id = db.session.scalar(select(School.id).filter_by(vestigingscode="05SX00"))
    page.goto(f"/admin/school/edit/?id={school_id}")
    page.locator("#website").fill("https://www.dearendsvleugel.nl")
    page.get_by_role("button", name=re.compile("Ondersteuning")).click()
    page.locator("select[name='support_offers-0-support_area']").select_option(
        label="Leren", force=True
    )
    page.locator("select[name='support_offers-0-level']").select_option("extra", force=True)
    page.get_by_role("button", name="Opslaan", exact=True).click()
    assert "opgeslagen" in page.locator(".alert").first.inner_text()

    public = context.new_page()
    public.goto("/scholen/05SX00")
    assert "https://www.dearendsvleugel.nl" in public.locator(".facts").inner_text()
    assert "Extra ondersteuning" in public.locator(".support").inner_text()

    page.goto(f"/admin/school/geschiedenis/?id={school_id}")
    rows = page.locator("table tbody tr").all_inner_texts()
    assert any(
        "coord@example.org" in r
        and "website" in r
        and "www.dearendsvleugel.nl" in r
        and "https://www.dearendsvleugel.nl" in r
        for r in rows
    )
    assert any("ondersteuning: Leren" in r and "extra" in r for r in rows)
    context.close()


def test_two_coordinators_edit_the_same_school(seeded_app, admin_page, make_user):
    first, second = (
        admin_page(make_user("coordinator", email=f"{name}@example.org"))
        for name in ("een", "twee")
    )
    for page in (first, second):
        page.goto("/admin/school/edit/?id=1")
    first.locator("#phone").fill("0522 111111")
    first.get_by_role("button", name="Opslaan", exact=True).click()
    assert "opgeslagen" in first.locator(".alert").first.inner_text()

    second.locator("#website").fill("https://typed-by-two.example.nl")
    second.get_by_role("button", name="Opslaan", exact=True).click()
    warning = second.locator(".alert").first.inner_text()
    # Stored in the one grouped form, whatever way it was typed.
    assert "Iemand anders heeft dit record gewijzigd" in warning and "0522 11 11 11" in warning
    assert second.locator("#website").input_value() == "https://typed-by-two.example.nl"
    with seeded_app.app_context():
        stored = db.session.get(School, 1)
        assert (stored.phone, stored.website) == ("0522 11 11 11", "www.dearendsvleugel.nl")

    second.get_by_role("button", name="Opslaan", exact=True).click()
    assert "opgeslagen" in second.locator(".alert").first.inner_text()
    with seeded_app.app_context():
        assert db.session.get(School, 1).website == "https://typed-by-two.example.nl"


def test_a_coordinator_corrects_a_location_on_the_map(seeded_app, admin_page, make_user):
    page = admin_page(make_user("coordinator", email="kaart@example.org"))
    with seeded_app.app_context():
        approximate = db.session.scalar(select(School).filter_by(location_precision="pc4").limit(1))
        school_id, old = approximate.id, (approximate.latitude, approximate.longitude)
    page.goto(f"/admin/school/edit/?id={school_id}")
    page.locator("#location-map").scroll_into_view_if_needed()
    box = page.locator("#location-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 30)
    assert page.locator("#location_precision").input_value() == "building"
    page.get_by_role("button", name="Opslaan", exact=True).click()
    assert "opgeslagen" in page.locator(".alert").first.inner_text()
    with seeded_app.app_context():
        moved = db.session.get(School, school_id)
        assert moved.location_precision.value == "building"
        assert (moved.latitude, moved.longitude) != old
        assert abs(moved.latitude - old[0]) < 0.01 and abs(moved.longitude - old[1]) < 0.01


def test_a_coordinator_brings_the_registry_in_step_with_duo(
    seeded_app, admin_page, make_user, tmp_path
):
    from test_duo import edited, row_of

    upload = tmp_path / "02-alle-schoolvestigingen-september.csv"
    upload.write_bytes(
        edited(
            {
                (row_of("05SX00"), "VESTIGINGSNAAM"): "De Arendsvleugel",
                (row_of("06PS00"), "TELEFOONNUMMER"): "0528 361623",
            },
            drop=(row_of("06MU00"),),
        )
    )
    page = admin_page(make_user("coordinator", email="duo@example.org"))
    page.get_by_role("link", name="DUO").click()
    page.get_by_role("link", name="Vergelijken en bijwerken").click()
    page.get_by_label("Bestanden van DUO").set_input_files(upload)
    page.get_by_role("button", name="Vergelijken").click()
    page.wait_for_url("**/vergelijking?**")
    assert "Staat niet meer in het DUO-bestand." in page.content()
    row = page.locator("tr", has_text="06PS00")
    assert "Telefoon: 0528 36 16 22 → 0528 36 16 23" in row.inner_text()
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Gekozen toepassen").click()
    page.wait_for_url("**/admin/duo/")
    assert (
        "Toegepast: 0 nieuw, 0 gesloten, 1 gewijzigd" in page.locator(".alert").first.inner_text()
    )
    assert upload.name in page.locator("table").inner_text()
    with seeded_app.app_context():
        schools = {s.vestigingscode: s for s in db.session.scalars(select(School))}
        assert schools["06PS00"].phone == "0528 36 16 23"
        assert schools["05SX00"].name != "De Arendsvleugel"  # not ticked: not applied
        assert schools["06MU00"].closed_on is None


def test_a_coordinator_edits_a_public_correction_and_takes_it_over(
    seeded_app, live_server, browser, make_user
):
    email = make_user("coordinator", email="correcties@example.org")
    context = browser.new_context(base_url=live_server, locale="nl-NL")
    context.set_default_timeout(10_000)
    parent = context.new_page()
    parent.goto("/scholen/05SX00/correctie")
    parent.get_by_role("radio", name="Website").check()
    parent.get_by_label("Wat moet het zijn?").fill(
        "Ze hebben een nieuwe site: dearendsvleugel.nl/home (staat op hun Facebook)"
    )
    parent.get_by_role("button", name="Versturen").click()
    # The form posts and redirects: wait for the page it lands on, not the one being left.
    expect(parent.locator("main")).to_contain_text("Dank u wel")

    page = context.new_page()
    log_in(page, email)
    assert page.get_by_text("1 open correctie").is_visible()
    page.get_by_role("link", name="Correcties behandelen").click()
    page.get_by_role("link", name="Behandelen").first.click()
    value = page.get_by_label("Website")
    assert value.input_value() == "dearendsvleugel.nl/home"  # without the words around it
    value.fill("https://www.dearendsvleugel.nl")
    page.get_by_role("button", name="Overnemen").click()
    assert "is overgenomen" in page.locator(".alert").first.inner_text()

    parent.goto("/scholen/05SX00")
    assert "https://www.dearendsvleugel.nl" in parent.locator(".facts").inner_text()
    with seeded_app.app_context():
        school_id = db.session.scalar(select(School.id).filter_by(vestigingscode="05SX00"))
    page.goto(f"/admin/school/geschiedenis/?id={school_id}")
    rows = page.locator("table tbody tr").all_inner_texts()
    assert any("https://www.dearendsvleugel.nl" in r and "correctie #1" in r for r in rows)
    page.goto("/admin/correction/")
    assert "Overgenomen" in page.locator("table.model-list").inner_text()
    context.close()


def test_a_coordinator_follows_a_dashboard_gap_to_its_worklist(admin_page, make_user):
    page = admin_page(make_user("coordinator", email="werklijst@example.org"))
    row = page.locator("tr", has_text="Scholen zonder website")
    count = int(row.get_by_role("link").inner_text())
    assert count == 22
    row.get_by_role("link").click()
    page.wait_for_url("**/admin/school/?flt0_zonder_website=ja")
    assert page.locator("input[name='rowid']").count() == count
    assert page.locator("table.filters select option[selected]").first.inner_text() == "is"
    assert "Zonder website" in page.locator("table.filters").inner_text()
    # The special schools' worklist: their address and contact details are missing.
    page.goto("/admin/")
    special = page.locator("tr", has_text="Speciale scholen (SBO, SO)")
    special.get_by_role("link").click()
    names = page.locator("table.model-list tbody").inner_text()
    assert "SSBO De Kameleon" in names and "REC Mackay" in names
    assert page.locator("input[name='rowid']").count() == 7
