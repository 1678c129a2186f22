"""Measuring: the map's measure tool (vendored geographiclib-geodesic + mapview/measure.js) and the geodesy
helpers behind `python -m dashboard measure` and lines of bearing."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest

from dashboard import geodesy
from dashboard.errors import ValidationError
from dashboard.mapview import Basemap, assets, build_map, measure

GEOGRAPHICLIB = assets.VENDOR_DIR / "geographiclib-geodesic" / "geographiclib-geodesic.min.js"
MINSK, DESNA = (27.56667, 53.9), (30.8, 51.0)

# (lon1, lat1, lon2, lat2): the story, across the antimeridian, near the pole, nearly antipodal, on the equator.
PAIRS = [(27.56667, 53.9, 30.8, 51.0), (179.5, -16.5, -178.0, -17.8), (10.0, 89.5, -170.0, 89.0),
         (0.0, 0.5, 179.5, -0.4), (-60.0, 0.0, 60.0, 0.0), (151.2, -33.9, -0.13, 51.5)]


@pytest.fixture(scope="module")
def page() -> str:
    return build_map([], [], Basemap()).get_root().render()


def test_every_map_has_the_measure_tool_and_loads_geographiclib_from_the_project(page):
    assert "window.ReachmapMeasure.control(" in page
    assert f'src="{assets.LOCAL_PREFIX}/geographiclib-geodesic/geographiclib-geodesic.min.js"' in page
    assert assets.external_urls(page) == []
    assert page.index("geographiclib-geodesic.min.js") < page.index("window.ReachmapMeasure.control(")


def test_an_inlined_page_carries_geographiclib(page):
    html = assets.inline(page)
    assert "window.geodesic=geo" in html and assets.LOCAL_PREFIX not in html


def test_the_app_bundle_holds_geographiclib():
    assert f"{assets.LOCAL_PREFIX}/geographiclib-geodesic/geographiclib-geodesic.min.js" in assets.BUNDLE_PARTS
    assert GEOGRAPHICLIB.read_text("utf-8") in assets.BUNDLE_FILE.read_text("utf-8")


def test_the_script_is_inert_for_jinja_and_holds_no_data():
    text = measure._LIBRARY
    assert not any(tag in text for tag in ("{{", "{%", "{#"))  # folium compiles rendered output as Jinja
    assert "innerHTML = " not in text.replace('button.innerHTML = \'<svg', "")  # only its own icon as markup


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_script_parses():
    subprocess.run([NODE, "--check", str(measure.Path(measure.__file__).with_name("measure.js"))], check=True)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_vendored_geographiclib_agrees_with_pyproj_to_the_millimetre():
    """The map's numbers (geographiclib-geodesic in the browser) against the CLI's (pyproj.Geod)."""
    script = ("const g = require(process.argv[1]).Geodesic.WGS84; const pairs = JSON.parse(process.argv[2]);"
              "console.log(JSON.stringify(pairs.map(([lo1, la1, lo2, la2]) => {"
              " const r = g.Inverse(la1, lo1, la2, lo2); return [r.s12, r.azi1]; })));")
    out = subprocess.run([NODE, "-e", script, str(GEOGRAPHICLIB), json.dumps(PAIRS)], check=True,
                         capture_output=True, text=True).stdout
    for (lo1, la1, lo2, la2), (metres, azimuth) in zip(PAIRS, json.loads(out)):
        km, bearing = geodesy.distance_bearing((lo1, la1), (lo2, la2))
        assert metres == pytest.approx(km * 1000, abs=1e-3)
        assert azimuth % 360 == pytest.approx(bearing, abs=1e-7)


# ------------------------------------------------------------------------------------------- geodesy helpers

def test_measure_path_gives_each_leg_and_densifies_it():
    legs = geodesy.measure_path([MINSK, DESNA, (30.52, 50.45)])
    assert [round(leg.km, 3) for leg in legs] == [390.368, 64.299]  # computed once with pyproj
    assert legs[0].nmi == pytest.approx(legs[0].km / 1.852)
    for leg in legs:
        steps = [geodesy.distance_bearing(a, b)[0] for a, b in zip(leg.path, leg.path[1:])]
        assert max(steps) <= geodesy.PATH_STEP_KM + 1e-9
        assert sum(steps) == pytest.approx(leg.km, abs=1e-6)  # every vertex on the geodesic
        assert leg.path[0] == pytest.approx(leg.start) and leg.path[-1] == pytest.approx(leg.end)


def test_a_leg_across_the_antimeridian_is_unrolled_and_splits_for_geojson():
    leg, = geodesy.measure_path([(179.0, 10.0), (-179.0, 11.0)])
    lons = [p[0] for p in leg.path]
    assert lons[0] == 179.0 and lons[-1] == pytest.approx(181.0) and lons == sorted(lons)
    parts = geodesy.split_antimeridian(leg.path)
    assert len(parts) == 2 and parts[0][-1][0] == 180.0 and parts[1][0][0] == -180.0
    assert parts[0][-1][1] == parts[1][0][1]
    assert all(-180 <= lon <= 180 for part in parts for lon, _ in part)


def test_bearing_path_ends_where_the_direct_problem_says():
    path = geodesy.bearing_path(DESNA, 315.0, 200.0)
    assert path[-1] == pytest.approx(geodesy.destination(DESNA, 315.0, 200.0), abs=1e-9)
    km, bearing = geodesy.distance_bearing(path[0], path[-1])
    assert km == pytest.approx(200.0, abs=1e-6) and bearing == pytest.approx(315.0, abs=1e-6)


@pytest.mark.parametrize("args, field", [
    (((30.8, 51.0), float("nan"), 10.0), "bearing"), (((30.8, 51.0), "north", 10.0), "bearing"),
    (((30.8, 51.0), 10.0, 0.0), "km"), (((30.8, 51.0), 10.0, 30_000.0), "km"), (((30.8, 95.0), 10.0, 1.0), "lat"),
])
def test_bearing_path_refuses_bad_input_naming_the_field(args, field):
    with pytest.raises(ValidationError) as err:
        geodesy.bearing_path(*args)
    assert err.value.field == field


def test_measuring_needs_two_valid_points():
    with pytest.raises(ValidationError, match="at least two"):
        geodesy.measure_path([MINSK])
    with pytest.raises(ValidationError, match="lat"):
        geodesy.measure_path([MINSK, (30.0, math.inf)])
