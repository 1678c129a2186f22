"""Launch areas (inverse rings), minimum ranges and annuli, checked against GeographicLib on real outlines."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from shapely.geometry import MultiPolygon, Point, Polygon

from dashboard import geodesy, rings
from dashboard.analysis import launch
from dashboard.errors import ValidationError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import Catalogue, Munition, Place, Source, WeaponSystem
from tests.test_geodesy import boundary_error_km, edge_points

WGS84 = Geodesic.WGS84
SRC = Source("test", "test")


def geographiclib_area_km2(geom, step_deg: float = 0.02) -> float:
    """Area with GeographicLib's own Polygon, each lon/lat edge cut every step_deg by plain interpolation."""
    total = 0.0
    for poly in shapely.get_parts(geom):
        for k, ring in enumerate((poly.exterior, *poly.interiors)):
            xy = np.asarray(ring.coords)
            pg = WGS84.Polygon()
            for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
                n = max(1, int(np.ceil(max(abs(x1 - x0), abs(y1 - y0)) / step_deg)))
                for t in np.arange(n) / n:
                    pg.AddPoint(y0 + (y1 - y0) * t, x0 + (x1 - x0) * t)
            _, _, area = pg.Compute(False, True)  # signed: holes go the other way round
            total += abs(area) * (1 if k == 0 else -1)
    return total / 1e6


def circle_area_km2(center, radius_km: float, n: int = 4000) -> float:
    """The area of the true geodesic circle: GeographicLib's Direct for n points on it, Polygon for the area."""
    pg = WGS84.Polygon()
    for az in np.linspace(0, 360, n, endpoint=False):
        d = WGS84.Direct(center[1], center[0], az, radius_km * 1000.0)
        pg.AddPoint(d["lat2"], d["lon2"])
    return abs(pg.Compute(False, True)[2]) / 1e6


def point_place(name, lon, lat) -> Place:
    return Place(f"test:{name}", name, "point", Point(lon, lat))


def area_place(name, geom) -> Place:
    return Place(f"test:{name}", name, "country", geom)


def launch_boundary_error_km(area: launch.LaunchArea, per_edge: int = 16) -> float:
    """Boundary points of the launch area that are not on the territory's own border: each must be within
    0.5 km of the radius (or of the minimum) from the target."""
    pts = edge_points(area.geometry, per_edge)
    on_border = shapely.dwithin(area.territory.geometry.boundary, shapely.points(pts), 1e-6)
    pts = pts[~on_border]
    assert len(pts) > 100
    d, _ = geodesy.distances_bearings(area.target.lonlat, pts[:, 0], pts[:, 1])
    outer = np.abs(d - area.radius_km)
    err = np.minimum(outer, np.abs(d - area.min_km)) if area.min_km else outer
    worst = pts[np.argsort(err)[-8:]]  # the worst few again by GeographicLib
    checked = []
    for x, y in worst:
        s = WGS84.Inverse(area.target.lonlat[1], area.target.lonlat[0], y, x)["s12"] / 1000.0
        checked.append(min(abs(s - area.radius_km), abs(s - area.min_km) if area.min_km else np.inf))
    return max(float(err.max()), max(checked))


def test_desna_from_belarus_with_iskander_m(gazetteer):
    area = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), system="iskander-m")
    assert not area.empty and area.radius_km == 500 and area.system == "Iskander-M"
    assert launch_boundary_error_km(area, 24) <= 0.5
    ref = geographiclib_area_km2(area.geometry)
    assert area.area_km2 == pytest.approx(ref, rel=0.005)
    assert area.territory_km2 == pytest.approx(geographiclib_area_km2(gazetteer.country("BY").geometry), rel=0.005)
    assert 0.5 < area.share < 1.0
    # the nearest launch point is where Belarus comes nearest Desna; the farthest is on the 500 km circle
    assert area.nearest_km == pytest.approx(area.territory_nearest_km, abs=0.01)
    s_near = WGS84.Inverse(50.92744, 30.76678, area.nearest[1], area.nearest[0])["s12"] / 1000.0
    assert s_near == pytest.approx(area.nearest_km, abs=0.001)
    assert 499.5 <= area.farthest_km <= 500.001
    assert gazetteer.country("BY").geometry.buffer(1e-9).covers(Point(area.nearest))
    assert "could reach Desna from" in area.sentence() and "% of Belarus" in area.sentence()


def test_a_disc_wholly_inside_the_territory_has_the_true_circle_s_area(gazetteer):
    """Independent of the code's polygons: GeographicLib's own circle (Direct + Polygon)."""
    area = launch.launch_area(point_place("Tura", 100.2, 64.3), gazetteer.country("RU"), 300)
    assert area.area_km2 == pytest.approx(circle_area_km2((100.2, 64.3), 300), rel=0.005)
    assert area.nearest_km == 0.0 and area.territory_nearest_km == 0.0


ACROSS_180 = MultiPolygon([Polygon([(170, 60), (180, 60), (180, 70), (170, 70)]),
                           Polygon([(-180, 60), (-170, 60), (-170, 70), (-180, 70)])])


def test_launch_area_across_the_antimeridian():
    target = point_place("T", 179.9, 65.0)
    area = launch.launch_area(target, area_place("Chukotka box", ACROSS_180), 300)
    assert area.geometry.geom_type == "MultiPolygon"  # cut on ±180, one piece each side
    assert area.area_km2 == pytest.approx(circle_area_km2((179.9, 65.0), 300), rel=0.005)
    assert launch_boundary_error_km(area) <= 0.5
    # a disc reaching past the box: boundary pieces on the box's edges are the territory's, not checked
    big = launch.launch_area(target, area_place("Chukotka box", ACROSS_180), 800, 200)
    assert launch_boundary_error_km(big) <= 0.5
    assert big.area_km2 == pytest.approx(geographiclib_area_km2(big.geometry), rel=0.005)
    assert 199.5 <= big.nearest_km <= 200.5 and big.farthest_km <= 800.001


POLAR_CAP = Polygon([(-180, 80), (180, 80), (180, 90), (-180, 90)])


@pytest.mark.parametrize("target, radius_km, min_km", [((0.0, 89.0), 500, 0), ((120.0, 86.0), 900, 300)])
def test_launch_area_round_the_north_pole(target, radius_km, min_km):
    area = launch.launch_area(point_place("T", *target), area_place("Arctic", POLAR_CAP), radius_km, min_km)
    assert area.geometry.covers(Point(0.0, 89.99)) == (min_km == 0 or geodesy.distance_bearing(target, (0, 90))[0] > min_km)
    assert launch_boundary_error_km(area) <= 0.5
    if not min_km:  # the disc lies wholly in the cap
        assert area.area_km2 == pytest.approx(circle_area_km2(target, radius_km), rel=0.005)
    assert area.area_km2 == pytest.approx(geographiclib_area_km2(area.geometry), rel=0.005)


def test_out_of_reach_is_an_answer_with_the_distance(gazetteer):
    area = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), km=30)
    assert area.empty and area.area_km2 == 0 and area.nearest is None
    assert 40 < area.territory_nearest_km < 41
    assert "could not reach Desna from Belarus" in area.sentence() and "at least 40." in area.sentence()


def test_a_minimum_range_cuts_the_inner_disc(gazetteer):
    area = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), km=300, min_km=200)
    assert 199.5 <= area.nearest_km <= 200.5 and 299.5 <= area.farthest_km <= 300.001
    assert launch_boundary_error_km(area) <= 0.5
    whole = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), km=300)
    inner = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), km=200)
    assert area.area_km2 == pytest.approx(whole.area_km2 - inner.area_km2, rel=1e-3)


def _catalogue_with_minimum() -> Catalogue:
    return Catalogue((WeaponSystem("longbow", "Longbow", "test", munitions=(
        Munition("far rocket", "rocket", 300, SRC, min_range_km=100),)),
        WeaponSystem("shortbow", "Shortbow", "test", munitions=(Munition("near rocket", "rocket", 20, SRC),)),
        WeaponSystem("wall", "Wall", "test", munitions=(Munition("huge", "ballistic", 5000, SRC, min_range_km=1000),))))


def test_a_munition_s_declared_minimum_is_used_by_default(gazetteer):
    area = launch.resolve_launch("Desna", "BY", gazetteer, _catalogue_with_minimum(), system="longbow")
    assert area.min_km == 100 and 99.5 <= area.nearest_km <= 100.5
    typed = launch.resolve_launch("Desna", "BY", gazetteer, _catalogue_with_minimum(), system="longbow", min_km=0)
    assert typed.min_km == 0 and typed.nearest_km < 41


def test_listing_which_systems_could_reach_the_target_from_the_territory(gazetteer):
    listing = launch.reachers(gazetteer.resolve("Desna"), gazetteer.country("BY"), _catalogue_with_minimum())
    verdicts = {r.system_id: r.verdict for r in listing.rows}
    assert verdicts == {"longbow": "in range", "shortbow": "out of range", "wall": "too close"}
    assert 40 < listing.nearest_km < 41 and 500 < listing.farthest_km < 1000
    assert listing.sentence().startswith("Could reach Desna from Belarus (at least 40.")
    assert "Longbow (300 km)" in listing.sentence() and "Shortbow" not in listing.sentence()
    real = launch.reachers(gazetteer.resolve("Desna"), gazetteer.country("BY"), load_catalogue())
    assert {"Iskander-M", "Kinzhal"} <= {r.system for r in real.rows if r.reaches}
    assert "Tochka-U" in {r.system for r in real.rows if r.reaches}  # 120 km > 40.6 km


def test_the_listing_from_a_launch_area_s_own_walk_is_the_listing_measured_afresh(gazetteer):
    catalogue = _catalogue_with_minimum()
    for territory in ("BY", "RU"):  # Russia: many parts (Kaliningrad, islands)
        area = launch.resolve_launch("Desna", territory, gazetteer, catalogue, km=300)
        assert len(area.part_extents) == len(shapely.get_parts(area.territory.geometry))
        fresh = launch.reachers(area.target, area.territory, catalogue)
        assert launch.reachers(area.target, area.territory, catalogue, area.part_extents) == fresh
        assert (area.territory_nearest_km, area.territory_farthest_km) == (fresh.nearest_km, fresh.farthest_km)


@pytest.mark.parametrize("target, territory, field", [("BY", "BY", "target"), ("Desna", "Minsk", "territory"),
                                                      ("Desna", "BY-UA", "territory")])
def test_bad_targets_and_territories_are_one_sentence(gazetteer, target, territory, field):
    with pytest.raises(ValidationError) as err:
        launch.resolve_launch(target, territory, gazetteer, load_catalogue(), km=300)
    assert err.value.field == field


def test_munition_minimum_is_validated():
    with pytest.raises(ValidationError, match="less than the range"):
        Munition("x", "rocket", 100, SRC, min_range_km=100)
    with pytest.raises(ValidationError, match="min_range_km"):
        Munition("x", "rocket", 100, SRC, min_range_km=-1)


# -- annuli -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("center, low, high", [((27.56653, 53.90019), 50, 500), ((179.9, 65.0), 100, 600),
                                                ((0.0, 88.0), 100, 1000), ((10.0, -85.0), 300, 2000)])
def test_annulus_edges_hold_both_radii(center, low, high):
    ring = geodesy.range_annulus(center, low, high)
    assert ring.is_valid and not ring.covers(Point(center))
    pts = edge_points(ring, 16)
    d, _ = geodesy.distances_bearings(center, pts[:, 0], pts[:, 1])
    assert np.minimum(np.abs(d - low), np.abs(d - high)).max() <= 0.5
    assert geodesy.area_km2(ring) == pytest.approx(circle_area_km2(center, high) - circle_area_km2(center, low), rel=0.005)


def test_reach_annulus_from_an_area_is_what_some_launch_point_reaches():
    """From a 100 km wide box with a 200 km minimum, its own middle can still be reached (from afar) — only
    points with all the box within 200 km are cut; with a minimum below half its width, nothing is."""
    square = Polygon([(27.0, 53.5), (28.5, 53.5), (28.5, 54.4), (27.0, 54.4)])
    env = geodesy.reach_annulus(square, 200, 500)
    assert env.is_valid
    middle = (27.75, 53.95)
    assert not env.covers(Point(middle))  # every corner is within 200 km of it
    corner_far = geodesy.destination((28.5, 54.4), 45.0, 150.0)  # 150 km out: the far corner is > 200 km
    assert env.covers(Point(corner_far))
    outside = shapely.union_all([Polygon(p.exterior) for p in shapely.get_parts(env)])
    assert boundary_error_km(square, edge_points(outside, 16), 500) <= 0.5
    # the hole's edge: points whose farthest point of the square is at 200 km
    hole = [i for p in shapely.get_parts(env) for i in p.interiors]
    assert len(hole) == 1
    hp = np.asarray(hole[0].coords)
    outline = geodesy.densify(square, 0.25)
    farthest = [geodesy.distances_bearings(tuple(p), outline[:, 0], outline[:, 1])[0].max() for p in hp[::10]]
    assert np.abs(np.array(farthest) - 200).max() <= 0.5
    assert geodesy.reach_annulus(square, 40, 500).equals(geodesy.reach_envelope(square, 500))


def test_rings_with_a_minimum_are_annuli_and_list_nothing_closer(gazetteer):
    ring = rings.resolve_ring("Minsk", gazetteer, _catalogue_with_minimum(), system="longbow")
    assert ring.min_km == 100 and "100–300 km" in ring.label and not ring.geometry.covers(Point(ring.origin.lonlat))
    found = rings.in_range_rows(ring, gazetteer, [], 50_000, kinds=("capital", "city"))
    assert found and min(r.distance_km for r in found) >= 100
    assert "Vilnius" in {r.name for r in found}  # 170 km
    assert not {"Minsk", "Barysaw"} & {r.name for r in found}
    plain = rings.resolve_ring("Minsk", gazetteer, _catalogue_with_minimum(), km=300)
    assert plain.min_km == 0 and "Barysaw" in {r.name for r in rings.in_range_rows(plain, gazetteer, [], 50_000)}


# -- the scene: one place that resolves launch specs for the map, the table and the exports ------------

def test_the_scene_resolves_launch_areas_and_reports_the_bad_one_in_a_sentence(gazetteer):
    from dashboard.scene import build_scene
    from dashboard.share import LaunchSpec, ViewState, from_query

    drawn = ((30.0, 51.3), (31.5, 51.3), (31.5, 52.3), (30.0, 52.3))  # a box over the Belarus–Ukraine border
    state = ViewState(area=drawn, launches=(LaunchSpec("Desna", "BY", system="iskander-m"),
                                            LaunchSpec("Desna", "area", km=120), LaunchSpec("Nowhere-qq", "BY", km=5)))
    scene = build_scene(state, [], gazetteer, load_catalogue())
    assert [a.territory.name for a in scene.launches] == ["Belarus", "the drawn area"]
    assert scene.launches[0].system == "Iskander-M" and 0.5 < scene.launches[1].share < 1
    assert len(scene.problems) == 1 and scene.problems[0].startswith("Launch area “launch area of 5 km for Nowhere-qq")
    none_drawn = build_scene(from_query("?launch=300@Desna/area").state, [], gazetteer, load_catalogue())
    assert not none_drawn.launches and "has none" in none_drawn.problems[0]


# -- the map: a layer of its own, a legend key, popups with the figures, data made inert ------------------

def _map_html(areas):
    from dashboard.mapview import Basemap, build_map
    from tests.conftest import BORDER

    return build_map([], [], Basemap(BORDER.geometry, BORDER.name), launches=list(areas)).get_root().render()


def test_launch_areas_are_drawn_with_their_figures_in_popup_and_legend(gazetteer):
    from tests.test_mapview import geojson_added, popups_of

    area = launch.resolve_launch("Desna", "BY", gazetteer, load_catalogue(), system="iskander-m")
    html = _map_html([area])
    drawn = [f for f in geojson_added(html) if f.get("properties", {}).get("kind") == "launch_area"]
    assert len(drawn) == 1 and drawn[0]["properties"]["area_km2"] == round(area.area_km2, 1)
    assert "Launch areas" in html and "rm-launch-key" in html and "L.circle(" not in html
    popups = " ".join(popups_of(html))
    assert f"{area.area_km2:,.0f} km²" in popups and f"{100 * area.share:.1f}% of Belarus" in popups
    assert f"Nearest launch point: {area.nearest_km:,.1f} km" in popups and "farthest: 500.0 km" in popups


def test_hostile_names_in_a_launch_area_stay_inert_on_the_map():
    hostile = "<img src=x onerror=alert(1)>{{7*7}}${x}"
    target = point_place(hostile, 30.77, 50.93)
    box = Polygon([(29.0, 51.0), (31.0, 51.0), (31.0, 52.5), (29.0, 52.5)])
    area = launch.launch_area(target, area_place(hostile, box), 300, label=hostile)
    html = _map_html([area])
    assert "<img src=x" not in html and "{{7*7}}" not in html and "${x}" not in html and "49" not in html.split(
        "rm-launch-key")[1][:300]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_launch_layer_runs_in_a_real_browser_without_errors(gazetteer, browser, tmp_path):
    """What only a browser shows: the script builds the polygon (one tooltip per layer, not one shared)."""
    from dashboard import export
    from dashboard.scene import build_scene, load_basemap
    from dashboard.share import from_query

    scene = build_scene(from_query("?launch=iskander-m@Desna/BY").state, [], gazetteer, load_catalogue())
    page_file = tmp_path / "map.html"  # the exported page: everything inline, it opens from disk
    page_file.write_text(export.to_html(scene, load_basemap(gazetteer)), encoding="utf-8")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("path.rm-launch", state="attached", timeout=15_000)
    assert errors == []
    page.close()
