from registry.db import db
from registry.models import Municipality


def test_landing_page_lists_municipalities_with_their_school_counts(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert "Een passende school in de buurt" in html
    assert "Hoogeveen" in html and "35 scholen" in html
    assert "alleen postcodegebieden 7951, 7955" in html
    assert "alleen postcodegebied 8064" in html
    assert "Speciaal basisonderwijs (SBO)" in html


def test_english_on_request_and_remembered(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "A school that fits, close to home" in html
    assert "35 schools" in html
    # The choice is kept in a cookie for the next page.
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_browser_language_is_honoured_when_no_choice_was_made(client):
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    german = client.get("/", headers={"Accept-Language": "de-DE"})
    assert '<html lang="nl">' in german.get_data(as_text=True)


def test_unknown_page_answers_404_in_html_or_json(client):
    html = client.get("/bestaat-niet")
    assert html.status_code == 404
    assert "Deze pagina bestaat niet" in html.get_data(as_text=True)
    api = client.get("/bestaat-niet", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json == {"error": {"status": 404, "message": api.json["error"]["message"]}}
    assert "bestaat niet" in api.json["error"]["message"]


def test_wrong_method_is_a_405_not_a_500(client):
    assert client.post("/").status_code == 405


def test_markup_in_data_is_shown_escaped(seeded_app, client):
    with seeded_app.app_context():
        municipality = db.session.get(Municipality, 1)
        municipality.name = '<script>alert("x")</script>'
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html
