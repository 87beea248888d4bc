"""The API as client libraries and browsers expect it: CORS, revalidation, Vary, Allow, errors."""

import re

import pytest

from registry.db import db

API_URLS = [
    "/api/v1/schools",
    "/api/v1/schools?gemeente=meppel&sort=plaats&page=1",
    "/api/v1/schools/05SX00",
    "/api/v1/boards",
    "/api/v1/boards/41196",
    "/api/v1/municipalities",
    "/api/v1/networks",
    "/api/v1/support-areas",
    "/api/v1/openapi.json",
]
PREFLIGHT = {
    "Origin": "https://example.org",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "accept-language, if-none-match",
}


def _tokens(header: str | None) -> list[str]:
    return [t.strip().lower() for t in (header or "").split(",") if t.strip()]


def test_every_405_says_which_methods_the_url_allows(client):
    api = client.post("/api/v1/schools")
    assert api.status_code == 405 and api.json["error"]["status"] == 405
    assert set(_tokens(api.headers.get("Allow"))) == {"get", "head", "options"}
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    item = client.delete("/api/v1/schools/05SX00")
    assert item.status_code == 405 and "get" in _tokens(item.headers.get("Allow"))
    page = client.put("/scholen", headers={"Accept": "*/*"})
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert "get" in _tokens(page.headers.get("Allow"))
    assert "Access-Control-Allow-Origin" not in page.headers  # only the API is open to all


@pytest.mark.parametrize("url", ["/api/v1/schools", "/api/v1/schools/05SX00", "/api/v1/nope"])
def test_a_full_cors_preflight_on_every_api_url(client, url):
    """Even a URL that does not exist: the browser then lets the script read the JSON 404."""
    response = client.options(url, headers=PREFLIGHT)
    assert 200 <= response.status_code < 300 and response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert set(_tokens(response.headers["Access-Control-Allow-Methods"])) == {
        "get",
        "head",
        "options",
    }
    allowed = set(_tokens(response.headers["Access-Control-Allow-Headers"]))
    assert {"accept", "accept-language", "if-none-match", "content-type"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) >= 600
    assert "Access-Control-Allow-Origin" not in client.options("/scholen").headers


def test_error_answers_of_the_api_are_open_to_other_sites_too(client):
    answers = [
        (404, client.get("/api/v1/nothing")),  # no route: belongs to no blueprint
        (404, client.get("/api/v1/schools/05SX99")),
        (405, client.patch("/api/v1/boards")),
        (400, client.get("/api/v1/schools?type=VO")),
    ]
    for status, response in answers:
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "*", status
        assert set(response.json["error"]) == {"status", "message"}


def test_a_rate_limited_api_answer_is_open_and_in_the_error_shape(make_app):
    from registry.security import limiter

    app = make_app()
    # A route of this app alone under /api/v1, limited by the app's own limiter.
    app.add_url_rule(
        "/api/v1/limited", "limited", limiter.limit("1 per hour")(lambda: {"ok": True})
    )
    client = app.test_client()
    assert client.get("/api/v1/limited").status_code == 200
    limited = client.get("/api/v1/limited")
    assert limited.status_code == 429 and limited.json["error"]["status"] == 429
    assert limited.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("cache", [True, False], ids=["page-cache", "no-cache"])
def test_lists_items_and_the_document_answer_304_to_their_etag(seeded_app, make_app, cache):
    client = make_app("other", PAGE_CACHE=cache).test_client()
    for url in API_URLS:
        first = client.get(url)
        etag = first.headers.get("ETag")
        assert first.status_code == 200 and etag and not etag.startswith("W/"), url
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
        assert again.headers["ETag"] == etag
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        assert client.head(url).headers["ETag"] == etag
        other = client.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.data == first.data


def test_a_change_to_the_data_changes_the_etag(seeded_app):
    from registry.models import School

    client = seeded_app.test_client()
    before = client.get("/api/v1/schools/05SX00")
    with seeded_app.app_context():
        school = db.session.scalar(db.select(School).filter_by(vestigingscode="05SX00"))
        school.name = "De Arendsvleugel"
        db.session.commit()
    after = client.get("/api/v1/schools/05SX00", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.json["name"] == "De Arendsvleugel"
    assert after.headers["ETag"] != before.headers["ETag"]


def test_answers_vary_by_language_next_to_what_they_varied_by_before(client):
    answers = [
        client.get("/api/v1/schools"),
        client.get("/api/v1/schools"),  # from the page cache
        client.get("/api/v1/nothing"),
        client.get("/api/v1/schools?page=0"),
        client.post("/api/v1/schools"),
        client.get("/"),
        client.get("/scholen.json"),
    ]
    etag = answers[0].headers["ETag"]
    answers.append(client.get("/api/v1/schools", headers={"If-None-Match": etag}))
    for response in answers:
        vary = _tokens(response.headers.get("Vary"))
        assert "accept-language" in vary and "cookie" in vary, response.request.path
        assert len(vary) == len(set(vary)), vary
    assert answers[-1].status_code == 304


def test_api_messages_follow_accept_language(client):
    dutch = client.get("/api/v1/nothing").json["error"]["message"]
    english = client.get("/api/v1/nothing", headers={"Accept-Language": "en"}).json
    assert dutch.startswith("Deze pagina bestaat niet")
    assert english["error"]["message"].startswith("This page does not exist")


def test_a_page_past_the_last_is_a_404_that_says_which_is_the_last(client):
    assert client.get("/api/v1/schools?page=5").status_code == 200
    past = client.get("/api/v1/schools?page=99")
    assert past.status_code == 404
    assert past.json == {
        "error": {"status": 404, "message": "Pagina 99 bestaat niet; de laatste pagina is 5."}
    }
    assert past.headers["Access-Control-Allow-Origin"] == "*"
    english = client.get("/api/v1/schools?page=99", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "99" in english.json["error"]["message"]
    # Nothing matches: page 1 is an empty list, page 2 does not exist.
    empty = client.get("/api/v1/schools?q=zzzzzz")
    assert empty.status_code == 200
    assert (empty.json["total"], empty.json["items"], empty.json["links"]) == (0, [], {})
    beyond = client.get("/api/v1/schools?q=zzzzzz&page=2")
    assert beyond.status_code == 404 and "de laatste pagina is 1" in beyond.json["error"]["message"]


NOT_PAGES = ["10001", "0", "-1", "abc", "1.5", "\u0661", pytest.param("9" * 400, id="9x400"), ""]


@pytest.mark.parametrize("page", NOT_PAGES)
def test_a_page_number_out_of_range_names_the_range(client, page):
    response = client.get("/api/v1/schools", query_string={"page": page})
    assert response.status_code == 400
    assert response.json["error"]["message"] == (
        "Parameter page: Kies een paginanummer van 1 t/m 10000."
    )


def test_an_unknown_filter_value_is_a_400_with_the_nearest_known_one(client):
    meppel = client.get("/api/v1/schools?gemeente=MEPPEL").json
    assert meppel["total"] == 17
    assert client.get("/api/v1/schools?gemeente=GM0119").json["total"] == 17
    typo = client.get("/api/v1/schools?gemeente=Mepel")
    assert typo.status_code == 400 and "Bedoelde u Meppel?" in typo.json["error"]["message"]
    assert typo.headers["Access-Control-Allow-Origin"] == "*"
    document = client.get("/api/v1/openapi.json").json
    parameters = {p["name"]: p for p in document["paths"]["/schools"]["get"]["parameters"]}
    assert "meppel" in parameters["gemeente"]["schema"]["items"]["enum"]


def test_curl_gets_html_404_pages_and_the_api_json_whatever_is_accepted(client):
    for url in ("/bestaat-niet", "/scholen/05SX99", "/besturen/99999"):
        page = client.get(url, headers={"Accept": "*/*"})
        assert page.status_code == 404 and page.mimetype == "text/html", url
    for accept in ("*/*", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8"):
        for url in ("/api/v1/nothing", "/api/v1/schools/05SX99", "/api/v1/schools?page=99"):
            api = client.get(url, headers={"Accept": accept})
            assert api.status_code == 404 and api.mimetype == "application/json", url


def test_the_postcode_parameter_takes_what_the_document_says(client):
    document = client.get("/api/v1/openapi.json").json
    parameters = document["paths"]["/schools"]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == "postcode")
    everything = client.get("/api/v1/schools").json
    assert client.get("/api/v1/schools?postcode=").json == everything
    for value in ("", "7941 AB", "7941ab", "7941", "0941 AB", "7941  AB", "79411", "7941 A"):
        declared = re.search(schema["pattern"], value) is not None
        answered = client.get("/api/v1/schools", query_string={"postcode": value}).status_code
        assert answered == (200 if declared else 400), value


CONTENT_URLS = [
    "/",
    "/scholen",
    "/scholen.json",
    "/scholen.csv",
    "/scholen.excel.csv",
    "/scholen.xlsx",
    "/besturen.csv",
    "/bestaat-niet",
    "/api/v1/schools",
    "/api/v1/openapi.json",
    "/api/v1/nothing",
    "/static/css/site.css",
]


def test_one_charset_per_content_type(client):
    for url in CONTENT_URLS:
        response = client.get(url)
        response.get_data()  # a download streams: read it to the end inside its context
        assert response.content_type.lower().count("charset") <= 1, (url, response.content_type)
    for url, expected in (
        ("/scholen.csv", "text/csv; header=present; charset=utf-8"),
        ("/scholen.excel.csv", "text/csv; charset=utf-8"),
    ):
        response = client.get(url)
        response.get_data()
        assert response.content_type == expected


def test_the_document_declares_the_answers_and_headers_the_api_gives(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json
    validate(document)
    paths = document["paths"]
    for path in ("/schools", "/schools/{code}", "/boards/{number}"):
        assert {"200", "304", "400", "404"} <= set(paths[path]["get"]["responses"]), path
    for path, operations in paths.items():
        get = operations["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"If-None-Match", "Accept-Language", "lang"} <= names, path
        assert "ETag" in get["responses"]["200"]["headers"], path
        assert "options" in operations, path
    components = document["components"]
    assert "ETag" in components["responses"]["NotModified"]["headers"]
    assert {"Allow", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} <= set(
        components["responses"]["Preflight"]["headers"]
    )
    assert components["headers"]["ETag"]["required"] is True
    # What the API answered above is what the document declares for it.
    answered = {
        ("/schools", "get"): client.get("/api/v1/schools?page=99").status_code,
        ("/schools/{code}", "get"): client.get("/api/v1/schools/05SX99").status_code,
        ("/boards/{number}", "options"): client.options("/api/v1/boards/41196").status_code,
    }
    for (path, method), status in answered.items():
        assert str(status) in paths[path][method]["responses"], (path, method, status)


HOSTILE = [
    {"page": "1\x00"},
    {"q": "a\x01b"},
    {"postcode": "7941\nAB"},
    {"peildatum": "2025-13-45"},
    {"peildatum": "\ufffd"},
    {"sort": "afstand"},
    {"sort": "afstand", "postcode": "9999 ZZ"},
    {"type": "x" * 5000},
    {"lang": "xx"},
    {"gemeente": ["meppel", "meppel", "\u202e"]},
]


@pytest.mark.parametrize("query", HOSTILE)
def test_bad_input_is_never_a_500(client, query):
    for path in ("/api/v1/schools", "/api/v1/boards", "/api/v1/schools/05SX00"):
        response = client.get(
            path,
            query_string=query,
            headers={"If-None-Match": 'W/"x", *, "', "Accept-Language": "en;q=abc, *;q=-1"},
        )
        assert response.status_code < 500, (path, query)
        assert response.mimetype == "application/json"
    odd = client.options("/api/v1/schools/%00", headers={"Access-Control-Request-Method": "PUT"})
    assert odd.status_code < 500
