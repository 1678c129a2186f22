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


# ------------------------------------------------------------------------------------------- the command line

def _cli(*args: str, store):
    from tests.test_cli import run

    return run(*args, store=store)


@pytest.fixture(scope="module")
def store(tmp_path_factory, gazetteer):
    """The settings of a GeoPackage store (tests.test_cli.run takes settings): measuring reads no event."""
    return {"REACHMAP_STORE_PATH": str(tmp_path_factory.mktemp("measure-cli") / "store.gpkg"), "REACHMAP_STORE_URL": ""}


def test_measure_minsk_desna_prints_metres_nautical_miles_and_bearing(store, gazetteer):
    from dashboard.rings import resolve_origin

    result = _cli("measure", "Minsk", "Desna", "50.45,30.52", store=store)
    assert result.returncode == 0, result.stderr
    minsk, desna = (resolve_origin(n, gazetteer).lonlat for n in ("Minsk", "Desna"))
    legs = geodesy.measure_path([minsk, desna, (30.52, 50.45)])
    lines = result.stdout.splitlines()
    assert lines[0] == (f"1. Minsk, Minsk City, BY → Desna, Chernihiv Oblast, UA: {legs[0].km:.3f} km "
                        f"({legs[0].nmi:.2f} nmi), initial bearing {legs[0].bearing:.1f}°")
    assert "395.940 km" in lines[0]  # computed once with pyproj (GeoNames' Minsk and Desna)
    assert lines[1].startswith("2. Desna, Chernihiv Oblast, UA → 50.4500, 30.5200: ")
    total = legs[0].km + legs[1].km
    assert lines[2] == f"Total: {total:.3f} km ({total / 1.852:.2f} nmi) over 2 segments"


def test_measure_geojson_is_one_densified_line_per_segment_cut_at_the_antimeridian(store):
    result = _cli("measure", "--geojson", "-17.8,178.0", "-16.5,-179.9", store=store)  # southern points as typed
    assert result.returncode == 0, result.stderr
    collection = json.loads(result.stdout)
    feature, = collection["features"]
    assert feature["geometry"]["type"] == "MultiLineString"
    assert all(-180 <= lon <= 180 for part in feature["geometry"]["coordinates"] for lon, _ in part)
    km = geodesy.distance_bearing((178.0, -17.8), (-179.9, -16.5))[0]
    assert feature["properties"]["distance_km"] == pytest.approx(km, abs=1e-6) == collection["total_km"]
    result = _cli("measure", "Minsk", "Desna", "--geojson", store=store)
    line = json.loads(result.stdout)["features"][0]["geometry"]
    assert line["type"] == "LineString" and len(line["coordinates"]) > 15


def test_bearing_gives_the_line_as_geojson(store):
    result = _cli("bearing", "--from", "Desna", "--bearing", "-45", "--km", "200", "--label", "launch?", store=store)
    assert result.returncode == 0, result.stderr
    feature, = json.loads(result.stdout)["features"]
    props = feature["properties"]
    assert (props["kind"], props["bearing_deg"], props["length_km"], props["label"]) == ("bearing", 315.0, 200.0,
                                                                                         "launch?")
    assert props["origin_label"] == "Desna, Chernihiv Oblast, UA"
    assert [props["end_lon"], props["end_lat"]] == pytest.approx(feature["geometry"]["coordinates"][-1], abs=1e-6)
    start, end = feature["geometry"]["coordinates"][0], feature["geometry"]["coordinates"][-1]
    assert geodesy.distance_bearing(start, end)[0] == pytest.approx(200.0, abs=1e-3)  # 6 decimals: 0.1 m


@pytest.mark.parametrize("args, fragment", [
    (("measure", "Minsk"), "at least two points"),
    (("measure", "Minsk", "BY"), "is an area or a line"),
    (("measure", "Minsk", "95,10"), "latitude"),
    (("measure", "Minsk", "Nowhereville"), "Nowhereville"),
    (("bearing", "--from", "Desna", "--bearing", "x", "--km", "5"), "--bearing"),
    (("bearing", "--from", "Desna", "--bearing", "10", "--km", "0"), "km"),
    (("bearing", "--from", "Desna", "--bearing", "10", "--km", "25000"), "at most 20,000 km"),
    (("bearing", "--from", "BY", "--bearing", "10", "--km", "50"), "is an area or a line"),
])
def test_bad_measuring_input_is_one_sentence(store, args, fragment):
    result = _cli(*args, store=store)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr
