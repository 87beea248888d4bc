"""The coordinators' admin: editing, validation, conflicts, roles, batches, corrections."""

import re
from urllib.parse import quote

import pytest
from helpers import csrf_from, form_fields, with_values
from sqlalchemy import func, select
from test_corrections import add_correction

from registry.db import db
from registry.history import Change
from registry.models import Board, CorrectionRequest, Network, School

ARENDSVLEUGEL = 1  # the first school in the seed file


def school(app, code="05SX00"):
    with app.app_context():
        found = db.session.scalar(select(School).filter_by(vestigingscode=code))
        db.session.expunge(found)
        return found


def edit_form(client, school_id=ARENDSVLEUGEL):
    response = client.get(f"/admin/school/edit/?id={school_id}")
    assert response.status_code == 200
    return form_fields(response.get_data(as_text=True))


def alerts(response) -> str:
    return " ".join(
        re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    )


def test_a_coordinator_changes_website_and_support_and_the_public_page_and_history_show_it(
    seeded_app, login
):
    client = login("coordinator")
    data = with_values(
        edit_form(client),
        website="https://www.dearendsvleugel.nl",
        **{"support_offers-0-support_area": "2", "support_offers-0-level": "extra"},
    )
    response = client.post(f"/admin/school/edit/?id={ARENDSVLEUGEL}", data=data)
    assert response.status_code == 302, alerts(response)
    public = seeded_app.test_client().get("/scholen/05SX00").get_data(as_text=True)
    assert 'href="https://www.dearendsvleugel.nl"' in public
    assert "Gedrag" in public and "Extra ondersteuning" in public
    history = client.get(f"/admin/school/geschiedenis/?id={ARENDSVLEUGEL}").get_data(as_text=True)
    assert re.search(
        r"coordinator-\w+@example.org</td>\s*<td>website</td>\s*<td>www.dearendsvleugel.nl</td>"
        r"\s*<td>https://www.dearendsvleugel.nl</td>",
        history,
    )
    assert "ondersteuning: Gedrag" in history


def test_invalid_input_is_explained_next_to_the_field_and_kept(seeded_app, login):
    client = login("coordinator")
    data = with_values(edit_form(client), postcode="79611 AW", phone="bel ons", name="Nieuwe naam")
    response = client.post(f"/admin/school/edit/?id={ARENDSVLEUGEL}", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Een postcode is 4 cijfers en 2 letters" in html
    assert "Vul een telefoonnummer van 10 cijfers in" in html
    assert 'value="79611 AW"' in html and 'value="Nieuwe naam"' in html
    assert school(seeded_app).name == "Protestants Christelijke Basisschool De Arendsvleugel"


def test_the_second_of_two_concurrent_saves_is_told_and_keeps_its_input(seeded_app, login):
    first, second = login("coordinator"), login("coordinator")
    form_first, form_second = edit_form(first), edit_form(second)
    assert (
        first.post(
            f"/admin/school/edit/?id={ARENDSVLEUGEL}",
            data=with_values(form_first, phone="0522 111111"),
        ).status_code
        == 302
    )
    refused = second.post(
        f"/admin/school/edit/?id={ARENDSVLEUGEL}",
        data=with_values(form_second, website="https://typed.example.nl"),
    )
    assert refused.status_code == 200
    message = alerts(refused)
    assert "Iemand anders heeft dit record gewijzigd" in message
    assert "telefoon" in message and "0522 11 11 11" in message
    assert 'value="https://typed.example.nl"' in refused.get_data(as_text=True)
    stored = school(seeded_app)
    assert (stored.phone, stored.website) == ("0522 11 11 11", "www.dearendsvleugel.nl")
    # Saving again, knowingly, goes through.
    again = second.post(
        f"/admin/school/edit/?id={ARENDSVLEUGEL}",
        data=with_values(form_fields(refused.get_data(as_text=True))),
    )
    assert again.status_code == 302
    assert school(seeded_app).website == "https://typed.example.nl"


def test_a_form_without_csrf_token_is_refused(seeded_app, login):
    client = login("coordinator")
    data = {k: v for k, v in edit_form(client) if k != "csrf_token"}
    response = client.post(f"/admin/school/edit/?id={ARENDSVLEUGEL}", data=data)
    assert response.status_code == 400
    assert school(seeded_app).version == 1


def test_schools_cannot_be_deleted_and_a_board_with_schools_cannot_either(seeded_app, login):
    client = login("beheerder")
    token = csrf_from(client.get("/admin/board/").get_data(as_text=True))
    with seeded_app.app_context():
        board_id = db.session.scalar(select(Board.id).filter_by(board_number="41196"))
    response = client.post(
        "/admin/board/delete/", data={"id": board_id, "csrf_token": token}, follow_redirects=True
    )
    assert "heeft nog 14 scholen" in response.get_data(as_text=True)
    with seeded_app.app_context():
        assert db.session.get(Board, board_id) is not None
    assert client.post(
        "/admin/school/delete/", data={"id": 1, "csrf_token": token}
    ).status_code in (302, 403)
    assert school(seeded_app) is not None


def test_markup_is_escaped_in_the_admin(seeded_app, login):
    with seeded_app.app_context():
        found = db.session.get(School, ARENDSVLEUGEL)
        found.name = '<img src=x onerror="alert(1)">'
        db.session.commit()
    html = login("medewerker").get("/admin/school/").get_data(as_text=True)
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x" in html


def test_bestuur_edits_only_its_own_schools(seeded_app, login):
    client = login("bestuur", "41196")
    assert client.get(f"/admin/school/edit/?id={ARENDSVLEUGEL}").status_code == 200
    other = school(seeded_app, "06PS00")  # board 60829
    assert client.get(f"/admin/school/edit/?id={other.id}").status_code == 403
    token = csrf_from(client.get("/admin/school/").get_data(as_text=True))
    assert (
        client.post(f"/admin/school/edit/?id={other.id}", data={"csrf_token": token}).status_code
        == 403
    )
    assert client.get("/admin/school/new/").status_code in (302, 403)
    data = with_values(edit_form(client), board=str(other.board_id))
    moved = client.post(f"/admin/school/edit/?id={ARENDSVLEUGEL}", data=data)
    assert "alleen scholen van uw eigen bestuur" in alerts(moved)
    assert client.get("/admin/board/edit/?id=1").status_code in (302, 403)


def test_batch_assign_network_to_selected_and_to_the_whole_filter(seeded_app, login):
    client = login("coordinator")
    with seeded_app.app_context():
        steenwijk = db.session.scalar(select(Network.id).filter_by(slug="steenwijk"))
    token = csrf_from(client.get("/admin/school/").get_data(as_text=True))
    chosen = client.post(
        "/admin/school/action/",
        data={"action": "assign_network", "rowid": ["1", "2"], "csrf_token": token},
    )
    assert "/bulk/assign_network/" in chosen.headers["Location"]
    page = client.get(chosen.headers["Location"]).get_data(as_text=True)
    assert "Dit geldt voor 2 scholen" in page
    data = with_values(form_fields(page), network_id=str(steenwijk))
    assert client.post("/admin/school/bulk/assign_network/", data=data).status_code == 302
    # Every school of the current filter (Meppel), over all pages.
    page = client.get("/admin/school/bulk/verified/?filter=all&search=meppel").get_data(
        as_text=True
    )
    count = int(re.search(r"Dit geldt voor (\d+) scholen", page).group(1))
    assert count > 10
    assert (
        client.post("/admin/school/bulk/verified/", data=with_values(form_fields(page))).status_code
        == 302
    )
    with seeded_app.app_context():
        assert db.session.scalar(select(School.network_id).filter_by(id=2)) == steenwijk
        verified = db.session.scalars(select(School).where(School.verified_on.is_not(None))).all()
        assert len(verified) == count
        assert all("meppel" in s.search_text for s in verified)


def test_a_public_correction_is_accepted_applied_and_credited_in_the_history(seeded_app, login):
    public = seeded_app.test_client()
    token = csrf_from(public.get("/scholen/05SX00/correctie").get_data(as_text=True))
    public.post(
        "/scholen/05SX00/correctie",
        data={"csrf_token": token, "field": "telefoon", "proposed_value": "0522 481345"},
    )
    client = login("coordinator")
    with seeded_app.app_context():
        correction_id = db.session.scalar(select(CorrectionRequest.id))
    page = client.get(f"/admin/correction/behandelen/?id={correction_id}").get_data(as_text=True)
    assert "0522 48 13 44" in page and "0522 48 13 45" in page  # grouped, as pages show
    response = client.post(
        "/admin/correction/behandelen/", data=with_values(form_fields(page), decision="accept")
    )
    assert response.status_code == 302
    assert school(seeded_app).phone == "0522 48 13 45"
    with seeded_app.app_context():
        change = db.session.scalar(select(Change).filter_by(field="phone"))
        assert change.note == f"correctie #{correction_id}"
        assert change.actor.startswith("coordinator-")
        assert db.session.get(CorrectionRequest, correction_id).status.value == "accepted"


def test_rejecting_a_correction_needs_a_reason(seeded_app, login):
    with seeded_app.app_context():
        db.session.add(
            CorrectionRequest(school_id=ARENDSVLEUGEL, field="overig", proposed_value="x")
        )
        db.session.commit()
    client = login("coordinator")
    page = client.get("/admin/correction/behandelen/?id=1").get_data(as_text=True)
    assert (
        client.post(
            "/admin/correction/behandelen/", data=with_values(form_fields(page), decision="reject")
        ).status_code
        == 400
    )
    done = client.post(
        "/admin/correction/behandelen/",
        data=with_values(form_fields(page), decision="reject", reason="klopt al"),
    )
    assert done.status_code == 302
    with seeded_app.app_context():
        assert db.session.get(CorrectionRequest, 1).reason == "klopt al"


def test_change_log_lists_and_exports_with_filters(seeded_app, login):
    client = login("coordinator")
    client.post(
        f"/admin/school/edit/?id={ARENDSVLEUGEL}",
        data=with_values(edit_form(client), website="https://nieuw.example.nl"),
    )
    listing = client.get("/admin/change/?search=Arendsvleugel").get_data(as_text=True)
    assert "https://nieuw.example.nl" in listing
    with client.get("/admin/change/export.csv?search=Arendsvleugel") as export:
        assert export.mimetype == "text/csv"
        lines = export.get_data(as_text=True).splitlines()
    assert lines[0].lstrip("\ufeff").startswith("Tijdstip;Door;Soort record")
    assert any("https://nieuw.example.nl" in line for line in lines)


def test_dashboard_shows_counts_corrections_and_gaps(login):
    html = login("medewerker").get("/admin/").get_data(as_text=True)
    assert "Hoogeveen" in html and "Stichting WIES" in html
    assert "Geen open correcties." in html
    assert "Scholen zonder website" in html


def test_staff_export_the_admin_list_under_its_current_search(login):
    import io

    import openpyxl

    client = login("medewerker")
    assert "/admin/school/export.xlsx" in client.get("/admin/school/").get_data(as_text=True)
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get("/admin/school/export.xlsx?search=zwartsluis").data)
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Vestigingscode", "Naam")
    place, pupils = rows[0].index("Plaats"), rows[0].index("Leerlingen")
    assert len(rows) == 3 and all(r[place] == "Zwartsluis" for r in rows[1:])
    assert all(isinstance(r[pupils], int) for r in rows[1:])


def test_staff_choose_the_columns_of_the_admin_export(login):
    from helpers import form_fields

    client = login("medewerker")
    page = client.get("/admin/school/download/?search=zwartsluis").get_data(as_text=True)
    fields = form_fields(page)
    assert ("search", "zwartsluis") in fields and ("kolom", "vestigingscode") in fields
    assert 'value="distance_km"' not in page  # no postcode search in the admin list
    chosen = [(k, v) for k, v in fields if k != "kolom"] + [("kolom", "name"), ("kolom", "board")]
    response = client.get("/admin/school/export.csv", query_string=chosen)
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "name,board" and len(lines) == 3
    wrong = client.get("/admin/school/export.csv?kolom=geheim")
    assert wrong.status_code == 400 and "Onbekende kolom" in wrong.get_data(as_text=True)


def admin_count(client, query: str) -> int:
    page = client.get(f"/admin/school/?{query}").get_data(as_text=True)
    match = re.search(r"Lijst \((\d+)\)", page)
    return int(match.group(1)) if match else 0


SEARCH_WORDS = ["meppel", "immanuel", "arends", "ijhorst", "hogeveen", "sbo", "cbs", "de wolden"]


def test_the_admin_list_finds_what_the_directory_finds(seeded_app, login):
    client = login("medewerker")
    public = seeded_app.test_client()
    for word in SEARCH_WORDS:
        expected = public.get(f"/scholen.json?q={word}").get_json()["total"]
        assert expected, word
        assert admin_count(client, f"search={word}") == expected, word
        with client.get(f"/admin/school/export.csv?search={word}") as export:
            rows = export.get_data(as_text=True).strip().splitlines()
        assert len(rows) - 1 == expected, word
    assert admin_count(client, "") == public.get("/scholen.json").get_json()["total"]


def test_closed_schools_are_an_option_of_the_admin_list(seeded_app, login):
    from datetime import date

    with seeded_app.app_context():
        closed = db.session.scalar(select(School).filter_by(vestigingscode="05SX00"))
        closed.closed_on = date(2020, 8, 1)
        db.session.commit()
    client = login("coordinator")
    public = seeded_app.test_client().get("/scholen.json?q=arends").get_json()["total"]
    assert admin_count(client, "search=arends") == public
    assert admin_count(client, "search=arends&flt0_gesloten=ook") == public + 1
    assert admin_count(client, "search=arends&flt0_gesloten=alleen") == 1
    assert "Arendsvleugel" in client.get("/admin/school/?flt0_gesloten=alleen").get_data(
        as_text=True
    )
    # Closed, but still opened by its id for its history and details.
    assert client.get(f"/admin/school/details/?id={closed_id(seeded_app)}").status_code == 200


def closed_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(School.id).filter_by(vestigingscode="05SX00"))


def test_an_admin_search_the_directory_would_refuse_is_a_400_in_dutch(login):
    client = login("coordinator")
    response = client.get("/admin/school/?search=" + "x" * 201)
    assert response.status_code == 400
    assert "Te lang" in response.get_data(as_text=True)


def test_a_postcode_in_the_admin_search_lists_the_schools_there(seeded_app, login):
    # The directory sorts by distance from a postcode; a list without distances narrows to it.
    client = login("coordinator")
    with seeded_app.app_context():
        there = db.session.scalars(select(School).where(School.postcode.startswith("7941"))).all()
        expected = sum(1 for s in there if s.is_open)
    assert expected and admin_count(client, "search=7941") == expected
    assert admin_count(client, "search=7941ab") <= expected


def test_hostile_admin_searches_are_answered_not_500(seeded_app, login):
    client = login("bestuur", "41196")
    public = seeded_app.test_client()
    for text in ("%", "_", "%25", "'", '"; drop table school; --', "\\", "ü" * 50, "🙂", "a" * 200):
        response = client.get("/admin/school/", query_string={"search": text})
        assert response.status_code == 200, text
        expected = public.get("/scholen.json", query_string={"q": text}).get_json()["total"]
        assert admin_count(client, f"search={quote(text)}") == expected, text
    for text in ("\x00", "\x01abc", "a" * 201):
        assert client.get("/admin/school/", query_string={"search": text}).status_code == 400
        export = client.get("/admin/school/export.csv", query_string={"search": text})
        assert export.status_code == 400


def enum_filters(app):
    """(list url, parameter, model, column, offered values) of every enum filter that takes one
    value, across the admin."""
    from flask_admin.contrib.sqla.filters import EnumEqualFilter

    admins = app.extensions["admin"]
    found = []
    with app.test_request_context():
        for view in admins[0]._views if isinstance(admins, list) else admins._views:
            for index, flt in enumerate(getattr(view, "_filters", None) or ()):
                if isinstance(flt, EnumEqualFilter):
                    offered = [value for value, _label in flt.get_options(view)]
                    parameter = view.get_filter_arg(index, flt)
                    found.append((view.url, parameter, view.model, flt.column, offered))
    return found


def test_every_choice_in_an_admin_filter_menu_filters_by_it(seeded_app, login):
    """The filter menus offer our enums by value ("open"); Flask-Admin 2.2 looked the choice up
    by name and answered every one with "Ongeldige filterwaarde"."""
    from registry.models import CorrectionStatus

    open_one = add_correction(seeded_app, "website", "https://example.org")
    add_correction(seeded_app, "phone", "0522 123456", status=CorrectionStatus.REJECTED)
    client = login("beheerder")
    filters = enum_filters(seeded_app)
    assert {url for url, *_ in filters} >= {"/admin/correction", "/admin/user"}
    for url, parameter, model, column, offered in filters:
        assert offered, url
        for value in offered:
            page = client.get(f"{url}/?flt0_{parameter}={quote(value)}").get_data(as_text=True)
            assert "Ongeldige filterwaarde" not in page, (url, value)
            with seeded_app.app_context():
                stored = db.session.scalar(
                    select(func.count()).select_from(model).where(column == value)
                )
            shown = f"Lijst ({stored})" if stored else "Er is niets gevonden."
            assert shown in page, (url, value)
    # The dashboard's link to the open corrections, and nonsense in its place.
    page = client.get("/admin/correction/?flt0_0=open").get_data(as_text=True)
    assert f"/admin/correction/behandelen/?id={open_one}" in page
    assert "0522 123456" not in page
    assert "Ongeldige filterwaarde: onzin" in client.get(
        "/admin/correction/?flt0_0=onzin"
    ).get_data(as_text=True)


def test_each_filter_is_made_tolerant_once_however_many_apps_a_process_builds(make_app):
    """The filters are declared on the view classes; a second app must not wrap them again
    (a wrapper per app once nested past the recursion limit after a thousand tests)."""
    make_app("first")
    second = make_app("second")
    view = next(v for v in second.extensions["admin"][0]._views if v.endpoint == "school")
    worklists = [f for f in view._filters if hasattr(f, "gap")]
    assert worklists
    for flt in view._filters:
        assert flt.validate.is_tolerant
        assert getattr(flt.validate, "__closure__", None) is not None
        inner = flt.validate.__closure__[0].cell_contents
        assert not getattr(inner, "is_tolerant", False), flt.name


def model_views(app) -> dict:
    from registry.admin.adaptations import BuiltOnFirstUse

    views = app.extensions["admin"][0]._views
    return {v.endpoint: v for v in views if isinstance(v, BuiltOnFirstUse)}


def test_a_view_is_built_when_first_used_and_no_other_with_it(seeded_app, login):
    """Building the admin's forms and filters waits for the view's first request: a new app
    has built none, and a coordinator's school list builds the school view alone."""
    views = model_views(seeded_app)
    assert len(views) >= 10
    assert not any(view.is_built for view in views.values())
    client = login("coordinator")
    assert client.get("/admin/school/?search=meppel").status_code == 200
    assert [name for name, view in views.items() if view.is_built] == ["school"]
    assert client.get("/admin/board/edit/?id=1").status_code == 200
    assert sorted(name for name, view in views.items() if view.is_built) == ["board", "school"]


def test_reading_what_the_build_makes_builds_the_view_once_whoever_reads_first(make_app):
    """Flask-Admin and the tests read a view's filters and forms directly: the first read builds
    the view (once, however many threads read at once), and the build sets nothing private
    that BuiltOnFirstUse.BUILT does not name."""
    import threading

    from registry.admin.adaptations import BuiltOnFirstUse

    views = model_views(make_app())
    for view in views.values():
        before = set(view.__dict__)
        forms, start = [], threading.Barrier(4)

        def read(view=view, forms=forms, start=start):
            start.wait()
            forms.append(view._create_form_class)

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        assert view.is_built
        assert len({id(form) for form in forms}) == 1, view.endpoint  # built once
        added = {name for name in set(view.__dict__) - before if name.startswith("_")}
        assert added <= BuiltOnFirstUse.BUILT, (view.endpoint, added - BuiltOnFirstUse.BUILT)
    # Flask-Admin sets these empty before its build fills them: read first, they build too.
    for name in ("_filter_joins", "_sortable_joins", "_search_fields"):
        school = model_views(make_app(f"first-read-{name}"))["school"]
        value = getattr(school, name)
        assert school.is_built and value is school.__dict__[name], name


def test_a_read_that_missed_while_another_thread_finished_the_build_gets_what_it_built(make_app):
    """The race a thread can lose: its lookup of a built name finds nothing (the view is being
    built), then the builder finishes before Python falls back to __getattr__. That fallback
    must answer with what the build made, not an AttributeError (seen under load in CI)."""
    school = model_views(make_app())["school"]
    built = school._create_form_class  # the other thread's build, finished
    assert school.__getattr__("_create_form_class") is built
    with pytest.raises(AttributeError):
        school.__getattr__("_no_such_name")
