"""The public correction form asks what is wrong first and reads only the fields for that answer."""

import re

from sqlalchemy import select

from registry.db import db
from registry.models import CorrectionRequest

FORM = "/scholen/05SX00/correctie"


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def stored(app):
    with app.app_context():
        return db.session.scalars(select(CorrectionRequest)).all()


def test_the_form_starts_with_the_question_unanswered(client):
    html = client.get(FORM).get_data(as_text=True)
    answers = re.findall(r'<input [^>]*type="radio" value="([a-z]+)">', html)
    assert answers == [
        "naam",
        "adres",
        "telefoon",
        "email",
        "website",
        "ondersteuning",
        "ligging",
        "overig",
    ]
    assert "checked" not in html
    assert html.index("Wat klopt er niet?") < html.index('name="street"')


def test_without_an_answer_the_form_asks_for_one(seeded_app, client):
    token = csrf_token(client.get(FORM).get_data(as_text=True))
    for answer in ({}, {"field": ""}, {"field": "kleur"}):
        response = client.post(FORM, data={"csrf_token": token, "proposed_value": "x", **answer})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Kies wat er niet klopt." in html
        assert "Not a valid choice" not in html
    assert stored(seeded_app) == []


def test_the_address_fields_are_read_only_for_an_address(seeded_app, client):
    """Chosen first and then another answer: the address typed is hidden, and not sent on."""
    token = csrf_token(client.get(FORM).get_data(as_text=True))
    response = client.post(
        FORM,
        data={
            "csrf_token": token,
            "field": "telefoon",
            "street": "Dorpsstraat",
            "postcode": "niet een postcode",
            "place": "x" * 300,
            "proposed_value": "0522 123456",
        },
    )
    assert response.status_code == 302
    [correction] = stored(seeded_app)
    assert (correction.field, correction.proposed_value) == ("telefoon", "0522 123456")
    assert correction.proposed_street is correction.proposed_place is None
