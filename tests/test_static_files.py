"""Static files under fingerprinted addresses, kept by browsers for a year, the same for all."""

import os
import re
import shutil

import pytest
from flask import url_for

from registry.static_files import YEAR, fingerprint


def static_links(html: str) -> list[str]:
    """The site's static files, and the admin's (Bootstrap, jQuery, Flask-Admin's scripts)."""
    return re.findall(r'(?:href|src)="(/(?:admin/)?static/[^"]+)"', html)


def test_every_static_address_carries_its_fingerprint_and_is_kept_a_year(client, login):
    pages = [client.get("/scholen").get_data(as_text=True)]
    pages.append(login("coordinator").get("/admin/").get_data(as_text=True))
    links = {link for page in pages for link in static_links(page)}
    assert any(link.startswith("/admin/static/") for link in links), links
    assert links and all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links), links
    staff = login("medewerker")
    for link in links:
        for visitor in (client, staff):
            answer = visitor.get(link)
            assert answer.status_code == 200, link
            control = answer.headers["Cache-Control"]
            assert f"max-age={YEAR}" in control and "immutable" in control, (link, control)
            assert "no-store" not in control and "no-cache" not in control
            assert "Cookie" not in answer.headers.get("Vary", ""), link
            assert "Set-Cookie" not in answer.headers, link  # no one's session in a shared cache


def test_another_fingerprint_is_not_kept(client):
    for other in (
        "/static/css/site.css?v=000000000000",
        "/admin/static/vendor/jquery.min.js?v=3.5.1",
    ):
        answer = client.get(other)
        assert answer.status_code == 200 and "immutable" not in answer.headers["Cache-Control"]


@pytest.fixture
def own_static_folder(seeded_app, tmp_path):
    """A copy of the static files that the test may change, served by the app."""
    folder = tmp_path / "static"
    shutil.copytree(seeded_app.static_folder, folder)
    seeded_app.static_folder = str(folder)
    return folder


def test_a_changed_file_gets_a_new_address(seeded_app, own_static_folder):
    with seeded_app.test_request_context():
        before = url_for("static", filename="css/site.css")
        (own_static_folder / "css" / "site.css").write_text("body { color: black; }\n")
        os.utime(own_static_folder / "css" / "site.css", (1, 1))  # another modification time
        after = url_for("static", filename="css/site.css")
    assert before != after


def test_a_file_is_found_by_what_is_there_now_not_by_what_was_there_when_first_asked(
    seeded_app, own_static_folder, tmp_path
):
    """Where a name leads is remembered; whether a file is there, and what it holds, is not."""
    later = own_static_folder / "css" / "later.css"
    (tmp_path / "outside.css").write_text("body {}\n")
    with seeded_app.test_request_context():
        assert fingerprint("css/later.css") is None
        later.write_text("body {}\n")
        assert fingerprint("css/later.css") is not None
        later.unlink()
        assert fingerprint("css/later.css") is None
        assert fingerprint("css") is None  # a folder is no file
        assert fingerprint("../outside.css") is None
        (own_static_folder / "css" / "linked.css").symlink_to(tmp_path / "outside.css")
        assert fingerprint("css/linked.css") is None  # a link out of the folder


def test_a_static_address_no_file_can_have_is_refused_not_a_500(client):
    """The error page links itself in the other language, through the fingerprinting: a NUL
    byte or an over-long name must not break it (it did for the site's own /static/%00)."""
    for path in ("/static/%00", "/static/css/%00x.css", "/admin/static/%00?v=1"):
        assert client.get(path).status_code == 400, path
    for path in ("/static/" + "a" * 5000, "/admin/static/" + "a" * 5000 + "?v=1"):
        assert client.get(path).status_code == 404, path
