"""The read-only JSON API, and its OpenAPI document checked by schemathesis."""

import schemathesis
from hypothesis import HealthCheck, given, settings


def test_schools_list_uses_the_directory_filters(client):
    page = client.get("/api/v1/schools?gemeente=meppel&type=SBO").json
    assert page["total"] == 1
    assert page["items"][0]["type"] == "SBO"
    first = client.get("/api/v1/schools").json
    assert first["total"] == 117 and first["pages"] == 5 and len(first["items"]) == 25
    assert "page=2" in first["links"]["next"]
    assert client.get("/api/v1/schools?page=5").json["links"].keys() == {"prev"}


def test_school_detail_and_errors_share_one_shape(client):
    school = client.get("/api/v1/schools/05SX00").json
    assert school["name"] == "Protestants Christelijke Basisschool De Arendsvleugel"
    assert [c["pupils"] for c in school["pupil_counts"]] == [82, 84, 84, 92, 98]
    missing = client.get("/api/v1/schools/05SX99")
    assert missing.status_code == 404
    assert missing.json == {
        "error": {"status": 404, "message": "Er is geen school met vestigingscode 05SX99."}
    }
    bad = client.get("/api/v1/schools?type=VO")
    assert bad.status_code == 400 and set(bad.json["error"]) == {"status", "message"}
    assert client.get("/api/v1/nothing").json["error"]["status"] == 404


def test_boards_municipalities_networks_and_support_areas(client):
    boards = client.get("/api/v1/boards").json
    assert boards["total"] == 19
    wies = client.get("/api/v1/boards/41196").json
    assert (wies["name"], wies["schools"], wies["kvk_number"]) == ("Stichting WIES", 14, "04060053")
    assert (wies["pupils"], wies["pupils_reference_date"]) == (2274, "2025-10-01")
    municipalities = {m["name"]: m for m in client.get("/api/v1/municipalities").json["items"]}
    assert municipalities["Staphorst"]["postcode_areas"] == ["7951", "7955"]
    assert sum(m["schools"] for m in municipalities.values()) == 117
    assert sum(m["pupils"] for m in municipalities.values()) == 16240
    networks = client.get("/api/v1/networks").json["items"]
    assert {n["slug"]: n["confirmed"] for n in networks} == {
        "hoogeveen": False,
        "meppel": False,
        "steenwijk": False,
    }
    assert "contact_email" not in networks[0]  # coordinators' contact details stay out
    assert client.get("/api/v1/support-areas").json["total"] == 6


def test_the_api_is_open_to_other_sites(client):
    assert client.get("/api/v1/boards").headers["Access-Control-Allow-Origin"] == "*"


# The WSGI transport hands schemathesis the body as sent; a real client unpacks what the site
# compresses (tests/test_compression.py), this one reads it plain.
PLAIN = {"Accept-Encoding": "identity"}


def test_the_api_does_what_its_openapi_document_says(seeded_app):
    """schemathesis generates requests for every operation and checks each answer against the
    document: no 500, declared status codes, content types and response schemas."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14  # a GET and a CORS preflight (OPTIONS) for each of 7 paths
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case):
            case.call_and_validate(headers=PLAIN)

        check()


def test_the_openapi_document_is_valid_and_declares_every_parameter_the_directory_takes(client):
    from openapi_spec_validator import validate

    from registry.cache import SEARCH_PARAMETERS
    from registry.filters import FILTERS

    document = client.get("/api/v1/openapi.json").json
    validate(document)
    listed = document["paths"]["/schools"]["get"]["parameters"]
    parameters = {p["name"]: p for p in listed if p["in"] == "query"}
    assert set(parameters) == SEARCH_PARAMETERS | {"lang"}
    assert parameters["lang"]["schema"]["enum"] == ["nl", "en"]
    # Empty is "not given", as an HTML form sends it.
    assert parameters["sort"]["schema"]["enum"] == ["", "naam", "plaats", "leerlingen", "afstand"]
    for declared in FILTERS:
        assert parameters[declared.name]["description"].startswith(declared.description)
    assert parameters["type"]["schema"]["items"]["enum"] == ["", "BAO", "SBO", "SO", "SO+VSO"]
