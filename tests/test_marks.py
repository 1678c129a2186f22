"""The map's own marks: event markers and popups, shared places, colours, ring labels, the legend
(mapview.marks), and the view that fits a new ring (rings.fit_view)."""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest

from dashboard import geodesy
from dashboard.errors import ValidationError
from dashboard.mapview import MapView, build_map, type_colour
from dashboard.mapview.marks import (_FALLBACK, CLUSTER_RADIUS_PX, PALETTE, TYPE_COLOURS, Legend,
                                     location_level)
from dashboard.model import Place
from dashboard.rings import Ring, fit_view
from tests.conftest import make_event
from tests.test_mapview import BASEMAP, HOSTILE, MINSK, geojson_added, html_of, popups_of, ring

BELARUS = Place("country:BY", "Belarus", "country", MINSK.geometry.buffer(2.0), country="BY", pin=MINSK.lonlat)


# ------------------------------------------------------------------------------------ shared places

def test_several_events_at_one_point_share_one_marker_listing_them_all():
    events = [make_event("a", title="First"), make_event("b", title="Second"), make_event("c", place=MINSK)]
    html = html_of(events)
    assert html.count("data-count=") == 2
    assert 'data-count=\\"2\\"' in html and "First" in html and "Second" in html


def test_markers_that_overlap_on_screen_are_clustered_and_spread_out_on_click():
    near = Place.at("p", "Next to Desna", "village", 30.77, 50.928)  # 250 m from Desna
    html = html_of([make_event("a"), make_event("b", place=near)])
    assert "L.markerClusterGroup(" in html and f'"maxClusterRadius": {CLUSTER_RADIUS_PX}' in html
    assert '"zoomToBoundsOnClick": false' in html and ".spiderfy()" in html
    assert '"removeOutsideVisibleBounds": false' in html  # every marker stays countable in the page
    assert html.count('"rmCount": 1') == 2  # the cluster's badge sums its markers' counts
    assert "leaflet.markercluster/leaflet.markercluster.js" in html


def test_a_map_without_events_loads_no_cluster_code():
    assert "L.markerClusterGroup(" not in html_of()


# ------------------------------------------------------------------------------- location precision

@pytest.mark.parametrize("place, attributes, level", [
    (BELARUS, (), "country"),
    (Place("admin:UA-74", "Chernihiv Oblast", "admin region", MINSK.geometry.buffer(1.0), country="UA"), (), "region"),
    (MINSK, (("geo_precision", "3"),), "region"),   # ACLED: "a larger region is mentioned"
    (MINSK, (("geo_precision", "2"),), "point"),
    (MINSK, (), "point"),
])
def test_location_level(place, attributes, level):
    assert location_level(make_event(place=place, attributes=attributes)) == level


def test_country_level_events_get_a_badge_of_their_own_beside_the_capital_and_say_so():
    events = [make_event("a", title="Arms to Belarus", place=BELARUS), make_event("b", title="Rally", place=MINSK)]
    html = html_of(events)
    assert html.count("data-count=") == 2  # not one dot at Minsk for both
    assert 'rm-country' in html and '\\"country\\"\\u003eBY' in html
    popups = popups_of(html)
    assert any("Located only at country level: Belarus" in p and "Arms to Belarus" in p for p in popups)
    assert not any("Located only" in p and "Rally" in p for p in popups)
    assert any(p == "<div>Belarus (country level): Arms to Belarus</div>" for p in popups)
    assert "located only by country" in html  # the legend explains the badge


def test_region_level_popup_names_the_region_escaped():
    place = Place.at("acled:x", "Desna", "village", 30.77, 50.93, admin1=HOSTILE)
    popup = "".join(popups_of(html_of([make_event(place=place, attributes=(("geo_precision", "3"),))])))
    assert "Located only at region level: &lt;img src=x onerror=alert(1)&gt;" in popup and "<img src=x" not in popup


# ------------------------------------------------------------------------------------------- colours

def test_markers_are_coloured_by_type_with_a_legend():
    html = html_of([make_event(event_type="missile strike"), make_event("d", event_type="diplomacy", place=MINSK)])
    assert type_colour("missile strike") in html and type_colour("diplomacy") in html
    assert 'class="rm-legend"' in html and "missile strike</div>" in html


def test_known_types_keep_distinct_palette_colours_and_others_a_deterministic_one():
    assert len(set(TYPE_COLOURS.values())) == len(TYPE_COLOURS) and set(TYPE_COLOURS.values()) <= set(PALETTE)
    assert type_colour("air/drone strike") == type_colour("air/drone strike") in _FALLBACK
    others = {type_colour(f"type {i}") for i in range(200)}
    assert others == set(_FALLBACK)  # every extra colour is used, none outside the list


# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color vision
# deficiency", severity 1.0, on linear sRGB.
MACHADO = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def lab(colour: str, vision: str | None = None) -> tuple[float, float, float]:
    """CIELAB (D65) of a #rrggbb colour, as seen with normal vision or the given deficiency."""
    rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if vision:
        linear = np.clip(MACHADO[vision] @ linear, 0, 1)
    t = _SRGB_TO_XYZ @ linear / _D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1, h2 = math.degrees(math.atan2(b1, a1)) % 360, math.degrees(math.atan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_bar, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = (-2 * math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7))
           * math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2)))))
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


@pytest.mark.parametrize("lab1, lab2, expected", [  # Sharma, Wu & Dalal (2005), table 1, pairs 1, 7, 17, 25
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, 0, 0), (50, -1, 2), 2.3669),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_the_colour_difference_used_below_matches_published_values(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_the_simulation_confuses_what_it_should():
    # Red and green that anyone with normal vision tells apart are near twins for a deuteranope.
    red, green = "#D0021B", "#7E8A00"
    assert ciede2000(lab(red), lab(green)) > 30
    assert ciede2000(lab(red, "deuteranopia"), lab(green, "deuteranopia")) < 12


@pytest.mark.parametrize("colours, least", [(PALETTE, 11.0), (_FALLBACK, 10.0)], ids=["palette", "fallback"])
@pytest.mark.parametrize("vision", [None, "deuteranopia", "protanopia"])
def test_every_pair_of_colours_stays_apart_for_colour_blind_readers(colours, least, vision):
    """ΔE2000 ≥ 11 is far above a just-noticeable difference (about 1–2): distinct even as small marks."""
    assert len(colours) >= (12 if colours is PALETTE else 10) and len(set(colours)) == len(colours)
    pairs = [(ciede2000(lab(a, vision), lab(b, vision)), a, b) for a, b in itertools.combinations(colours, 2)]
    assert min(pairs) >= (least,), min(pairs)


# ------------------------------------------------------------------------------------ ring labels

def test_every_ring_carries_its_label_colour_and_origin_for_the_label_layer():
    html = html_of(rings=[ring(500), Ring("Iskander-M, 500 km from Belarus", "reach", MINSK, 500,
                                          geodesy.reach_envelope(BELARUS.geometry, 500))])
    props = [f["properties"] for f in geojson_added(html) if f.get("properties", {}).get("kind") in ("ring", "reach")]
    assert [p["label"] for p in props] == ["Iskander-M, 500 km from Minsk", "Iskander-M, 500 km from Belarus"]
    assert props[0]["origin"] == [MINSK.lonlat[1], MINSK.lonlat[0]] and all(p["colour"].startswith("#") for p in props)
    assert html.count("window.ReachmapRingLabels(map_") == 2  # one per layer group (rings, envelopes)
    assert html.count("if (!window.ReachmapRingLabels)") == 2  # the library, defined once when it runs


def test_a_ring_label_from_data_never_becomes_markup_or_code():
    html = html_of(rings=[Ring(HOSTILE + "${alert(1)}{{7*7}}", "ring", MINSK, 100, geodesy.range_ring(MINSK.lonlat, 100))])
    script = html[html.index("if (!window.ReachmapRingLabels)"):]
    script = script[:script.index("</script>")]
    assert "onerror" not in script and "alert" not in script  # the label lives only in the GeoJSON data
    assert "span.textContent = ring.props.label" in script


def test_no_labels_layer_without_rings():
    assert "ReachmapRingLabels" not in html_of([make_event()])


# -------------------------------------------------------------------------------------------- legend

def test_the_legend_folds_and_is_capped_to_a_share_of_the_map():
    from dashboard.mapview.marks import CSS

    html = html_of([make_event()], [ring()])
    assert "<details open><summary><b>Legend</b></summary>" in html
    legend_css = re.search(r"\.rm-legend \{([^}]*)\}", CSS)[1]
    assert "max-height: 40%" in legend_css and "max-width: min(280px, 40%)" in legend_css
    assert "overflow-y: auto" in legend_css


def test_an_empty_legend_has_no_box():
    assert Legend([], []).body_html() == ""


# ------------------------------------------------------------------------------ fitting a new ring

@pytest.mark.parametrize("bounds, size, expected_zoom", [
    ((20.0, 49.4, 35.2, 58.4), (1200, 620), 5),   # a 500 km ring from Minsk
    ((20.0, 49.4, 35.2, 58.4), (2400, 1240), 6),  # twice the pixels: one zoom more
    ((30.0, 50.0, 31.0, 51.0), (1200, 620), 8),   # about 70 × 111 km
    ((-180.0, -80.0, 180.0, 80.0), (1200, 620), 1),  # the world: the smallest zoom allowed
    ((27.5, 53.9, 27.5, 53.9), (1200, 620), 12),  # a point: the largest zoom allowed
])
def test_fit_view_zoom(bounds, size, expected_zoom):
    assert fit_view(bounds, *size)[1] == expected_zoom


def _pixels(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel coordinates, written out independently of rings.fit_view."""
    scale = 256 * 2 ** zoom
    return (lon + 180) / 360 * scale, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale


@pytest.mark.parametrize("km, origin", [(500, (27.56653, 53.90019)), (120, (30.5238, 50.45466)),
                                        (2000, (37.61781, 55.75204)), (40, (24.0, 68.0))])
def test_a_fitted_ring_fills_the_map_but_fits_inside_it(km, origin):
    geometry = geodesy.range_ring(origin, km)
    (lat, lon), zoom = fit_view(geometry.bounds, 1200, 620, padding_px=30)
    cx, cy = _pixels(lon, lat, zoom)
    for z, must_fit in ((zoom, True), (zoom + 1, False)):
        cx, cy = _pixels(lon, lat, z)
        xs, ys = zip(*(_pixels(x, y, z) for x, y in geometry.exterior.coords))
        inside = (max(abs(min(xs) - cx), abs(max(xs) - cx)) <= 600 - 30 + 1e-6
                  and max(abs(min(ys) - cy), abs(max(ys) - cy)) <= 310 - 30 + 1e-6)
        assert inside == must_fit, (km, z)


@pytest.mark.parametrize("bounds, size", [((1.0, 2.0, 0.0, 3.0), (1200, 620)), ((0, 0, float("nan"), 1), (1200, 620)),
                                          ((0, 0, 1, 1), (50, 620))])
def test_fit_view_refuses_what_it_cannot_fit(bounds, size):
    with pytest.raises(ValidationError):
        fit_view(bounds, *size)


def test_adding_a_quick_ring_moves_the_map_to_show_it(store_path, gazetteer):
    from streamlit.testing.v1 import AppTest
    from dashboard.settings import PROJECT_DIR

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120)
    at.query_params.update({"v": "1", "c": "40.0,10.0", "z": "9"})
    at.run()
    next(b for b in at.button if b.label == "Iskander-M reach from Belarus").click().run()
    assert not at.exception
    assert at.query_params["reach"] == "iskander-m@BY"
    lat, lon = map(float, at.query_params["c"].split(","))
    assert 50 < lat < 58 and 24 < lon < 33 and at.query_params["z"] == "5"


def test_imported_precision_and_casualties_show_in_the_popup_escaped():
    event = make_event(attributes=(("geo_precision", "2"), ("fatalities", "<3>"), ("internal", "hidden")))
    popup = "".join(popups_of(html_of([event])))
    assert "geo_precision: 2" in popup and "fatalities: &lt;3&gt;" in popup and "internal" not in popup


def test_the_doctests_of_marks_and_rings_hold():
    import doctest

    from dashboard import rings
    from dashboard.mapview import marks

    assert doctest.testmod(marks).failed == 0 and doctest.testmod(rings).failed == 0


def test_the_clustered_layer_marks_events_located_only_by_an_area():
    from dashboard.mapview.bulk import decode, encode
    from dashboard.table import EventTable

    table = EventTable.from_events([make_event("a"), make_event("b", place=BELARUS), make_event("c", place=MINSK)])
    payload = encode(table, np.arange(3), {})
    back = decode(payload)
    assert payload.meta["areaBytes"] == 1 and dict(zip(back["id"], back["area"].tolist())) == {
        "a": False, "b": True, "c": False}
    points_only = encode(table, np.array([0, 2]), {})
    assert points_only.meta["areaBytes"] == 0 and not decode(points_only)["area"].any()
    assert "located only by country or region" in _bulk_script(table)


def _bulk_script(table) -> str:
    from dashboard.mapview.bulk import add_bulk_events

    m = build_map([], [], BASEMAP, MapView(centre=(28.0, 53.0), zoom=6), draw=False, sync_url=False)
    add_bulk_events(m, table, np.arange(len(table)), {})
    return m.get_root().render()


def test_the_colours_doctests_hold_and_kml_styles_need_no_folium():
    import doctest
    import subprocess
    import sys

    from dashboard import colours

    result = doctest.testmod(colours)
    assert result.attempted and result.failed == 0
    code = "import sys, dashboard.export.kml; print('folium' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
