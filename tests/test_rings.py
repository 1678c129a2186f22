"""Ring requests → geodesic polygons, and what lies inside them."""

from __future__ import annotations

import pytest

from dashboard.errors import NotFoundError, ValidationError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.rings import in_range_rows, resolve_origin, resolve_ring


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.mark.parametrize("text, kind, key", [
    ("Minsk", "city", "geonames:625144"), ("BY", "country", "country:BY"), ("by-ua", "border", "border:BY-UA"),
    ("53.9,27.57", "point", "point"), ("+53.9, 27.57", "point", "point"), ("Belarus", "country", "country:BY"),
])
def test_origins(gazetteer, text, kind, key):
    place = resolve_origin(text, gazetteer)
    assert (place.kind, place.key) == (kind, key)


@pytest.mark.parametrize("text, error", [("95,10", ValidationError), ("Xyzzyqq", NotFoundError), ("BY-DE", NotFoundError)])
def test_bad_origins(gazetteer, text, error):
    with pytest.raises(error):
        resolve_origin(text, gazetteer)


def test_a_system_ring_uses_its_declared_cited_range(gazetteer, catalogue):
    ring = resolve_ring("Minsk", gazetteer, catalogue, system="iskander-m")
    assert (ring.kind, ring.radius_km, ring.label) == ("ring", 500, "Iskander-M, 500 km from Minsk")
    assert ring.source.quote == "The systems have a range of up to 500 km."
    cruise = resolve_ring("Minsk", gazetteer, catalogue, system="iskander-m", munition="cruise")
    assert cruise.label == "Iskander-M cruise missile, 500 km from Minsk"


def test_a_country_or_border_origin_gives_a_reach_envelope(gazetteer, catalogue):
    assert resolve_ring("BY", gazetteer, catalogue, km=100).kind == "reach"
    assert resolve_ring("BY-UA", gazetteer, catalogue, km=100, reach=True).geometry.is_valid


@pytest.mark.parametrize("kw, field", [({"system": "nope"}, "system"), ({"system": "su-25"}, "munition"),
                                       ({}, "km"), ({"km": -3}, "km")])
def test_bad_ring_requests(gazetteer, catalogue, kw, field):
    with pytest.raises(ValidationError) as err:
        resolve_ring("Minsk", gazetteer, catalogue, **kw)
    assert err.value.field == field


def test_in_range_rows_list_capitals_cities_and_events_nearest_first(gazetteer, catalogue):
    from tests.conftest import make_event

    ring = resolve_ring("Minsk", gazetteer, catalogue, system="iskander-m")
    rows = in_range_rows(ring, gazetteer, [make_event()], 500_000)
    assert rows[0].name == "Minsk" and rows[0].bearing_deg is None  # no bearing from a point to itself
    kinds = {r.kind for r in rows}
    assert kinds == {"capital", "city", "event"}
    assert [r.distance_km for r in rows] == sorted(r.distance_km for r in rows)
    assert all(r.distance_km <= 500 for r in rows)
    assert "Kyiv" in {r.name for r in rows} and "Berlin" not in {r.name for r in rows}
