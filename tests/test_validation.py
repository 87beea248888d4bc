import pytest

from registry import validation
from registry.validation import InvalidValue


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("7961 AW", "7961 AW"), ("7961aw", "7961 AW"), (" 7961 aw ", "7961 AW"), ("", None)],
)
def test_postcode_is_stored_in_one_form(typed, stored):
    assert validation.postcode(typed) == stored


@pytest.mark.parametrize("typed", ["0961 AW", "7961", "7961 A", "79611 AW", "7961 SS", "AW 7961"])
def test_malformed_postcodes_are_refused_with_an_example(typed):
    with pytest.raises(InvalidValue) as caught:
        validation.postcode(typed)
    assert "7961 AW" in str(caught.value.message)


@pytest.mark.parametrize(("typed", "stored"), [("05SX00", "05SX00"), ("05sx00", "05SX00")])
def test_vestigingscode(typed, stored):
    assert validation.vestigingscode(typed) == stored


@pytest.mark.parametrize("typed", ["05SX", "5SX00", "05SX0A", "05SX000", "AB1200", ""])
def test_malformed_vestigingscode_is_refused(typed):
    with pytest.raises(InvalidValue, match="vestigingscode"):
        validation.vestigingscode(typed)


def test_brin_board_kvk_and_cbs_formats():
    assert validation.brin("13xw") == "13XW"
    assert validation.board_number("41196") == "41196"
    assert validation.kvk_number("04060053") == "04060053"
    assert validation.kvk_number("") is None
    assert validation.cbs_code("gm0118") == "GM0118"
    for check, bad in [
        (validation.brin, "1XW"),
        (validation.board_number, "4119"),
        (validation.kvk_number, "4060053"),
        (validation.cbs_code, "0118"),
        (validation.pc4, "0799"),
    ]:
        with pytest.raises(InvalidValue):
            check(bad)


@pytest.mark.parametrize(
    "typed", ["www.dearendsvleugel.nl", "https://school.nl/profiel.pdf", "http://a-b.school.info"]
)
def test_urls_with_or_without_scheme_are_accepted_as_typed(typed):
    assert validation.url(typed) == typed


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "ftp://school.nl",
        "geen website",
        "school",
        "http://",
        "[",
        "http://[::1",
    ],
)
def test_bad_urls_are_refused(typed):
    with pytest.raises(InvalidValue):
        validation.url(typed)


def test_link_href_adds_a_scheme_only_when_missing():
    assert validation.link_href("www.school.nl") == "http://www.school.nl"
    assert validation.link_href("https://www.school.nl") == "https://www.school.nl"
    assert validation.link_href(None) is None


def test_email_is_normalised_and_checked():
    assert validation.email("info@School.NL") == "info@school.nl"
    with pytest.raises(InvalidValue):
        validation.email("info@")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0522481344", "0522 48 13 44"),  # as DUO writes it
        ("0522 48 13 44", "0522 48 13 44"),
        ("(0522) 481344", "0522 48 13 44"),
        ("0522-481344", "0522 48 13 44"),
        ("+31 522 481 344", "+31 522 48 13 44"),
        ("+49 30 1234567", "+49 30 1234567"),  # a foreign number: as typed
    ],
)
def test_phone_numbers_as_people_write_them_are_stored_in_one_form(typed, stored):
    assert validation.phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "0522-48134", "bel ons"])
def test_bad_phone_numbers_are_refused(typed):
    with pytest.raises(InvalidValue):
        validation.phone(typed)


def test_coordinates_must_be_on_earth():
    assert validation.latitude(52.7) == 52.7
    with pytest.raises(InvalidValue):
        validation.latitude(91)
    with pytest.raises(InvalidValue):
        validation.longitude(-181)
