"""Everything a map loads is served by this project: static/vendor, localize, inline, external_urls."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import folium
import numpy as np
import pytest
from folium.plugins import Draw, Fullscreen, MarkerCluster, MeasureControl, MousePosition

from dashboard.errors import DashboardError
from dashboard.mapview import assets
from dashboard.mapview.assets import ASSET_MAP, LOCAL_PREFIX, external_urls, inline, localize

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
VENDOR = STATIC / "vendor"
MANIFEST = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
ALL_FILES = [f for p in MANIFEST["packages"] for f in p["files"] + p["license_files"]]
CSS_FILES = [f["path"] for p in MANIFEST["packages"] for f in p["files"] if f["path"].endswith(".css")]

POLYGON = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "Gomel region"},
     "geometry": {"type": "Polygon", "coordinates": [[[29.0, 52.0], [31.0, 52.0], [31.0, 53.0], [29.0, 52.0]]]}}]}


def story_map() -> folium.Map:
    # With tiles=None folium 0.20 gives max_zoom only to the (absent) tile layer; maxZoom reaches L.map,
    # which MarkerCluster needs ("Map has no maxZoom specified" otherwise).
    m = folium.Map(location=[52.0, 29.0], zoom_start=6, tiles=None, max_zoom=18, maxZoom=18)
    cluster = MarkerCluster(name="events").add_to(m)
    folium.Marker([51.0, 30.8], popup=folium.Popup("Desna <b>strike</b>"), tooltip="Desna").add_to(cluster)
    folium.Marker([53.9, 27.6], icon=folium.Icon(color="red", icon="info-sign")).add_to(cluster)
    folium.Marker([59.9, 30.3], icon=folium.Icon(icon="star", prefix="fa", angle=45)).add_to(m)
    folium.CircleMarker([52.4, 31.0], radius=6, color="#c00", fill=True).add_to(m)
    folium.GeoJson(POLYGON, name="area", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    Draw(export=False).add_to(m)
    Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    return m


@pytest.fixture(scope="module")
def localized_html() -> str:
    return localize(story_map()).get_root().render()


# (a) ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", ALL_FILES, ids=lambda f: f["path"])
def test_every_manifest_file_exists_with_its_sha256(entry):
    path = VENDOR / entry["path"]
    assert path.is_file(), entry["path"]
    data = path.read_bytes()
    assert len(data) == entry["bytes"]
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_static_vendor_holds_only_manifest_files():
    listed = {f["path"] for f in ALL_FILES} | {"MANIFEST.json", "build_vendor.py"}
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert present == listed


def test_every_package_has_a_licence_file():
    for package in MANIFEST["packages"]:
        assert package["license_files"], package["package"]
        assert package["license"], package["package"]


def test_every_asset_map_target_is_vendored():
    listed = {f["path"] for f in ALL_FILES}
    assert set(ASSET_MAP.values()) <= listed


@pytest.mark.parametrize("element", [folium.Map, MarkerCluster, Draw, Fullscreen, MousePosition, MeasureControl],
                         ids=lambda c: c.__name__)
def test_asset_map_covers_every_url_folium_declares(element):
    for _name, url in element.default_js + element.default_css:
        assert url in ASSET_MAP, f"{element.__name__} declares {url}: vendor it (folium upgraded?)"


# (b) ------------------------------------------------------------------------------------------------

def test_a_localized_map_loads_nothing_from_outside(localized_html):
    assert external_urls(localized_html) == []
    for url in ASSET_MAP:
        assert url not in localized_html


def test_without_localize_the_same_map_would_load_cdn_files():
    urls = external_urls(story_map().get_root().render())
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in urls
    assert "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css" in urls


def test_localize_changes_instances_not_folium_classes():
    before = list(folium.Map.default_js), list(MarkerCluster.default_css)
    m = localize(story_map())
    assert (list(folium.Map.default_js), list(MarkerCluster.default_css)) == before
    assert all(url.startswith(LOCAL_PREFIX + "/") for _, url in m.default_js + m.default_css)


def test_localize_is_idempotent_and_takes_a_prefix():
    m = localize(localize(story_map(), prefix="/base/app/static/vendor/"), prefix="/base/app/static/vendor")
    assert dict(m.default_js)["leaflet"] == "/base/app/static/vendor/leaflet/leaflet.js"


def test_plugins_mouse_position_and_measure_control_are_covered():
    m = folium.Map(tiles=None)
    MousePosition().add_to(m)
    MeasureControl().add_to(m)
    assert external_urls(localize(m).get_root().render()) == []


def test_streamlit_folium_receives_only_local_links():
    """st_folium builds the component's script list from default_js/default_css of JSCSSMixin elements."""
    from folium.elements import JSCSSMixin

    m = localize(story_map())
    links = [url for el in assets._walk(m) if isinstance(el, JSCSSMixin)
             for _, url in el.default_js + el.default_css]
    assert links and all(url.startswith(LOCAL_PREFIX + "/") for url in links)


def _script_list(m: folium.Map) -> list[str]:
    """The scripts streamlit-folium loads, in its order (streamlit_folium/__init__.py, ``walk``)."""
    from folium.elements import JSCSSMixin

    return list(dict.fromkeys(url for el in assets._walk(m) if isinstance(el, JSCSSMixin) for _, url in el.default_js))


def test_the_bundle_file_is_current():
    """static/bundle/reachmap-map.js is the concatenation of its parts as they are now: rebuild it with
    static/bundle/build_bundle.py after changing static/vendor or the basemap script."""
    assert assets.BUNDLE_FILE.read_text("utf-8") == assets.bundle_text()


def test_the_app_map_loads_its_scripts_as_one_file_in_streamlit_folium_order(store_path, gazetteer):
    from dashboard import ingest
    from dashboard.scene import Scene, load_basemap, scene_map
    from dashboard.share import ViewState
    from dashboard.table import EventTable

    with ingest.open_store(store_path, gazetteer=gazetteer) as store:  # the story, as the app stores it
        events = tuple(store.events())
    table = EventTable.from_store_path(store_path)
    m = scene_map(Scene(ViewState(), events, (), (), table, np.arange(len(table))), load_basemap(gazetteer))
    MousePosition().add_to(m)  # not a part: loaded after the bundle
    before = _script_list(m)
    parts = list(assets.BUNDLE_PARTS)
    assert {parts[0], parts[1]} <= set(before)  # Leaflet and the basemap at least
    assert [u for u in before if u in parts] == [u for u in parts if u in before]  # the bundle keeps their order
    after = _script_list(assets.use_bundle(m))
    assert after[0] == assets.BUNDLE_URL
    assert not set(after) & set(parts)
    assert after[1:] == [u for u in before if u not in parts]
    assert _script_list(assets.use_bundle(m)) == after  # twice is harmless
    text = assets.BUNDLE_FILE.read_text("utf-8")
    for path_, _ in assets.BUNDLE_PARTS.values():
        assert path_.read_text("utf-8") in text


def test_the_bundle_is_served_from_static():
    assert assets.BUNDLE_URL == "/app/" + assets.BUNDLE_FILE.relative_to(assets.PROJECT_DIR).as_posix()


def test_leaflet_default_icon_path_is_set_before_any_marker(localized_html):
    statement = f'L.Icon.Default.imagePath = "{LOCAL_PREFIX}/leaflet/images/";'
    assert localized_html.count(statement) == 1
    assert localized_html.index(statement) < localized_html.index("L.marker(")
    assert (VENDOR / "leaflet" / "images" / "marker-icon.png").is_file()


def test_streamlit_folium_script_sets_the_icon_path_before_the_markers():
    from streamlit_folium import generate_leaflet_string

    script = generate_leaflet_string(localize(story_map()))
    assert script.index("L.Icon.Default.imagePath") < script.index("L.marker(")


def test_installed_streamlit_serves_static_scripts_as_scripts():
    """Streamlit up to 1.55 sent every app/static file but images, fonts, pdf, xml and json as text/plain
    with nosniff, so browsers refused the vendored .js and .css; 1.56 serves them with their real types."""
    from importlib.metadata import version

    assert tuple(int(x) for x in version("streamlit").split(".")[:2]) >= (1, 56)


# (c) ------------------------------------------------------------------------------------------------

def test_every_local_url_of_the_page_is_a_file(localized_html):
    urls = re.findall(r'(?:src|href)="(' + re.escape(LOCAL_PREFIX) + r'/[^"]+)"', localized_html)
    assert len(urls) >= 15
    for url in urls:
        assert (STATIC / url.removeprefix("/app/static/")).is_file(), url


# (d) ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inlined_html(localized_html) -> str:
    return inline(localized_html)


def test_inline_leaves_nothing_to_fetch(inlined_html):
    assert "/app/static" not in inlined_html
    assert external_urls(inlined_html) == []
    assert not re.search(r"<script[^>]*\bsrc=\"(?!data:)", inlined_html)
    assert not re.search(r"<link[^>]*stylesheet", inlined_html)


def test_inline_contains_the_leaflet_source_and_data_uris(inlined_html):
    leaflet = (VENDOR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    assert leaflet.strip()[:2000] in inlined_html
    assert 't.version="1.9.4"' in inlined_html
    assert "data:font/woff2;base64," in inlined_html          # Font Awesome / Glyphicons fonts
    assert "data:image/png;base64," in inlined_html           # marker sprites, layer icons
    assert "L.Icon.Default.imagePath=''" in inlined_html     # default marker icon without a path


def test_inline_refuses_a_missing_file():
    page = f'<script src="{LOCAL_PREFIX}/leaflet/nope.js"></script>'
    with pytest.raises(DashboardError, match="nope.js"):
        inline(page)


def test_inline_escapes_a_closing_script_tag(tmp_path):
    (tmp_path / "x.js").write_text('var s = "</script>";', encoding="utf-8")
    out = inline(f'<script src="{LOCAL_PREFIX}/x.js"></script>', root=tmp_path)
    assert out == '<script>var s = "<\\/script>";</script>'


def test_inline_makes_css_references_data_uris(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG")
    (tmp_path / "b.css").write_text(".b{color:red}", encoding="utf-8")
    (tmp_path / "a.css").write_text('@import "b.css";\n.a{background:url(img/a.png)} .v{behavior:url(#x)}',
                                    encoding="utf-8")
    out = inline(f'<link rel="stylesheet" href="{LOCAL_PREFIX}/a.css"/>', root=tmp_path)
    assert out == '<style>.b{color:red}\n.a{background:url("data:image/png;base64,iVBORw==")} ' \
                  '.v{behavior:url(#x)}</style>'


# (e) ------------------------------------------------------------------------------------------------

class CdnPlugin(folium.elements.JSCSSMixin):
    default_js = [("evil", "https://unpkg.com/some-plugin@1.0.0/plugin.min.js")]


def test_localize_refuses_an_unknown_cdn_url():
    m = folium.Map(tiles=None)
    CdnPlugin().add_to(folium.FeatureGroup().add_to(m))
    with pytest.raises(DashboardError, match=re.escape("https://unpkg.com/some-plugin@1.0.0/plugin.min.js")):
        localize(m)


def test_localize_refuses_a_protocol_relative_url():
    m = folium.Map(tiles=None)
    m.default_css = [*m.default_css, ("x", "//cdn.example.org/x.css")]
    with pytest.raises(DashboardError, match="//cdn.example.org/x.css"):
        localize(m)


def test_localize_refuses_a_colormap_because_streamlit_folium_adds_d3_from_a_cdn():
    import branca.colormap

    m = folium.Map(tiles=None)
    branca.colormap.LinearColormap(["green", "red"], vmin=0, vmax=500).add_to(m)
    with pytest.raises(DashboardError, match="d3"):
        localize(m)


# (f) ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("css", CSS_FILES)
def test_css_references_only_vendored_files(css):
    listed = {f["path"] for f in ALL_FILES}
    text = (VENDOR / css).read_text(encoding="utf-8")
    refs = [next(g for g in m.groups() if g is not None)
            for m in re.finditer(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", text)]
    assert "@import" not in text
    for ref in refs:
        if ref.startswith(("data:", "#")):
            continue
        assert not assets.is_external(ref), f"{css} loads {ref}"
        target = (VENDOR / css).parent / ref.split("?")[0].split("#")[0]
        rel = target.resolve().relative_to(VENDOR.resolve()).as_posix()
        assert rel in listed, f"{css} references {ref}, which is not vendored"


def test_fonts_are_woff2_only():
    fonts = [f["path"] for f in ALL_FILES if re.search(r"\.(woff2?|ttf|eot|otf)$", f["path"])]
    assert fonts and all(f.endswith(".woff2") for f in fonts)


# external_urls -----------------------------------------------------------------------------------------

def test_external_urls_sees_loads_and_ignores_hyperlinks():
    page = """
    <link rel="stylesheet" href="https://cdn.example.org/a.css"/>
    <script src='https://cdn.example.org/a.js'></script>
    <style>@import url("https://fonts.example.org/f.css"); .x{background:url(//img.example.org/x.png)}</style>
    <img src="http://img.example.org/y.png" srcset="https://img.example.org/y2.png 2x">
    <a href="https://leafletjs.com">Leaflet</a>
    <script>var popup = $(`<div><img src=\\"https://img.example.org/z.png\\"></div>`);</script>
    <div style="background:url('data:image/svg+xml,<svg xmlns=%27http://www.w3.org/2000/svg%27/>')"></div>
    <img src="/app/static/vendor/leaflet/images/marker-icon.png">
    """
    assert external_urls(page) == [
        "https://cdn.example.org/a.css", "https://cdn.example.org/a.js", "http://img.example.org/y.png",
        "https://img.example.org/y2.png", "https://img.example.org/z.png",
        "https://fonts.example.org/f.css", "//img.example.org/x.png"]


def test_external_urls_looks_inside_html_iframes():
    import base64

    inner = base64.b64encode(b'<script src="https://cdn.example.org/in.js"></script>').decode()
    page = f'<iframe src="data:text/html;charset=utf-8;base64,{inner}"></iframe>'
    assert external_urls(page) == ["https://cdn.example.org/in.js"]
