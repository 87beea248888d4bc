"""HTTP as caches and tools read it: every GET says how it may be kept and how to ask again,
HEAD answers with GET's headers, the server writes the one Date, and every cookie is Secure in
production. Walked over every GET route of the app, with real ids, anonymous and logged in."""

import gzip
import itertools
from http.client import HTTPConnection

import pytest
from helpers import csrf_from, gunicorn_serving, sign_in
from test_access import QUERY, SAMPLE_ARGS
from werkzeug.routing.converters import AnyConverter

from registry.db import db
from registry.models import School

# Counters and per-request values: present on both, their values move with every request.
MOVING = {"set-cookie", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after", "x-cache"}
STATIC_FILE = "css/site.css"


def every_get_url(app, every_choice: bool = True):
    """(endpoint, URL) of each GET route, with the seeded records' ids; a route with a choice
    in its path (a format, a kind of group) once for each choice, or only once."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        choices = {
            name: sorted(converter.items) if every_choice else [SAMPLE_ARGS[name]]
            for name, converter in rule._converters.items()
            if isinstance(converter, AnyConverter)
        }
        for picked in itertools.product(*choices.values()):
            chosen = dict(zip(choices, picked, strict=True))
            url = rule.build({**SAMPLE_ARGS, "filename": STATIC_FILE, **chosen}, False)[1]
            yield rule.endpoint, url + QUERY.get(rule.endpoint.split(".")[-1], "")


def compared(response) -> dict:
    """The headers HEAD must repeat: every one; of the moving ones, which cookies are set and
    that the counters are there."""
    headers = {name.lower(): value for name, value in response.headers}
    for name in MOVING & set(headers):
        headers[name] = True
    cookies = response.headers.getlist("Set-Cookie")
    headers["set-cookie"] = sorted(cookie.partition("=")[0] for cookie in cookies)
    return headers


def plain(response) -> bytes:
    zipped = response.headers.get("Content-Encoding") == "gzip"
    return gzip.decompress(response.data) if zipped else response.data


def ask(client, method: str, url: str, **headers):
    """The answer, read and closed as a server closes it before its next request: a streamed
    download's generator holds its request context until then."""
    with client.open(url, method=method, headers=headers) as answer:
        answer.get_data()
    return answer


def check_route(client, url: str, encoding: str) -> None:
    asked = {"Accept-Encoding": encoding}
    first, head, again = (ask(client, method, url, **asked) for method in ("GET", "HEAD", "GET"))
    where = (url, encoding)
    assert head.status_code == again.status_code == first.status_code, where
    assert head.data == b"", where
    expected, got = compared(again), compared(head)
    if first.data != again.data or b'name="csrf_token"' in plain(again):
        # A form's CSRF token is signed with the moment it was made, and a spreadsheet made
        # anew (not from the page cache) records its moment: each is another body, of another
        # length and ETag, HEAD's own too.
        for made_from_the_body in ("content-length", "etag"):
            expected.pop(made_from_the_body, None)
            got.pop(made_from_the_body, None)
    assert got == expected, where
    # The server adds the Date (gunicorn, Werkzeug's server): one more from the app made two.
    assert "Date" not in again.headers, where
    if again.status_code != 200:
        return
    assert "Cache-Control" in again.headers, where
    if again.cache_control.no_store:
        return
    etag = again.headers["ETag"]
    for method in ("GET", "HEAD"):
        revalidated = ask(client, method, url, **asked, **{"If-None-Match": etag})
        assert revalidated.status_code == 304, (*where, method)
        assert revalidated.headers["ETag"] == etag, where


@pytest.mark.sweep
def test_every_get_route_says_how_to_keep_it_and_head_repeats_its_headers(seeded_app, login):
    seeded_app.config["OVERVIEW_FILE_LIMIT"] = "1000/minute"  # a PDF or XLSX per route and role
    checked = 0
    for _endpoint, url in every_get_url(seeded_app):
        for encoding in ("identity", "gzip"):
            check_route(seeded_app.test_client(), url, encoding)  # a new visitor: the page cache
            checked += 1
    staff = login("beheerder")
    for _endpoint, url in every_get_url(seeded_app, every_choice=False):
        check_route(staff, url, "gzip")
        checked += 1
    assert checked > 300


def test_public_pages_lists_and_downloads_are_kept_and_revalidated(client):
    """What the issue found without: overviews, CSV and overview downloads; a streamed CSV
    has no body to hash when it starts, so its ETag is made from what it is made of."""
    for url in (
        "/overzichten/gemeente",
        "/overzichten/bestuur.xlsx",
        "/overzichten/netwerk.pdf",
        "/scholen.csv?gemeente=meppel",
        "/besturen.csv",
        "/scholen.xlsx",
        "/api/v1/schools?gemeente=meppel",
        "/sitemap.xml",
    ):
        answer = ask(client, "GET", url)
        assert answer.cache_control.no_cache and answer.headers["ETag"], url
        again = ask(client, "GET", url, **{"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304, url
    csv = ask(client, "GET", "/scholen.csv?gemeente=meppel")
    assert csv.headers["ETag"].startswith('W/"')
    other = ask(client, "GET", "/scholen.csv?gemeente=staphorst")
    assert other.headers["ETag"] != csv.headers["ETag"]
    english = ask(client, "GET", "/scholen.csv?gemeente=meppel", **{"Accept-Language": "en"})
    assert english.headers["ETag"] != csv.headers["ETag"]  # its header row is English


def test_a_static_file_is_the_same_for_everyone_under_any_address(client, login):
    """Under its fingerprint it is kept a year (test_static_files.py); under its bare address
    (an old link, a bookmark) it is revalidated, and never varies by the visitor's cookie."""
    for visitor in (client, login("coordinator")):
        answer = ask(visitor, "GET", "/static/vendor/leaflet/leaflet.js")
        assert answer.status_code == 200 and answer.headers["ETag"]
        assert "Cookie" not in answer.headers["Vary"] and "Set-Cookie" not in answer.headers


def test_a_change_to_the_data_gives_downloads_another_etag(seeded_app):
    visitor = seeded_app.test_client()
    before = ask(visitor, "GET", "/scholen.csv?gemeente=de-wolden").headers["ETag"]
    with seeded_app.app_context():
        db.session.get(School, 1).phone = "0522 12 34 56"
        db.session.commit()
    after = ask(visitor, "GET", "/scholen.csv?gemeente=de-wolden", **{"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before
    assert b"0522 12 34 56" in after.data


def test_a_page_for_a_visitor_with_a_session_is_kept_by_their_browser_only(client, login):
    client.get("/inloggen")  # the login form's token is in a session now
    assert client.get("/scholen").cache_control.private
    assert client.application.test_client().get("/scholen").cache_control.public
    page = login("coordinator").get("/scholen")
    assert page.cache_control.no_store and "ETag" not in page.headers


def test_an_unknown_language_is_a_400_before_any_cached_page_answers(client):
    client.get("/api/v1/schools")
    for url in ("/api/v1/schools?lang=AAA", "/api/v1/boards?lang=", "/scholen?lang=zz"):
        for headers in ({}, {"If-None-Match": "*"}):
            answer = client.get(url, headers=headers)
            assert answer.status_code == 400, (url, headers)
            assert "Parameter lang: Kies de taal nl of en." in answer.get_data(as_text=True)
    assert client.get("/api/v1/schools?lang=en").status_code == 200
    # A CORS preflight is answered for any URL, so that the client can read the real answer.
    assert client.options("/api/v1/schools?lang=AAA").status_code == 204


def test_every_cookie_is_secure_in_production(make_app, make_user):
    """Production keeps SESSION_COOKIE_SECURE on (config.py); every cookie follows it: the
    session (and a pending login in it), the language, the device of a failed login, the
    remember-me cookie."""
    app = make_app("production", SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    cookies = []
    answer = app.wsgi_app

    def recording(environ, start_response):
        """Every Set-Cookie as sent, the session's too (saved after the last hook)."""

        def start(status, headers, *rest):
            cookies.extend(value for name, value in headers if name.lower() == "set-cookie")
            return start_response(status, headers, *rest)

        return answer(environ, start)

    app.wsgi_app = recording
    client.get("/scholen?lang=en")
    client.get("/inloggen")
    email = make_user("coordinator")
    sign_in(app, client, email, password="wrong password, long enough")
    assert sign_in(app, client, email).status_code == 302
    client.get("/admin/")
    client.post("/uitloggen", data={"csrf_token": _csrf(client)})
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {"lang", "session"} <= names, names
    insecure = [cookie for cookie in cookies if "; Secure" not in cookie]
    assert insecure == []


def _csrf(client) -> str:
    return csrf_from(client.get("/account").get_data(as_text=True))


def test_gunicorn_sends_one_date_and_head_as_get(seeded_app, database, tmp_path):
    """Over the wire, as a proxy sees it: a page the cache answered carried two Dates."""
    with gunicorn_serving(database, tmp_path) as (port, _log):
        # /scholen twice: the second answer comes from the page cache.
        paths = ("/scholen", "/scholen", "/scholen.csv", "/api/v1/boards", f"/static/{STATIC_FILE}")
        for path in paths:
            answers = {}
            for method in ("GET", "HEAD"):
                connection = HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request(method, path, headers={"Accept-Encoding": "gzip"})
                answer = connection.getresponse()
                answer.read()
                assert len(answer.headers.get_all("Date")) == 1, (method, path)
                answers[method] = {
                    name.lower(): value
                    for name, value in answer.getheaders()
                    if name.lower() not in ("date", "x-cache")
                }
                connection.close()
            assert answers["HEAD"] == answers["GET"], path
        # A long address (6 kB: unknown parameters, say) reaches the app, which answers an API
        # client in the API's shape; gunicorn's own limit (4 kB) answered a bare HTML 400.
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/schools?q=" + "x" * 6000)
        answer = connection.getresponse()
        assert answer.status == 400 and answer.getheader("Content-Type") == "application/json"
        assert answer.getheader("Access-Control-Allow-Origin") == "*" and b"q" in answer.read()
        connection.close()
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/?lang=en")
        cookie = connection.getresponse().getheader("Set-Cookie")
        assert cookie.startswith("lang=en") and "Secure" in cookie
        connection.close()
