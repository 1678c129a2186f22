"""Rings from a stored site table: one per site, named by the link, drawn as one layer, measured as one."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import shapely
from pyproj import Geod

from dashboard import geodesy, settings
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.sites import read_sites, save_sites
from dashboard.mapview import Basemap, MapView, build_map
from dashboard.model import Site, Source, Validity
from dashboard.rings import layer_in_range, site_rings
from dashboard.scene import build_scene, resolve_rings
from dashboard.share import SiteLayer, from_query, to_query
from tests.conftest import BORDER, make_event

HOSTILE = '{{ 7*7 }}<img src=x onerror=alert(1)>${alert(2)}'
EXAMPLE = settings.PROJECT_DIR / "examples" / "sites-belarus.csv"
MINSK = (27.56667, 53.9)
VILNIUS = (25.2798, 54.68916)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture
def stored(tmp_path, monkeypatch, gazetteer, catalogue):
    """The example table, imported into a fresh data folder as `sites-belarus`."""
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path / "data"))
    save_sites(read_sites(EXAMPLE, gazetteer, catalogue), settings.sites_dir(), "sites-belarus")
    return settings.sites_dir()


def site(name="Minsk site", km=300.0, **kw) -> Site:
    source = Source(kw.pop("title", "A report"), "An agency", "https://example.org/r", date(2023, 3, 1),
                    kw.pop("quote", "The unit is at Minsk."))
    return Site(name, *kw.pop("at", MINSK), "source coordinates", source, km=km, **kw)


def test_the_link_names_the_table_and_the_scene_draws_one_ring_per_site(stored, gazetteer, catalogue):
    decoded = from_query("?v=1&sites=sites-belarus", known_systems={s.id for s in catalogue.systems})
    assert decoded.state.sites == (SiteLayer("sites-belarus"),) and not decoded.problems
    scene = build_scene(decoded.state, [], gazetteer, catalogue)
    assert len(scene.rings) == 7 and not scene.problems and {r.layer for r in scene.rings} == {"sites-belarus"}
    zyabrovka = next(r for r in scene.rings if r.site.name == "Zyabrovka airfield (S-400)")
    assert (zyabrovka.radius_km, zyabrovka.system, zyabrovka.kind) == (600, "S-400 Triumf", "ring")
    # Each ring is the geodesic circle around its site: every vertex 600 km away on WGS84, within 50 m.
    lons, lats = zip(*zyabrovka.geometry.exterior.coords)
    _, _, metres = Geod(ellps="WGS84").inv([zyabrovka.origin.lonlat[0]] * len(lons),
                                           [zyabrovka.origin.lonlat[1]] * len(lons), lons, lats)
    assert max(abs(m / 1000 - 600) for m in metres) < 0.05


def test_a_system_filter_keeps_only_those_sites_and_an_unknown_table_is_a_sentence(stored, gazetteer, catalogue):
    state = from_query("sites=sites-belarus:iskander-m,s-400&sites=nope").state
    rings, problems = resolve_rings(state, gazetteer, catalogue)
    assert sorted(r.site.name for r in rings) == ["Luninets airfield (S-300 or S-400)",
                                                  "Osipovichi missile brigade (Iskander-M)",
                                                  "Zyabrovka airfield (Iskander-M)", "Zyabrovka airfield (S-400)"]
    assert problems == ["The sites of nope left out: No site table called 'nope' (stored tables: sites-belarus); "
                        "import one with python -m dashboard import FILE --format sites."]
    rings, problems = resolve_rings(from_query("sites=sites-belarus:polonez-m").state, gazetteer, catalogue)
    assert rings == [] and "no site of the table is of these systems" in problems[0]


def test_dated_sites_follow_the_views_dates(stored, gazetteer, catalogue):
    """On the story's day (25 June 2022) only the undated sites are drawn; the others are listed as not drawn."""
    scene = build_scene(from_query("from=2022-06-25&to=2022-06-25&sites=sites-belarus").state, [], gazetteer,
                        catalogue)
    assert sorted(r.site.name for r in scene.rings) == ["Luninets airfield (S-300 or S-400)",
                                                        "Machulishchy airbase (Kinzhal carriers)"]
    assert len(scene.dormant) == 5 and all(r.valid.start > date(2022, 6, 25) for r in scene.dormant)
    later = build_scene(from_query("from=2023-01-01&to=2023-12-31&sites=sites-belarus").state, [], gazetteer, catalogue)
    assert len(later.rings) == 6 and [r.site.name for r in later.dormant] == ["Polonez, Gomel and Mozyr regions"]


def test_the_map_draws_the_sites_as_one_toggleable_layer_with_a_legend_and_inert_data():
    sites = [site(HOSTILE, title=HOSTILE, quote=HOSTILE), site("Vilnius site", 100, at=VILNIUS, min_km=20.0)]
    rings = site_rings("my-table", sites, load_catalogue())
    m = build_map([make_event()], rings, Basemap(BORDER.geometry, BORDER.name), MapView())
    html = m.get_root().render()
    groups = {c.layer_name: c for c in m._children.values() if hasattr(c, "layer_name")}
    assert groups["Site rings"].show and json.dumps("Site rings") in html
    def drawn(group) -> list[str]:
        return [type(c).__name__ for c in group._children.values() if type(c).__name__ in ("GeoJson", "CircleMarker")]

    assert drawn(groups["Site rings"]) == ["GeoJson", "CircleMarker"] * 2 and not drawn(groups["Range rings"])
    assert "100 km at 1 site of my-table" in html and "300 km at 1 site of my-table" in html  # the legend
    # Markup escaped; the Jinja canary reaches the page as data (JSON strings), never evaluated to 49.
    assert "<img src=x" not in html and "49&lt;img" not in html and "49\\u003cimg" not in html
    assert '"label": "{{ 7*7 }}\\u003cimg' in html
    popups = [json.loads(s) for s in re.findall(r'(?:setContent|bindTooltip)\(("(?:[^"\\]|\\.)*")', html)]
    assert not any("<img src=x" in p or "{{" in p for p in popups)  # decoded, every popup and tooltip is inert
    assert any("&lt;img src=x" in p and "blockquote" in p for p in popups)
    site_popup = next(p for p in popups if "Vilnius site" in p and "blockquote" in p)
    assert "Minimum range 20 km: nothing closer is in range" in site_popup and "An agency, 2023-03-01" in site_popup
    hidden = build_map([], rings, Basemap(BORDER.geometry, BORDER.name), MapView(layers=("events",)))
    assert not {c.layer_name: c for c in hidden._children.values() if hasattr(c, "layer_name")}["Site rings"].show


def test_what_lies_in_range_of_the_layer_names_the_sites_and_respects_minimum_ranges(gazetteer):
    catalogue = load_catalogue()
    near, far = site("Minsk 300", 300), site("Vilnius 100", 100, at=VILNIUS)
    rows = layer_in_range(site_rings("t", [near, far], catalogue), gazetteer, [], 100_000)
    vilnius = next(r for r in rows if r.name == "Vilnius" and r.kind == "capital")
    assert vilnius.sites == ("Vilnius 100", "Minsk 300") and vilnius.nearest_km == 0.0
    minsk = next(r for r in rows if r.name == "Minsk")
    assert minsk.sites == ("Minsk 300",)
    _, _, metres = Geod(ellps="WGS84").inv(*MINSK, *VILNIUS)
    assert next(r for r in layer_in_range(site_rings("t", [near], catalogue), gazetteer, [], 100_000)
                if r.name == "Vilnius").nearest_km == round(metres / 1000, 1)
    assert not any(r.name == "Kyiv" for r in rows)  # about 430 km from Minsk
    # A minimum range of 200 km puts Minsk itself and Vilnius (about 172 km) out of the site's reach.
    inner = layer_in_range(site_rings("t", [site("Minsk 300", 300, min_km=200.0)], catalogue), gazetteer, [], 100_000)
    assert not {"Minsk", "Vilnius"} & {r.name for r in inner} and all(200 <= r.nearest_km <= 300 for r in inner)
    event = make_event(place=make_event().place)  # Desna, about 330 km from Minsk: out of its 300 km
    assert not any(r.kind == "event" for r in layer_in_range(site_rings("t", [near], catalogue), gazetteer, [event], 0))


def test_a_dated_site_keeps_its_days_and_source_on_its_ring(catalogue):
    dated = site("Dated", 50, valid=Validity(date(2023, 1, 1), None, True, Source("T", "P", quote="Q")))
    (ring,) = site_rings("t", [dated], catalogue)
    assert ring.holds(date(2023, 6, 1), None) and not ring.holds(None, date(2022, 12, 31))
    assert ring.site.source.quote == "The unit is at Minsk." and ring.valid.source.quote == "Q"
    assert to_query(from_query("sites=t").state) == "?v=1&sites=t"


# -- exports --------------------------------------------------------------------------------------

def _exported(stored, gazetteer, catalogue, query="sites=sites-belarus:iskander-m,s-400"):
    from dashboard.scene import with_site_reach

    desna = make_event()  # the story's strike on Desna, about 200 km from Gomel
    return with_site_reach(build_scene(from_query(query).state, [desna], gazetteer, catalogue), gazetteer)


def test_geojson_carries_each_site_ring_with_its_source_and_what_lies_in_range(stored, gazetteer, catalogue):
    from dashboard import export

    scene = _exported(stored, gazetteer, catalogue)
    data = json.loads(export.to_geojson(scene))
    rings = [f["properties"] for f in data["features"] if f["properties"].get("layer") == "sites-belarus"]
    assert len(rings) == 4 and all(r["site_quote"] and r["site_source_url"].startswith("https://") for r in rings)
    luninets = next(r for r in rings if r["site"].startswith("Luninets"))
    assert luninets["site_source_publisher"] == "Euroradio" and luninets["radius_km"] == 600
    reach = {(r["kind"], r["name"]): r for r in data["reachmap"]["in_range_of_sites"]}
    desna = reach[("event", "A strike")]
    assert desna["nearest_site"].startswith("Zyabrovka") and set(desna["sites"]) >= {
        "Zyabrovka airfield (Iskander-M)", "Zyabrovka airfield (S-400)", "Luninets airfield (S-300 or S-400)"}
    _, _, metres = Geod(ellps="WGS84").inv(30.9754, 52.4345, *desna_lonlat())
    assert abs(desna["nearest_km"] - metres / 1000) < 0.1
    # A capital is listed when it is within some site's ring, on WGS84: Kyiv is; Berlin (about 900 km from
    # Luninets, the nearest) is not.
    geod, berlin = Geod(ellps="WGS84"), (13.41053, 52.52437)
    assert ("capital", "Kyiv") in reach and ("capital", "Berlin") not in reach
    assert len(scene.rings) == 4
    assert all(geod.inv(*r.origin.lonlat, *berlin)[2] / 1000 > r.radius_km for r in scene.rings)
    kyiv = reach[("capital", "Kyiv")]
    assert any(geod.inv(*r.origin.lonlat, kyiv["lon"], kyiv["lat"])[2] / 1000 <= r.radius_km for r in scene.rings)


def desna_lonlat() -> tuple[float, float]:
    return make_event().place.lonlat


def test_kml_names_the_site_and_lists_what_lies_in_range(stored, gazetteer, catalogue):
    import xml.etree.ElementTree as ET

    from dashboard import export

    root = ET.fromstring(export.to_kml(_exported(stored, gazetteer, catalogue)).encode("utf-8"))
    ns = "{http://www.opengis.net/kml/2.2}"
    folders = {f.findtext(f"{ns}name"): f for f in root.iter(f"{ns}Folder")}
    rings = folders["Range rings"].findall(f"{ns}Placemark")
    zyabrovka = next(p for p in rings if p.findtext(f"{ns}name").startswith("Zyabrovka airfield (S-400)"))
    assert "Placed by: Babel" in zyabrovka.findtext(f"{ns}description")
    assert "said Oleksiy Hromov" in zyabrovka.findtext(f"{ns}description")
    # Coloured as the map colours them: by system, the two S-400 sites alike, Iskander-M's another colour.
    styles = {st.get("id"): st.findtext(f"{ns}LineStyle/{ns}color") for st in root.iter(f"{ns}Style")}
    colour = {p.findtext(f"{ns}name"): styles[p.findtext(f"{ns}styleUrl")[1:]] for p in rings}
    assert colour["Zyabrovka airfield (S-400): S-400 Triumf, 600 km"] == \
        colour["Luninets airfield (S-300 or S-400): S-400 Triumf, 600 km"] != \
        colour["Zyabrovka airfield (Iskander-M): Iskander-M, 500 km"]
    names = [p.findtext(f"{ns}name") for p in folders["In range of the sites"].findall(f"{ns}Placemark")]
    assert "Kyiv" in names and "A strike" in names


def test_the_cli_exports_a_link_with_sites(stored, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "sites.geojson"
    done = subprocess.run([sys.executable, "-m", "dashboard", "export", "sites=sites-belarus&sites=nope", "--format",
                           "geojson", "-o", str(out)], cwd=settings.PROJECT_DIR, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "warning: The sites of nope left out: No site table called 'nope'" in done.stderr
    assert "7 ring(s) written" in done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sum(1 for f in data["features"] if f["properties"].get("layer")) == 7
    assert data["reachmap"]["in_range_of_sites"] and data["reachmap"]["query"] == "?v=1&sites=sites-belarus&sites=nope"


def test_an_html_export_draws_the_site_layer(stored, gazetteer, catalogue):
    from dashboard import export
    from dashboard.scene import load_basemap

    page = export.export(_exported(stored, gazetteer, catalogue), load_basemap(gazetteer), "html").decode("utf-8")
    assert json.dumps("Site rings") in page and "Iskander-M at 2 sites of sites-belarus" in page
    from dashboard.export.words import attribution

    assert attribution(_exported(stored, gazetteer, catalogue)).endswith("sites: Babel, Euroradio, TASS")


def test_a_site_with_a_minimum_range_is_an_annulus_whose_hole_holds_that_radius(catalogue):
    """The example's Polonez site (50-200 km) and any site with min_km: the ring has a hole of that geodesic
    radius, and both edges lie on their circles (sampled along the edges, as the geodesy tests do)."""
    (ring,) = site_rings("t", [site("Annulus", 300, min_km=120.0)], catalogue)
    assert ring.min_km == 120 and ring.label == "Annulus: 120–300 km" and len(ring.geometry.interiors) == 1
    for boundary, km in ((ring.geometry.exterior, 300), (ring.geometry.interiors[0], 120)):
        points = shapely.segmentize(shapely.LineString(boundary.coords), 0.02).coords
        lons, lats = zip(*points)
        dist, _ = geodesy.distances_bearings(MINSK, lons, lats)
        assert abs(dist - km).max() < 0.06
    (plain,) = site_rings("t", [site("Disc", 300)], catalogue)
    assert plain.min_km == 0 and not plain.geometry.interiors
