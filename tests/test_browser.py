"""User journeys in real Chromium."""

import pytest

pytestmark = pytest.mark.browser


def test_a_parent_opens_the_landing_page_and_switches_to_english(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Een passende school in de buurt"
    municipalities = page.locator(".municipalities li")
    assert municipalities.count() == 7
    assert "Hoogeveen" in municipalities.all_inner_texts()[1]

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    assert skip_link.evaluate("element => element === document.activeElement")
    assert skip_link.is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "A school that fits, close to home"

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_landing_page_fits_a_phone_screen(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto("/")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
    context.close()
