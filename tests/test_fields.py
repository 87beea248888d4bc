"""Each grouping's fields are declared once (fields.GROUP_FIELDS) and every surface shows what is
declared there: the API's items, the OpenAPI document, the lists' downloads and the admin's labels.
A new column of a group's table fails here until it is declared public or named internal."""

import csv
import io

import pytest

from registry import fields
from registry.admin.views import LABELS
from registry.groupings import GROUPINGS

# Columns that are the registry's own bookkeeping or not public, per grouping: never in the API.
INTERNAL = {
    "bestuur": {"id", "created_at", "updated_at", "version", "other_names"},
    "gemeente": {"id", "created_at", "updated_at", "version"},
    "netwerk": {"id", "created_at", "updated_at", "version"}
    | {"contact_name", "contact_email", "contact_phone"},  # a person's details, for the admin
}
API_LISTS = {"bestuur": "boards", "gemeente": "municipalities", "netwerk": "networks"}
FACETS = list(GROUPINGS)


@pytest.mark.parametrize("facet", FACETS)
def test_every_column_of_a_group_is_declared_public_or_internal(facet):
    mapper = GROUPINGS[facet].model.__mapper__
    columns = {attribute.key for attribute in mapper.column_attrs}
    declared = {f.source for f in fields.GROUP_FIELDS[facet]}
    assert columns - declared == INTERNAL[facet]
    assert declared - columns <= {r.key for r in mapper.relationships}


@pytest.mark.parametrize("facet", FACETS)
def test_the_api_and_its_document_give_exactly_the_declared_fields(client, facet):
    keys = [f.key for f in (*fields.GROUP_FIELDS[facet], *fields.GROUP_TOTALS)]
    items = client.get(f"/api/v1/{API_LISTS[facet]}").get_json()["items"]
    assert items and all(list(item) == keys for item in items)
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"][GROUPINGS[facet].model.__name__]
    assert list(schema["properties"]) == keys


@pytest.mark.parametrize("facet", FACETS)
def test_a_list_download_has_the_exported_fields_under_their_labels(client, facet):
    exported = [f for f in (*fields.GROUP_FIELDS[facet], *fields.GROUP_TOTALS) if f.exported]
    answer = client.get(f"/{GROUPINGS[facet].listing}.csv")
    header = next(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert header == [f.key for f in exported]
    answer = client.get(f"/{GROUPINGS[facet].listing}.excel.csv")
    header = answer.get_data(as_text=True).lstrip("\ufeff").splitlines()[0].split(";")
    assert header == [str(f.label) for f in exported]


@pytest.mark.parametrize("facet", FACETS)
def test_the_admin_labels_a_group_field_as_the_site_does(seeded_app, facet):
    with seeded_app.test_request_context():
        for f in fields.GROUP_FIELDS[facet]:
            assert str(LABELS[f.source]) == str(f.label), f.key
