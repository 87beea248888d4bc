"""Every way of naming a thing finds it: filter values in any spelling, a forgiving search."""

import io

import openpyxl
import pytest

from registry.spelling import KnownValues, Vocabulary, phrases, type_words, typo_allowance

MEPPEL_SCHOOLS = 17


def names(client, query: str) -> list[str]:
    return [s["name"] for s in client.get(f"/scholen.json?{query}").json["schools"]]


def total(client, query: str) -> int:
    return client.get(f"/scholen.json?{query}").json["total"]


@pytest.mark.parametrize("spelling", ["meppel", "Meppel", "MEPPEL", "GM0119", "gm0119", "0119"])
def test_a_municipality_in_any_spelling_gives_its_schools_on_every_surface(client, spelling):
    assert total(client, f"gemeente={spelling}") == MEPPEL_SCHOOLS
    page = client.get(f"/scholen?gemeente={spelling}")
    if spelling == "meppel":
        assert page.status_code == 200
    else:  # one canonical URL, so shared links and caches converge
        assert page.status_code == 301
        assert page.headers["Location"] == "/scholen?gemeente=meppel"
    api = client.get(f"/api/v1/schools?gemeente={spelling}")
    assert api.status_code == 200 and api.json["total"] == MEPPEL_SCHOOLS
    csv = client.get(f"/scholen.csv?gemeente={spelling}")
    assert csv.status_code == 200
    assert len(csv.get_data(as_text=True).strip().splitlines()) == 1 + MEPPEL_SCHOOLS
    assert "scholen-meppel" in csv.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/scholen.xlsx?gemeente={spelling}").data)
    ).active
    assert sheet.max_row == 1 + MEPPEL_SCHOOLS


def test_the_canonical_value_is_what_the_filters_then_show(client):
    facets = client.get("/scholen.json?gemeente=MEPPEL").json["facets"]["gemeente"]
    meppel = [f for f in facets if f["label"] == "Meppel"]
    assert meppel == [{"value": "meppel", "label": "Meppel", "count": 17, "selected": True}]


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("richting=openbaar", "richting=Openbaar"),
        ("richting=OPENBAAR", "richting=Openbaar"),
        ("type=sbo", "type=SBO"),
        ("type=Speciaal+basisonderwijs", "type=SBO"),
        ("type=so%2Bvso", "type=SO%2BVSO"),
        ("plaats=Hoogeveen", "plaats=hoogeveen"),
        ("bestuur=Stichting+WIES", "bestuur=41196"),
        ("ondersteuning=Gedrag", "ondersteuning=gedrag"),
        ("ondersteuning=behaviour", "ondersteuning=gedrag"),
    ],
)
def test_other_filters_take_their_names_and_codes(client, query, canonical):
    found = client.get(f"/scholen.json?{query}").json
    assert found["total"] > 0 or query.startswith("ondersteuning"), query
    assert found["unknown"] == []
    if canonical:
        page = client.get(f"/scholen?{query}")
        assert page.status_code == 301 and page.headers["Location"] == f"/scholen?{canonical}"


def test_a_network_by_its_name(client, ctx):
    from registry.db import db
    from registry.models import Network

    network = db.session.scalars(db.select(Network)).first()
    by_slug = total(client, f"netwerk={network.slug}")
    assert by_slug > 0
    assert total(client, f"netwerk={network.name.upper()}") == by_slug


def test_an_unknown_value_is_named_with_the_nearest_known_one(client):
    found = client.get("/scholen.json?gemeente=Mepel").json
    assert found["total"] == 0
    assert found["unknown"] == [
        {
            "filter": "gemeente",
            "value": "Mepel",
            "suggestion": "meppel",
            "message": "Gemeente “Mepel” kennen we niet. Bedoelde u Meppel?",
        }
    ]
    page = client.get("/scholen?gemeente=Mepel")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Gemeente “Mepel” kennen we niet." in html
    assert '<a href="/scholen?gemeente=meppel">Bedoelde u Meppel?</a>' in html
    api = client.get("/api/v1/schools?gemeente=Mepel")
    assert api.status_code == 400
    assert "Bedoelde u Meppel?" in api.json["error"]["message"]
    assert client.get("/scholen.csv?gemeente=Mepel").status_code == 400
    far = client.get("/scholen.json?gemeente=Utrecht").json["unknown"][0]
    assert far["suggestion"] is None and far["message"] == "Gemeente “Utrecht” kennen we niet."


def test_an_unknown_type_is_a_message_not_an_error(client):
    page = client.get("/scholen?type=xyz")
    assert page.status_code == 200
    assert "Soort school “xyz” kennen we niet." in page.get_data(as_text=True)
    assert client.get("/api/v1/schools?type=xyz").status_code == 400


def test_the_language_survives_the_redirect(client):
    page = client.get("/scholen?gemeente=Meppel&lang=en")
    assert page.headers["Location"] == "/scholen?gemeente=meppel&lang=en"


def test_a_group_page_redirects_its_filters_too(client):
    page = client.get("/gemeenten/meppel?richting=openbaar")
    assert page.status_code == 301
    assert page.headers["Location"] == "/gemeenten/meppel?richting=Openbaar"


# The forgiving search.


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hogeveen", "hoogeveen"),
        ("meppl", "meppel"),
        ("arendvleugel", "arendsvleugel"),
    ],
)
def test_a_typo_finds_what_was_meant_and_says_so(client, typed, expected):
    exact = client.get(f"/scholen.json?q={expected}").json
    forgiven = client.get(f"/scholen.json?q={typed}").json
    assert exact["total"] > 0
    assert forgiven["total"] == exact["total"]
    assert forgiven["corrected_q"] == expected
    html = client.get(f"/scholen?q={typed}").get_data(as_text=True)
    assert f'q={expected}">Bedoelde u {expected}?</a>' in html


def test_the_place_typed_with_a_typo_lists_that_places_schools(client):
    assert total(client, "q=hogeveen") >= total(client, "plaats=hoogeveen") > 10


@pytest.mark.parametrize(
    "typed", ["sint bernardus", "st. bernardus", "St Bernardus", "bs sint bernardus"]
)
def test_sint_finds_st_and_back(client, typed):
    assert names(client, f"q={typed}") == ["Basisschool St Bernardus"]


def test_abbreviations_of_school_names_work_both_ways(client):
    full = "Protestants Christelijke Basisschool De Arendsvleugel"
    assert full in names(client, "q=pcb+arendsvleugel")
    assert full in names(client, "q=pcbs+de+arendsvleugel")


def test_type_words_act_as_the_type_filter(client):
    sbo = total(client, "type=SBO")
    assert sbo == 4
    assert total(client, "q=sbo") == sbo
    assert total(client, "q=speciaal+basisonderwijs") == sbo
    page = client.get("/scholen?q=sbo")
    assert page.status_code == 301 and page.headers["Location"] == "/scholen?type=SBO"
    assert total(client, "q=speciaal+onderwijs") == total(client, "type=SO")


def test_short_words_are_not_corrected_and_known_prefixes_are_kept(client):
    assert client.get("/scholen.json?q=mep").json["corrected_q"] is None
    assert client.get("/scholen.json?q=xqz").json["total"] == 0


def test_the_exact_name_comes_first_then_names_that_start_with_the_text(client):
    found = names(client, "q=protestants+christelijke+basisschool+de+arendsvleugel")
    assert found[0] == "Protestants Christelijke Basisschool De Arendsvleugel"
    ranked = names(client, "q=meppel")
    # Schools named after the place come before the rest of the place's schools.
    starting = [n for n in ranked if n.lower().startswith("meppel")]
    assert ranked[: len(starting)] == starting


def test_an_explicit_order_is_kept_with_text(client):
    by_name = names(client, "q=hoogeveen&sort=naam")
    assert by_name == sorted(by_name, key=str.lower)


# The pure parts.


def test_typo_allowance_grows_with_the_word():
    assert [typo_allowance(w) for w in ("abc", "abcd", "abcdefg", "abcdefgh")] == [0, 1, 1, 2]


def test_phrases_keep_known_groups_together():
    assert phrases("CBS De Regenboog") == ["cbs", "de", "regenboog"]
    assert phrases("Christelijke Basisschool Regenboog") == [
        "christelijke basisschool",
        "regenboog",
    ]
    assert type_words("SBO de Vlinder") == ("de vlinder", ("SBO",))
    assert type_words("speciaal onderwijs") == ("", ("SO",))


def test_known_values_resolve_and_suggest():
    known = KnownValues.build(
        [("meppel", "Meppel", ("GM0119", "0119")), ("de-wolden", "De Wolden", ())]
    )
    assert known.resolve("Méppel") == "meppel"
    assert known.resolve("gm0119") == "meppel"
    assert known.resolve("De  Wolden") == "de-wolden"
    assert known.resolve("Meppe") is None
    assert known.nearest("Mepel") == "meppel"
    assert known.nearest("Amsterdam") is None


def test_the_vocabulary_corrects_only_unknown_words_within_the_allowance():
    vocabulary = Vocabulary.build([" 05sx00 de arendsvleugel meppel", " hoogeveen"])
    assert vocabulary.corrections("arendvleugel") == ["arendsvleugel"]
    assert Vocabulary.build([" mepel meppal meppen"]).corrections("meppl") == ["mepel", "meppal"]
    assert vocabulary.corrections("arend") == []  # a known prefix
    assert vocabulary.corrections("hogeven") == []  # two edits in a 7-letter word
    assert vocabulary.corrections("hogeveen") == ["hoogeveen"]


def test_a_page_past_the_last_is_a_404_with_the_last_page_named(client):
    page = client.get("/scholen?gemeente=meppel&page=9")
    assert page.status_code == 404
    assert "Pagina 9 bestaat niet; de laatste pagina is 1." in page.get_data(as_text=True)
    assert client.get("/scholen?q=xqzzy").status_code == 200  # page 1 of nothing exists
