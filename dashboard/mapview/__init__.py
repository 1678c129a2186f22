"""The map: events, rings, envelopes and the bundled vector basemap as a folium (Leaflet) map.

The only module that knows folium. Coordinates arrive lon/lat (shapely, GeoJSON) and are swapped to
Leaflet's lat/lon only here. Every string that came from data reaches the page through `safe` (HTML
built by `safe.html`, tooltips and popups as `safe.Tooltip`/`safe.Popup`), which also stops folium from
compiling rendered output as Jinja a second time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
import folium
import shapely
from branca.element import MacroElement, Template
from folium.plugins import Draw, Fullscreen
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from dashboard.mapview import safe
from dashboard.mapview.assets import localize
from dashboard.mapview.bulk import add_bulk_events, clustered_note
from dashboard.mapview.marks import (CSS as MARKS_CSS, RING_COLOURS, SHOWN_ATTRIBUTES, TYPE_COLOURS, Legend,  # noqa: F401
                                      add_events, add_rings, type_colour)  # (re-exported for callers)
from dashboard.model import Event, LonLat
from dashboard.rings import Ring
from dashboard.table import type_counts

LAYER_NAMES = {
    "events": "Events", "rings": "Range rings", "reach": "Reach envelopes",
    "countries": "Country borders", "border": "Belarus–Ukraine border", "capitals": "Capitals",
}
BASE_NAMES = {"vector": "Offline vector map", "osm": "OpenStreetMap (online)", "satellite": "Satellite (online)"}
# A 1×1 transparent PNG: the offline base layer needs tiles that never touch the network.
_BLANK_TILE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
_ONLINE_TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'),
    "satellite": ("https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
                  "Tiles &copy; Esri — Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community"),
}
@dataclass(frozen=True)
class Basemap:
    """Bundled vector data drawn under everything: countries, the story's border, capitals."""

    countries: dict  # GeoJSON FeatureCollection, lon/lat
    border: BaseGeometry | None = None
    border_name: str = ""
    capitals: tuple[tuple[str, str, float, float], ...] = ()  # (name, ISO2, lon, lat)
    # Where the app serves countries and capitals as one file (static/basemap/basemap.json): the browser
    # fetches and caches it once instead of receiving ~2 MB with every map. None: embed them (exports).
    url: str | None = None


def basemap_json(basemap: Basemap) -> str:
    """The countries and capitals of a basemap as the JSON file the app serves (see Basemap.url)."""
    return json.dumps({"countries": basemap.countries, "capitals": [list(c) for c in basemap.capitals]},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class MapView:
    centre: LonLat | None = None
    zoom: int | None = None
    base: str = "vector"
    layers: tuple[str, ...] = tuple(LAYER_NAMES)
    extra_borders: tuple[tuple[str, BaseGeometry], ...] = field(default=())


def simplify_countries(features: list[dict], tolerance_deg: float = 0.02) -> dict:
    """Generalise outlines for drawing (not measuring): shared borders stay shared (coverage simplify)."""
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    simple = shapely.coverage_simplify(geoms, tolerance_deg)
    out = []
    for f, g in zip(features, simple):
        g = shapely.set_precision(g, 1e-4) if not g.is_empty else g
        if g.is_empty:
            continue
        out.append({"type": "Feature", "geometry": mapping(g),
                    "properties": {"iso2": f["properties"]["iso2"], "name": f["properties"]["name"]}})
    return {"type": "FeatureCollection", "features": out}


def build_map(events: Sequence[Event], rings: Sequence[Ring], basemap: Basemap, view: MapView = MapView(),
              *, draw: bool = True, sync_url: bool = True, bulk: tuple | None = None,
              with_events: bool = True) -> folium.Map:
    """A folium map of the events and rings on the bundled basemap, every asset served locally.

    `bulk` = (EventTable, rows): draw those rows as one clustered canvas layer instead of one marker per
    point (for thousands of events; the caller decides, see mapview.bulk.BULK_THRESHOLD).
    `with_events=False`: leave the events out entirely, for a caller that adds them as a separate layer
    (`bulk_layer`) so a filter change replaces that layer instead of the whole map.
    """
    if not with_events or bulk is not None:
        events = []  # bulk: the table's rows are the events (it fits the view to them itself)
    centre = view.centre or _default_centre(events)
    m = folium.Map(location=(centre[1], centre[0]), zoom_start=view.zoom or 5, tiles=None, max_zoom=18,
                   maxZoom=18, min_zoom=1, control_scale=True, world_copy_jump=True)
    if view.centre is None and len(events) > 1 and bulk is None:
        lons, lats = zip(*(e.place.lonlat for e in events))
        m.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(30, 30), max_zoom=9)
    m.get_root().header.add_child(safe.Literal(_CSS + MARKS_CSS))
    _add_bases(m, view.base)
    shown = set(view.layers)
    if basemap.url and sync_url:
        _add_served_basemap(m, basemap.url, "countries" in shown, "capitals" in shown)
    else:
        _add_countries(m, basemap, "countries" in shown)
        _add_capitals(m, basemap, "capitals" in shown)
    _add_borders(m, basemap, view.extra_borders, "border" in shown)
    colours = {ring.label: RING_COLOURS[i % len(RING_COLOURS)] for i, ring in enumerate(rings)}
    add_rings(m, [r for r in rings if r.kind == "ring"], colours, LAYER_NAMES["rings"], "rings" in shown)
    add_rings(m, [r for r in rings if r.kind == "reach"], colours, LAYER_NAMES["reach"], "reach" in shown)
    note = ""
    if not with_events:
        pass  # the caller adds the events as a layer of their own
    elif bulk is None:
        add_events(m, events, LAYER_NAMES["events"], "events" in shown)
    else:
        table, rows = bulk
        add_bulk_events(m, table, rows, {t: type_colour(t) for t in table.types}, name=LAYER_NAMES["events"],
                        show="events" in shown, legend_position=None, fit_bounds=view.centre is None)
        note = clustered_note(len(rows))
    folium.LayerControl(collapsed=True).add_to(m)
    types = sorted({e.event_type for e in events}) if bulk is None else sorted(type_counts(*bulk))
    m.add_child(Legend(types, [(r.label, colours[r.label]) for r in rings], note))
    if draw:
        # Only polygons and rectangles: a drawn circle would be Leaflet's spherical L.Circle.
        Draw(export=False, position="topleft", show_geometry_on_click=False,
             draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False,
                           "polygon": {"allowIntersection": False}, "rectangle": {}},
             edit_options={"edit": False, "remove": False}).add_to(m)
    Fullscreen(position="topleft").add_to(m)
    if sync_url:
        m.add_child(_ViewToUrl())
    return localize(m)


def bulk_layer(table, rows) -> folium.FeatureGroup:
    """The clustered events as a layer of their own, with their own legend, to add to a map built
    `with_events=False` (streamlit-folium's feature_group_to_add swaps it without remounting the map)."""
    group = folium.FeatureGroup(LAYER_NAMES["events"])
    add_bulk_events(None, table, rows, {t: type_colour(t) for t in table.types}, parent=group,
                    legend_position="bottomright")
    return group


def _default_centre(events: Sequence[Event]) -> LonLat:
    if not events:
        return (29.0, 52.0)  # between Minsk and Kyiv: where the seed story happens
    pts = shapely.MultiPoint([e.place.lonlat for e in events])
    c = pts.envelope.centroid
    return (c.x, c.y)


def _add_bases(m: folium.Map, base: str) -> None:
    folium.TileLayer(_BLANK_TILE, name=BASE_NAMES["vector"], attr="Natural Earth (public domain)",
                     show=base == "vector", overlay=False, max_zoom=18).add_to(m)
    for key, (url, attr) in _ONLINE_TILES.items():
        folium.TileLayer(url, name=BASE_NAMES[key], attr=attr, show=base == key, overlay=False,
                         max_zoom=18).add_to(m)


def _add_countries(m: folium.Map, basemap: Basemap, show: bool) -> None:
    group = folium.FeatureGroup(LAYER_NAMES["countries"], show=show)
    folium.GeoJson(
        basemap.countries, name=LAYER_NAMES["countries"], interactive=True,
        style_function=lambda _: {"fillColor": "#f3f0e8", "color": "#8d8373", "weight": 0.8, "fillOpacity": 1.0},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),  # folium escapes these values
        highlight_function=None,
    ).add_to(group)
    group.add_to(m)


def _add_borders(m: folium.Map, basemap: Basemap, extra: Sequence[tuple[str, BaseGeometry]], show: bool) -> None:
    group = folium.FeatureGroup(LAYER_NAMES["border"], show=show)
    lines = ([(basemap.border_name, basemap.border)] if basemap.border is not None else []) + list(extra)
    for name, geom in lines:
        folium.GeoJson(mapping(geom), style_function=lambda _: {"color": "#b71c1c", "weight": 3.5, "opacity": 0.9},
                       tooltip=safe.Tooltip(name)).add_to(group)
    group.add_to(m)


LABEL_PANE = "rm-labels"  # capitals: above countries and rings (400), below event markers and clusters


def _add_capitals(m: folium.Map, basemap: Basemap, show: bool) -> None:
    folium.map.CustomPane(LABEL_PANE, z_index=440, pointer_events=False).add_to(m)
    group = folium.FeatureGroup(LAYER_NAMES["capitals"], show=show)
    for name, iso2, lon, lat in basemap.capitals:
        # A dot and a name in one plain marker (as _ServedBasemap draws them): 200 permanent tooltips cost
        # a forced layout each. CSS hides the names below zoom 4, where they would be a smear of text.
        folium.Marker((lat, lon), icon=folium.DivIcon(html=_capital_html(name), class_name="rm-capital",
                                                      icon_size=(0, 0), icon_anchor=(0, 0)),
                      interactive=False, keyboard=False, pane=LABEL_PANE).add_to(group)
    group.add_to(m)
    m.add_child(_ZoomClass())


def _capital_html(name: str) -> str:
    return safe.html('<span class="rm-capital-dot"></span><span class="rm-capital-label">{name}</span>', name=name)


def _add_served_basemap(m: folium.Map, url: str, show_countries: bool, show_capitals: bool) -> None:
    countries = folium.FeatureGroup(LAYER_NAMES["countries"], show=show_countries)
    capitals = folium.FeatureGroup(LAYER_NAMES["capitals"], show=show_capitals)
    countries.add_to(m)
    capitals.add_to(m)
    m.add_child(_ServedBasemap(url, countries, capitals))
    m.add_child(_ZoomClass())


class _ServedBasemap(MacroElement):
    """Fetch the basemap file once (the browser caches it) and draw it under everything else."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var countries = {{ this.countries.get_name() }}, capitals = {{ this.capitals.get_name() }};
          if (!map.getPane("rm-basemap")) { map.createPane("rm-basemap").style.zIndex = 350; }
          if (!map.getPane("rm-labels")) {
            var labels = map.createPane("rm-labels");
            labels.style.zIndex = 440;
            labels.style.pointerEvents = "none";
          }
          window.reachmapBasemap = "loading";  // benchmarks and tests wait for reachmapBasemapAt
          function label(text) { var s = document.createElement("span"); s.textContent = text; return s; }
          fetch({{ this.url|tojson }}).then(function (r) { return r.json(); }).then(function (data) {
            L.geoJSON(data.countries, {
              pane: "rm-basemap",
              style: {fillColor: "#f3f0e8", color: "#8d8373", weight: 0.8, fillOpacity: 1.0},
              onEachFeature: function (f, layer) { layer.bindTooltip(label(f.properties.name), {sticky: true}); }
            }).addTo(countries);
            // A dot and a name in one plain marker each: 200 permanent tooltips cost a forced layout apiece
            // (a third of a second before the events could draw).
            data.capitals.forEach(function (c) {
              var icon = document.createElement("div");
              icon.appendChild(document.createElement("span")).className = "rm-capital-dot";
              icon.appendChild(label(c[0])).className = "rm-capital-label";
              L.marker([c[3], c[2]], {pane: "rm-labels", interactive: false, keyboard: false,
                icon: L.divIcon({className: "rm-capital", html: icon, iconSize: null})}).addTo(capitals);
            });
            map.getContainer().setAttribute("data-basemap", "ready");
            requestAnimationFrame(function () { requestAnimationFrame(function () {
              window.reachmapBasemapAt = performance.now(); }); });
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, url: str, countries: folium.FeatureGroup, capitals: folium.FeatureGroup) -> None:
        super().__init__()
        self._name = "ServedBasemap"
        self.url = url
        self.countries = countries
        self.capitals = capitals


class _ZoomClass(MacroElement):
    """Tag the map container with its zoom level so CSS can show labels only when they fit."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          function tag() { map.getContainer().setAttribute("data-zoom-band", map.getZoom() < 4 ? "far" : "near"); }
          map.on("zoomend", tag); tag();
        })();
        {% endmacro %}
    """)


class _ViewToUrl(MacroElement):
    """Write the map's centre and zoom into the app's URL as the user pans (no rerun of the app)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          function sync() {
            try {
              var top = window.parent;
              if (!top || top === window) { return; }
              var url = new URL(top.location.href);
              var c = map.getCenter().wrap();
              url.searchParams.set("c", c.lat.toFixed(4) + "," + c.lng.toFixed(4));
              url.searchParams.set("z", String(map.getZoom()));
              var b = map.getBounds();
              url.searchParams.set("vb", [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90),
                Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)].map(function (x) {
                  return x.toFixed(4); }).join(","));
              if (!url.searchParams.has("v")) { url.searchParams.set("v", "1"); }
              top.history.replaceState(top.history.state, "", url.pathname + "?" +
                url.searchParams.toString().replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%40/g, "@"));
            } catch (e) { /* not inside the app (an exported file): nothing to sync */ }
          }
          map.on("moveend", sync);
        })();
        {% endmacro %}
    """)


_CSS = """
<style>
.leaflet-container { background: #cfe0ea; font: 13px/1.4 system-ui, sans-serif; }
.rm-capital { width: 0; height: 0; }
.rm-capital-dot { position: absolute; left: -4px; top: -4px; width: 6px; height: 6px; border: 1px solid #333;
                  border-radius: 50%; background: #fff; }
.rm-capital-label { position: absolute; left: 6px; top: -8px; white-space: nowrap; font-size: 11px;
                    line-height: 16px; color: #333; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
[data-zoom-band="far"] .rm-capital-label { display: none; }
</style>
"""

