"""Error answers come as the client asked: a page for browsers and curl, JSON for the API."""


def test_a_client_that_takes_anything_gets_the_html_page(client):
    for accept in ("*/*", "text/html,*/*;q=0.8", None):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/bestaat-niet", headers=headers)
        assert response.status_code == 404 and response.mimetype == "text/html", accept


def test_json_where_json_is_asked_for_or_the_api(client):
    asked = client.get("/bestaat-niet", headers={"Accept": "application/json"})
    assert asked.mimetype == "application/json" and asked.json["error"]["status"] == 404
    api = client.get("/api/v1/bestaat-niet", headers={"Accept": "*/*"})
    assert api.mimetype == "application/json" and api.json["error"]["status"] == 404
