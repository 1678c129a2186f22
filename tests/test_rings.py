"""Ring requests → geodesic polygons, and what lies inside them."""

from __future__ import annotations

import numpy as np
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


def test_city_districts_are_not_cities_in_range(gazetteer, catalogue):
    ring = resolve_ring("Minsk", gazetteer, catalogue, km=500)
    rows = in_range_rows(ring, gazetteer, [], 0, ("city",))
    names = {r.name for r in rows}
    assert not {"Obolon", "Mokotów"} & names  # Kyiv's and Warsaw's districts
    assert [r.distance_km for r in rows if r.name == "Pechersk"] == [308.9]  # the town in Smolensk Oblast
    desna = [r for r in rows if r.name == "Desna"]
    assert [(r.distance_km, r.admin1, r.country) for r in desna] == [(395.9, "02", "UA")]  # the story's village
    asked = in_range_rows(ring, gazetteer, [], 0, ("city",), include_districts=True)
    assert {(r.name, r.distance_km) for r in asked} >= {("Desna", 431.9), ("Obolon", 427.0), ("Mokotów", 477.2)}


# -- what a ring may cost ---------------------------------------------------------------------------------

def test_the_cost_of_a_ring_is_known_before_it_is_drawn(gazetteer, catalogue):
    from dashboard import geodesy
    from dashboard.rings import ring_cost

    assert ring_cost("Minsk", gazetteer, catalogue, system="iskander-m") == geodesy.ring_vertex_count(500)
    by = ring_cost("BY", gazetteer, catalogue, km=500)
    assert by == geodesy.reach_plan(gazetteer.country("BY").geometry, 500).cost
    with pytest.raises(ValidationError, match="million ring vertices"):
        ring_cost("RU", gazetteer, catalogue, km=1)


def test_a_view_computes_each_ring_once_and_refuses_rings_past_its_budget(gazetteer, catalogue):
    from dashboard.scene import MAX_VIEW_VERTICES, resolve_rings
    from dashboard.share import RingSpec, ViewState

    made = []

    def build(spec):
        made.append(spec)
        return resolve_ring(spec.origin, gazetteer, catalogue, km=spec.km, reach=spec.reach)

    cost = {"UA": (MAX_VIEW_VERTICES - 1000) // 3, "BY": 1000}  # as if Ukraine's were continent-sized
    big = [RingSpec("UA", km=500 + i, reach=True) for i in range(4)]
    state = ViewState(rings=(RingSpec("BY", km=10, reach=True),) * 3 + tuple(big))
    rings, problems = resolve_rings(state, gazetteer, catalogue, build, lambda spec: cost[spec.origin])
    assert len(made) == 4 and len(rings) == 3 + 3  # Belarus once, three of the four big envelopes
    assert problems == ["Ring “reach of 503 km from UA” left out: the rings before it already take 5.0 of the "
                        "5 million vertices one view may compute; remove a ring or choose smaller ones."]


def test_a_ring_past_the_envelope_budget_is_one_sentence_in_the_view(gazetteer, catalogue):
    from dashboard.scene import resolve_rings
    from dashboard.share import RingSpec, ViewState

    rings, problems = resolve_rings(ViewState(rings=(RingSpec("RU", km=1, reach=True),)), gazetteer, catalogue)
    assert rings == [] and len(problems) == 1
    assert problems[0].startswith("Ring “reach of 1 km from RU” left out: reach: would need ")
    assert problems[0].endswith(".") and "\n" not in problems[0]


def test_events_located_only_by_country_are_not_listed_in_range_at_0_km(gazetteer, catalogue):
    from dashboard.table import EventTable
    from tests.conftest import make_event

    belarus = gazetteer.country("BY")
    events = [make_event("by", title="Statement in Belarus", place=belarus),
              make_event("pt", title="Strike at Desna", place=gazetteer.resolve("Desna"))]
    ring = resolve_ring("BY", gazetteer, catalogue, system="iskander-m", reach=True)
    table = EventTable.from_events(events)
    for given in (events, (table, np.arange(2))):
        listed = [r.name for r in in_range_rows(ring, gazetteer, given, 10**9, kinds=("event",))]
        assert listed == ["Strike at Desna"]
        wide = [r.name for r in in_range_rows(ring, gazetteer, given, 10**9, kinds=("event",), include_coarse=True)]
        assert sorted(wide) == ["Statement in Belarus", "Strike at Desna"]


@pytest.mark.parametrize("munition", ["cruise~9", "cruise~²", "laser", "cruise~0"])
def test_a_munition_the_catalogue_does_not_hold_is_a_validation_error(gazetteer, catalogue, munition):
    with pytest.raises(ValidationError):
        resolve_ring("Minsk", gazetteer, catalogue, system="kalibr", munition=munition)
