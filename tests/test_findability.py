"""What search engines and phones read: robots.txt, the sitemap, icons, meta descriptions and
each school's facts as schema.org JSON-LD that matches its page."""

import io
import json
import re
import xml.etree.ElementTree as ET

from PIL import Image
from sqlalchemy import select

from registry.db import db
from registry.models import Board, Municipality, Network, School

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# The schema.org properties each type used here has (its own and those it inherits from
# EducationalOrganization, Organization, Place and Thing), as schema.org defines them.
THING = {"@context", "@type", "@id", "name", "identifier", "url", "mainEntityOfPage", "sameAs"}
ORGANIZATION = THING | {"address", "email", "telephone", "parentOrganization", "location"}
PLACE = THING | {"address", "geo", "telephone"}
PROPERTIES = {
    "School": ORGANIZATION | PLACE,
    "ElementarySchool": ORGANIZATION | PLACE,
    "Organization": ORGANIZATION,
    "PostalAddress": {"@type", "streetAddress", "postalCode", "addressLocality", "addressCountry"},
    "GeoCoordinates": {"@type", "latitude", "longitude"},
}


def test_robots_allow_the_directory_and_name_the_sitemap(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /admin/" in text and "Allow: /" in text
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in text


def test_the_sitemap_lists_every_open_record_with_the_date_it_changed(seeded_app, client):
    with seeded_app.app_context():
        closing = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        closing.closed_on = closing.opened_on or closing.created_at.date()
        db.session.commit()
        open_codes = set(db.session.scalars(select(School.vestigingscode).where(School.is_open)))
        boards = set(
            db.session.scalars(select(Board.board_number).join(School).where(School.is_open))
        )
        municipalities = set(db.session.scalars(select(Municipality.slug)))
        networks = set(db.session.scalars(select(Network.slug)))
        school = db.session.scalar(select(School).filter_by(vestigingscode="19SK00"))
        changed = school.updated_at.date().isoformat()
    root = ET.fromstring(client.get("/sitemap.xml").data)
    entries = {
        u.find(f"{SITEMAP}loc").text: getattr(u.find(f"{SITEMAP}lastmod"), "text", None)
        for u in root.findall(f"{SITEMAP}url")
    }
    paths = {re.sub(r"^http://127\.0\.0\.1:5000", "", loc) for loc in entries}
    assert {f"/scholen/{code}" for code in open_codes} <= paths
    assert "/scholen/05SX00" not in paths  # closed
    assert {f"/besturen/{n}" for n in boards} <= paths
    assert {f"/gemeenten/{m}" for m in municipalities} <= paths
    assert {f"/netwerken/{n}" for n in networks} <= paths
    assert {"/", "/scholen", "/over"} <= paths
    assert entries["http://127.0.0.1:5000/scholen/19SK00"] == changed
    assert all(client.get(path).status_code == 200 for path in sorted(paths)[:40])


def test_icons_and_the_manifest_are_real_images(client):
    assert client.get("/favicon.ico").status_code == 200
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    for icon in manifest.get_json()["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).data))
        assert f"{image.width}x{image.height}" == icon["sizes"]
    page = client.get("/").get_data(as_text=True)
    for href in re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page):
        assert client.get(href).status_code == 200, href


def test_every_public_page_says_what_is_on_it(client):
    descriptions = {}
    for path in (
        "/",
        "/scholen",
        "/scholen/19SK00",
        "/besturen/41196",
        "/gemeenten/meppel",
        "/over",
    ):
        html = client.get(path).get_data(as_text=True)
        [description] = re.findall(r'<meta name="description" content="([^"]+)">', html)
        descriptions[path] = description
    assert descriptions["/scholen/19SK00"].startswith("REC Mackay, speciaal")
    assert "Stichting WIES" in descriptions["/besturen/41196"]
    assert len(set(descriptions.values())) == len(descriptions)


def check(node: dict) -> None:
    kind = node["@type"]
    assert set(node) <= PROPERTIES[kind], (kind, set(node) - PROPERTIES[kind])
    for value in node.values():
        if isinstance(value, dict):
            check(value)


def test_every_school_page_carries_its_facts_as_valid_json_ld(seeded_app, client):
    with seeded_app.app_context():
        codes = db.session.scalars(select(School.vestigingscode).where(School.is_open)).all()
    for code in codes:
        html = client.get(f"/scholen/{code}").get_data(as_text=True)
        [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        data = json.loads(block)
        check(data)
        assert data["identifier"] == code and data["@context"] == "https://schema.org"
        assert f"<h1>{data['name']}</h1>".replace("&", "&amp;").replace("'", "&#39;") in html
        if "telephone" in data:
            assert data["telephone"] in html
        if "address" in data:
            assert data["address"]["postalCode"] in html
        assert data["parentOrganization"]["name"] in html.replace("&#39;", "'")


def test_json_ld_cannot_close_its_script_element(seeded_app, client):
    with seeded_app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="19SK00"))
        school.name = "</script><script>alert(1)</script>"
        db.session.commit()
    html = client.get("/scholen/19SK00").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(block)["name"] == "</script><script>alert(1)</script>"
