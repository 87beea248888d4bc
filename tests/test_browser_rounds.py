"""A board walks through its update round by keyboard in real Chromium, and the round's pages
pass axe. The figures of the walk (keystrokes, seconds) are printed for the closing note."""

import time

import pytest
from helpers import serious_axe_violations
from sqlalchemy import func, select
from test_browser_support import tab_to
from test_rounds import BOARD, ROUND_PAGE, add_contact, start_round

from registry.db import db
from registry.rounds import Outcome, RoundSchool

pytestmark = pytest.mark.browser


def confirmed(app) -> dict:
    with app.app_context():
        return dict(
            db.session.execute(
                select(RoundSchool.outcome, func.count(RoundSchool.id)).group_by(
                    RoundSchool.outcome
                )
            ).all()
        )


def walk_to(page, predicate: str, key: str, limit: int = 80) -> int:
    """Press `key` until the focused element satisfies the JavaScript predicate; the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return presses
    raise AssertionError(f"never reached {predicate} by {key}")


def skip_the_menu(page) -> int:
    """Tab to the page's first stop, the link past the menu, and follow it: two keys."""
    page.locator("body").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Naar de inhoud"
    page.keyboard.press("Enter")
    return 2


def test_a_board_confirms_its_schools_by_keyboard(seeded_app, admin_page, make_user):
    email = make_user("bestuur", BOARD, email="anna@wies.example")
    add_contact(seeded_app, BOARD, "Anna de Vries", email)
    start_round(seeded_app)
    page = admin_page(email, bypass_csp=True)

    started = time.monotonic()
    page.goto(ROUND_PAGE)
    keys = skip_the_menu(page)
    keys += tab_to(page, "el.textContent.trim().startsWith('Klopt')")  # the first school's
    first = page.evaluate("document.activeElement.textContent.trim()")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    keys += 1
    assert "Bevestigd:" in page.locator(".alert").first.inner_text()
    assert confirmed(seeded_app) == {Outcome.CONFIRMED: 1}
    one_school = (keys, time.monotonic() - started)

    # The other thirteen at once: nothing in them needs changing.
    # The page came back at the school just confirmed: back up to the button above the list.
    more = walk_to(page, "el.textContent.trim().startsWith('Alles klopt')", "Shift+Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    keys += more + 1
    assert confirmed(seeded_app) == {Outcome.CONFIRMED: 14}
    whole_board = (keys, time.monotonic() - started)
    assert "14 van 14 scholen bevestigd" in page.locator("main, body").first.inner_text()
    assert first.startswith("Klopt (")  # the button names its school for a screen reader
    print(
        f"\nround by keyboard: first school {one_school[0]} keys {one_school[1]:.1f} s; "
        f"all 14 schools {whole_board[0]} keys {whole_board[1]:.1f} s"
    )
    assert serious_axe_violations(page) == []


def test_the_round_pages_pass_axe(seeded_app, admin_page, make_user):
    add_contact(seeded_app, BOARD, "Anna de Vries", "anna@wies.example")
    start_round(seeded_app)
    email = make_user("coordinator", email="coord@swv.example")
    page = admin_page(email, bypass_csp=True)
    found = {}
    for path in ("/admin/ronde/", ROUND_PAGE, "/admin/board_contact/", "/admin/board_contact/new/"):
        assert page.goto(path).status == 200, path
        if path.startswith("/admin/ronde/"):
            assert page.locator("h1").count() == 1, path
        if violations := serious_axe_violations(page):
            found[path] = violations
    assert found == {}
