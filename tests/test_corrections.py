import re

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import CorrectionRequest, CorrectionStatus

FORM = "/scholen/05SX00/correctie"


def csrf_token(client, url=FORM):
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def stored(app):
    with app.app_context():
        return db.session.scalars(select(CorrectionRequest)).all()


def test_a_parent_reports_a_correction_and_is_thanked(seeded_app, client):
    school_page = client.get("/scholen/05SX00").get_data(as_text=True)
    assert 'href="/scholen/05SX00/correctie"' in school_page
    response = client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "website",
            "proposed_value": "https://www.dearendsvleugel.nl",
            "contact": "ouder@example.nl",
        },
    )
    assert response.status_code == 302
    assert "Dank u wel" in client.get(response.headers["Location"]).get_data(as_text=True)
    [request] = stored(seeded_app)
    assert (request.field, request.proposed_value, request.contact) == (
        "website",
        "https://www.dearendsvleugel.nl",
        "ouder@example.nl",
    )
    assert request.status is CorrectionStatus.OPEN


def test_an_incomplete_form_keeps_what_was_typed_and_says_what_is_missing(seeded_app, client):
    response = client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "website",
            "proposed_value": "  ",
            "contact": "0522 123456",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Schrijf op wat er niet klopt" in html
    assert 'value="0522 123456"' in html
    assert re.search(r'<input checked [^>]*type="radio" value="website">', html)
    assert stored(seeded_app) == []


def test_an_address_is_asked_in_its_four_parts(seeded_app, client):
    page = client.get(FORM).get_data(as_text=True)
    for label in ("Straat", "Huisnummer", "Postcode", "Plaats"):
        assert f">{label}</label>" in page
    incomplete = client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "adres",
            "street": "Dorpsstraat",
            "postcode": "7961 XX1",
        },
    )
    assert incomplete.status_code == 400
    html = incomplete.get_data(as_text=True)
    assert "Vul het huisnummer in." in html and "Vul de plaats in." in html
    assert "Een postcode is 4 cijfers en 2 letters" in html
    assert 'value="Dorpsstraat"' in html
    response = client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "adres",
            "street": " Dorpsstraat ",
            "house_number": "12a",
            "postcode": "7961aw",
            "place": "Ruinerwold",
            "proposed_value": "Sinds de zomer in het nieuwe gebouw.",
        },
    )
    assert response.status_code == 302
    [request] = stored(seeded_app)
    assert (
        request.proposed_street,
        request.proposed_house_number,
        request.proposed_postcode,
        request.proposed_place,
    ) == ("Dorpsstraat", "12a", "7961 AW", "Ruinerwold")
    assert request.proposed_value == (
        "Dorpsstraat 12a, 7961 AW Ruinerwold\nSinds de zomer in het nieuwe gebouw."
    )


def test_a_post_without_csrf_token_is_refused(seeded_app, client):
    response = client.post(FORM, data={"field": "naam", "proposed_value": "x"})
    assert response.status_code == 400
    assert "Het formulier is verlopen" in response.get_data(as_text=True)
    assert stored(seeded_app) == []


def test_a_bot_filling_the_hidden_field_is_thanked_but_ignored(seeded_app, client):
    response = client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "naam",
            "proposed_value": "cheap pills",
            "homepage": "http://spam.example",
        },
    )
    assert response.status_code == 302
    assert stored(seeded_app) == []


def test_reports_are_rate_limited(seeded_app, client):
    token = csrf_token(client)
    data = {"csrf_token": token, "field": "overig", "proposed_value": "melding"}
    responses = [client.post(FORM, data=data) for _ in range(11)]
    assert [r.status_code for r in responses] == [302] * 10 + [429]
    assert "Te veel verzoeken" in responses[-1].get_data(as_text=True)
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(CorrectionRequest.id))) == 10


def test_markup_in_a_report_is_stored_as_text(seeded_app, client):
    client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "naam",
            "proposed_value": "<script>alert(1)</script>",
        },
    )
    [request] = stored(seeded_app)
    assert request.proposed_value == "<script>alert(1)</script>"


def test_unknown_school_has_no_form(client):
    assert client.get("/scholen/XX0000/correctie").status_code == 404


def test_cli_lists_open_corrections(seeded_app, client):
    client.post(
        FORM,
        data={
            "csrf_token": csrf_token(client),
            "field": "telefoon",
            "proposed_value": "0522 481345",
        },
    )
    output = seeded_app.test_cli_runner().invoke(args=["corrections"]).output
    assert "05SX00" in output and "[telefoon]" in output and "0522 481345" in output


# Handling in the admin: take over (edited), close without a change, reject.

HANDLE = "/admin/correction/behandelen/?id={}"


def add_correction(app, field, value, school_code="05SX00", **extra) -> int:
    from registry.models import School

    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode=school_code))
        correction = CorrectionRequest(
            school=school, field=field, proposed_value=value, contact="ouder@example.nl", **extra
        )
        db.session.add(correction)
        db.session.commit()
        return correction.id


def the_school(app, code="05SX00"):
    from registry.models import School

    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode=code))
        db.session.expunge(school)
        return school


def the_correction(app, correction_id):
    with app.app_context():
        correction = db.session.get(CorrectionRequest, correction_id)
        db.session.expunge(correction)
        return correction


def school_changes(app, note=None):
    from registry.history import Change

    with app.app_context():
        # Changes people made (the seed's own are no one's).
        query = select(Change).filter_by(record_type="school").where(Change.user_id.is_not(None))
        if note:
            query = query.filter_by(note=note)
        return [(c.field, c.new_value, c.note) for c in db.session.scalars(query)]


def handle(client, correction_id, **changes):
    from helpers import form_fields, with_values

    page = client.get(HANDLE.format(correction_id)).get_data(as_text=True)
    return client.post(HANDLE.format(correction_id), data=with_values(form_fields(page), **changes))


def test_a_proposal_with_extra_words_is_offered_bare_and_taken_over(seeded_app, login):
    number = add_correction(
        seeded_app, "email", "info@dearendsvleugel.nl (staat op hun website onder Contact)"
    )
    client = login("coordinator")
    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    assert 'name="value" value="info@dearendsvleugel.nl"' in page
    response = handle(client, number, decision="accept")
    assert response.status_code == 302
    assert the_school(seeded_app).email == "info@dearendsvleugel.nl"
    correction = the_correction(seeded_app, number)
    assert correction.status is CorrectionStatus.ACCEPTED
    assert correction.applied_value == "info@dearendsvleugel.nl"
    assert correction.handled_by.startswith("coordinator-")
    assert school_changes(seeded_app) == [
        ("email", "info@dearendsvleugel.nl", f"correctie #{number}")
    ]
    assert "Overgenomen" in client.get("/admin/correction/").get_data(as_text=True)


def test_the_coordinator_edits_the_value_before_taking_it_over(seeded_app, login):
    number = add_correction(seeded_app, "website", "ze hebben een nieuwe site, zoek maar op")
    client = login("coordinator")
    wrong = handle(client, number, decision="accept", value="zoek maar op")
    assert wrong.status_code == 400
    assert "Vul een webadres in" in wrong.get_data(as_text=True)
    assert 'value="zoek maar op"' in wrong.get_data(as_text=True)
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN
    done = handle(client, number, decision="accept", value="https://www.arendsvleugel.nl")
    assert done.status_code == 302
    assert the_school(seeded_app).website == "https://www.arendsvleugel.nl"
    assert the_correction(seeded_app, number).applied_value == "https://www.arendsvleugel.nl"


def test_taking_over_without_a_change_is_impossible(seeded_app, login):
    number = add_correction(seeded_app, "telefoon", "0522481344")  # what the registry holds
    client = login("coordinator")
    response = handle(client, number, decision="accept")
    assert response.status_code == 400
    assert "Dit verandert niets aan de school" in response.get_data(as_text=True)
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN
    assert school_changes(seeded_app) == []


def test_handled_without_a_change_is_its_own_outcome_with_a_reason(seeded_app, login):
    number = add_correction(seeded_app, "telefoon", "0522481344")
    client = login("coordinator")
    without = handle(client, number, decision="unchanged")
    assert without.status_code == 400
    assert "Schrijf de reden op" in without.get_data(as_text=True)
    response = handle(client, number, decision="unchanged", reason="Dit nummer staat er al.")
    assert response.status_code == 302
    correction = the_correction(seeded_app, number)
    assert (correction.status, correction.reason) == (
        CorrectionStatus.UNCHANGED,
        "Dit nummer staat er al.",
    )
    assert correction.applied_value is None
    assert school_changes(seeded_app) == []
    listing = client.get("/admin/correction/").get_data(as_text=True)
    assert "Afgehandeld zonder wijziging" in listing


def test_an_address_correction_changes_the_address_in_its_parts(seeded_app, login):
    number = add_correction(
        seeded_app,
        "adres",
        "Dorpsstraat 12a, 7961 AW Ruinerwold",
        proposed_street="Dorpsstraat",
        proposed_house_number="12a",
        proposed_postcode="7961 AW",
        proposed_place="Ruinerwold",
    )
    client = login("coordinator")
    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    assert 'name="street" value="Dorpsstraat"' in page and "Bleekhof 2" in page
    response = handle(client, number, decision="accept", house_number="12")
    assert response.status_code == 302
    school = the_school(seeded_app)
    assert (school.street, school.house_number, school.postcode, school.place) == (
        "Dorpsstraat",
        "12",
        "7961 AW",
        "RUINERWOLD",
    )
    # The school's "RUINERWOLD" is the "Ruinerwold" typed: no change of the place.
    assert {field for field, _new, _note in school_changes(seeded_app, f"correctie #{number}")} == {
        "street",
        "house_number",
    }
    assert the_correction(seeded_app, number).applied_value == "Dorpsstraat 12, 7961 AW Ruinerwold"


def test_an_address_correction_in_words_only_must_still_change_the_address(seeded_app, login):
    number = add_correction(seeded_app, "adres", "Het adres klopt niet, ze zijn verhuisd")
    client = login("coordinator")
    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    assert 'name="street" value="Bleekhof"' in page  # the school's own, to edit
    unchanged = handle(client, number, decision="accept")
    assert unchanged.status_code == 400
    assert "Dit verandert niets" in unchanged.get_data(as_text=True)
    emptied = handle(client, number, decision="accept", street="")
    assert emptied.status_code == 400
    assert "Vul straat, huisnummer, postcode en plaats in." in emptied.get_data(as_text=True)
    bad = handle(client, number, decision="accept", postcode="7961 SS")
    assert bad.status_code == 400 and "Een postcode is" in bad.get_data(as_text=True)
    assert the_school(seeded_app).street == "Bleekhof"


def test_a_support_correction_sets_the_levels(seeded_app, login):
    from registry.models import SupportArea

    number = add_correction(seeded_app, "ondersteuning", "Ze bieden extra hulp bij gedrag")
    with seeded_app.app_context():
        gedrag = db.session.scalar(select(SupportArea).filter_by(name="Gedrag")).id
    client = login("coordinator")
    unchanged = handle(client, number, decision="accept")
    assert unchanged.status_code == 400 and "Dit verandert niets" in unchanged.get_data(True)
    wrong = handle(client, number, decision="accept", **{f"level-{gedrag}": "super"})
    assert wrong.status_code == 400
    response = handle(client, number, decision="accept", **{f"level-{gedrag}": "extra"})
    assert response.status_code == 302
    public = seeded_app.test_client().get("/scholen/05SX00").get_data(as_text=True)
    assert "Gedrag" in public and "Extra ondersteuning" in public
    assert school_changes(seeded_app, f"correctie #{number}") == [
        ("ondersteuning: Gedrag", "extra", f"correctie #{number}")
    ]
    assert the_correction(seeded_app, number).applied_value == "Gedrag: extra"


def test_a_correction_in_words_goes_through_the_school_form_and_is_credited(seeded_app, login):
    from helpers import form_fields, with_values

    number = add_correction(seeded_app, "overig", "De school heet sinds dit jaar Kindcentrum")
    client = login("coordinator")
    refused = handle(client, number, decision="accept")
    assert refused.status_code == 400
    assert "schoolformulier" in refused.get_data(as_text=True)
    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    form_url = re.search(r'href="(/admin/school/edit/[^"]+correctie=[^"]+)"', page).group(1)
    form_url = form_url.replace("&amp;", "&")
    edit = client.get(form_url).get_data(as_text=True)
    assert f"Correctie #{number}" in edit and "Kindcentrum" in edit
    fields = form_fields(edit)
    nothing = client.post(form_url, data=with_values(fields))
    assert nothing.status_code == 302
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN
    assert "staat nog open" in client.get(nothing.headers["Location"]).get_data(as_text=True)
    edit = client.get(form_url).get_data(as_text=True)
    response = client.post(form_url, data=with_values(form_fields(edit), name="Kindcentrum"))
    assert response.status_code == 302
    assert "/admin/correction/" in response.headers["Location"]
    assert the_school(seeded_app).name == "Kindcentrum"
    correction = the_correction(seeded_app, number)
    assert correction.status is CorrectionStatus.ACCEPTED
    assert correction.applied_value == "naam: Kindcentrum"
    assert ("name", "Kindcentrum", f"correctie #{number}") in school_changes(seeded_app)
    again = client.get(form_url)
    assert again.status_code == 302 and "behandelen" in again.headers["Location"]


def test_the_school_form_opens_with_the_bare_proposal_filled_in(seeded_app, login):
    number = add_correction(seeded_app, "email", "mail naar info@dearendsvleugel.nl graag")
    client = login("coordinator")
    page = client.get(f"/admin/school/edit/?id=1&correctie={number}").get_data(as_text=True)
    assert re.search(r'id="email"[^>]*value="info@dearendsvleugel.nl"', page) or re.search(
        r'value="info@dearendsvleugel.nl"[^>]*id="email"', page
    )


def test_a_correction_is_handled_once(seeded_app, login):
    number = add_correction(seeded_app, "telefoon", "0522 999999")
    client = login("coordinator")
    from helpers import form_fields, with_values

    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    first = client.post(
        HANDLE.format(number), data=with_values(form_fields(page), decision="accept")
    )
    assert first.status_code == 302
    replay = client.post(
        HANDLE.format(number),
        data=with_values(form_fields(page), decision="reject", reason="toch niet"),
    )
    assert replay.status_code == 302
    followed = client.get(replay.headers["Location"]).get_data(as_text=True)
    assert "was al afgehandeld" in followed
    assert the_correction(seeded_app, number).status is CorrectionStatus.ACCEPTED


def test_a_school_changed_since_the_page_opened_is_not_overwritten(seeded_app, login):
    from helpers import form_fields, with_values

    from registry.models import School

    number = add_correction(seeded_app, "telefoon", "0522 999999")
    client = login("coordinator")
    page = client.get(HANDLE.format(number)).get_data(as_text=True)
    with seeded_app.app_context():
        db.session.get(School, 1).phone = "0522 111111"
        db.session.commit()
    response = client.post(
        HANDLE.format(number), data=with_values(form_fields(page), decision="accept")
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Iemand anders heeft de school gewijzigd" in html and "0522 11 11 11" in html
    assert the_school(seeded_app).phone == "0522 11 11 11"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "x" * 201}, "Gebruik hoogstens 200 tekens."),
        ({"value": ""}, "Een school heeft een naam."),
        ({"value": "Naam\x00"}, ""),
        ({"value": "Naam\u200b\x1b"}, "stuurteken"),
        ({"reason": "r" * 2001, "decision": "reject"}, "Gebruik hoogstens 2000 tekens."),
        ({"reason": "r" * 2001}, "Gebruik hoogstens 2000 tekens."),
        ({"decision": "weg"}, ""),
    ],
)
def test_hostile_values_are_refused_with_a_message(seeded_app, login, changes, message):
    number = add_correction(seeded_app, "naam", "Nieuwe naam")
    client = login("coordinator")
    response = handle(client, number, **{"decision": "accept", **changes})
    assert response.status_code == 400, response.status_code
    assert message in response.get_data(as_text=True)
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN


def test_repeated_and_malformed_ids_are_refused(seeded_app, login):
    from helpers import csrf_from

    number = add_correction(seeded_app, "naam", "Nieuwe naam")
    other = add_correction(seeded_app, "naam", "Andere naam", school_code="06PS00")
    client = login("coordinator")
    token = csrf_from(client.get(HANDLE.format(number)).get_data(as_text=True))
    for url, data in [
        (f"/admin/correction/behandelen/?id={number}&id={other}", {}),
        ("/admin/correction/behandelen/", {"id": [str(number), str(other)]}),
        (f"/admin/correction/behandelen/?id={number}", {"id": str(other)}),
        (f"/admin/correction/behandelen/?id={number}", {"value": ["a", "b"]}),
        ("/admin/correction/behandelen/?id=1e3", {}),
        ("/admin/correction/behandelen/?id=-1", {}),
    ]:
        response = client.post(url, data={"csrf_token": token, "decision": "accept", **data})
        assert response.status_code == 400, (url, data)
    assert client.get("/admin/correction/behandelen/?id=999999").status_code == 404
    for query in (
        f"id=1&correctie={number}&correctie={number}",
        "id=1&correctie=abc",
        "id=1&correctie=99999999999999999999",
    ):
        assert client.get(f"/admin/school/edit/?{query}").status_code == 400, query
    # A correction of another school cannot ride along on this school's form.
    assert client.get(f"/admin/school/edit/?id=1&correctie={other}").status_code == 404
    assert client.get("/admin/school/edit/?id=1&correctie=999999").status_code == 404


def test_handling_needs_the_csrf_token(seeded_app, login):
    number = add_correction(seeded_app, "naam", "Nieuwe naam")
    client = login("coordinator")
    response = client.post(
        HANDLE.format(number), data={"decision": "accept", "value": "Andere naam"}
    )
    assert response.status_code == 400
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN


@pytest.mark.parametrize(
    ("role", "board"), [("bestuur", "41196"), ("bestuur", "60829"), ("medewerker", None)]
)
def test_only_coordinators_handle_corrections(seeded_app, login, role, board):
    """A bestuur may edit its own school, but not close the public's corrections of it, and
    certainly not another board's."""
    from helpers import csrf_from

    number = add_correction(seeded_app, "naam", "Nieuwe naam")  # a school of board 41196
    client = login(role, board)
    token = csrf_from(client.get("/wachtwoord").get_data(as_text=True))
    assert client.get(HANDLE.format(number)).status_code == 403
    for decision in ("accept", "unchanged", "reject"):
        response = client.post(
            HANDLE.format(number),
            data={"csrf_token": token, "decision": decision, "value": "X", "reason": "r"},
        )
        assert response.status_code == 403
    form = f"/admin/school/edit/?id=1&correctie={number}"
    assert client.get(form).status_code == 403
    assert client.post(form, data={"csrf_token": token, "name": "X"}).status_code == 403
    assert the_correction(seeded_app, number).status is CorrectionStatus.OPEN
    assert the_school(seeded_app).name != "X"


def test_suggested_values():
    from registry.corrections import suggested_value

    assert suggested_value("email", "Info@X.nl (staat op de site)") == "Info@X.nl"
    assert suggested_value("website", "zie www.school.nl/contact. of mail a@b.nl") == (
        "www.school.nl/contact"
    )
    assert suggested_value("website", "mail a@school.nl") == "mail a@school.nl"
    assert suggested_value("telefoon", "bel 0522 - 258500 na 8 uur") == "0522 25 85 00"
    assert suggested_value("telefoon", "bel 112") == "bel 112"
    assert suggested_value("naam", "  De Nieuwe Naam \n") == "De Nieuwe Naam"


def test_the_migration_keeps_existing_corrections(seeded_app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    before = "fd8aeee965a0"  # the revision before corrections could end without a change
    with seeded_app.app_context():
        db.session.remove()
        downgrade(revision=before)
        with db.engine.begin() as connection:
            for status in ("open", "accepted", "rejected"):
                connection.execute(
                    text(
                        "INSERT INTO correction_request (school_id, field, proposed_value,"
                        " status, created_at, reason) VALUES (1, 'naam', :value, :status,"
                        " CURRENT_TIMESTAMP, 'oud')"
                    ),
                    {"value": f"voorstel {status}", "status": status},
                )
        upgrade()
        kept = db.session.scalars(select(CorrectionRequest).order_by(CorrectionRequest.id)).all()
        assert [(c.status.value, c.proposed_value, c.reason) for c in kept] == [
            ("open", "voorstel open", "oud"),
            ("accepted", "voorstel accepted", "oud"),
            ("rejected", "voorstel rejected", "oud"),
        ]
        kept[0].status = CorrectionStatus.UNCHANGED
        db.session.commit()
        db.session.remove()
        downgrade(revision=before)  # an older release reads "unchanged" as rejected
        with db.engine.connect() as connection:
            statuses = connection.execute(
                text("SELECT status FROM correction_request ORDER BY id")
            ).scalars()
            assert list(statuses) == ["rejected", "accepted", "rejected"]
        upgrade()
