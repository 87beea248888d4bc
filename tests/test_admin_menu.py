"""The admin leads staff where they go (issue #27): the overviews and the public site from its
menu, the open corrections first on its first page and from the Correcties menu, and its figures
written as the public site writes them."""

import re
from html import unescape

from sqlalchemy import select
from test_duo import NATIONAL_AUGUST, upload

from registry.db import db
from registry.models import CorrectionRequest, CorrectionStatus, School


def links(html: str) -> dict[str, str]:
    """The page's links, text to address."""
    found = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, flags=re.S)
    return {" ".join(re.sub(r"<[^>]+>", "", text).split()): unescape(url) for url, text in found}


def table_rows(html: str) -> dict[str, list[str]]:
    """Each table row's cells by the text of its first cell."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        texts = [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells]
        if texts:
            rows.setdefault(texts[0], texts[1:])
    return rows


def report(app, status=CorrectionStatus.OPEN, value="0522 123456") -> int:
    with app.app_context():
        school = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        correction = CorrectionRequest(
            school=school, field="phone", proposed_value=value, status=status
        )
        db.session.add(correction)
        db.session.commit()
        return correction.id


def test_a_medewerker_finds_the_overviews_and_the_public_site_in_the_menu(login):
    client = login("medewerker")
    menu = links(client.get("/admin/").text)
    for name, path in [
        ("Per gemeente", "/overzichten/gemeente"),
        ("Per bestuur", "/overzichten/bestuur"),
        ("Per netwerk", "/overzichten/netwerk"),
        ("Alle overzichten en downloads", "/overzichten/"),
        ("De openbare site", "/"),
    ]:
        assert menu[name] == path
        assert client.get(path).status_code == 200, path


def test_the_corrections_menu_opens_the_open_ones(seeded_app, login):
    opened = report(seeded_app, value="0522 111111")
    report(seeded_app, CorrectionStatus.REJECTED, value="0522 999999")
    client = login("coordinator")
    listed = client.get(links(client.get("/admin/school/").text)["Correcties"]).text
    assert "0522 111111" in listed
    assert "0522 999999" not in listed
    assert f"behandelen/?id={opened}" in listed


def test_open_corrections_come_first_on_the_dashboard(seeded_app, login):
    for number in range(3):
        report(seeded_app, value=f"0522 12345{number}")
    page = login("coordinator").get("/admin/").text
    main = page[page.index("<main") :]
    box = main.index("3 open correcties")
    assert box < main.index("<table")  # above every figure
    assert links(main)["Correcties behandelen"] == "/admin/correction/?flt0_0=open"
    reader = login("medewerker").get("/admin/").text
    assert links(reader)["Correcties bekijken"] == "/admin/correction/?flt0_0=open"


def test_without_open_corrections_the_dashboard_says_so(login):
    assert "Geen open correcties." in login("coordinator").get("/admin/").text


def test_the_dashboard_writes_its_figures_as_the_public_site_does(client, login):
    dashboard = table_rows(login("medewerker").get("/admin/").text)
    public = table_rows(client.get("/gemeenten").text)
    for name in ("Hoogeveen", "Meppel", "De Wolden"):
        assert dashboard[name] == public[name]
        assert re.fullmatch(r"\d\.\d{3}", dashboard[name][1])  # 4.506, not 4506


def test_a_national_duo_file_counts_its_lines_as_the_site_writes_figures(login):
    client = login("coordinator")
    sent = upload(client, (NATIONAL_AUGUST.read_bytes(), "02.csv"))
    comparison = client.get(sent.headers["Location"]).text
    lines = re.search(r"— ([\d.]+) regels", comparison).group(1)
    assert re.fullmatch(r"\d{1,2}\.\d{3}", lines)  # some 6.000 locations: 6.123, not 6123
