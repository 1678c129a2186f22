"""The map: events, rings, envelopes and the bundled vector basemap as a folium (Leaflet) map.

The only module that knows folium. Coordinates arrive lon/lat (shapely, GeoJSON) and are swapped to
Leaflet's lat/lon only here. Every string that came from data reaches the page through `safe` (HTML
built by `safe.html`, tooltips and popups as `safe.Tooltip`/`safe.Popup`), which also stops folium from
compiling rendered output as Jinja a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dashboard.mapview.templates import import_folium

import_folium()  # its templates compiled as maps use them: most of folium's import time

import folium  # noqa: E402
import numpy as np
import shapely
from branca.element import MacroElement, Template
from folium.plugins import Draw, Fullscreen
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from dashboard.mapview import grid, safe
from dashboard.mapview.assets import localize
from dashboard.mapview.basemap import add_basemap
from dashboard.mapview.bulk import add_bulk_events, clustered_note
from dashboard.mapview.launch import LAYER_NAME as LAUNCH_LAYER
from dashboard.mapview.launch import add_launch_areas
from dashboard.mapview.marks import CSS as MARKS_CSS, RING_COLOURS, Legend, add_events, add_rings, type_colour
from dashboard.mapview.sites import add_site_rings, site_colours
from dashboard.mapview.playback import Timeline, add_playback
from dashboard.mapview.measure import BEARING_COLOUR, BEARINGS_LAYER, add_bearings, add_measure_tool
from dashboard.model import Event, LonLat
from dashboard.rings import Ring, fit_view
from dashboard.table import EventTable, type_counts

LAYER_NAMES = {
    "events": "Events", "rings": "Range rings", "reach": "Reach envelopes",
    "countries": "Country borders", "border": "Belarus–Ukraine border", "capitals": "Place names",
    "sites": "Site rings", "launch": LAUNCH_LAYER, "bearings": BEARINGS_LAYER,
}
BASE_NAMES = {"vector": "Offline map", "vector-dark": "Offline map, dark", "osm": "OpenStreetMap (online)",
              "satellite": "Satellite (online)"}
_ONLINE_TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'),
    "satellite": ("https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
                  "Tiles &copy; Esri — Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community"),
}
DEFAULT_CENTRE: LonLat = (29.0, 52.0)  # between Minsk and Kyiv, where the seed story happens: a map of no events
DEFAULT_ZOOM = 5


@dataclass(frozen=True)
class Basemap:
    """What is drawn under everything: the bundled tiles (mapview.basemap) and the story's border."""

    border: BaseGeometry | None = None
    border_name: str = ""
    # True: the browser fetches the tiles from static/basemap (the app). False: the page embeds the tiles
    # of its view (an exported file, which must open with no server).
    served: bool = False
    # The places added to the gazetteer that the tiles do not label (mapview.basemap.added_labels_js), or "".
    added: str = field(default="", repr=False)
    # (width, height) of a picture (PNG) that never pans or zooms: it embeds only the tiles of that one view.
    still: tuple[int, int] | None = None


@dataclass(frozen=True)
class MapView:
    centre: LonLat | None = None
    zoom: int | None = None
    base: str = "vector"
    layers: tuple[str, ...] = tuple(LAYER_NAMES)
    extra_borders: tuple[tuple[str, BaseGeometry], ...] = field(default=())
    area: tuple[LonLat, ...] = ()  # the area filter's corners (lon, lat): drawn while it filters
    edit_href: str = ""  # where an event's popup links its editor, before the event's id (marks.add_events)


@dataclass(frozen=True)
class Play:
    """The play control of a map (mapview.playback): the paused frame, if any, as (last day, window days or
    0 for cumulative, step days) — share.Frame's fields — and the date filter's days, which bound the frames
    (None: the events' own first or last day)."""

    frame: tuple[date, int, int] | None = None
    start: date | None = None
    end: date | None = None
    unavailable: str = ""  # why this map cannot play (shown instead of the control)


def build_map(events: Sequence[Event], rings: Sequence[Ring], basemap: Basemap, view: MapView = MapView(),
              *, draw: bool = True, sync_url: bool = True, bulk: tuple | None = None,
              with_events: bool = True, play: Play | None = None, bearings: Sequence = (),
              launches: Sequence = ()) -> folium.Map:
    """A folium map of the events and rings on the bundled basemap, every asset served locally.

    `bulk` = (EventTable, rows): draw those rows as one clustered canvas layer instead of one marker per
    point (for thousands of events; the caller decides, see mapview.bulk.BULK_THRESHOLD).
    `with_events=False`: leave the events out entirely, for a caller that adds them as a separate layer
    (`bulk_layer`) so a filter change replaces that layer instead of the whole map.
    `play`: add the play control (mapview.playback); with `with_events=False`, give it to `bulk_layer`.
    `bearings`: lines of bearing (rings.BearingLine), drawn over the rings and listed in the legend.
    `launches`: launch areas (analysis.launch.LaunchArea), a layer of their own (mapview.launch).
    """
    if not with_events or bulk is not None:
        events = []  # bulk: the table's rows are the events (it fits the view to them itself)
    centre = view.centre or _default_centre(events)
    m = folium.Map(location=(centre[1], centre[0]), zoom_start=view.zoom or DEFAULT_ZOOM, tiles=None, max_zoom=18,
                   maxZoom=18, min_zoom=1, control_scale=True, world_copy_jump=True)
    # Leaflet only: folium also loads jQuery, Bootstrap, Font Awesome and awesome-markers for its own
    # icons and popups, which these maps never use (safe.Popup builds no jQuery); they were a third of
    # the scripts and stylesheets the component iframe loads one after another before the map appears.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    if view.centre is None and len(events) > 1 and bulk is None:
        lons, lats = zip(*(e.place.lonlat for e in events))
        m.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(30, 30), max_zoom=9)
    m.get_root().header.add_child(safe.Literal(_CSS + MARKS_CSS))
    shown = set(view.layers)
    size = basemap.still or (1600, 1000)
    add_basemap(m, view.base, BASE_NAMES, LAYER_NAMES, shown, served=basemap.served,
                view=None if basemap.served else _embedded_view(view, events, bulk, size), added=basemap.added,
                size=size, still=basemap.still is not None)
    _add_online_bases(m, view.base)
    _add_borders(m, basemap, view.extra_borders, "border" in shown)
    _add_area(m, view.area)
    site_layer, rings = [r for r in rings if r.layer], [r for r in rings if not r.layer]  # sites=…: a layer of their own
    colours = {ring.label: RING_COLOURS[i % len(RING_COLOURS)] for i, ring in enumerate(rings)}
    site_keys = site_colours(site_layer, len(rings))
    add_site_rings(m, site_layer, site_keys, LAYER_NAMES["sites"], "sites" in shown)
    add_rings(m, [r for r in rings if r.kind == "ring"], colours, LAYER_NAMES["rings"], "rings" in shown)
    add_rings(m, [r for r in rings if r.kind == "reach"], colours, LAYER_NAMES["reach"], "reach" in shown)
    add_bearings(m, bearings, "bearings" in shown)
    launch_keys = add_launch_areas(m, launches, "launch" in shown)
    note = ""
    if not with_events:
        pass  # the caller adds the events as a layer of their own
    elif bulk is None:
        markers = add_events(m, events, LAYER_NAMES["events"], "events" in shown, view.edit_href)
    else:
        table, rows = bulk
        add_bulk_events(m, table, rows, {t: type_colour(t) for t in table.types}, name=LAYER_NAMES["events"],
                        show="events" in shown, legend_position=None, fit_bounds=view.centre is None,
                        clusters=_still_clusters(basemap, view, bulk) if play is None else None,
                        level=1 if basemap.served else 6)  # a page to send (no tile server): packed harder
        note = clustered_note(len(rows))
        if play is not None:
            add_playback(m, Timeline.of_days(table.t_start[rows], play.start, play.end), play.frame,
                         unavailable=play.unavailable, remember=sync_url)
    folium.LayerControl(collapsed=True).add_to(m)
    types = sorted({e.event_type for e in events}) if bulk is None else sorted(type_counts(*bulk))
    m.add_child(Legend(types, [(r.label, colours[r.label]) for r in rings] + list(site_keys.values()), note,
                       launches=launch_keys, bearings=[(b.label, BEARING_COLOUR) for b in bearings]))
    if draw:
        # Only polygons and rectangles: a drawn circle would be Leaflet's spherical L.Circle.
        Draw(export=False, position="topleft", show_geometry_on_click=False,
             draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False,
                           "polygon": {"allowIntersection": False}, "rectangle": {}},
             edit_options={"edit": False, "remove": False}).add_to(m)
    Fullscreen(position="topleft").add_to(m)
    add_measure_tool(m)  # every map: the app's, a snapshot's, an exported page (a PNG hides it)
    if sync_url:
        m.add_child(_ViewToUrl())
    if play is not None and bulk is None and with_events and events:
        # A clustered copy of the markers' events, drawn instead of them while a frame is shown. Added last, so
        # that its script (supercluster) loads after the others, in the order of the app's bundle.
        table = EventTable.from_events(events)
        standby = folium.FeatureGroup(LAYER_NAMES["events"], control=False, show=False)
        standby.add_to(m)
        add_bulk_events(None, table, np.arange(len(events)), {t: type_colour(t) for t in table.types},
                        parent=standby, legend_position=None)
        add_playback(m, Timeline.of_days(table.t_start, play.start, play.end), play.frame, standby=standby,
                     markers=markers, unavailable=play.unavailable, remember=sync_url)
    return localize(m)


def bulk_layer(table, rows, view: grid.View | None = None, play: Play | None = None) -> folium.FeatureGroup:
    """The clustered events as a layer of their own, with their own legend, to add to a map built
    `with_events=False` (the map component swaps it without rebuilding the map).

    `view`: cluster on the server for this view (padded by a screen on every side, mapview.grid) and send
    only its clusters and single events; the layer asks for the next view as the map moves."""
    group = folium.FeatureGroup(LAYER_NAMES["events"])
    clusters = grid.cluster_view(table, rows, view.padded()) if view is not None else None
    add_bulk_events(None, table, rows, {t: type_colour(t) for t in table.types}, parent=group,
                    legend_position="bottomright", clusters=clusters)
    if play is not None:  # the layer (re)configures the map's play control for its events when added
        unavailable = play.unavailable or (SERVED_CANNOT_PLAY if clusters is not None else "")
        add_playback(group, Timeline.of_days(table.t_start[rows], play.start, play.end), play.frame,
                     unavailable=unavailable)
    return group


SERVED_CANNOT_PLAY = ("Playback needs every selected event in the page: narrow the filters to fewer events "
                      "(the map clusters larger selections on the server, one view at a time).")


def _default_centre(events: Sequence[Event]) -> LonLat:
    if not events:
        return DEFAULT_CENTRE
    pts = shapely.MultiPoint([e.place.lonlat for e in events])
    c = pts.envelope.centroid
    return (c.x, c.y)


def _add_area(m: folium.Map, area: Sequence[LonLat]) -> None:
    """The area filter stays on the map while it filters: a dashed outline, under the events."""
    if len(area) < 3:
        return
    ring = [[lon, lat] for lon, lat in area] + [[area[0][0], area[0][1]]]
    group = folium.FeatureGroup("Area filter", show=True)
    folium.GeoJson({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"kind": "area filter"}},
                   style_function=lambda _: {"color": "#37474f", "weight": 2, "dashArray": "6 4",
                                             "fillColor": "#37474f", "fillOpacity": 0.04},
                   tooltip=safe.Tooltip("Area filter: remove it in the sidebar"), class_name="rm-area").add_to(group)
    group.add_to(m)


def _still_clusters(basemap: Basemap, view: MapView, bulk: tuple) -> grid.Clusters | None:
    """For a picture (a PNG: one view that never pans or zooms), the events clustered here for that view,
    as the app clusters them above `map_served_above` (mapview.grid): the page then holds a few thousand
    clusters and single events instead of every event for the browser to index (100k: 0.3-0.45 s of
    supercluster in Chromium, and the whole payload to pack and parse). None for any other map."""
    if basemap.still is None:
        return None
    table, rows = bulk
    lon, lat, zoom = _embedded_view(view, [], bulk, basemap.still)
    return grid.cluster_view(table, rows, grid.view_around(lat, lon, zoom, *basemap.still).padded())


def _embedded_view(view: MapView, events: Sequence[Event], bulk: tuple | None,
                   size: tuple[int, int] = (1600, 1000)) -> tuple[float, float, int]:
    """The (lon, lat, zoom) an exported page opens on, for the tiles it embeds (see mapview.basemap)."""
    if view.centre is not None:
        return view.centre[0], view.centre[1], view.zoom or DEFAULT_ZOOM
    if bulk is not None:
        table, rows = bulk
        lons, lats = table.lon[rows], table.lat[rows]
    else:
        lons = np.array([e.place.lonlat[0] for e in events])
        lats = np.array([e.place.lonlat[1] for e in events])
    if len(lons) > 1:
        (lat, lon), zoom = fit_view((lons.min(), lats.min(), lons.max(), lats.max()), *size, max_zoom=9)
        return lon, lat, zoom
    centre = _default_centre(events)
    return centre[0], centre[1], view.zoom or DEFAULT_ZOOM


def _add_online_bases(m: folium.Map, base: str) -> None:
    for key, (url, attr) in _ONLINE_TILES.items():
        folium.TileLayer(url, name=BASE_NAMES[key], attr=attr, show=base == key, overlay=False,
                         max_zoom=18).add_to(m)


def _add_borders(m: folium.Map, basemap: Basemap, extra: Sequence[tuple[str, BaseGeometry]], show: bool) -> None:
    group = folium.FeatureGroup(LAYER_NAMES["border"], show=show)
    lines = ([(basemap.border_name, basemap.border)] if basemap.border is not None else []) + list(extra)
    for name, geom in lines:
        folium.GeoJson(mapping(geom), style_function=lambda _: {"color": "#b71c1c", "weight": 3.5, "opacity": 0.9},
                       tooltip=safe.Tooltip(name)).add_to(group)
    group.add_to(m)


class _ViewToUrl(MacroElement):
    """Write what the user does on the map into the app's URL (no rerun of the app): centre and zoom as
    they pan, the base layer and the visible layers as they choose them in the layer control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var bases = {{ this.bases_js }}, layers = {{ this.layers_js }}, order = {{ this.order_js }};
          function edit(change) {
            try {
              var top = window.parent;
              if (!top || (top === window && !window.__reachmapApp)) { return; }
              var url = new URL(top.location.href);
              change(url.searchParams);
              if (!url.searchParams.has("v")) { url.searchParams.set("v", "1"); }
              top.history.replaceState(top.history.state, "", url.pathname + "?" +
                url.searchParams.toString().replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%40/g, "@"));
            } catch (e) { /* not inside the app (an exported file): nothing to sync */ }
          }
          map.on("moveend", function () {
            edit(function (p) {
              var c = map.getCenter().wrap();
              p.set("c", c.lat.toFixed(4) + "," + c.lng.toFixed(4));
              p.set("z", String(map.getZoom()));
              var b = map.getBounds();
              p.set("vb", [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90),
                Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)].map(function (x) {
                  return x.toFixed(4); }).join(","));
            });
          });
          map.on("baselayerchange", function (e) {
            var key = bases[e.name];
            if (!key) { return; }
            edit(function (p) { if (key === order.base) { p.delete("base"); } else { p.set("base", key); } });
          });
          map.on("overlayadd overlayremove", function (e) {
            var key = layers[e.name];
            if (!key) { return; }
            edit(function (p) {
              var text = p.get("layers"), on = text === null ? order.layers.slice()
                : text === "none" || text === "" ? [] : text.split(",");
              on = on.filter(function (k) { return k !== key; });
              if (e.type === "overlayadd") { on.push(key); }
              on = order.layers.filter(function (k) { return on.indexOf(k) >= 0; });
              if (on.length === order.layers.length) { p.delete("layers"); }
              else { p.set("layers", on.length ? on.join(",") : "none"); }
            });
          });
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "ViewToUrl"
        self.bases_js = safe.js_json({name: key for key, name in BASE_NAMES.items()})
        self.layers_js = safe.js_json({name: key for key, name in LAYER_NAMES.items()})
        self.order_js = safe.js_json({"base": "vector", "layers": list(LAYER_NAMES)})


_CSS = """
<style>
/* The two base rules the page used to get from folium's default stylesheet (see build_map). */
*, ::before, ::after { box-sizing: border-box; }
body { margin: 0; font: 400 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.leaflet-container { background: #cfe0ea; font: 13px/1.4 system-ui, sans-serif; }
</style>
"""

