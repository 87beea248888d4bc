import re

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
            "field": "adres",
            "proposed_value": "  ",
            "contact": "0522 123456",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Schrijf op wat er niet klopt" in html
    assert 'value="0522 123456"' in html
    assert '<option selected value="adres">' in html
    assert stored(seeded_app) == []


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
