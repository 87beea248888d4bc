"""Bytes no browser sends, sent raw through a socket to gunicorn: a 200 or a clear 400 (or the
page's own 302/404), never a 500.

Werkzeug's test client and its development server both turn such bytes into valid UTF-8 before
the app sees them; gunicorn hands them on as they came, so only a real gunicorn shows the app's
answer (a raw 0xE9 in the query string was a 500 on every route).
"""

import socket

import pytest
from helpers import gunicorn_serving

ROUTES = [
    "/healthz",
    "/scholen",
    "/scholen.json",
    "/admin/",
    "/inloggen",
    "/api/v1/schools",
    "/wachtwoord-vergeten",
    "/inloggen/code",
    "/tweede-factor/instellen",
    "/uitnodiging/" + "A" * 43,
]
# What follows the route in the request line: raw bytes, and the same percent-encoded.
QUERIES = [
    b"?x=\xe9",
    b"?x=%E9",
    b"?q=\xe9&lang=\xe9",
    b"?q=caf\xc3\xa9",
    b"?\xff\xfe=\x80",
    b"?next=/\xe9&url=\xe9",
    b"?q=\xe9%E9\xc3",
    b"\xe9",
    b"/\xe9?x=\xe9",
]
HEADERS = [
    b"Referer: http://127.0.0.1/\xe9",
    b"Cookie: session=\xe9; lang=\xe9",
    b"Host: 127.0.0.1\xe9",
    b"Accept-Language: \xe9",
    b"User-Agent: \xe9\xff",
    b"If-None-Match: \xe9",
    b"X-Forwarded-Host: \xe9",
    b"Accept: text/\xe9",
]


def send(port: int, request: bytes) -> tuple[int, bytes]:
    """The status and the whole answer of one raw request (the connection closes after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", *headers]
    if not any(h.lower().startswith(b"host:") for h in headers):
        lines.append(b"Host: 127.0.0.1")
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


@pytest.fixture(scope="module")
def gunicorn(databases, tmp_path_factory):
    """One gunicorn for this file, on a copy of the seeded database; its port and its log."""
    folder = tmp_path_factory.mktemp("raw_bytes")
    location = databases.new(folder, "seeded")
    try:
        with gunicorn_serving(databases.config(location), folder) as served:
            yield served
    finally:
        databases.drop(location)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("route", ROUTES)
def test_raw_bytes_in_the_address_are_never_a_server_error(gunicorn, route, query):
    port, log = gunicorn
    status, answer = send(port, get(route.encode() + query))
    assert status < 500, answer[:2000].decode("latin-1") + log.read_text()[-3000:]


@pytest.mark.parametrize("route", ROUTES)
def test_a_raw_byte_in_the_query_reads_as_its_percent_encoded_form(gunicorn, route):
    port, _log = gunicorn
    raw = send(port, get(route.encode() + b"?q=\xe9"))[0]
    assert raw == send(port, get(route.encode() + b"?q=%E9"))[0]


@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("route", ROUTES)
def test_raw_bytes_in_headers_are_never_a_server_error(gunicorn, route, header):
    port, log = gunicorn
    status, answer = send(port, get(route.encode(), header))
    assert status < 500, answer[:2000].decode("latin-1") + log.read_text()[-3000:]


def test_raw_bytes_in_a_posted_form_are_a_clear_400(gunicorn):
    port, _log = gunicorn
    body = b"email=\xe9%E9&password=\xff&csrf_token=\xe9"
    request = (
        b"POST /inloggen?next=\xe9 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    status, answer = send(port, request)
    assert status == 400, answer[:2000]
    assert b"Het formulier is verlopen" in answer


def test_the_log_holds_no_traceback(gunicorn):
    """Run last in this file: nothing above left an exception behind in gunicorn's log."""
    _port, log = gunicorn
    assert "Traceback" not in log.read_text(errors="replace")
