"""The map HTML: geodesic ring polygons (never L.circle), escaped popups, layers, local assets only."""

from __future__ import annotations

import json
import re

import numpy as np

import pytest

from dashboard.mapview import Basemap, MapView, build_map
from dashboard.mapview.assets import external_urls
from dashboard.mapview.basemap import world_px
from dashboard.model import Place
from dashboard.rings import Ring
from dashboard import geodesy
from tests.conftest import BORDER, make_event

HOSTILE = '<img src=x onerror=alert(1)>'
MINSK = Place.at("geonames:625144", "Minsk", "city", 27.56653, 53.90019, country="BY")
BASEMAP = Basemap(BORDER.geometry, BORDER.name)  # the bundled tiles, embedded (a test map has no server)


def ring(km=500) -> Ring:
    return Ring(f"Iskander-M, {km} km from Minsk", "ring", MINSK, km, geodesy.range_ring(MINSK.lonlat, km))


def html_of(events=(), rings=(), view=MapView()) -> str:
    return build_map(list(events), list(rings), BASEMAP, view).get_root().render()


def popups_of(html: str) -> list[str]:
    """The HTML of every popup and tooltip, decoded from the JSON strings the map script passes to Leaflet."""
    found = re.findall(r'(?:setContent|bindTooltip)\(("(?:[^"\\]|\\.)*")', html)
    return [json.loads(s) for s in found]


def geojson_added(html: str) -> list[dict]:
    """Every GeoJSON feature the map script adds to a layer."""
    added = [json.loads(m) for m in re.findall(r"^\s*geo_json_\w+_add\((\{.*\})\);\s*$", html, flags=re.M)]
    return [f for obj in added for f in obj.get("features", [obj])]


def test_rings_are_geodesic_polygons_not_leaflet_circles():
    html = html_of(rings=[ring()])
    assert "L.circle(" not in html
    ring_features = [f for f in geojson_added(html) if f.get("properties", {}).get("kind") == "ring"]
    assert len(ring_features) == 1
    vertices = ring_features[0]["geometry"]["coordinates"][0]
    assert len(vertices) == len(geodesy.range_ring(MINSK.lonlat, 500).exterior.coords) > 200


def test_data_strings_are_escaped_in_popups_tooltips_and_legend():
    event = make_event(title=HOSTILE, event_type=HOSTILE, place=Place.at("p", HOSTILE, "point", 30.0, 50.0))
    html = html_of([event], [Ring(HOSTILE, "ring", MINSK, 100, geodesy.range_ring(MINSK.lonlat, 100))])
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_javascript_url_can_never_reach_a_popup():
    with pytest.raises(ValueError):
        make_event(place=MINSK).source.__class__("t", "p", "javascript:alert(1)")


@pytest.mark.parametrize("layers, shown, hidden", [
    (("events", "rings", "reach", "countries", "border", "capitals"), ["Events", "Range rings", "Place names"], []),
    (("events",), ["Events"], ["Range rings", "Place names", "Country borders"]),
])
def test_layers_are_in_the_layer_control_and_hidden_ones_start_off(layers, shown, hidden):
    m = build_map([make_event()], [ring()], BASEMAP, MapView(layers=layers))
    html = m.get_root().render()
    groups = {child.layer_name: child for child in m._children.values()
              if hasattr(child, "layer_name") and getattr(child, "overlay", True)}
    for name in ("Events", "Range rings", "Reach envelopes", "Country borders", "Belarus–Ukraine border", "Place names"):
        assert name in groups and json.dumps(name) in html
    for name in shown:
        assert groups[name].show
    for name in hidden:
        assert not groups[name].show


def _bases(m):
    return [c for c in m._children.values() if hasattr(c, "layer_name") and getattr(c, "overlay", True) is False]


def test_the_offline_map_is_the_default_base_its_dark_style_a_choice_and_online_ones_optional():
    m = build_map([], [], BASEMAP, MapView())
    assert [b.layer_name for b in _bases(m)] == ["Offline map", "Offline map, dark", "OpenStreetMap (online)",
                                                  "Satellite (online)"]
    assert [b.layer_name for b in _bases(m) if b.show] == ["Offline map"]
    for base, name in (("vector-dark", "Offline map, dark"), ("osm", "OpenStreetMap (online)")):
        assert [b.layer_name for b in _bases(build_map([], [], BASEMAP, MapView(base=base))) if b.show] == [name]
    html = m.get_root().render()
    assert html.count("L.reachmapBasemap({") == 2 and '"style":"dark"' in html


def test_hidden_basemap_parts_start_hidden_and_their_overlays_toggle_them():
    html = html_of(view=MapView(layers=("events",)))
    assert '"hide":["borders","labels"]' in html
    assert 'L.reachmapBasemap.toggle("borders")' in html and 'L.reachmapBasemap.toggle("labels")' in html
    assert '"hide":[]' in html_of()


def test_nothing_the_page_loads_comes_from_outside():
    html = html_of([make_event(), make_event("b", place=BORDER)], [ring()])
    assert external_urls(html) == []
    assert "/app/static/vendor/leaflet" in html and "/app/static/basemap/reachmap-basemap.js" in html


def test_view_centre_and_zoom_are_used():
    html = html_of([make_event()], view=MapView(centre=(30.5, 50.4), zoom=7))
    assert "[50.4, 30.5]" in html and '"zoom": 7' in html


def _embedded(html: str) -> dict:
    from dashboard.mapview.basemap import unpack_tiles

    found = re.search(r"window\.REACHMAP_BASEMAP = (\{.*?\});</script>", html)
    assert found, "no embedded basemap"
    index, tiles = unpack_tiles(json.loads(found.group(1))["packed"])
    return {"index": index, "tiles": {key: json.loads(text) for key, text in tiles.items()}}


def test_a_map_without_a_server_embeds_the_tiles_of_its_view():
    data = _embedded(html_of(view=MapView(centre=(31.3, 51.5), zoom=9)))
    keys = set(data["tiles"])
    x, y = (int(v // 256) for v in world_px(31.29, 51.49, 8))
    assert f"8/{x}/{y}" in keys  # the zoom-8 data tile over Chernihiv, drawn at zoom 9
    assert {k for k in keys if k.startswith("2/")} == {f"2/{x}/{y}" for x in range(4) for y in range(4)}
    labels = {lab[0] for t in data["tiles"].values() for lab in t.get("label", [])}
    assert {"Chernihiv", "Desna", "Kyiv"} <= labels
    assert len(json.dumps(data)) <= 3_100_000


def test_in_the_app_the_basemap_is_fetched_not_embedded():
    from dataclasses import replace

    served = replace(BASEMAP, served=True)
    app_html = build_map([make_event()], [], served, MapView()).get_root().render()
    snapshot_html = build_map([make_event()], [], served, MapView(), draw=False, sync_url=False).get_root().render()
    file_html = build_map([make_event()], [], BASEMAP, MapView(), draw=False, sync_url=False).get_root().render()
    for html in (app_html, snapshot_html):  # the app's pages, with or without URL syncing, fetch the tiles
        assert '"url":"/app/static/basemap/tiles/"' in html and "REACHMAP_BASEMAP" not in html
    assert "REACHMAP_BASEMAP" in file_html and '"fetch":false' in file_html  # a file embeds what it draws
    assert external_urls(app_html) == []


def test_the_tile_index_lists_exactly_the_tile_files():
    from dashboard.mapview.basemap import TILES_DIR, load_index

    listed = {f"{z}/{x}/{y}" for z, tiles in load_index()["tiles"].items() for x, y in tiles}
    on_disk = {str(p.relative_to(TILES_DIR).with_suffix("")) for p in TILES_DIR.glob("*/*/*.json")}
    assert listed == on_disk and len(listed) > 1000


def test_many_events_as_a_separate_layer_leave_the_map_itself_unchanged():
    """Above the bulk threshold the app swaps only the events layer: the map must not depend on them."""
    from dashboard.mapview import bulk_layer
    from dashboard.table import EventTable

    few = [make_event("a"), make_event("b", place=MINSK)]
    more = few + [make_event("c", place=Place.at("p", "Somewhere", "point", 25.0, 52.0))]
    maps = [build_map(events, [ring()], BASEMAP, MapView(centre=(28.0, 53.0), zoom=6), with_events=False)
            for events in (few, more)]
    first, second = (m.get_root().render() for m in maps)
    assert "data-count=" not in first and re.sub(r"_[0-9a-f]{32}", "", first) == re.sub(r"_[0-9a-f]{32}", "", second)
    table = EventTable.from_events(more)
    layer = bulk_layer(table, np.arange(len(more)))
    assert layer.layer_name == "Events" and any(c.__class__.__name__ == "BulkEvents" for c in layer._children.values())


def test_the_area_filter_is_drawn_while_it_filters():
    corners = ((30.0, 50.5), (32.0, 50.5), (32.0, 52.0), (30.0, 52.0))
    areas = [f for f in geojson_added(html_of(view=MapView(area=corners)))
             if f.get("properties", {}).get("kind") == "area filter"]
    assert len(areas) == 1 and areas[0]["geometry"]["coordinates"][0] == [list(c) for c in corners + corners[:1]]
    assert not [f for f in geojson_added(html_of()) if f.get("properties", {}).get("kind") == "area filter"]


def test_the_map_loads_leaflet_and_its_plugins_only():
    """jQuery, Bootstrap, Font Awesome and awesome-markers are folium's, for icons these maps never use:
    the component loads its scripts one after another, so each one delayed the first map."""
    from dashboard.mapview import build_map

    html = build_map([], [], BASEMAP).get_root().render()
    for unused in ("jquery", "bootstrap", "fontawesome", "awesome-markers", "glyphicons"):
        assert unused not in html.lower(), unused
    assert "/leaflet/leaflet.js" in html and "/leaflet/leaflet.css" in html
