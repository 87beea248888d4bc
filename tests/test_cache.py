"""The public page cache: served again while nothing changed, never older than the data."""

from datetime import date

from helpers import form_fields, with_values
from sqlalchemy import select

from registry.cache import SEARCH_PARAMETERS
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import NEW, compare
from registry.duo.files import read_duo_file
from registry.filters import FACETS
from registry.models import School
from registry.search import SchoolSearch

PAGE = "/scholen?q=arendsvleugel"


def test_a_page_is_served_from_the_cache_until_the_data_changes(seeded_app, login):
    visitor = seeded_app.test_client()
    first, second = visitor.get(PAGE), visitor.get(PAGE)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert first.data == second.data
    assert visitor.get(PAGE, headers={"If-None-Match": second.headers["ETag"]}).status_code == 304

    coordinator = login("coordinator")
    fields = form_fields(coordinator.get("/admin/school/edit/?id=1").get_data(as_text=True))
    saved = coordinator.post(
        "/admin/school/edit/?id=1", data=with_values(fields, name="Arendsvleugel Ruinerwold")
    )
    assert saved.status_code == 302
    after = visitor.get(PAGE)
    assert after.headers["X-Cache"] == "miss"
    assert "Arendsvleugel Ruinerwold" in after.get_data(as_text=True)
    # Logged in, a page is never shared.
    assert "X-Cache" not in coordinator.get(PAGE).headers


def test_every_worker_sees_a_write_made_through_another(seeded_app, make_app):
    """Two app instances on one database, as two gunicorn workers or two servers."""
    worker, other = seeded_app, make_app("other-worker")
    client = worker.test_client()
    assert "05SX01" not in client.get("/scholen.json?q=05SX").get_data(as_text=True)
    assert client.get("/scholen.json?q=05SX").headers["X-Cache"] == "hit"
    duo = read_duo_file(
        b"VESTIGINGSCODE;INSTELLINGSCODE;VESTIGINGSNAAM;STRAATNAAM;HUISNUMMER-TOEVOEGING;"
        b"POSTCODE;PLAATSNAAM;GEMEENTENUMMER;GEMEENTENAAM;PROVINCIE;DENOMINATIE;TELEFOONNUMMER;"
        b"INTERNETADRES;BEVOEGD GEZAG NUMMER\r\n"
        b"05SX01;05SX;Dependance;Bleekhof;2;7961 AW;RUINERWOLD;1690;DE WOLDEN;Drenthe;"
        b"Openbaar; ; ;41196\r\n",
        "02.csv",
    )
    with other.app_context():
        # DUO's new locations are inserted past the ORM, in bulk: they raise the version too.
        apply_comparison(compare([duo], Area.from_file()), kinds=[NEW])
        db.session.remove()
    fresh = client.get("/scholen.json?q=05SX")
    assert fresh.headers["X-Cache"] == "miss"
    assert "05SX01" in fresh.get_data(as_text=True)
    with worker.app_context():
        assert db.session.scalar(select(School.name).filter_by(vestigingscode="05SX01"))


def test_each_language_has_its_own_page(seeded_app):
    client = seeded_app.test_client()
    dutch = client.get("/scholen", headers={"Accept-Language": "nl"})
    english = client.get("/scholen", headers={"Accept-Language": "en"})
    assert english.headers["X-Cache"] == "miss"
    assert dutch.get_data(as_text=True) != english.get_data(as_text=True)
    assert client.get("/scholen", headers={"Accept-Language": "en"}).headers["X-Cache"] == "hit"


def test_unknown_parameters_make_no_new_entry_and_never_reach_the_page(seeded_app):
    client = seeded_app.test_client()
    first = client.get("/scholen?gemeente=meppel&type=BAO&cb=1")
    second = client.get("/scholen?cb=2&type=BAO&utm_source=x&gemeente=meppel")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    # One key, one page: what the second URL renders on its own is what the cache gave it.
    seeded_app.config["PAGE_CACHE"] = False
    fresh = client.get("/scholen?type=BAO&gemeente=meppel&utm_source=y")
    assert "X-Cache" not in fresh.headers
    assert first.data == second.data == fresh.data
    page = first.get_data(as_text=True)
    assert "cb=" not in page and "utm_source" not in page
    assert "gemeente=meppel&amp;type=BAO&amp;lang=en" in page  # the language link, canonical


def test_the_parameters_a_page_reads_still_make_their_own_entries(client):
    meppel = client.get("/scholen.json?gemeente=meppel&cb=1")
    staphorst = client.get("/scholen.json?gemeente=staphorst&cb=1")
    assert staphorst.headers["X-Cache"] == "miss"
    assert meppel.json["total"] != staphorst.json["total"]
    assert client.get("/scholen.json?gemeente=meppel&page=2").headers["X-Cache"] == "miss"
    names = client.get("/scholen.xlsx?gemeente=meppel&kolom=name")
    assert names.headers["X-Cache"] == "miss"
    assert names.data != client.get("/scholen.xlsx?gemeente=meppel").data
    # ?lang= only picks the locale, which the key holds; a wrong value is refused before the
    # cache is asked (it was answered as the default language).
    client.get("/scholen?q=meppel")
    assert client.get("/scholen?q=meppel&lang=zz").status_code == 400
    # The search reads the first q only; a second one changes nothing and is dropped.
    assert client.get("/scholen?q=meppel&q=cb1").headers["X-Cache"] == "hit"
    english = client.get("/scholen?q=meppel&lang=en")
    assert english.headers["X-Cache"] == "miss" and 'lang="en"' in english.get_data(as_text=True)


def test_an_overview_is_keyed_on_its_reference_date_only(client):
    assert client.get("/overzichten/bestuur.xlsx").headers["X-Cache"] == "miss"
    assert client.get("/overzichten/bestuur.xlsx?q=x&page=9").headers["X-Cache"] == "hit"
    earlier = client.get("/overzichten/bestuur.xlsx?peildatum=2021-10-01")
    assert earlier.headers["X-Cache"] == "miss"
    again = client.get("/overzichten/bestuur.xlsx?peildatum=2021-10-01&peildatum=cb")
    assert again.headers["X-Cache"] == "hit"


def test_every_parameter_a_search_writes_is_one_the_cache_keeps():
    search = SchoolSearch(
        q="x",
        postcode="7941AB",
        filters={facet: ("v",) for facet in FACETS},
        sort="naam",
        page=2,
        reference=date(2025, 10, 1),
        support_level="basis",
    )
    assert {name for name, _value in search.args()} == SEARCH_PARAMETERS
