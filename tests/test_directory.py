import re
from urllib.parse import quote

import pytest

from registry.db import db
from registry.listing import facet_checkboxes
from registry.models import Municipality
from registry.search import FacetValue


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


PARAMETERS = [
    "q",
    "postcode",
    "gemeente",
    "plaats",
    "type",
    "richting",
    "bestuur",
    "netwerk",
    "ondersteuning",
    "sort",
    "page",
]
NASTY = [
    "²",
    "٣",
    "0",
    "-1",
    '<script>alert("x")</script>',
    "\"' onmouseover=alert(1) x='",
    "x" * 5000,
    "%FF%FE%00",
    "%C3%28",
]
ENDPOINTS = ["/scholen", "/scholen.json", "/scholen.csv", "/gemeenten/meppel", "/besturen/41196"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_parameters_are_escaped_or_refused_never_a_500(client, endpoint):
    """Every parameter, every kind of bad value: one fresh database per endpoint."""
    for parameter in PARAMETERS:
        for value in NASTY:
            encoded = value if value.startswith("%") else quote(value)
            response = client.get(f"{endpoint}?{parameter}={encoded}")
            case = (parameter, value[:20])
            assert response.status_code in (200, 400), case
            body = response.get_data(as_text=True)
            if endpoint.endswith(".json"):
                # Data, not markup: a browser will not run it.
                assert response.mimetype == "application/json", case
            elif endpoint.endswith(".csv") and response.status_code == 200:
                assert response.mimetype == "text/csv", case
            else:
                assert response.mimetype == "text/html", case
                assert "<script>alert" not in body, case
                assert "' onmouseover=alert(1)" not in body, case
                if response.status_code == 400:
                    assert parameter in body, case


@pytest.mark.parametrize(
    "path",
    [
        "/scholen/<b>x</b>",
        "/scholen/05SX99",
        "/besturen/00000",
        "/gemeenten/nergens",
        "/netwerken/%FF",
        "/scholen/05SX00.json/extra",
    ],
)
def test_unknown_records_are_a_dutch_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<b>x</b>" not in body
    assert "bestaat niet" in body or "Er is geen school" in body


def test_a_lowercase_code_redirects_to_the_canonical_school_url(client):
    response = client.get("/scholen/05sx00")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/scholen/05SX00")


def test_pages_can_be_revalidated_cheaply(client):
    first = client.get("/scholen?gemeente=meppel")
    assert first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get("/scholen?gemeente=meppel", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_school_page_shows_what_a_parent_needs(client):
    html = client.get("/scholen/05SX00").get_data(as_text=True)
    for expected in [
        "Protestants Christelijke Basisschool De Arendsvleugel",
        "Basisschool (BAO)",
        "Protestants-Christelijk",
        "Bleekhof 2",
        "7961 AW Ruinerwold",
        "0522481344",
        'href="http://www.dearendsvleugel.nl"',
        "Stichting WIES",
        "De Wolden",
        "(indeling nog niet bevestigd)",
        "1 okt 2025",
        ">98<",
        "Welke ondersteuning deze school biedt, is nog niet vastgelegd",
        "Nog niet gecontroleerd",
    ]:
        assert expected in html, expected


def test_school_json_has_the_pupil_history(client):
    record = client.get("/scholen/05SX00.json").json
    assert record["board_number"] == "41196"
    assert [c["pupils"] for c in record["pupil_counts"]] == [82, 84, 84, 92, 98]
    assert record["location_precision"] == "building"
    assert record["support"] == []


def test_group_pages_list_their_schools_and_totals(client):
    board = client.get("/besturen/41196").get_data(as_text=True)
    assert "Stichting WIES" in board and "04060053" in board
    assert "14 scholen" in board
    assert "2.274" in board  # pupils in 2025, Dutch thousands separator
    municipality = client.get("/gemeenten/staphorst").get_data(as_text=True)
    assert "Alleen postcodegebieden 7951, 7955" in municipality
    assert "7 scholen" in municipality
    network = client.get("/netwerken/meppel?type=SBO").get_data(as_text=True)
    assert "Nog niet bevestigd" in network
    assert "1 school" in network


def test_group_lists_add_up(client):
    html = client.get("/gemeenten").get_data(as_text=True)
    assert re.search(r"Totaal</th>\s*<td class=\"num\">117</td>", html)
    assert client.get("/besturen").status_code == 200
    assert client.get("/netwerken").status_code == 200


def test_about_page_names_sources_and_live_gaps(client):
    html = client.get("/over").get_data(as_text=True)
    assert "CC BY 4.0" in html
    assert re.search(r"Scholen zonder website</th><td class=\"num\">22</td>", html)
    assert re.search(r"Besturen zonder adres</th><td class=\"num\">19</td>", html)


def test_the_csv_can_have_every_field_of_the_json(client):
    found = client.get("/scholen.json?q=arends&lang=en").json
    fields = list(found["schools"][0])
    # The JSON names the columns a download offers, as the page's form does.
    assert list(found["export_columns"]) == fields
    assert found["export_columns"]["vestigingscode"]["label"] == "Location code"
    assert set(found["default_export"]) < set(fields)
    query = "&".join(f"kolom={field}" for field in fields)
    header = client.get(f"/scholen.csv?q=arends&{query}").get_data(as_text=True).splitlines()[0]
    assert header.split(",") == fields


def test_a_missing_school_says_which_code_was_not_found(client):
    response = client.get("/scholen/05SX99")
    assert "Er is geen school met vestigingscode 05SX99" in response.get_data(as_text=True)
    assert client.get("/scholen/05SX99.json").json["error"]["message"] == (
        "Er is geen school met vestigingscode 05SX99."
    )


def test_filter_checkboxes_escape_what_the_data_holds():
    """The filter lists are joined in Python, not by the template: values and labels from the
    data are escaped there too, and each box is labelled by its own id."""
    html = str(
        facet_checkboxes(
            "plaats",
            [
                FacetValue('x"><script>alert(1)</script>', "<b>Meppel & Co</b>", 3, True),
                FacetValue("nijeveen", "Nijeveen", 12, False),
            ],
        )
    )
    assert "<script>" not in html and "<b>" not in html
    assert 'value="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "&lt;b&gt;Meppel &amp; Co&lt;/b&gt;" in html
    assert re.findall(r'id="(f-plaats-\d)" ?(checked)?', html) == [
        ("f-plaats-1", "checked"),
        ("f-plaats-2", ""),
    ]
    assert html.count('<label for="f-plaats-1">') == html.count('<label for="f-plaats-2">') == 1


def test_result_rows_escape_what_the_data_holds_and_read_as_the_language(app):
    """The result rows are joined in Python (registry/listing.py): every stored text is escaped,
    and the words around them follow the page's language."""
    from registry.listing import result_items
    from registry.models import LocationPrecision
    from registry.search import SchoolRow

    hostile = '"><script>alert(1)</script>'
    stored = {
        "vestigingscode": "05SX00",
        "name": f"<b>De Arendsvleugel</b>{hostile}",
        "type": "SBO",
        "denomination": "Openbaar & <i>vrij</i>",
        "street": hostile,
        "house_number": "2<a",
        "postcode": "7941 AB",
        "place": "MEPPEL",
        "municipality": "Meppel",
        "location_precision": LocationPrecision.PC4,
    }
    unplaced = {**stored, "street": None, "municipality": "<u>De Wolden</u>"}
    rows = [SchoolRow(stored, 312, None, 1.25), SchoolRow(unplaced, None, None, None)]
    with app.test_request_context("/?lang=en"):
        html = str(result_items(rows))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "<u>" not in html and '<a"' not in html and "2<a" not in html
    assert (
        '<a href="/scholen/05SX00">&lt;b&gt;De Arendsvleugel&lt;/b&gt;&#34;&gt;&lt;script' in html
    )
    # A space between the parts (the dots are CSS): read aloud or copied, they stay words.
    assert "<span>Special primary education</span> <span>Openbaar &amp; &lt;i&gt;vrij" in html
    assert "<span>312 pupils</span>" in html
    assert "2&lt;a, 7941 AB Meppel</p>" in html
    assert (
        '<p class="distance">1.2 km <span class="approx">(approximate location)</span></p>' in html
    )
    assert "Address unknown · &lt;u&gt;De Wolden&lt;/u&gt;" in html
    assert html.count('<li class="result">') == 2 and html.count('class="distance"') == 1


def test_a_school_page_maps_the_school_itself(client):
    import html as html_module
    import json

    page = client.get("/scholen/05SX00").get_data(as_text=True)
    points = json.loads(html_module.unescape(re.search(r'data-points="([^"]*)"', page).group(1)))
    assert len(points) == 1
    assert points[0]["url"] == "/scholen/05SX00"
    assert points[0]["name"] in page and isinstance(points[0]["lat"], float)
