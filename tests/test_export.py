"""Exports: GeoJSON, KML and CSV carry every event with its provenance; HTML opens offline; PNG is the map."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from html import escape
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

from dashboard import cli, export, settings
from dashboard.errors import DashboardError
from dashboard.ingest import open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.mapview.assets import VENDOR_DIR, external_urls
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import Scene, build_scene, load_basemap
from dashboard.share import RingSpec, ViewState, from_query, to_query
from tests.conftest import make_event

STORY = "?v=1&from=2022-06-01&to=2022-06-30&country=UA&ring=iskander-m@Minsk&reach=iskander-m@BY&c=52.1,29.3&z=6"
HOSTILE = '</script><script>alert("x")</script> & <b>bold</b>'
FORMULA = "=HYPERLINK(\"https://evil.example\",\"click\")"
KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def basemap(gazetteer):
    return load_basemap(gazetteer)


def hostile_event() -> Event:
    source = Source(f"Title {HOSTILE}", FORMULA, "https://example.org/a?x=1&y=<2>", date(2022, 6, 26),
                    f"-{HOSTILE}")
    return Event("hostile", HOSTILE, "protest", TimeSpan(date(2022, 6, 20), date(2022, 6, 28), "approximate",
                 "in late June"), Place.at("p", "Gomel <x>", "city", 30.98, 52.43, country="BY"), source,
                 description="+1 line\nand more", actors=("@someone", "Second actor"))


@pytest.fixture(scope="module")
def scene(gazetteer, catalogue) -> Scene:
    """Two events (one hostile) and a 300 km ring around Minsk."""
    state = ViewState(rings=(RingSpec("Minsk", km=300),), center=(53.9, 27.57), zoom=6)
    return build_scene(state, [make_event(), hostile_event()], gazetteer, catalogue)


# ---------------------------------------------------------------------------------------------- GeoJSON

def test_geojson_of_the_story_view_from_the_store(store_location, gazetteer, catalogue):
    with open_store(gazetteer=gazetteer) as store:  # the store_location fixture points the setting at tmp
        scene = build_scene(from_query(STORY).state, store.events(), gazetteer, catalogue)
    doc = json.loads(export.to_geojson(scene, title="Iskander-M within reach"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    kinds = [f["properties"].get("kind") for f in doc["features"]]
    assert kinds == ["ring", "reach", None]  # rings and envelopes first, then the events
    ring, event = doc["features"][0], doc["features"][2]
    centre = shape(ring["geometry"]).centroid
    assert centre.x == pytest.approx(27.6, abs=0.3) and centre.y == pytest.approx(53.9, abs=0.3)  # lon, lat
    assert ring["properties"]["radius_km"] == 500 and ring["properties"]["range_source_url"].startswith("https://")
    assert ring["properties"]["range_quote"] and ring["properties"]["origin_kind"] == "city"
    props = event["properties"]
    assert props["id"] == "desna-missile-strike-2022-06-25" and event["geometry"]["coordinates"] == [30.76678, 50.92744]
    for field in ("source_title", "source_publisher", "source_url", "source_published", "quote"):
        assert props[field], field
    meta = doc["reachmap"]
    assert meta["query"] == to_query(from_query(STORY).state) and meta["title"] == "Iskander-M within reach"
    assert meta["summary"].startswith("1 event between 1 Jun and 30 Jun 2022") and meta["exported_at"][:2] == "20"


def test_geojson_polygons_are_counter_clockwise_with_six_decimals(scene):
    doc = json.loads(export.to_geojson(scene))
    ring = doc["features"][0]
    geom = shape(ring["geometry"])
    polys = getattr(geom, "geoms", [geom])
    assert all(p.exterior.is_ccw for p in polys) and all(not h.is_ccw for p in polys for h in p.interiors)
    assert all(len(repr(x).split(".")[-1]) <= 6 for x in ring["geometry"]["coordinates"][0][0])


def test_a_ring_across_the_antimeridian_is_a_multipolygon_that_never_crosses_it(gazetteer, catalogue):
    scene = build_scene(ViewState(rings=(RingSpec("0,179.5", km=1000),)), [], gazetteer, catalogue)
    geom = json.loads(export.to_geojson(scene))["features"][0]["geometry"]
    assert geom["type"] == "MultiPolygon" and len(geom["coordinates"]) == 2
    for polygon in geom["coordinates"]:
        lons = [lon for lon, _lat in polygon[0]]
        assert -180 <= min(lons) and max(lons) <= 180 and max(lons) - min(lons) < 180
        assert shapely.Polygon(polygon[0]).exterior.is_ccw
    sides = sorted(min(lon for lon, _ in p[0]) < 0 for p in geom["coordinates"])
    assert sides == [False, True]  # one part east of 179.5, one part west of -180


def test_geojson_keeps_hostile_text_as_data(scene):
    doc = json.loads(export.to_geojson(scene, title=HOSTILE))
    assert doc["reachmap"]["title"] == HOSTILE
    props = next(f["properties"] for f in doc["features"] if f["properties"].get("id") == "hostile")
    assert props["title"] == HOSTILE and props["source_publisher"] == FORMULA and props["quote"] == f"-{HOSTILE}"
    assert props["actors"] == ["@someone", "Second actor"] and props["precision"] == "approximate"
    assert props["date_label"] == "20–28 Jun 2022 (in late June)" and props["time_text"] == "in late June"


# ---------------------------------------------------------------------------------------------- KML

def test_kml_parses_with_its_namespace_folders_and_placemarks(scene):
    text = export.to_kml(scene, title=HOSTILE)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{KML}kml" and "ns0:" not in text and text.startswith("<?xml")
    doc = root.find(f"{KML}Document")
    assert doc.findtext(f"{KML}name") == HOSTILE
    folders = {f.findtext(f"{KML}name"): f for f in doc.findall(f"{KML}Folder")}
    assert list(folders) == ["Range rings", "Events"]
    assert len(folders["Range rings"].findall(f"{KML}Placemark")) == 1
    events = folders["Events"].findall(f"{KML}Placemark")
    assert len(events) == 2
    ring = folders["Range rings"].find(f"{KML}Placemark")
    coords = ring.find(f".//{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates").text.split()
    lon, lat, zero = (float(x) for x in coords[0].split(","))
    assert 20 < lon < 35 and 49 < lat < 59 and zero == 0  # lon,lat,0 around Minsk
    assert ring.findtext(f".//{KML}tessellate") == "1"


def test_kml_escapes_hostile_strings_and_keeps_them_in_extended_data(scene):
    text = export.to_kml(scene, title=HOSTILE)
    assert "<script>" not in text and "<b>" not in text
    root = ET.fromstring(text)
    mark = next(p for p in root.iter(f"{KML}Placemark") if p.findtext(f"{KML}name") == HOSTILE)
    data = {d.get("name"): d.findtext(f"{KML}value") for d in mark.iter(f"{KML}Data")}
    assert data["title"] == HOSTILE and data["source_publisher"] == FORMULA and data["actors"] == "@someone; Second actor"
    assert data["source_url"] == "https://example.org/a?x=1&y=<2>" and data["time_text"] == "in late June"
    # Google Earth shows a description as HTML: no tag may start in it
    assert "<" not in mark.findtext(f"{KML}description") and "&lt;script&gt;" in mark.findtext(f"{KML}description")
    assert mark.findtext(f"{KML}TimeSpan/{KML}begin") == "2022-06-20"
    assert mark.findtext(f"{KML}TimeSpan/{KML}end") == "2022-06-28"
    assert mark.findtext(f"{KML}Point/{KML}coordinates") == "30.98,52.43,0"


def test_kml_colours_are_alpha_blue_green_red(scene):
    root = ET.fromstring(export.to_kml(scene))
    styles = {s.get("id"): s for s in root.iter(f"{KML}Style")}
    types = sorted({"missile strike", "protest"})
    strike = styles[f"type-{types.index('missile strike')}"]
    assert strike.findtext(f"{KML}IconStyle/{KML}color") == "ff7733ee"  # #EE3377
    assert styles["ring-0"].findtext(f"{KML}LineStyle/{KML}color") == "ff5b18c2"  # #c2185b
    assert export.kml_colour("#102030", 0x80) == "80302010"


# ---------------------------------------------------------------------------------------------- CSV

def test_csv_has_every_field_its_provenance_and_no_formulas(scene):
    rows = list(csv.DictReader(io.StringIO(export.to_csv(scene))))
    assert tuple(rows[0]) == export.CSV_FIELDS and len(rows) == 2
    for field in ("source_title", "source_publisher", "source_url", "source_published", "quote", "lon", "lat"):
        assert field in rows[0]
    hostile = next(r for r in rows if r["id"] == "hostile")
    assert hostile["source_publisher"] == "'" + FORMULA
    assert hostile["quote"] == f"'-{HOSTILE}" and hostile["description"] == "'+1 line\nand more"
    assert hostile["actors"] == "'@someone; Second actor"
    assert (hostile["lon"], hostile["lat"], hostile["title"]) == ("30.98", "52.43", HOSTILE)
    desna = next(r for r in rows if r["id"] != "hostile")
    assert desna["geonameid"] == "710071" and desna["quote"] == "The quoted sentence."


def test_csv_leaves_negative_coordinates_as_numbers(gazetteer, catalogue):
    west = make_event(place=Place.at("w", "West", "point", -70.5, -33.4))
    row = next(csv.DictReader(io.StringIO(export.to_csv(build_scene(ViewState(), [west], gazetteer, catalogue)))))
    assert (row["lon"], row["lat"]) == ("-70.5", "-33.4")


# ---------------------------------------------------------------------------------------------- HTML

@pytest.fixture(scope="module")
def html(scene, basemap) -> str:
    return export.to_html(scene, basemap, title=HOSTILE)


def test_html_is_one_file_that_loads_nothing_from_outside(html):
    assert external_urls(html) == [] and "/app/static" not in html
    leaflet = (VENDOR_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    assert leaflet[200:400] in html  # Leaflet itself, inlined


def test_html_shows_the_events_title_box_and_query(html, scene):
    assert "A strike" in html  # the Desna event's title, in its popup
    assert "<h1>&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in html and HOSTILE not in html
    assert "<title>&lt;/script&gt;&lt;script&gt;" in html
    assert "Dates: 20 Jun 2022 – 28 Jun 2022" in html
    assert escape(to_query(scene.state)) in html and "ring=300@Minsk" in html
    assert "Natural Earth; events: " in html and "rm-legend" in html


# ---------------------------------------------------------------------------------------------- CLI

def run(*args: str) -> subprocess.Popen:
    """`python -m dashboard …` on the store the settings name (the store_location fixture sets them)."""
    return subprocess.Popen([sys.executable, "-m", "dashboard", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=settings.PROJECT_DIR)


def _files(folder) -> list[str]:
    """What is in the folder but the store: no temp file left. The store is the GeoPackage with its kept table
    (dashboard.table._cache_files), or for PostGIS the data folder its table is kept in."""
    store = ("store.gpkg", "data")
    return sorted(p.name for p in folder.iterdir()
                  if p.name not in store and not p.name.endswith((".table.arrow", ".text.arrow", ".places.arrow")))


def test_cli_exports_each_text_format_and_warns_about_a_broken_query(store_location, gazetteer, tmp_path):
    with open_store(gazetteer=gazetteer):
        pass  # seed the store once, so that the exports below only read it
    broken = "?v=1&from=2022-06-01&to=2022-13-40&country=UA&ring=iskander-m@Minsk&z=99&bogus=1"
    runs = {fmt: run("export", broken, "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
            for fmt in ("geojson", "kml", "csv", "html")}  # concurrently: each process takes a few seconds
    runs["pdf"] = run("export", broken, "--format", "pdf", "-o", str(tmp_path / "out.pdf"))
    done = {name: (p.wait(timeout=120), *p.communicate()) for name, p in runs.items()}
    for fmt in ("geojson", "kml", "csv", "html"):
        code, out, err = done[fmt]
        assert code == 0, (fmt, err)
        warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
        assert len(warnings) == 3, (fmt, err)
        assert all(any(word in w for w in warnings) for word in ("to=2022-13-40", "z=99", "bogus")), (fmt, err)
    geojson = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))
    assert [f["properties"].get("kind") for f in geojson["features"]] == ["ring", None]
    assert [p.findtext(f"{KML}name") for p in ET.parse(tmp_path / "out.kml").iter(f"{KML}Placemark")] == [
        "Iskander-M, 500 km from Minsk", "Massive missile strike on Desna launched from Belarus"]
    assert "desna-missile-strike-2022-06-25" in (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert external_urls((tmp_path / "out.html").read_text(encoding="utf-8")) == []
    code, out, err = done["pdf"]
    assert code == 2 and len(err.strip().splitlines()) == 1 and "invalid choice: 'pdf'" in err
    assert _files(tmp_path) == ["out.csv", "out.geojson", "out.html", "out.kml"]


def test_cli_writes_text_to_stdout_but_not_a_png(store_location, capsys):
    assert cli.main(["export", "?v=1&country=UA", "--format", "csv", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("id,title,")
    assert cli.main(["export", "?v=1", "--format", "png", "-o", "-"]) == 2
    assert capsys.readouterr().err == "error: -o: png is binary; give a file name (got '-')\n"


@pytest.mark.parametrize("fmt", export.STREAMED)
def test_a_text_export_of_a_view_without_places_opens_no_gazetteer_and_imports_no_map(store_location, gazetteer,
                                                                                       tmp_path, fmt):
    """Issue 15: the gazetteer (with the stories' places) and the map's modules took about a second of a
    100k export; a view with no ring and no distance filter looks nothing up."""
    with open_store(gazetteer=gazetteer):
        pass  # seed the store once: a new store opens the gazetteer to seed itself
    out = tmp_path / f"out.{fmt}"
    code = ("import sys; from dashboard import cli, gazetteer; "
            "gazetteer.Gazetteer.open = classmethod(lambda cls, *a, **k: sys.exit('opened the gazetteer')); "
            f"done = cli.main(['export', '?v=1&country=UA&from=2022-06-01', '--format', '{fmt}', '-o', {str(out)!r}]); "
            "print(done, sorted(m for m in ('folium', 'dashboard.mapview', 'dashboard.geoparse') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=settings.PROJECT_DIR)
    assert result.stdout == "0 []\n", result.stderr
    assert "Desna" in out.read_text(encoding="utf-8")


def test_cli_export_that_fails_says_one_line_and_keeps_the_old_file(store_location, tmp_path, monkeypatch, capsys):
    target = tmp_path / "map.png"
    target.write_bytes(b"old")
    monkeypatch.setenv("REACHMAP_CHROMIUM_PATH", str(tmp_path / "none"))
    assert cli.main(["export", "?v=1&z=99", "--format", "png", "-o", str(target)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("warning: Ignored z=99") and len(err) == 2 and "apt-get install chromium" in err[1]
    assert target.read_bytes() == b"old" and _files(tmp_path) == ["map.png"]


# ---------------------------------------------------------------------------------------------- PNG

def test_png_is_the_map_at_the_asked_size_and_a_ring_shows(chromium_path, scene, basemap):
    from PIL import Image, ImageChops, ImageStat

    stages = []
    with_ring = export.to_png(scene, basemap, 800, 500, title=HOSTILE, progress=lambda f, m: stages.append((f, m)))
    without = export.to_png(Scene(scene.state.with_(rings=()), scene.events, (), ()), basemap, 800, 500)
    a, b = (Image.open(io.BytesIO(png)).convert("RGB") for png in (with_ring, without))
    assert a.size == b.size == (800, 500)
    assert max(ImageStat.Stat(a).stddev) > 20 and len(a.getcolors(800 * 500)) > 100  # not blank
    assert [f for f, _ in stages] == sorted(f for f, _ in stages) and stages[-1][0] == 1.0 and len(stages) >= 4
    diff = ImageChops.difference(a, b)
    # Minsk is the centre; a 300 km ring is ~208 px across at zoom 6: inside it the fill tints the map,
    # in the top-right corner, far outside it, nothing changes.
    assert max(ImageStat.Stat(diff.crop((340, 190, 460, 310))).mean) > 2
    assert diff.crop((700, 60, 790, 180)).getbbox() is None


def test_png_without_chromium_names_the_package(monkeypatch, scene, basemap, tmp_path):
    monkeypatch.setenv("REACHMAP_CHROMIUM_PATH", str(tmp_path / "chromium"))
    with pytest.raises(DashboardError, match=r"apt-get install chromium\) or set REACHMAP_CHROMIUM_PATH"):
        export.to_png(scene, basemap)


def test_png_without_playwright_names_the_pip_line(monkeypatch, scene, basemap):
    monkeypatch.setenv("REACHMAP_CHROMIUM_PATH", sys.executable)  # any executable: it is never started
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails as if not installed
    with pytest.raises(DashboardError, match="pip install playwright") as caught:
        export.to_png(scene, basemap)
    assert "playwright install" not in str(caught.value)


@pytest.mark.parametrize("width, height", [(100, 500), (800, 9000), (800.5, 500), (True, 500)])
def test_png_size_is_checked_before_anything_runs(scene, basemap, width, height):
    with pytest.raises(DashboardError, match="pixels"):
        export.to_png(scene, basemap, width, height)


def test_every_format_has_a_media_type_and_the_cli_offers_them_all():
    assert set(cli.EXPORT_FORMATS) == set(export.FORMATS)
    assert export.filename(Scene(ViewState(start=date(2022, 6, 1)), (), (), ()), "kml") == "reachmap-2022-06-01.kml"


def test_html_opens_on_the_offline_map_even_when_the_view_chose_an_online_one(scene, basemap):
    online = Scene(scene.state.with_(base="osm"), scene.events, scene.rings, ())
    page = export.to_html(online, basemap)
    assert "base=osm" in page  # the query string in the title box is the view's own
    tiles = re.findall(r"var (tile_layer_\w+) = L\.tileLayer\(", page)
    offline = re.findall(r"var (reachmap_basemap_\w+) = L\.reachmapBasemap\(", page)
    assert len(tiles) == 2 and len(offline) == 2  # the online bases stay in the menu, not shown
    shown = [name for name in tiles + offline if f"{name}.addTo(" in page]
    assert shown == offline[:1] and '"style":"light"' in page[page.index(offline[0]):][:200]


def test_imported_attributes_travel_with_csv_and_geojson():
    from tests.conftest import make_event

    scene = Scene(ViewState(), (make_event(attributes=(("geo_precision", "2"), ("fatalities", "=1+1"))),), (), ())
    rows = list(csv.DictReader(io.StringIO(export.to_csv(scene))))
    assert json.loads(rows[0]["attributes"]) == {"geo_precision": "2", "fatalities": "=1+1"}
    feature = json.loads(export.to_geojson(scene))["features"][0]
    assert feature["properties"]["attributes"]["geo_precision"] == "2"


# ---------------------------------------------------------------------------------------------- KMZ, doctests

def test_kml_styles_need_no_network_and_kmz_carries_its_icon(scene):
    text = export.to_kml(scene)
    styles = list(ET.fromstring(text).iter(f"{KML}Style"))
    assert styles and not [el for s in styles for el in s.iter() if (el.text or "").strip().startswith("http")]
    assert not list(ET.fromstring(text).iter(f"{KML}Icon")) and "maps.google.com" not in text
    archive = zipfile.ZipFile(io.BytesIO(export.to_kmz(scene)))
    assert archive.namelist() == ["doc.kml", "files/event.png"]  # Google Earth reads the first .kml
    doc = ET.fromstring(archive.read("doc.kml"))
    assert {i.findtext(f"{KML}href") for i in doc.iter(f"{KML}Icon")} == {"files/event.png"}
    assert [p.findtext(f"{KML}name") for p in doc.iter(f"{KML}Placemark")] == [
        p.findtext(f"{KML}name") for p in ET.fromstring(text).iter(f"{KML}Placemark")]
    from PIL import Image

    icon = Image.open(io.BytesIO(archive.read("files/event.png")))
    assert icon.size == (32, 32) and icon.mode == "RGBA" and icon.getpixel((16, 16)) == (255, 255, 255, 255)
    assert icon.getpixel((0, 0))[3] == 0


def test_kmz_is_a_format_of_the_cli_and_the_export_function(scene):
    assert "kmz" in cli.EXPORT_FORMATS and export.export(scene, None, "kmz")[:2] == b"PK"


def test_the_offline_check_reads_markup_not_text():
    page = ('<img src="https://cdn.example/a.png"><p>url(http://text.example) &lt;img src=http://t.example&gt;</p>'
            '<script>var s = "<img src=http://in-script.example>";</script><div style="background:url(//x.example/b)">'
            '</div><style>@import "file:///etc/x.css";</style><a href="https://link.example">a link is no load</a>')
    assert export.page.markup_loads(page) == ["https://cdn.example/a.png", "//x.example/b", "file:///etc/x.css"]


@pytest.mark.parametrize("module", ["kml", "tabular"])
def test_export_doctests(module):
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module(f"dashboard.export.{module}")).failed == 0


def test_the_html_file_forbids_every_load_but_its_own_and_the_online_bases_tiles(html):
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1)
    assert html.index(policy) < html.index("<script")  # before anything could load
    img = next(d for d in policy.split("; ") if d.startswith("img-src"))
    assert img == "img-src data: blob: https://server.arcgisonline.com https://tile.openstreetmap.org"
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy and "file:" not in policy


def test_a_thumbnail_is_the_map_alone_without_title_box_or_legend(chromium_path, scene, basemap):
    import numpy as np
    from PIL import Image

    def white_share(png: bytes) -> float:  # the title box and the legend are near-white panels
        rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
        return float((rgb.min(axis=-1) >= 248).mean())

    full = export.to_png(scene, basemap, 480, 300)
    thumbnail = export.to_png(scene, basemap, 480, 300, thumbnail=True)
    assert white_share(full) > 0.25 and white_share(thumbnail) < 0.1  # (label halos are white too: ~4 %)


def test_a_named_ring_keeps_its_name_in_every_export(gazetteer, catalogue, basemap):
    state = ViewState(rings=(RingSpec("Belgorod", km=150, name="S-300 from Belgorod, 150 km"),),
                      center=(50.6, 36.6), zoom=6)
    scene = build_scene(state, [], gazetteer, catalogue)
    assert [r.label for r in scene.rings] == ["S-300 from Belgorod, 150 km"]
    ring_features = [f for f in json.loads(export.to_geojson(scene))["features"]
                     if f["properties"].get("kind") == "ring"]
    assert ring_features and ring_features[0]["properties"]["label"] == "S-300 from Belgorod, 150 km"
    assert "<name>S-300 from Belgorod, 150 km</name>" in export.to_kml(scene)  # (CSV holds events only)
    assert "S-300 from Belgorod, 150 km" in export.to_html(scene, basemap)


def test_geojson_and_csv_from_the_store_rows_equal_those_from_the_events(store_location, gazetteer):
    """Issue 15: exports of the CLI and the app write GeoJSON and CSV from the store's flat rows
    (the store's record_rows), not from an Event per row; the files are the same, field by field."""
    import json as jsonlib

    from dashboard import ingest
    from dashboard.export import to_csv, to_geojson
    from dashboard.ingest.importer import import_file
    from dashboard.scene import table_scene
    from dashboard.share import ViewState
    from dashboard.table import EventTable

    fixtures = Path(__file__).parent / "data" / "import"
    with ingest.open_store(store_location, gazetteer=gazetteer) as store:  # the story and real-looking imports
        for name in ("acled_current.csv", "features.geojson", "generic_lat_lon.csv"):
            report = import_file(fixtures / name, store, gazetteer, skip_bad=True)
            assert report.stored, report

    def load(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            return store.events_by_id(ids)

    def rows(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            yield from store.record_rows(ids, batch=7)  # several batches

    from dashboard.ingest.catalogue import load_catalogue

    table = EventTable.from_store(store_location)
    fast = table_scene(ViewState(), table, load, gazetteer, load_catalogue(), rows)
    slow = table_scene(ViewState(), table, load, gazetteer, load_catalogue())
    assert len(fast.events) > 13 and fast.events.rows() is not None and slow.events.rows() is None

    def features(scene):
        data = jsonlib.loads(to_geojson(scene))
        data["reachmap"].pop("exported_at")
        return data

    assert features(fast) == features(slow)
    assert to_csv(fast) == to_csv(slow)


def test_credits_name_acled_once_with_the_outlets_it_cites(gazetteer, catalogue):
    """An ACLED import's events are each 'ACLED, citing <outlet>': the picture's corner named ACLED once per
    outlet ('ACLED, citing AFP, ACLED, citing Reuters, …')."""
    def by(i: int, publisher: str) -> Event:
        event = make_event(f"e{i}")
        return Event(**{**event.__dict__, "source": Source("ACLED event", publisher, "", date(2022, 6, 25), "q")})

    events = [by(i, p) for i, p in enumerate(["ACLED, citing Reuters", "ACLED, citing AFP", "ACLED, citing AFP",
                                              "CNN", "ACLED"])]
    events += [by(10 + i, f"ACLED, citing Outlet {i:02d}") for i in range(10)]
    scene = build_scene(ViewState(), events, gazetteer, catalogue)
    credits = export.attribution(scene)
    assert credits.startswith("Natural Earth; events: ACLED (citing AFP, Outlet 00, Outlet 01, ")
    assert credits.count("ACLED") == 1 and credits.endswith(" and 4 more), CNN")



def test_credits_count_each_outlet_of_a_multi_source_acled_event_once(gazetteer, catalogue):
    """ACLED's source column joins an event's outlets with ';': the corner lists each outlet once."""
    def by(i: int, publisher: str) -> Event:
        event = make_event(f"e{i}")
        return Event(**{**event.__dict__, "source": Source("ACLED event", publisher, "", date(2022, 6, 25), "q")})

    events = [by(i, p) for i, p in enumerate(["ACLED, citing Belaruski Hajun; Kyiv Independent",
                                              "ACLED, citing Belaruski Hajun", "ACLED, citing Kyiv Independent; Meduza"])]
    credits = export.attribution(build_scene(ViewState(), events, gazetteer, catalogue))
    assert credits == "Natural Earth; events: ACLED (citing Belaruski Hajun, Kyiv Independent, Meduza)"
