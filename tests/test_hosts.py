"""Only the site's own hosts are answered, so no link or cached page can point anywhere else."""

import re

import pytest
from flask_migrate import upgrade
from helpers import database_url

from registry import create_app
from registry.config import trusted_hosts
from registry.db import db
from registry.seed import load_seed

SCHOOL = "/api/v1/schools/05SX00"
POISONED = ["/api/v1/schools/05SX00", "/scholen.json", "/api/v1/boards"]  # absolute links


def seeded(app):
    with app.app_context():
        upgrade()
        load_seed()
    return app


@pytest.mark.parametrize("path", POISONED)
def test_a_foreign_host_gets_our_400_and_the_next_visitor_the_right_links(client, path):
    refused = client.get(path, headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.json == {
        "error": {"status": 400, "message": "Deze site is niet bereikbaar via dit adres."}
    }
    served = client.get(path)
    assert served.status_code == 200
    assert "evil.example" not in served.get_data(as_text=True)
    assert "http://localhost/" in served.get_data(as_text=True)


def test_a_foreign_host_gets_the_dutch_error_page(client):
    refused = client.get("/scholen?q=meppel", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    text = refused.get_data(as_text=True)
    assert "Deze site is niet bereikbaar via dit adres." in text
    assert re.search(r'<link rel="stylesheet" href="/static/css/site\.css\?v=[0-9a-f]{12}">', text)
    assert "evil.example" not in text


def test_behind_the_proxy_a_foreign_forwarded_host_is_refused_too(make_app):
    client = seeded(make_app("behind", PROXY_COUNT=1)).test_client()
    for path in POISONED:
        assert client.get(path, headers={"X-Forwarded-Host": "evil.example"}).status_code == 400
    url = client.get(SCHOOL).json["url"]
    assert url == "http://localhost/scholen/05SX00"
    # The proxy's own name for the site is one the site answers to.
    forwarded = {"X-Forwarded-Host": "127.0.0.1:5000", "X-Forwarded-Proto": "https"}
    assert client.get(SCHOOL, headers=forwarded).json["url"] == (
        "https://127.0.0.1:5000/scholen/05SX00"
    )


def test_without_the_proxy_forwarded_headers_change_nothing(client):
    first = client.get(SCHOOL, headers={"X-Forwarded-Host": "evil.example"})
    assert first.json["url"] == "http://localhost/scholen/05SX00"


def test_a_page_rendered_for_one_trusted_host_is_not_served_to_another(make_app):
    client = seeded(make_app(TRUSTED_HOSTS=["localhost", "register.example.org"])).test_client()
    other = client.get(SCHOOL, headers={"Host": "register.example.org"})
    assert other.json["url"] == "http://register.example.org/scholen/05SX00"
    mine = client.get(SCHOOL)
    assert mine.headers["X-Cache"] == "miss"
    assert mine.json["url"] == "http://localhost/scholen/05SX00"
    assert client.get(SCHOOL).headers["X-Cache"] == "hit"


def test_by_default_the_public_url_and_local_hosts_are_trusted(make_app):
    app = seeded(make_app(PUBLIC_URL="https://register.swv2203.nl"))
    assert app.config["TRUSTED_HOSTS"] == ["register.swv2203.nl", "localhost", "127.0.0.1"]
    public = app.test_client().get(SCHOOL, base_url="https://register.swv2203.nl")
    assert public.json["url"] == "https://register.swv2203.nl/scholen/05SX00"


def test_registry_trusted_hosts_replaces_the_default(monkeypatch, database, tmp_path):
    monkeypatch.setenv("REGISTRY_TRUSTED_HOSTS", '["register.swv2203.nl"]')
    monkeypatch.setenv("REGISTRY_SECRET_KEY", "test-only-secret")
    monkeypatch.setenv("DATABASE_URL", database_url(database))
    app = seeded(create_app(instance_path=str(tmp_path / "instance")))
    try:
        client = app.test_client()
        accepted = client.get(SCHOOL, base_url="http://register.swv2203.nl")
        assert accepted.json["url"] == "http://register.swv2203.nl/scholen/05SX00"
        assert client.get(SCHOOL).status_code == 400  # localhost is no longer one of them
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, ["register.swv2203.nl", "localhost", "127.0.0.1"]),
        (["a.example"], ["a.example"]),
        ("a.example, b.example", ["a.example", "b.example"]),  # not JSON: a plain list
    ],
)
def test_trusted_hosts_setting(configured, expected):
    config = {"PUBLIC_URL": "https://Register.SWV2203.nl:8443/", "TRUSTED_HOSTS": configured}
    assert trusted_hosts(config) == expected
