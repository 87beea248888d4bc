"""The admin's return address (`url=`) leads only to a path on this site, for every role, on
every page that reads it: never a Location or a link a browser would follow elsewhere."""

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from helpers import csrf_from, form_fields, with_values
from test_corrections import add_correction
from test_fuzz import ADMIN_VIEWS

from registry.redirects import local_path

ARENDSVLEUGEL = 1  # the first school in the seed file, of board 41196
NO_RECORD = 999_999_999
ROLES = [("beheerder", None), ("coordinator", None), ("bestuur", "41196"), ("medewerker", None)]
OFF_SITE = [
    "http:evil.example",
    "https:evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    " //evil.example",
    "http:///evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/x?y=1",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
]
# Every view is tried with these; the school view with all of OFF_SITE (one function judges
# them all, and test_local_path_* try each value on it).
EVERY_VIEW = {"http:evil.example", "/\\evil.example", "javascript:alert(1)"}
GOOD = "/admin/school/?page=2"
# Every model view, its details and edit pages (those it does not offer redirect or refuse).
VIEWS = ADMIN_VIEWS  # every model view of the admin (test_hostile.py keeps the list whole)

# How a browser reads an address (WHATWG URL parser), written out here independently of the
# app's own reading: C0 controls and spaces stripped at both ends, tabs and newlines dropped,
# a backslash as a slash, any number of slashes after http: or https:.
SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def leads_away(link: str) -> bool:
    """Would a browser following this link leave the site for evil.example or run script?

    A link to a page of this site that carries a bad `url=` along (the language switch keeps
    every parameter) is not one: that page judges its `url=` again.
    """
    url = link.strip("".join(map(chr, range(0x21)))).translate(dict.fromkeys(map(ord, "\t\n\r")))
    url = url.replace("\\", "/")
    scheme = SCHEME_RE.match(url)
    if scheme and scheme[1].lower() not in ("http", "https"):
        # Flask-Admin's own buttons are `javascript:void(0)`.
        return scheme[1].lower() in ("javascript", "data", "vbscript") and "alert" in url
    rest = url[scheme.end() :] if scheme else url
    if not scheme and not rest.startswith("//"):
        return False
    return "evil" in re.split(r"[/?#]", rest.lstrip("/"), maxsplit=1)[0].lower()


class Links(HTMLParser):
    """Every address on a page: links, form actions, sources, and hidden `url` fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("href", "action", "src", "formaction"):
            if attributes.get(name):
                self.found.append(attributes[name])
        if tag == "input" and attributes.get("name") in ("url", "next"):
            self.found.append(attributes.get("value") or "")


def away(response) -> list[str]:
    """The addresses in this answer (Location, and the page's links) that lead away."""
    addresses = [response.headers.get("Location", "")]
    if response.mimetype == "text/html":
        parser = Links()
        parser.feed(response.get_data(as_text=True))
        addresses += parser.found
    return [a for a in addresses if a and leads_away(a)]


def test_the_oracle_sees_what_a_browser_would_follow():
    assert all(leads_away(target) for target in OFF_SITE)
    assert leads_away("http:///evil.example/admin/")
    assert not leads_away(GOOD)
    assert not leads_away("/admin/school/details/?id=1&url=%2Fadmin%2Fschool%2F%3Fpage%3D2")
    assert not leads_away("https://www.example.nl/")


@pytest.mark.parametrize("target", OFF_SITE)
def test_local_path_refuses_every_address_off_the_site(target):
    assert local_path(target) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (GOOD, GOOD),
        (" /x", "/x"),
        ("/x\r\nSet-Cookie: a=b", "/xSet-Cookie: a=b"),
        ("\x00", None),
        ("/x\x00y", None),
        ("/x\x7fy", None),
        ("/" + "a" * 10_000, None),
        ("", None),
        (None, None),
        ("admin/school/", None),
    ],
)
def test_local_path_reads_the_address_as_a_browser_does(target, expected):
    assert local_path(target) == expected


def requests_with(client, url: str, token: str, correction: int):
    """Every kind of admin request that reads `url=`, with this value: (name, response)."""
    raw, url = url, quote(url, safe="")
    for view in VIEWS if raw in EVERY_VIEW else ["school"]:
        yield f"{view} details", client.get(f"/admin/{view}/details/?id=1&url={url}")
        yield f"{view} edit", client.get(f"/admin/{view}/edit/?id=1&url={url}")
        yield f"{view} create", client.get(f"/admin/{view}/new/?url={url}")
        yield f"{view} history", client.get(f"/admin/{view}/geschiedenis/?id=1&url={url}")
    edit = f"/admin/school/edit/?id={ARENDSVLEUGEL}&url={url}"
    page = client.get(edit)
    fields = form_fields(page.get_data(as_text=True)) if page.status_code == 200 else []
    yield "save", client.post(edit, data=with_values(fields, csrf_token=token))
    page = client.get(edit)
    fields = form_fields(page.get_data(as_text=True)) if page.status_code == 200 else []
    yield (
        "save and go on",
        client.post(edit, data=with_values(fields, csrf_token=token, _continue_editing="1")),
    )
    yield "create", client.post(f"/admin/board/new/?url={url}", data={"csrf_token": token})
    for view in ("school", "board"):
        yield (
            f"{view} delete",
            client.post(
                f"/admin/{view}/delete/",
                data={"id": NO_RECORD, "csrf_token": token, "url": raw},
            ),
        )
        yield (
            f"{view} action",
            client.post(
                f"/admin/{view}/action/",
                data={"action": "delete", "rowid": NO_RECORD, "csrf_token": token, "url": raw},
            ),
        )
    yield (
        "correction carried out in the form",
        client.get(f"/admin/school/edit/?id=1&correctie={correction}&url={url}"),
    )
    yield "correction", client.get(f"/admin/correction/behandelen/?id={correction}&url={url}")
    yield "support editor", client.get(f"/admin/ondersteuning/?url={url}")
    yield "DUO", client.get(f"/admin/duo/?url={url}")


@pytest.mark.sweep
@pytest.mark.parametrize(("role", "board"), ROLES)
def test_no_admin_answer_leads_off_the_site_whatever_url_says(seeded_app, login, role, board):
    client = login(role, board)
    token = csrf_from(client.get("/admin/school/").get_data(as_text=True))
    correction = add_correction(seeded_app, "telefoon", "0522 481345")
    for target in OFF_SITE:
        answers = {}
        for name, response in requests_with(client, target, token, correction):
            assert response.status_code < 500, (target, name, response.status_code)
            assert not away(response), (target, name, away(response))
            answers[name] = response.status_code
        # Those who may save did save: their Location was judged, not a form shown again.
        saved = 403 if role == "medewerker" else 302
        assert answers["save"] == answers["save and go on"] == saved, answers


def test_a_local_return_address_is_still_followed(login):
    client = login("coordinator")
    url = quote(GOOD, safe="")
    details = client.get(f"/admin/school/details/?id={ARENDSVLEUGEL}&url={url}")
    assert f'href="{GOOD}"' in details.get_data(as_text=True)
    edit = f"/admin/school/edit/?id={ARENDSVLEUGEL}&url={url}"
    form = form_fields(client.get(edit).get_data(as_text=True))
    saved = client.post(edit, data=with_values(form))
    assert saved.status_code == 302
    assert saved.headers["Location"] == GOOD
    history = client.get(f"/admin/school/geschiedenis/?id={ARENDSVLEUGEL}&url={url}")
    assert f'href="{GOOD}"' in history.get_data(as_text=True)
    token = csrf_from(details.get_data(as_text=True))
    deleted = client.post(
        "/admin/school/delete/", data={"id": NO_RECORD, "csrf_token": token, "url": GOOD}
    )
    assert deleted.headers["Location"] == GOOD


def test_an_off_site_url_falls_back_to_the_views_own_list(login):
    client = login("coordinator")
    token = csrf_from(client.get("/admin/school/").get_data(as_text=True))
    response = client.post(
        "/admin/school/delete/",
        data={"id": NO_RECORD, "csrf_token": token, "url": "http:evil.example"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/school/"
    details = client.get(f"/admin/board/details/?id=1&url={quote('//evil.example')}")
    assert 'href="/admin/board/"' in details.get_data(as_text=True)
