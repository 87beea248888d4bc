"""Phone numbers grouped as people write them in the Netherlands, and never made up."""

import pytest

from registry.phones import grouped_phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("0522258500", "0522 25 85 00"),  # four-digit area code
        ("0522 481345", "0522 48 13 45"),  # typed with other spacing: the same digits
        ("0528-361622", "0528 36 16 22"),
        ("(0522) 481344", "0522 48 13 44"),
        ("0101234567", "010 123 45 67"),  # three-digit area codes
        ("020 1234567", "020 123 45 67"),
        ("0381234567", "038 123 45 67"),
        ("0791234567", "079 123 45 67"),
        ("0383867520", "038 386 75 20"),  # Zwartsluis: area code 038, not 0383
        ("0612345678", "06 12 34 56 78"),  # mobile
        ("06-12345678", "06 12 34 56 78"),
        ("0881234567", "088 123 45 67"),  # company numbers
        ("0851234567", "085 123 45 67"),
        ("08001234", "0800 1234"),  # information numbers, short and long
        ("09001234567", "0900 123 45 67"),
        ("+31522258500", "+31 522 25 85 00"),
        ("+31 6 1234 5678", "+31 6 12 34 56 78"),
        ("+31 10 1234567", "+31 10 123 45 67"),
    ],
)
def test_dutch_numbers_are_grouped(stored, shown):
    assert grouped_phone(stored) == shown
    assert shown.replace(" ", "").lstrip("+") == "".join(c for c in stored if c.isdigit())


@pytest.mark.parametrize(
    "stored",
    [
        "052225850",  # one digit short
        "05222585001",  # one too many
        "0800123456",  # an information number of a length that does not exist
        "+32 2 123 45 67",  # foreign
        "+310612345678",  # +31 (0)6...: which digits are meant is not ours to decide
        "0031522258500",
        "bel ons",
        "0522 481344 (alleen 's ochtends)",
        "",
        None,
    ],
)
def test_anything_else_is_shown_exactly_as_stored(stored):
    assert grouped_phone(stored) == stored
