"""Launch areas in every export: GeoJSON (feature and meta), KML (placemark), HTML and PNG (title box line)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from shapely.geometry import shape

from dashboard import export
from dashboard.ingest.catalogue import load_catalogue
from dashboard.scene import Scene, build_scene, load_basemap
from dashboard.share import from_query
from tests.conftest import make_event

KML = "{http://www.opengis.net/kml/2.2}"
QUERY = "?v=1&launch=iskander-m@Desna/BY&launch=30@Desna/BY&c=52.0,29.5&z=6"


@pytest.fixture(scope="module")
def scene(gazetteer) -> Scene:
    return build_scene(from_query(QUERY).state, [make_event()], gazetteer, load_catalogue())


@pytest.fixture(scope="module")
def basemap(gazetteer):
    return load_basemap(gazetteer)


def test_geojson_has_the_launch_area_after_the_rings_and_every_area_in_its_meta(scene):
    doc = json.loads(export.to_geojson(scene))
    kinds = [f["properties"].get("kind") for f in doc["features"]]
    assert kinds == ["launch_area", None]  # the out-of-reach one has no polygon: in the meta only
    area = doc["features"][0]
    props = area["properties"]
    assert props["target"] == "Desna" and props["territory"] == "Belarus" and props["system"] == "Iskander-M"
    assert props["area_km2"] == pytest.approx(scene.launches[0].area_km2, abs=0.1) and 0.5 < props["share_of_territory"] < 1
    assert props["nearest_km"] == pytest.approx(40.6, abs=0.1) and props["could_reach"].startswith("Could reach Desna")
    assert shape(area["geometry"]).is_valid
    meta = doc["reachmap"]["launch_areas"]
    assert [m["area_km2"] for m in meta][1] == 0 and "could not reach Desna" in meta[1]["sentence"]
    assert "launch=iskander-m@Desna/BY" in doc["reachmap"]["query"]


def test_kml_has_a_launch_area_placemark_with_its_figures(scene):
    root = ET.fromstring(export.to_kml(scene).encode("utf-8"))
    folders = {f.findtext(f"{KML}name"): f for f in root.iter(f"{KML}Folder")}
    marks = folders["Launch areas"].findall(f"{KML}Placemark")
    assert len(marks) == 2
    data = {d.get("name"): d.findtext(f"{KML}value") for d in marks[0].iter(f"{KML}Data")}
    assert data["kind"] == "launch_area" and float(data["area_km2"]) > 100_000
    assert marks[0].find(f".//{KML}Polygon") is not None and marks[1].find(f".//{KML}Polygon") is None
    assert "could reach Desna from 8" in marks[0].findtext(f"{KML}description")
    assert "could not reach Desna" in marks[1].findtext(f"{KML}description")
    assert root.find(f".//{KML}Style[@id='launch-0']") is not None


def test_html_title_box_says_what_could_reach_desna_from_belarus(scene, basemap):
    page = export.to_html(scene, basemap)
    assert "Iskander-M could reach Desna from 8" in page
    assert "Could reach Desna from Belarus (at least 40.6 km away): BM-30 Smerch (70 km)" in page
    assert "and 2" in page and "more." in page  # the listing is cut to eight systems in the title box
    assert "Launch areas" in page and "rm-launch-key" in page


def test_png_shows_the_launch_area(chromium_path, scene, basemap):
    from PIL import Image, ImageChops, ImageStat

    with_area = export.to_png(scene, basemap, 800, 500)
    without = export.to_png(Scene(scene.state.with_(launches=()), scene.events, (), ()), basemap, 800, 500)
    a, b = (Image.open(io.BytesIO(png)).convert("RGB") for png in (with_area, without))
    diff = ImageChops.difference(a, b)
    # Centre 52.0,29.5 at zoom 6: southern Belarus, inside the launch area, is tinted; the top-right corner
    # (Moscow region: outside Belarus, over 600 km from Desna) is not.
    assert max(ImageStat.Stat(diff.crop((360, 240, 460, 320))).mean) > 2
    assert diff.crop((700, 60, 790, 180)).getbbox() is None


def test_a_hostile_launch_name_stays_text_in_every_export(gazetteer, basemap):
    from urllib.parse import quote

    hostile = '<script>alert(1)</script>{{7*7}}${x}'
    scene = build_scene(from_query("?launch=300@Desna/BY|" + quote(hostile)).state, [], gazetteer, load_catalogue())
    assert scene.launches[0].label == hostile
    page = export.to_html(scene, basemap)
    assert "<script>alert(1)" not in page and "{{7*7}}" not in page and "${x}" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    root = ET.fromstring(export.to_kml(scene).encode("utf-8"))  # parses: the name is XML text
    assert root.find(f".//{KML}Placemark/{KML}name").text == hostile
    assert json.loads(export.to_geojson(scene))["features"][0]["properties"]["label"] == hostile


def test_launch_areas_and_lines_of_bearing_are_layers_the_link_shows_or_hides(gazetteer, basemap):
    """`layers=` names them like every other layer: a link that leaves them out opens with them hidden."""
    import folium

    from dashboard.scene import scene_map
    from dashboard.share import LAYERS, to_query

    def shown(query: str) -> dict[str, bool]:
        state = from_query(query).state
        m = scene_map(build_scene(state, [make_event()], gazetteer, load_catalogue()), basemap)
        return {c.layer_name: c.show for c in m._children.values() if isinstance(c, folium.FeatureGroup)
                and c.layer_name in ("Launch areas", "Lines of bearing")}

    both = "?v=1&launch=iskander-m@Desna/BY&bearing=Desna:315:200"
    assert shown(both) == {"Launch areas": True, "Lines of bearing": True}
    assert shown(both + "&layers=events,launch") == {"Launch areas": True, "Lines of bearing": False}
    assert shown(both + "&layers=bearings") == {"Launch areas": False, "Lines of bearing": True}
    assert {"launch", "bearings"} <= set(LAYERS)
    state = from_query(both + "&layers=rings,bearings").state
    assert state.layers == ("rings", "bearings") and "layers=rings,bearings" in to_query(state)
