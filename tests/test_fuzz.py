"""The one fuzzer (hypothesis): whatever a visitor or coordinator sends, in a path, a query or a
form, never a 500 and never markup that runs. The deterministic attacks are in test_hostile.py."""

from helpers import csrf_from, form_fields, with_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.filters import FACETS

MARK = "<script>alert(1)</script>"
# Values that broke something once, or could: NUL (PostgreSQL refuses it), control characters,
# numbers past 64 bits, over-long text, dates that are not, formulas, SQL and LIKE wildcards.
HOSTILE = [
    MARK,
    "\"'><img src=x onerror=alert(1)>",
    "\x00",
    "%00",
    "a\x00b",
    "\x0b",
    "\x1b[31m",
    "\r\n",
    "😀",
    "ĲSSELMUIDEN",
    "9" * 30,
    "-9" * 20,
    "-1",
    "0",
    "2026-13-45",
    "1-10-2025",
    '=HYPERLINK("http://x","y")',
    " ",
    "x" * 5000,
    "..",
    "%",
    "_",
    "\\",
    "' OR 1=1 --",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b: a + MARK + b, st.text(max_size=4), st.text(max_size=4)),
)
FUZZ = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The public site: a hostile value in place of a record's key, and in any query parameter.
PUBLIC_PATHS = [
    "/scholen/{}",
    "/scholen/{}.json",
    "/scholen/{}/correctie",
    "/besturen/{}",
    "/gemeenten/{}",
    "/netwerken/{}",
    "/api/v1/schools/{}",
    "/api/v1/boards/{}",
    "/overzichten/{}",
]
PUBLIC_PARAMETERS = [*FACETS, "q", "sort", "page", "postcode", "peildatum", "kolom", "lang", "x"]
PUBLIC_PAGES = [
    "/",
    "/scholen",
    "/scholen.json",
    "/scholen.csv",
    "/scholen.xlsx",
    "/besturen/41196",
    "/gemeenten/meppel",
    "/api/v1/schools",
    "/overzichten/gemeente",
]


@FUZZ
@given(path=st.sampled_from(PUBLIC_PATHS), part=VALUES)
def test_public_paths_never_break(client, path, part):
    response = client.get(path.format(part.replace("/", "")))
    assert response.status_code < 500, (path, part)
    if response.mimetype == "text/html":
        assert MARK not in response.get_data(as_text=True)


@FUZZ
@given(
    page=st.sampled_from(PUBLIC_PAGES),
    parameters=st.lists(st.tuples(st.sampled_from(PUBLIC_PARAMETERS), VALUES), max_size=6),
)
def test_public_parameters_never_break_a_page_or_inject_markup(client, page, parameters):
    response = client.get(page, query_string=parameters)
    assert response.status_code < 500, (page, parameters)
    if response.mimetype == "text/html":
        assert MARK not in response.get_data(as_text=True)


# The admin, as a beheerder: every list, detail, edit and history URL of every model view with
# every parameter Flask-Admin reads, and each view's filters.
ADMIN_VIEWS = [
    "school",
    "board",
    "board_contact",
    "municipality",
    "network",
    "supportarea",
    "parent_word",
    "partnership",
    "correction",
    "change",
    "duo_import",
    "user",
]


def test_every_model_view_of_the_admin_is_attacked(seeded_app):
    from flask_admin.contrib.sqla import ModelView

    admin = seeded_app.extensions["admin"][0]
    views = {v.endpoint for v in admin._views if isinstance(v, ModelView)}
    assert views == set(ADMIN_VIEWS)


ADMIN_PAGES = ["/", "/details/", "/edit/", "/geschiedenis/", "/new/", "/ajax/lookup/"]
ADMIN_NAMES = [
    "id",
    "page",
    "page_size",
    "sort",
    "desc",
    "search",
    "url",
    "name",
    "query",
    "offset",
    "limit",
    "modal",
    *(f"flt{i}_{n}" for i in range(2) for n in range(14)),
]
ADMIN_VALUES = st.one_of(
    VALUES,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1", "2", "0", "", "1,2", "true", "2026-01-01", "open"]),
)


@FUZZ
@given(
    view=st.sampled_from(ADMIN_VIEWS),
    page=st.sampled_from(ADMIN_PAGES),
    parameters=st.lists(st.tuples(st.sampled_from(ADMIN_NAMES), ADMIN_VALUES), max_size=5),
)
def test_the_admin_never_breaks_on_any_parameter(seeded_app, login, view, page, parameters):
    client = getattr(seeded_app, "_fuzz_client", None) or login("beheerder")
    seeded_app._fuzz_client = client
    response = client.get(f"/admin/{view}{page}", query_string=parameters)
    assert response.status_code < 500, (view, page, parameters)


# The edit form of the first record of each admin view; every field of it can be fuzzed.
ADMIN_FORMS = ["school", "board", "municipality", "network", "supportarea"]
NOT_FUZZED = {"csrf_token", "loaded_version"}


@FUZZ
@given(view=st.sampled_from(ADMIN_FORMS), data=st.data())
def test_admin_forms_never_break_or_inject_markup(seeded_app, login, view, data):
    client = getattr(seeded_app, "_fuzz_client", None) or login("beheerder")
    seeded_app._fuzz_client = client
    edit = f"/admin/{view}/edit/?id=1"  # the id stays whatever the form changes
    fields = form_fields(client.get(edit).get_data(as_text=True))
    names = sorted({name for name, _value in fields if name not in NOT_FUZZED})
    changes = data.draw(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=4))
    response = client.post(edit, data=with_values(fields, **changes))
    assert response.status_code in (200, 302), (view, changes)
    for page in (response, client.get(f"/admin/{view}/"), client.get("/scholen")):
        assert page.status_code < 500
        assert MARK not in page.get_data(as_text=True)


def test_a_nul_character_in_a_form_is_dropped_not_a_server_error(seeded_app, login):
    """PostgreSQL refuses NUL in any text, even in a uniqueness lookup (found by the fuzzer)."""
    client = login("beheerder")
    fields = form_fields(client.get("/admin/board/edit/?id=1").get_data(as_text=True))
    saved = client.post("/admin/board/edit/?id=1", data=with_values(fields, board_number="\x00"))
    assert saved.status_code == 200  # the form again, with the board number's message
    visitor = seeded_app.test_client()
    token = csrf_from(visitor.get("/inloggen").get_data(as_text=True))
    refused = visitor.post(
        "/inloggen", data={"csrf_token": token, "email": "a\x00@example.org", "password": "x"}
    )
    assert refused.status_code == 400
