"""Answers travel compressed where the client asks (gzip, brotli), from the app itself: under
the test client and under gunicorn; the page cache keeps the plain body."""

import gzip
from urllib.request import Request, urlopen

import brotli
from helpers import gunicorn_serving

LEAFLET = "/static/vendor/leaflet/leaflet.js"


def test_pages_data_and_static_files_are_compressed_as_asked(client):
    for path in ("/scholen", "/scholen.json", "/sitemap.xml", LEAFLET, "/static/css/site.css"):
        plain = client.get(path)
        assert plain.headers.get("Content-Encoding") is None
        zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(zipped.data) == plain.data, path
        squeezed = client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert squeezed.headers["Content-Encoding"] == "br", path
        assert brotli.decompress(squeezed.data) == plain.data, path
        assert "Accept-Encoding" in zipped.headers["Vary"]
    page = client.get("/scholen", headers={"Accept-Encoding": "gzip"})
    assert len(page.data) < len(client.get("/scholen").data) / 3


def test_the_page_cache_keeps_the_plain_page_for_clients_that_take_no_compression(client):
    first = client.get("/scholen?q=meppel", headers={"Accept-Encoding": "gzip"})
    again = client.get("/scholen?q=meppel")
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    assert again.data.startswith(b"<!doctype html>")
    assert gzip.decompress(first.data) == again.data


def test_a_compressed_static_file_still_answers_a_revalidation_with_304(client):
    first = client.get(LEAFLET, headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = client.get(LEAFLET, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_gunicorn_serves_compressed(seeded_app, database, tmp_path):
    with gunicorn_serving(database, tmp_path) as (port, _log):
        for path in ("/scholen", LEAFLET):
            request = Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Encoding": "gzip"})
            with urlopen(request, timeout=10) as answer:
                assert answer.headers["Content-Encoding"] == "gzip", path
                assert gzip.decompress(answer.read())
