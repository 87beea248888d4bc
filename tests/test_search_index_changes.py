"""The index stays exact through changes: after every change, while one is in flight, and
through a DUO apply, its answers are SQL's (ids, order, counts), without a new build."""

import threading
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_duo import edited, regional_lines, row_of
from test_search_index import answer, searches, vary
from werkzeug.datastructures import MultiDict

from registry import search, search_changes, search_index, spelling
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import KINDS, compare
from registry.duo.files import read_duo_file
from registry.models import (
    Board,
    Network,
    PupilCount,
    School,
    SchoolSupport,
    SchoolType,
    SupportArea,
    SupportLevel,
)
from registry.search import BadParameter, SchoolSearch

NAMES = ["Zonnebloem", "De Meppeler school", "Sint Jozef kindcentrum", "obs de wegwijzer", "Aa"]


def agree(app, args, fixed=None, limit=None) -> bool:
    """Does the index (with what changed since its build) answer this search as SQL does?"""
    with app.test_request_context():
        try:
            found = SchoolSearch.from_args(args, fixed=fixed or {})
        except BadParameter:
            return True
        by_sql = answer(search.run(found, use_index=False, facet_limit=limit))
        by_index = answer(search.run(found, facet_limit=limit))
    assert by_index == by_sql, args
    return True


def same_vocabulary(app) -> bool:
    """Does the search's vocabulary, read from the index and the changes, hold every word of an
    open school's text as the database holds it now, and answer prefix checks and corrections
    as one built from those texts does? Asked about the words a change took away or brought
    (their prefixes, and each with a letter dropped or doubled) and a sample of the others."""
    with app.test_request_context():
        amended = search.vocabulary()
        texts = db.session.scalars(select(School.search_text).where(School.is_open))
        built = spelling.Vocabulary.build(texts)
        assert amended.words == built.words
        base = search_index.current().index.words
        moved = sorted(set(base) ^ set(built.words))
        for word in [*moved, *built.words[::97]]:
            for asked in {word[:3], word[:-1], word[1:], word + word[-1]}:
                assert amended.has_prefix(asked) == built.has_prefix(asked), asked
                assert amended.corrections(asked) == built.corrections(asked), asked
    return True


@pytest.fixture
def varied_app(seeded_app):
    return vary(seeded_app)


def view(app) -> search_index.View:
    with app.test_request_context():
        found = search_index.current()
    assert found is not None
    return found


# Each change as an admin save or a board's round makes it: through the ORM, one transaction.


def _pick(items, n: int):
    return items[n % len(items)]


def rename(s, school, n):
    school.name = _pick(NAMES, n)


def move(s, school, n):
    other = _pick(s.scalars(select(School).order_by(School.id)).all(), n)
    school.place, school.municipality = other.place, other.municipality


def close_or_reopen(s, school, n):
    school.closed_on = None if school.closed_on else date.today() - timedelta(days=n % 2)


def retype(s, school, n):
    school.school_type = _pick(list(SchoolType), n)
    school.cluster = _pick([None, "3", "3/4", "4"], n)


def to_board(s, school, n):
    school.board = _pick(s.scalars(select(Board).order_by(Board.id)).all(), n)


def to_network(s, school, n):
    school.network = _pick([None, *s.scalars(select(Network).order_by(Network.id))], n)


def support(s, school, n):
    area = _pick(s.scalars(select(SupportArea).order_by(SupportArea.id)).all(), n)
    found = s.scalar(select(SchoolSupport).filter_by(school=school, support_area=area))
    if found is None:
        s.add(SchoolSupport(school=school, support_area=area, level=_pick(list(SupportLevel), n)))
    else:
        s.delete(found)


def pupils(s, school, n):
    if school.pupil_counts:
        school.pupil_counts[-1].pupils = 7 * n
    else:
        s.add(PupilCount(school=school, reference_date=date(2024, 10, 1), pupils=n))


def relocate(s, school, n):
    if school.latitude is not None:
        school.latitude, school.longitude = 52.5 + n / 100, 6.2 - n / 100


def rename_board(s, school, n):
    school.board.name = f"Stichting {_pick(NAMES, n)} {school.board.board_number}"


def rename_network(s, school, n):
    if school.network is not None:
        # Network names are unique: the slug keeps two renamed ones apart.
        school.network.name = f"Netwerk {_pick(NAMES, n)} {school.network.slug}"


def rename_municipality(s, school, n):
    school.municipality.name = f"{school.municipality.name.split(' (')[0]} ({n})"


def confirm_the_board(s, school, n):
    """A board confirms all its schools in a round: each is saved, none visibly changed."""
    for own in school.board.schools:
        own.board_confirmed_on = date.today() - timedelta(days=n)


def new_school(s, school, n):
    code = f"{n % 100:02d}ZZ{len(s.scalars(select(School.id)).all()) % 100:02d}"
    if s.scalar(select(School).filter_by(vestigingscode=code)) is None:
        s.add(
            School(
                vestigingscode=code,
                brin=code[:4],
                name=_pick(NAMES, n),
                school_type=school.school_type,
                place=school.place,
                municipality=school.municipality,
                board=school.board,
            )
        )


CHANGES = [
    rename,
    move,
    close_or_reopen,
    retype,
    to_board,
    to_network,
    support,
    pupils,
    relocate,
    rename_board,
    rename_network,
    rename_municipality,
    confirm_the_board,
    new_school,
]


def change(app, how, which: int, n: int) -> None:
    with app.app_context():
        schools = db.session.scalars(select(School).order_by(School.id)).all()
        how(db.session, _pick(schools, which), n)
        db.session.commit()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(CHANGES), st.integers(0, 200), st.integers(0, 50)),
        min_size=1,
        max_size=3,
    ),
    asked=st.lists(searches(), min_size=1, max_size=3),
    fixed=st.sampled_from([{}, {"gemeente": ("meppel",)}]),
    limit=st.sampled_from([None, 0, 1, 3, 10]),
)
def test_after_every_change_the_index_and_sql_agree_without_a_new_build(
    varied_app, changes, asked, fixed, limit
):
    first = view(varied_app).index
    for how, which, n in changes:
        change(varied_app, how, which, n)
        assert same_vocabulary(varied_app)
        for args in asked:  # every intermediate state
            assert agree(varied_app, args, fixed, limit)
    assert view(varied_app).index is first  # the changes were taken in, not rebuilt


def test_a_renamed_school_is_found_at_once_and_its_old_name_no_more(seeded_app):
    first = view(seeded_app).index
    change(seeded_app, rename, 0, 0)
    with seeded_app.app_context():
        renamed = db.session.scalar(select(School).order_by(School.id))
    found = view(seeded_app)
    assert found.index is first and found.changed.ids.tolist() == [renamed.id]
    client = seeded_app.test_client()
    codes = [s["vestigingscode"] for s in client.get("/scholen.json?q=zonnebloem").json["schools"]]
    assert codes == [renamed.vestigingscode]
    assert agree(seeded_app, MultiDict({"q": "zonnebloem"}))


def test_a_change_in_flight_is_not_answered_until_it_is_committed(seeded_app):
    view(seeded_app)
    asked = MultiDict({"q": "zonnebloem"})
    with seeded_app.app_context(), Session(db.engine) as other:
        school = other.scalar(select(School).order_by(School.id))
        school.name = "Zonnebloem"
        other.flush()  # written, and the data version raised, but not committed
        assert agree(seeded_app, asked)
        with seeded_app.test_request_context():
            assert search.run(SchoolSearch.from_args(asked)).total == 0
        other.commit()
    assert agree(seeded_app, asked)
    with seeded_app.test_request_context():
        assert search.run(SchoolSearch.from_args(asked)).total == 1


def test_a_change_committed_while_the_changes_are_read_is_answered(seeded_app, monkeypatch):
    """A save lands between a search's reading of the data version and the scan for changes:
    the scan sees it, so the answer holds it, as SQL's does."""
    view(seeded_app)
    scan = search_changes.changes_since

    def with_a_save_first(*args):
        monkeypatch.setattr(search_changes, "changes_since", scan)
        done = threading.Thread(target=change, args=(seeded_app, rename, 3, 0))
        done.start()
        done.join()
        return scan(*args)

    monkeypatch.setattr(search_changes, "changes_since", with_a_save_first)
    change(seeded_app, rename, 0, 0)  # the search below reads this version, then scans
    with seeded_app.test_request_context():
        found = search.run(SchoolSearch.from_args(MultiDict({"q": "zonnebloem"})))
        assert found.total == 2
    assert agree(seeded_app, MultiDict({"q": "zonnebloem"}))


def test_a_duo_apply_is_taken_in_without_a_new_build(varied_app):
    """DUO's regional file with ten locations renamed, one moved and three gone: changed
    and closed schools through the ORM, in one transaction."""
    first = view(varied_app).index
    lines = regional_lines()
    at = lines[0].split(";").index("VESTIGINGSCODE")
    codes = [line.split(";")[at] for line in lines[1:15]]
    renamed = {(row_of(code), "VESTIGINGSNAAM"): f"Zonnebloem {i}" for i, code in enumerate(codes)}
    moved = {(row_of(codes[10]), "PLAATSNAAM"): "MEPPEL"}
    data = edited(renamed | moved, drop=tuple(row_of(code) for code in codes[11:]))
    with varied_app.app_context():
        comparison = compare([read_duo_file(data, "02.csv")], Area.from_file())
        assert comparison.counts()["changed"] >= 10 and comparison.counts()["disappeared"] == 3
        apply_comparison(comparison, kinds=KINDS)
    found = view(varied_app)
    assert found.index is first and found.changed.size >= 10 and found.live is not None
    for args in (
        MultiDict(),
        MultiDict({"q": "zonnebloem"}),
        MultiDict({"q": "school", "sort": "leerlingen"}),
        MultiDict({"postcode": "7941AB", "type": "BAO"}),
        MultiDict({"plaats": "meppel", "sort": "plaats", "page": "2"}),
    ):
        assert agree(varied_app, args, limit=3)


def test_many_changes_start_a_new_build(make_app, seeded_app):
    app = make_app("rebuild", SEARCH_INDEX_REBUILD_AT=5)
    first = view(app).index
    change(app, confirm_the_board, 0, 1)  # a board's schools, more than 5
    found = view(app)
    assert found.index is not first and found.changed is None and found.live is None
    assert agree(app, MultiDict({"q": "school"}))


def test_too_many_changes_leave_sql_to_answer_while_a_build_runs(make_app, seeded_app):
    app = make_app("sql", SEARCH_INDEX_IN_BACKGROUND=True, SEARCH_INDEX_DELTA_LIMIT=5)
    search_index.prepare(app)
    release = threading.Event()
    build = search_index.build_now
    search_index.build_now = lambda: (release.wait(10), build())[1]
    try:
        change(app, confirm_the_board, 0, 1)
        with app.test_request_context():
            assert search_index.current() is None  # SQL answers, never the stale index
    finally:
        release.set()
        search_index.build_now = build
    holder = app.extensions["search_index"]
    for _ in range(200):
        if not holder.building:
            break
        threading.Event().wait(0.05)
    assert view(app).changed is None
    assert agree(app, MultiDict({"q": "school"}))


@pytest.mark.parametrize("enabled", [True, False])
def test_a_worker_prepared_at_start_answers_its_first_search_from_the_index(
    make_app, seeded_app, enabled
):
    app = make_app("start", SEARCH_INDEX_IN_BACKGROUND=True, SEARCH_INDEX=enabled)
    search_index.prepare(app)
    with app.test_request_context():
        assert (search_index.current() is not None) is enabled
    assert not app.extensions["search_index"].building
