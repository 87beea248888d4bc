"""Support a parent can find: extra support by default, the level in every row and file, the
parents' own words, and no dead end when a tick leaves nothing."""

import csv
import io

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import ParentWord, School, SchoolSupport, SupportArea, SupportLevel
from registry.seed import load_seed


def record(app, code, area, level):
    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode=code))
        area = db.session.scalar(select(SupportArea).filter_by(code=area))
        db.session.add(SchoolSupport(school=school, support_area=area, level=level))
        db.session.commit()
        return school.name


@pytest.fixture
def meppel_support(seeded_app):
    """Two Meppel schools with support in gedrag: one basis, one extra."""
    with seeded_app.app_context():
        codes = db.session.scalars(
            select(School.vestigingscode)
            .where(School.place == "MEPPEL", School.is_open)
            .order_by(School.name)
            .limit(2)
        ).all()
    basis = record(seeded_app, codes[0], "gedrag", SupportLevel.BASIS)
    extra = record(seeded_app, codes[1], "gedrag", SupportLevel.EXTRA)
    return basis, extra


def test_a_support_filter_finds_extra_support_and_the_row_says_so(client, meppel_support):
    basis, extra = meppel_support
    page = client.get("/scholen?gemeente=meppel&ondersteuning=gedrag").get_data(as_text=True)
    assert extra in page and basis not in page
    assert "Gedrag: extra ondersteuning" in page
    assert "1 school" in page
    both = client.get("/scholen?gemeente=meppel&ondersteuning=gedrag&niveau=basis")
    html = both.get_data(as_text=True)
    assert basis in html and extra in html and "Gedrag: basisondersteuning" in html
    data = client.get("/scholen.json?gemeente=meppel&ondersteuning=gedrag").get_json()
    assert [s["name"] for s in data["schools"]] == [extra]
    assert data["schools"][0]["support_levels"] == "Gedrag: extra"
    counts = {f["value"]: f["count"] for f in data["facets"]["ondersteuning"]}
    assert counts["gedrag"] == data["total"] == 1  # the count agrees with the list it leads to
    wide = client.get("/scholen.json?gemeente=meppel&niveau=basis").get_json()
    assert {f["value"]: f["count"] for f in wide["facets"]["ondersteuning"]}["gedrag"] == 2


def test_the_api_and_the_files_carry_the_levels(client, meppel_support):
    _basis, extra = meppel_support
    api = client.get("/api/v1/schools?gemeente=meppel&ondersteuning=gedrag").get_json()
    assert [s["support_levels"] for s in api["items"]] == ["Gedrag: extra"]
    text = client.get(
        "/scholen.csv?gemeente=meppel&niveau=basis&kolom=name&kolom=support_levels"
    ).get_data(as_text=True)
    rows = {r["name"]: r["support_levels"] for r in csv.DictReader(io.StringIO(text))}
    assert rows[extra] == "Gedrag: extra" and "Gedrag: basis" in rows.values()
    english = client.get("/scholen.json?gemeente=meppel&ondersteuning=gedrag&lang=en").get_json()
    assert english["schools"][0]["support_levels"] == "Behaviour: extra"


def test_an_unknown_level_is_a_clear_400(client):
    assert client.get("/scholen?niveau=veel").status_code == 400
    api = client.get("/api/v1/schools?niveau=veel")
    assert api.status_code == 400 and "niveau" in api.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("word", "area", "label"),
    [
        ("dyslexie", "leren", "Leren"),
        ("gedrag", "gedrag", "Gedrag"),
        ("ADHD", "gedrag", "Gedrag"),
        ("autisme", "gedrag", "Gedrag"),
        ("hoogbegaafd", "extra-uitdaging", "Extra uitdaging (meer- en hoogbegaafdheid)"),
        ("sociaal-emotioneel", "gedrag", "Gedrag"),
        ("TOS", "spraak-taal", "Spraak- en taalontwikkeling"),
    ],
)
def test_a_parents_word_offers_the_support_filter(client, word, area, label):
    data = client.get(f"/scholen.json?q={word}").get_json()
    [offer] = data["support_suggestions"]
    assert offer["value"] == area
    assert offer["message"] == f"Bedoelde u: scholen met extra ondersteuning bij {label}?"
    assert f"ondersteuning={area}" in offer["url"] and "q=" not in offer["url"]
    page = client.get(f"/scholen?q={word}").get_data(as_text=True)
    assert "Bedoelde u: scholen met extra ondersteuning bij" in page


def test_the_other_words_stay_in_the_offered_search(client):
    data = client.get("/scholen.json?q=dyslexie+meppel").get_json()
    assert data["support_suggestions"][0]["url"] == "/scholen?q=meppel&ondersteuning=leren"


def test_coordinators_keep_the_words_and_the_seed_has_them(seeded_app, login):
    with seeded_app.app_context():
        words = set(db.session.scalars(select(ParentWord.word)))
        assert {"dyslexie", "adhd", "hoogbegaafd", "nt2", "rolstoel", "tos"} <= words
        assert "parent words" not in load_seed()  # seeding again adds none
    client = login("coordinator")
    listing = client.get("/admin/parent_word/").get_data(as_text=True)
    assert "dyslexie" in listing
    assert login("medewerker").get("/admin/parent_word/new/").status_code in (302, 403)


def test_a_word_a_coordinator_adds_is_offered_at_once(seeded_app, client):
    with seeded_app.app_context():
        area = db.session.scalar(select(SupportArea).filter_by(code="leren"))
        db.session.add(ParentWord(word="Bijles", support_area=area))
        db.session.commit()
    data = client.get("/scholen.json?q=bijles").get_json()
    assert [s["value"] for s in data["support_suggestions"]] == ["leren"]


def test_with_nothing_found_every_filter_group_stays_and_the_best_way_out_is_named(client):
    data = client.get("/scholen.json?gemeente=meppel&ondersteuning=gedrag").get_json()
    assert data["total"] == 0
    groups = set(data["facets"])
    everything = set(client.get("/scholen.json").get_json()["facets"])
    assert groups == everything
    assert all(data["facets"][g] for g in groups)
    assert data["without"][0] == {"filter": "ondersteuning", "value": "gedrag", "total": 17}
    page = client.get("/scholen?gemeente=meppel&ondersteuning=gedrag").get_data(as_text=True)
    assert "De meeste scholen vindt u zonder het filter Ondersteuning: 17 scholen." in page
    assert 'id="facet-gemeente"' in page and 'id="facet-type"' in page


def test_a_ticked_value_that_gives_nothing_keeps_its_name(client):
    data = client.get("/scholen.json?gemeente=meppel&ondersteuning=gedrag").get_json()
    ticked = [v for v in data["facets"]["gemeente"] if v["selected"]]
    assert ticked == [{"value": "meppel", "label": "Meppel", "count": 0, "selected": True}]


def test_every_parents_word_leaves_the_offered_search(client):
    data = client.get("/scholen.json?q=dyslexie+adhd").get_json()
    urls = {s["value"]: s["url"] for s in data["support_suggestions"]}
    assert urls == {
        "leren": "/scholen?ondersteuning=leren",
        "gedrag": "/scholen?ondersteuning=gedrag",
    }
    asked = client.get("/scholen.json?q=dyslexie&ondersteuning=leren").get_json()
    assert asked["support_suggestions"][0]["url"] == "/scholen?ondersteuning=leren"
