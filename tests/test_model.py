"""Validation: every bad value is refused with an error naming the field and the value."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import Point

from dashboard.errors import ValidationError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import Munition, Place, Source, TimeSpan, check_lat, check_lon, check_range_km
from tests.conftest import make_event

SRC = Source("t", "p")


@pytest.mark.parametrize("call, field, value", [
    (lambda: check_lat(90.5), "lat", 90.5),
    (lambda: check_lat(-91), "lat", -91),
    (lambda: check_lat(float("nan")), "lat", None),
    (lambda: check_lon(180.01), "lon", 180.01),
    (lambda: check_lon(-200), "lon", -200),
    (lambda: check_lon("30"), "lon", "30"),
    (lambda: Place.at("k", "x", "city", 30.0, 95.0), "lat", 95.0),
    (lambda: Place.at("k", "x", "city", 190.0, 50.0), "lon", 190.0),
    (lambda: Place("k", "x", "town", Point(0, 0)), "place.kind", "town"),
    (lambda: Place("k", " ", "city", Point(0, 0)), "place.name", " "),
    (lambda: Place("k", "x", "city", Point(0, 0), country="ukr"), "place.country", "ukr"),
    (lambda: TimeSpan(date(2022, 6, 25), date(2022, 6, 24)), "time.end", "2022-06-24"),
    (lambda: TimeSpan(date(2022, 6, 25), date(2022, 6, 25), "fortnight"), "time.precision", "fortnight"),
    (lambda: make_event(title=""), "event.title", ""),
    (lambda: make_event(title="   "), "event.title", "   "),
    (lambda: make_event(event_id=""), "event.id", ""),
    (lambda: check_range_km(0), "range_km", 0),
    (lambda: check_range_km(-500), "range_km", -500),
    (lambda: Munition("m", "ballistic", 0, SRC), "munition.range_km", 0),
    (lambda: Munition("m", "ballistic", -1, SRC), "munition.range_km", -1),
    (lambda: Munition("m", "laser", 10, SRC), "munition.kind", "laser"),
    (lambda: Source("t", "p", "javascript:alert(1)"), "source.url", "javascript:alert(1)"),
    (lambda: load_catalogue().get("iskander-x"), "system", "iskander-x"),
])
def test_bad_values_name_field_and_value(call, field, value):
    with pytest.raises(ValidationError) as err:
        call()
    assert err.value.field == field
    assert field in str(err.value)
    if value is not None:
        assert repr(value) in str(err.value)


@pytest.mark.parametrize("span, start, end, expected", [
    (TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate", "in late February"), date(2022, 2, 25), date(2022, 2, 25), True),
    (TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate"), date(2022, 3, 1), None, False),
    (TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate"), None, date(2022, 2, 20), True),
    (TimeSpan.day(date(2022, 6, 25)), date(2022, 6, 25), date(2022, 6, 25), True),
    (TimeSpan.day(date(2022, 6, 25)), date(2022, 6, 26), date(2022, 6, 30), False),
    (TimeSpan.month(2020, 8), date(2020, 8, 31), date(2020, 9, 5), True),
    (TimeSpan.month(2020, 8), None, None, True),
])
def test_date_filters_select_by_overlap(span, start, end, expected):
    assert span.overlaps(start, end) is expected


@pytest.mark.parametrize("span, label", [
    (TimeSpan.day(date(2022, 6, 5)), "5 Jun 2022"),
    (TimeSpan.month(2020, 2), "Feb 2020"),
    (TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate", "in late February"), "20–28 Feb 2022 (in late February)"),
    (TimeSpan(date(2022, 6, 25), date(2022, 12, 31), "span"), "25 Jun – 31 Dec 2022"),
    (TimeSpan(date(2021, 12, 25), date(2022, 1, 2), "week"), "25 Dec 2021 – 2 Jan 2022"),
])
def test_time_labels(span, label):
    assert span.label == label


def test_month_span_covers_the_whole_month():
    assert TimeSpan.month(2024, 2) == TimeSpan(date(2024, 2, 1), date(2024, 2, 29), "month")


def test_catalogue_holds_iskander_m_at_the_declared_500_km_cited():
    system = load_catalogue().get("Iskander")  # by alias
    assert system.id == "iskander-m"
    kinds = {m.kind: m for m in system.munitions}
    assert set(kinds) == {"ballistic", "cruise"}
    for munition in kinds.values():
        assert munition.range_km == 500
        assert munition.source.url.startswith("https://")
        assert "500 km" in munition.source.quote


def test_a_place_belongs_to_its_country_and_a_border_to_both():
    from shapely.geometry import LineString

    assert Place.at("p", "Desna", "village", 30.8, 50.9, country="UA").countries == ("UA",)
    assert Place.at("p", "Somewhere", "point", 30.8, 50.9).countries == ()
    border = Place("border:BY-UA", "Belarus–Ukraine border", "border", LineString([(23.6, 51.5), (31.7, 52.1)]))
    assert border.countries == ("BY", "UA")
