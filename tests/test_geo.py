import pytest

from registry import geo


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("7941AB", "7941 AB"),
        ("7941 ab", "7941 AB"),
        (" 7941 ", "7941"),
        ("794", None),
        ("x7941", None),
    ],
)
def test_parse_postcode(typed, parsed):
    assert geo.parse_postcode(typed) == parsed


def test_a_drenthe_postcode_is_placed_by_its_own_centre_others_by_their_area():
    ruinerwold = geo.locate_postcode("7961 AW")
    assert ruinerwold == geo.pc6_points()["7961AW"]
    assert ruinerwold != geo.pc4_points()["7961"]
    assert geo.locate_postcode("8064 AA") == geo.pc4_points()["8064"]
    assert geo.locate_postcode("1011") == geo.pc4_points()["1011"]
    assert geo.locate_postcode("1099 ZZ") is None


def test_distance_between_meppel_and_hoogeveen():
    meppel, hoogeveen = geo.pc4_points()["7941"], geo.pc4_points()["7901"]
    assert geo.distance_km(meppel, hoogeveen) == pytest.approx(20.5, abs=2.5)
    assert geo.distance_km(meppel, meppel) == 0


def test_the_sql_ordering_agrees_with_true_distances():
    origin = geo.pc4_points()["7941"]
    places = [geo.pc4_points()[pc4] for pc4 in ("7901", "8331", "7961", "8064", "7991", "7951")]
    by_sql = sorted(
        places, key=lambda p: geo.squared_distance_expression(p.latitude, p.longitude, origin)
    )
    by_haversine = sorted(places, key=lambda p: geo.distance_km(origin, p))
    assert by_sql == by_haversine
