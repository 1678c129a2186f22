"""The offline basemap's tiles in pages that cannot fetch (exports), and in the PNG export."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from dashboard import export
from dashboard.mapview import basemap as bm
from dashboard.model import Place
from dashboard.scene import Scene, load_basemap
from dashboard.share import ViewState
from tests.conftest import make_event

DESNA = Place.at("geonames:710071", "Desna", "village", 30.76678, 50.92744, country="UA")
# reachmap-basemap.js, light style
RIVER, REGION = (0x6d, 0x9c, 0xc2), (0xb3, 0xa6, 0x95)


def _near(rgb: np.ndarray, colour: tuple[int, int, int], tol: int) -> int:
    return int((np.abs(rgb - np.array(colour)).max(axis=-1) <= tol).sum())


def _text_pixels(rgb: np.ndarray) -> int:
    return int((rgb.max(axis=-1) < 90).sum())  # label text is near-black; nothing else on the light map is


def test_fit_view_matches_leaflet_for_known_boxes():
    from dashboard.rings import fit_view

    # Leaflet 1.9's map.getBoundsZoom(bounds, false, [60, 60]) on a 1280 x 720 map gives 6, 15 and 1.
    assert fit_view((23.2, 51.3, 32.8, 56.2), 1280, 720, max_zoom=18)[1] == 6  # Belarus
    assert fit_view((30.0, 50.0, 30.01, 50.01), 1280, 720, max_zoom=18)[1] == 15
    assert fit_view((-180, -80, 180, 80), 1280, 720, max_zoom=18)[1] == 1


def test_an_embedded_view_keeps_its_own_tiles_and_stays_under_the_budget():
    tiles = bm.view_tiles(30.77, 50.93, 9, 1600, 1000)
    size = sum(len(t.encode()) for t in tiles.values())
    assert size <= bm.EMBED_MAX_BYTES
    own = {f"{t}/{x}/{y}" for t, x, y in bm.tiles_for_view(bm.load_index(), 30.77, 50.93, 9, 9, 1600, 1000,
                                                            bm.VIEW_MARGIN)}
    assert own <= set(tiles)
    tight = bm.view_tiles(30.77, 50.93, 9, 1600, 1000, max_bytes=1)
    assert set(tight) == own  # under any budget the view's own tiles go in, and only they


def test_embedded_json_cannot_close_its_script_element():
    text = bm.embedded_json({"2/0/0": json.dumps({"label": [["</script><!--", 1, 2, 3, 2, "{{ 7*7 }}"]]})})
    assert "<" not in text and "{{" not in text and "${" not in text
    _, tiles = bm.unpack_tiles(json.loads(text)["packed"])
    assert json.loads(tiles["2/0/0"])["label"][0][0] == "</script><!--"


def test_packed_tiles_unpack_to_the_same_bytes_for_every_tile_of_the_build():
    tiles = {str(f.relative_to(bm.TILES_DIR))[:-len(".json")]: f.read_text(encoding="utf-8")
             for f in bm.TILES_DIR.glob("*/*/*.json")}
    index, back = bm.unpack_tiles(bm.pack_tiles(tiles))
    assert back == tiles  # text for text: coordinates, names, zoom ranges, angles
    assert index == {k: v for k, v in bm.load_index().items() if k != "sources"}


def test_a_packed_view_is_at_most_a_third_of_its_json():
    tiles = bm.view_tiles(29.0, 52.0, 5, 1600, 1000)
    json_bytes = sum(len(t.encode()) for t in tiles.values())
    assert len(bm.pack_tiles(tiles)) <= json_bytes / 3, (len(bm.pack_tiles(tiles)), json_bytes)


@pytest.mark.parametrize("lon, lat, zoom", [(29.0, 52.0, 5), (30.77, 50.93, 9), (19.0, 55.0, 6), (0.0, 0.0, 2)])
def test_a_still_picture_embeds_only_the_tiles_of_its_view(lon, lat, zoom):
    still = bm.view_tiles(lon, lat, zoom, 1200, 800, still=True)
    own = {f"{t}/{x}/{y}" for t, x, y in bm.tiles_for_view(bm.load_index(), lon, lat, zoom, zoom, 1200, 800, 0)}
    assert own <= set(still) <= set(bm.view_tiles(lon, lat, zoom, 1200, 800))


def test_a_page_embeds_the_next_zoom_in_over_the_centre_of_its_view():
    index = bm.load_index()
    tiles = set(bm.view_tiles(29.0, 52.0, 5, 1600, 1000))
    centre = {f"{t}/{x}/{y}" for t, x, y in bm.tiles_for_view(index, 29.0, 52.0, 5, 6, 800, 500, 0)}
    edge = {f"{t}/{x}/{y}" for t, x, y in bm.tiles_for_view(index, 58.0, 52.0, 5, 6, 100, 100, 0)}
    assert centre <= tiles and not edge & tiles  # one step in at the centre is drawn from zoom-6 tiles


def _png(state: ViewState, gazetteer) -> np.ndarray:
    scene = Scene(state, (make_event(place=DESNA, event_type="missile strike"),), (), ())
    png = export.to_png(scene, load_basemap(gazetteer), 1200, 800)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_a_png_of_the_desna_strike_at_zoom_9_shows_labels_the_river_and_oblast_lines(chromium_path, gazetteer):
    state = ViewState(center=(50.93, 30.9), zoom=9)
    rgb = _png(state, gazetteer)
    unlabelled = _png(state.with_(layers=("events", "rings", "reach", "countries", "border")), gazetteer)
    assert _near(rgb, RIVER, 10) > 800, "no rivers in the picture"
    assert _near(rgb, REGION, 6) > 150, "no oblast lines in the picture"
    # Place names: the same picture without them has far fewer dark text pixels (the title box keeps some).
    assert _text_pixels(rgb) > _text_pixels(unlabelled) + 2000


@pytest.mark.parametrize("base, sea", [("vector", (0xc9, 0xdc, 0xea)), ("vector-dark", (0x17, 0x22, 0x2d))])
def test_the_png_follows_the_chosen_offline_style(chromium_path, gazetteer, base, sea):
    rgb = _png(ViewState(center=(55.0, 19.0), zoom=6, base=base), gazetteer)  # the Baltic Sea
    assert _near(rgb, sea, 4) > rgb.shape[0] * rgb.shape[1] * 0.1


def test_an_export_from_the_app_embeds_its_tiles_though_the_app_serves_them(gazetteer):
    from dataclasses import replace

    scene = Scene(ViewState(center=(50.93, 30.9), zoom=9), (make_event(place=DESNA),), (), ())
    page = export.to_html(scene, replace(load_basemap(gazetteer), served=True))  # as the Map page passes it
    assert "window.REACHMAP_BASEMAP" in page and "/app/static/basemap/tiles/" not in page


def test_added_places_reach_the_map_as_inert_text_with_their_zoom():
    from dashboard.gazetteer import AddedPlace
    from dashboard.mapview import Basemap, MapView, build_map

    hostile = "Testivka {{ 7*7 }}</script><img src=x onerror=alert(1)>`${x}`"
    places = (AddedPlace(1, "Bigtown", 31.25, 51.5, 20_000, "UA"), AddedPlace(2, hostile, 31.5, 51.1, 0, "UA"))
    payload = bm.added_labels_js(places)
    data = json.loads(payload)
    assert data["names"].split("\n") == ["Bigtown", hostile]
    assert data["lon"] == [3125000, 3150000] and data["lat"] == [5150000, 5110000]
    assert data["cls"] == "23" and data["z"] == [7, 10]  # a town from zoom 7, a village from zoom 10
    html = build_map([], [], Basemap(added=payload, served=True), MapView(centre=(31.5, 51.1), zoom=11)) \
        .get_root().render()
    assert "L.reachmapBasemap.addLabels(" in html
    assert "{{" not in html.split("addLabels(", 1)[1].split(");", 1)[0] and "49" not in payload
    assert "</script><img" not in html and "${x}" not in html
