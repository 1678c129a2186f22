"""Lines of bearing through the permalink, the scene, the map and every export."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from dashboard import geodesy
from dashboard.colours import BEARING_COLOUR, LAUNCH_COLOURS, RING_COLOURS
from dashboard.export import to_geojson, to_kml
from dashboard.ingest.catalogue import load_catalogue
from dashboard.scene import build_scene, load_basemap, scene_map
from dashboard.share import BearingSpec, ViewState, from_query, to_query

DESNA_NW = "?v=1&bearing=Desna:315:200|reported launch direction"


@pytest.mark.parametrize("query, spec", [
    ("?v=1&bearing=Desna:315:200", BearingSpec("Desna", 315, 200)),
    ("?v=1&bearing=51.3,30.8:-45:200.004", BearingSpec("51.3,30.8", 315, 200)),
    ("?v=1&bearing=-17.8,178.0:90:300km", BearingSpec("-17.8,178.0", 90, 300)),
    ("?v=1&bearing=Desna:359.999:5|a name", BearingSpec("Desna", 0, 5, "a name")),
    (DESNA_NW, BearingSpec("Desna", 315, 200, "reported launch direction")),
])
def test_a_bearing_link_reads_and_writes_back_the_same(query, spec):
    decoded = from_query(query)
    assert decoded.problems == () and decoded.state.bearings == (spec,)
    assert from_query(to_query(decoded.state)).state == decoded.state


def test_the_link_spelling_is_origin_degrees_km_then_the_name():
    state = ViewState(bearings=(BearingSpec("51.3,30.8", 315, 200, "reported launch direction"),))
    assert to_query(state) == "?v=1&bearing=51.3,30.8:315:200%7Creported%20launch%20direction"


@pytest.mark.parametrize("value, says", [
    ("Desna", "write PLACE:DEGREES:KM"), (":315:200", "write PLACE:DEGREES:KM"), ("Desna:north:200", "bearing must"),
    ("Desna:nan:200", "bearing must"), ("Desna:1e400:200", "bearing must"), ("Desna:315:0", "length must"),
    ("Desna:315:20001", "length must"), ("Desna:315:-5", "length must"), ("95,30:315:5", "latitude from -90"),
    ("Desna:315:inf", "length must"), ("x" * 101 + ":1:1", "more than 100"),
])
def test_a_bad_bearing_is_reported_by_name_and_dropped(value, says):
    decoded = from_query(f"?v=1&bearing={value}&ring=300@Minsk")
    assert decoded.state.bearings == () and len(decoded.state.rings) == 1  # the rest of the link holds
    assert len(decoded.problems) == 1 and decoded.problems[0].startswith("Ignored bearing=") and says in decoded.problems[0]


def test_hostile_bearing_values_never_raise():
    for value in ("|", ":::", "::", "\x00:\x01:\x02", "Desna:315:200|" + "n" * 500, "‮Desna:1:1", "%ff:%fe:1"):
        decoded = from_query("?v=1&bearing=" + value)
        assert isinstance(decoded.state, ViewState)


def test_more_than_twelve_lines_are_reported():
    decoded = from_query("?v=1&" + "&".join(f"bearing=Desna:{i}:10" for i in range(14)))
    assert len(decoded.state.bearings) == 12 and "Ignored 2 line(s) of bearing" in decoded.problems[0]


# ------------------------------------------------------------------------------------------ scene, map, exports

@pytest.fixture(scope="module")
def scene(gazetteer):
    query = DESNA_NW + " {{7*7}} </script><b>&bearing=-17.0,179.5:90:300&bearing=BY:10:10&c=51.6,29.8&z=7"
    return build_scene(from_query(query).state, [], gazetteer, load_catalogue())


def test_the_scene_resolves_lines_and_reports_an_area_origin(scene):
    assert [b.origin.name for b in scene.bearings] == ["Desna", "-17.0000, 179.5000"]
    desna = scene.bearings[0]
    assert desna.path[-1] == pytest.approx(geodesy.destination(desna.origin.lonlat, 315, 200), abs=1e-9)
    assert scene.problems == ("Line of bearing “10° for 10 km from BY” left out: bearing origin: is an area or a "
                              "line; a line of bearing starts at a place or a lat,lon point (got 'BY').",)


def test_the_map_draws_each_line_densified_and_its_label_inert(scene, gazetteer):
    html = scene_map(scene, load_basemap(gazetteer)).get_root().render()
    assert html.count("rm-bearing") == 2  # folium's GeoJson className, once per line
    assert "{{7*7}}" not in html and "</script><b>" not in html and "reported launch direction" in html
    fiji = scene.bearings[1]
    lons = [lon for lon, _ in fiji.path]
    assert lons == sorted(lons) and lons[-1] > 180  # unrolled: one line across the antimeridian on the map
    assert all(repr(lon) in html for lon in lons)  # every densified vertex is drawn


def test_the_legend_keys_a_line_of_bearing_as_a_dashed_line_of_its_own_colour(scene, gazetteer):
    html = scene_map(scene, load_basemap(gazetteer)).get_root().render()
    legend = html[html.index('class="rm-legend"'):]
    keys = re.findall(r'<i class="(rm-[a-z-]+)" style="border-color:([^"]+)"></i>([^<]*)</div>', legend)
    assert [(k, c) for k, c, label in keys if "launch direction" in label] == [("rm-line-key", BEARING_COLOUR)]
    assert BEARING_COLOUR not in RING_COLOURS + LAUNCH_COLOURS  # never mistaken for a ring, site or launch area


def test_geojson_carries_each_line_after_the_rings(scene):
    features = json.loads(to_geojson(scene))["features"]
    lines = [f for f in features if f["properties"].get("kind") == "bearing"]
    assert [f["geometry"]["type"] for f in lines] == ["LineString", "MultiLineString"]
    props = lines[0]["properties"]
    assert (props["bearing_deg"], props["length_km"], props["origin"]) == (315.0, 200.0, "Desna")
    assert props["label"].startswith("reported launch direction {{7*7}}")  # data as it is, in JSON
    coords = lines[0]["geometry"]["coordinates"]
    assert len(coords) == 11 and geodesy.distance_bearing(coords[0], coords[-1])[0] == pytest.approx(200, abs=1e-3)
    assert all(-180 <= lon <= 180 for part in lines[1]["geometry"]["coordinates"] for lon, _ in part)


def test_kml_has_a_folder_of_line_strings(scene):
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.fromstring(to_kml(scene).encode())
    folder = next(f for f in root.iter("{http://www.opengis.net/kml/2.2}Folder")
                  if f.find("k:name", ns).text == "Lines of bearing")
    marks = folder.findall("k:Placemark", ns)
    assert len(marks) == 2 and marks[0].find("k:LineString", ns) is not None
    assert marks[1].find("k:MultiGeometry", ns) is not None  # cut at 180°
    assert "Initial bearing: 315° from true north" in marks[0].find("k:description", ns).text


def test_the_exported_page_names_the_lines_in_its_title_box(scene, gazetteer):
    from dashboard.export import to_html

    page = to_html(scene, load_basemap(gazetteer))
    box = page[page.index('<div class="rm-export-title">'):]
    box = box[:box.index("</div>")]
    assert "Lines of bearing: reported launch direction" in box and "(to 52.1806, 28.6991)" in box
    assert "{{" not in box and "&lt;/script&gt;" in box
