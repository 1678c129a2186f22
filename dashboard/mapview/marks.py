"""The map's own marks: event markers and their popups, range rings and envelopes, the legend.

Part of `mapview` (the only code that knows folium); every string from data goes through `safe`. The colours
are `dashboard.colours`, which KML styles share without importing folium.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote as url_quote

import folium
from branca.element import MacroElement, Template
from folium.plugins import MarkerCluster
from folium.template import Template as FoliumTemplate
from shapely.geometry import mapping

from dashboard.colours import _FALLBACK, PALETTE, RING_COLOURS, TYPE_COLOURS, type_colour  # noqa: F401
from dashboard.mapview import safe
from dashboard.mapview.playback import ring_days
from dashboard.model import FEATURE_KINDS, Event
from dashboard.rings import Ring

# Imported attributes worth a line in a popup (ACLED's location and casualty fields).
SHOWN_ATTRIBUTES = ("geo_precision", "fatalities", "time_precision", "civilian_targeting")


def add_rings(m: folium.Map, rings: Sequence[Ring], colours: dict[str, str], name: str, show: bool) -> None:
    """Each ring or envelope as its geodesic polygon, with its label on its line (see RingLabels)."""
    group = folium.FeatureGroup(name, show=show)
    for ring in rings:
        colour = colours[ring.label]
        lon, lat = ring.origin.lonlat
        props = {"label": ring.label, "radius_km": ring.radius_km, "kind": ring.kind, "colour": colour,
                 "origin": [lat, lon], **ring_days(ring.valid)}  # a dated ring's days, for the play control
        folium.GeoJson({"type": "Feature", "geometry": mapping(ring.geometry), "properties": props},
                       style_function=lambda _, c=colour: {"color": c, "weight": 2, "fillColor": c,
                                                           "fillOpacity": 0.08},
                       tooltip=safe.Tooltip(ring.label), class_name="rm-ring").add_to(group)
        if ring.kind == "ring":
            folium.CircleMarker((lat, lon), radius=4, color=colour, fill=True, fill_opacity=1,
                                tooltip=safe.Tooltip(f"Origin: {ring.origin.name}")).add_to(group)
    if rings:
        group.add_child(RingLabels(m))
    group.add_to(m)


class RingLabels(MacroElement):
    """The label of each ring of its layer group, drawn on the ring's line where the map shows it.

    Placed again after every move: at the point of the line nearest the top of the visible map that keeps
    the whole label inside the map, off the ring's origin, off the map's controls, legend and title box,
    and off the labels placed before it (so a panned map keeps its labels, and a PNG has them). The text
    comes from the GeoJSON properties and is set as textContent: it is never HTML.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.library }}
        window.ReachmapRingLabels({{ this.map.get_name() }}, {{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, m: folium.Map) -> None:
        super().__init__()
        self._name = "RingLabels"
        self.map = m
        self.library = _RING_LABELS_JS


_RING_LABELS_JS = r"""
if (!window.ReachmapRingLabels) { window.ReachmapRingLabels = (function () {
  "use strict";
  var PANE = "rm-ring-labels", GAP = 4, STEP = 12;
  function outlines(lls) {  // a polygon's rings or a multipolygon's, as flat LatLng arrays
    if (!lls.length) { return []; }
    if (L.LineUtil.isFlat(lls)) { return [lls]; }
    return lls.reduce(function (out, part) { return out.concat(outlines(part)); }, []);
  }
  function ringsOf(group) {
    var out = [];
    group.eachLayer(function (layer) {
      if (!(layer instanceof L.GeoJSON)) { return; }
      layer.eachLayer(function (shape) {
        var p = shape.feature && shape.feature.properties;
        if (p && typeof p.label === "string" && shape.getLatLngs) {
          out.push({props: p, lines: outlines(shape.getLatLngs())});
        }
      });
    });
    return out;
  }
  // Points along the drawn line inside `box` (container pixels), every STEP px, top first.
  function along(map, lines, box) {
    var pts = [];
    lines.forEach(function (line) {
      var prev = null;
      for (var i = 0; i <= line.length; i++) {
        var p = map.latLngToContainerPoint(line[i % line.length]);
        var seg = prev && L.LineUtil.clipSegment(prev, p, box, false, false);
        if (seg) {
          var n = Math.max(1, Math.ceil(seg[0].distanceTo(seg[1]) / STEP));
          for (var k = 0; k <= n; k++) { pts.push(seg[0].add(seg[1].subtract(seg[0]).multiplyBy(k / n))); }
        }
        prev = p;
      }
    });
    return pts.sort(function (a, b) { return a.y - b.y || a.x - b.x; });
  }
  function obstacles(map) {  // what the map shows over itself: controls, legend, an export's title and credits
    var at = map.getContainer().getBoundingClientRect(), out = [];
    var els = map.getContainer().querySelectorAll(".leaflet-control");
    var extra = document.querySelectorAll(".rm-legend, .rm-export-title, .rm-export-credit");
    Array.prototype.slice.call(els).concat(Array.prototype.slice.call(extra)).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width && r.height) { out.push(L.bounds([r.left - at.left, r.top - at.top], [r.right - at.left, r.bottom - at.top])); }
    });
    return out;
  }
  function overlaps(a, list) {
    for (var i = 0; i < list.length; i++) { if (list[i].intersects(a)) { return true; } }
    return false;
  }
  function attach(map, group) {
    if (!map.getPane(PANE)) {
      var pane = map.createPane(PANE);
      pane.style.zIndex = 460;  // above rings and basemap labels, below markers, tooltips and popups
      pane.style.pointerEvents = "none";
    }
    var items = ringsOf(group).map(function (ring) {
      var el = document.createElement("div"), span = el.appendChild(document.createElement("span"));
      el.className = "rm-ring-label";
      span.textContent = ring.props.label;
      span.style.color = span.style.borderColor = String(ring.props.colour || "#333");
      var icon = L.divIcon({className: "rm-ring-label-icon", html: el, iconSize: null});
      var marker = L.marker(ring.lines[0][0], {pane: PANE, icon: icon, interactive: false, keyboard: false});
      return {group: group, ring: ring, marker: marker, el: el, span: span,
              origin: ring.props.kind === "ring" && ring.props.origin ? L.latLng(ring.props.origin) : null};
    });
    // One placement for every labelled group of the map (rings and envelopes), so no two labels collide.
    if (!map._rmRingLabels) {
      map._rmRingLabels = [];
      var again = function () { place(map); };
      map.on("moveend zoomend resize overlayadd", again);
      map.whenReady(again);
    }
    map._rmRingLabels = map._rmRingLabels.concat(items);
    group.on("add", function () { place(map); });
    place(map);
  }
  function place(map) {
    var items = map._rmRingLabels, size = map.getSize(), blocked = obstacles(map), taken = [];
    var origins = items.filter(function (it) { return it.origin && it.group._map; }).map(function (it) {
      var o = map.latLngToContainerPoint(it.origin);
      return L.bounds([o.x - 9, o.y - 9], [o.x + 9, o.y + 9]);  // never over a ring's origin
    });
    items.forEach(function (it) {
      if (!it.group._map) { return; }
      if (!it.group.hasLayer(it.marker)) { it.group.addLayer(it.marker); }
      var w = it.span.offsetWidth, h = it.span.offsetHeight, chosen = null;
      var box = L.bounds([w / 2 + GAP, h / 2 + GAP], [size.x - w / 2 - GAP, size.y - h / 2 - GAP]);
      var pts = box.max.x >= box.min.x && box.max.y >= box.min.y ? along(map, it.ring.lines, box) : [];
      for (var i = 0; i < pts.length && !chosen; i++) {
        var p = pts[i], r = L.bounds([p.x - w / 2 - 2, p.y - h / 2 - 2], [p.x + w / 2 + 2, p.y + h / 2 + 2]);
        if (overlaps(r, origins) || overlaps(r, taken) || overlaps(r, blocked)) { continue; }
        chosen = p;
        taken.push(r);
      }
      if (chosen) { it.marker.setLatLng(map.containerPointToLatLng(chosen)); }
      it.el.style.visibility = chosen ? "" : "hidden";
      it.el.setAttribute("data-placed", chosen ? "yes" : "no");
    });
    var c = map.getContainer();  // how many times the labels were placed (tests wait for the next one)
    c.setAttribute("data-ring-labels-placed", String(1 + (parseInt(c.getAttribute("data-ring-labels-placed"), 10) || 0)));
  }
  return attach;
})(); }
"""


def location_level(event: Event) -> str:
    """How precisely an event is located: "country", "region" or "point".

    A place that is a country, or an admin region, is shown where it is pinned (a country's capital); an
    ACLED event of geo_precision 3 ("a larger region is mentioned", ACLED codebook) sits at the region's
    central point.
    """
    kind = event.place.kind
    if kind == "country":
        return "country"
    if kind == "admin region" or kind in FEATURE_KINDS or event.attribute("geo_precision").strip() == "3":
        return "region"
    return "point"


def _where(event: Event, level: str) -> str:
    place = event.place
    if level == "region" and place.kind != "admin region" and place.admin1:
        return place.admin1
    return place.name


# Markers whose centres are closer than this on screen join one cluster: the 18 px discs would overlap.
CLUSTER_RADIUS_PX = 18
# A cluster of more markers than this zooms in when clicked instead of spreading them all out around it.
SPIDERFY_MAX = 60

_CLUSTER_ICON_JS = """function (cluster) {
  var n = 0, spots = cluster.getAllChildMarkers(), div = document.createElement("div");
  for (var i = 0; i < spots.length; i++) { n += spots[i].options.rmCount || 1; }
  div.className = "rm-event rm-cluster";
  div.dataset.count = n;
  div.dataset.places = spots.length;
  div.title = n + " events at " + spots.length + " places close together: click to spread them out";
  div.textContent = n > 9999 ? Math.round(n / 1000) + "k" : String(n);
  return L.divIcon({className: "rm-cluster-icon", iconSize: L.point(26, 26), html: div});
}"""
_CLUSTER_CLICK_JS = """function (e) {
  var c = e.layer, map = c._group._map;
  if (c.getChildCount() > %d && map.getZoom() < map.getMaxZoom()) { c.zoomToBounds({padding: [40, 40]}); }
  else { c.spiderfy(); }
}""" % SPIDERFY_MAX


class _Cluster(MarkerCluster):
    """Leaflet.markercluster for markers that overlap on screen: a click spreads them out (spiderfy)."""

    _template = FoliumTemplate("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojavascript }});
            {{ this.get_name() }}.options.iconCreateFunction = {{ this.icon_create_function }};
            {{ this.get_name() }}.on("clusterclick", {{ this.on_click }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        # Every marker stays in the page (removeOutsideVisibleBounds off): an export or a test counts them.
        super().__init__(control=False, icon_create_function=_CLUSTER_ICON_JS, maxClusterRadius=CLUSTER_RADIUS_PX,
                         zoomToBoundsOnClick=False, showCoverageOnHover=False, spiderfyOnMaxZoom=True,
                         removeOutsideVisibleBounds=False, spiderfyDistanceMultiplier=1.3)
        self.on_click = _CLUSTER_CLICK_JS


def add_events(m: folium.Map, events: Sequence[Event], name: str, show: bool,
               edit_href: str = "") -> folium.FeatureGroup:
    """One marker per map point and location level; its popup lists every selected event there.

    `edit_href`: the address an event's editor opens at, before its URL-encoded id (the app's
    "events?edit="); its popups then link each event's Edit. Empty (exports, snapshots): no link.

    Markers that overlap on screen at the zoom shown are clustered (a count; a click spreads them out),
    so no event hides under another. Events located only by country get a square badge with the country
    code beside its pin instead of a dot on the capital; region-level ones a dashed ring.
    """
    group = folium.FeatureGroup(name, show=show)
    cluster = _Cluster()
    by_spot: dict[tuple[float, float, str, str], list[Event]] = {}
    for e in events:  # Belarus is pinned at Minsk: its events get a marker of their own, beside Minsk's
        lon, lat = e.place.lonlat
        level = location_level(e)
        key = e.place.key if level == "country" else ""
        by_spot.setdefault((round(lon, 5), round(lat, 5), level, key), []).append(e)
    levels = set()
    for (lon, lat, level, _), here in by_spot.items():
        here.sort(key=lambda e: (e.time.start, e.id))
        levels.add(level)
        marker = _marker(lat, lon, level, here, edit_href)
        marker.add_to(group if level == "country" else cluster)
    if cluster._children:
        cluster.add_to(group)
    group.add_to(m)
    if events:
        m.add_child(_ClosedPopupsLetClicksThrough())
    m._rm_levels = tuple(sorted(levels | set(getattr(m, "_rm_levels", ()))))  # for the legend's key
    return group


class _ClosedPopupsLetClicksThrough(MacroElement):
    """A closed popup fades out for 200 ms and meanwhile still takes clicks: a marker it covered (spread-out
    ones sit close together) could not be clicked until it was gone. It lets them through at once."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on("popupclose popupopen", function (e) {
          var el = e.popup.getElement();
          if (el) { el.style.pointerEvents = e.type === "popupclose" ? "none" : ""; }
        });
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "ClosedPopups"


def _marker(lat: float, lon: float, level: str, here: list[Event], edit_href: str = "") -> folium.Marker:
    place, n = here[0].place, len(here)
    colour = type_colour(here[-1].event_type)
    badge = f'<span class="rm-count">{n}</span>' if n > 1 else ""
    names = " / ".join(dict.fromkeys(_where(e, level) for e in here))
    what = f"{n} events" if n > 1 else here[0].title
    if level == "country":
        code = place.country or place.name[:3]
        html = safe.html('<div class="rm-event rm-country" style="border-color:{colour}" data-count="{n}" '
                         'data-level="country">{code}{badge}</div>', colour=colour, n=n, code=code,
                         badge=safe.Markup(badge))
        # Beside the pin (up and to the left), not on it: the capital's own marker stays visible.
        icon = folium.DivIcon(html=html, icon_size=(30, 18), icon_anchor=(42, 28), class_name="rm-event-icon")
        tip = f"{names} (country level): {what}"
    else:
        html = safe.html('<div class="rm-event{cls}" style="{style}:{colour}" data-count="{n}" '
                         'data-level="{level}">{badge}</div>', cls=" rm-region" if level == "region" else "",
                         style="border-color" if level == "region" else "background", colour=colour, n=n,
                         level=level, badge=safe.Markup(badge))
        icon = folium.DivIcon(html=html, icon_size=(18, 18), icon_anchor=(9, 9), class_name="rm-event-icon")
        tip = f"{names}{' (region level)' if level == 'region' else ''}: {what}"
    return folium.Marker((lat, lon), icon=icon, tooltip=safe.Tooltip(tip), rm_count=n,
                         popup=safe.Popup(popup_html(here, edit_href), max_width=380, lazy=True))


def popup_html(events: Sequence[Event], edit_href: str = "") -> safe.Markup:
    parts = []
    for e in events:
        edit = (safe.html('<a class="rm-edit" href="{href}">Edit</a>', href=edit_href + url_quote(e.id, safe=""))
                if edit_href else "")
        src = e.source
        href = safe.url(src.url)
        link = (safe.html('<a href="{href}" target="_blank" rel="noopener noreferrer">{publisher}</a>',
                          href=href, publisher=src.publisher) if href else safe.text(src.publisher))
        quote = safe.html("<blockquote>{quote}</blockquote>", quote=src.quote) if src.quote else ""
        extra = safe.join(safe.html('<div class="rm-meta">{k}: {v}</div>', k=k, v=v)
                          for k, v in e.attributes if k in SHOWN_ATTRIBUTES)
        level = location_level(e)
        located = (safe.html('<div class="rm-level">Located only at {level} level: {where}</div>', level=level,
                             where=_where(e, level)) if level != "point" else "")
        published = f" ({src.published.isoformat()})" if src.published else ""
        parts.append(safe.html(
            '<div class="rm-popup-event"><div class="rm-title">{title}</div>'
            '<div class="rm-meta">{when} · {place} · <span style="color:{colour}">{type}</span></div>'
            '{located}{quote}{extra}<div class="rm-source">Source: {link}{published}</div>{edit}</div>',
            title=e.title, when=e.time.label, place=e.place.name, colour=type_colour(e.event_type),
            type=e.event_type, located=located, quote=quote, extra=extra, link=link, published=published,
            edit=edit))
    return safe.html('<div class="rm-popup">{body}</div>', body=safe.join(parts))


_LEVEL_KEYS = {
    "country": '<div><i class="rm-key-country"></i>located only by country (beside its capital)</div>',
    "region": '<div><i class="rm-key-region"></i>located only by region</div>',
}


class Legend(MacroElement):
    """Event types and rings with their colours, bottom left; it folds, and never takes more than 40 % of
    the map's width or height (so at most 16 % of its area: longer lists scroll)."""

    _template = Template("""
        {% macro header(this, kwargs) %}{% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="rm-legend" id="{{ this.get_name() }}">{{ this.body_html() }}</div>
        {% endmacro %}
    """)

    def __init__(self, types: Sequence[str], rings: Sequence[tuple[str, str]], note: str = "", *,
                 launches: Sequence[tuple[str, str]] = (), bearings: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self._name = "Legend"
        self.types, self.rings, self.note = tuple(types), tuple(rings), note
        self.launches = tuple(launches)  # (label, colour) of launch areas: a dashed, filled key
        self.bearings = tuple(bearings)  # (label, colour) of lines of bearing: a dashed line, as drawn

    def body_html(self) -> safe.Markup | str:
        rows = [safe.html('<div class="rm-note">{note}</div>', note=self.note)] if self.note else []
        rows += [safe.html('<div><i style="background:{c}"></i>{t}</div>', c=type_colour(t), t=t) for t in self.types]
        # The marker shapes add_events drew on this map, if any besides plain points.
        levels = getattr(self._parent, "_rm_levels", ()) if self.types else ()
        rows += [safe.Markup(_LEVEL_KEYS[level]) for level in levels if level in _LEVEL_KEYS]
        rows += [safe.html('<div><i class="rm-ring-key" style="border-color:{c}"></i>{label}</div>', c=c, label=label)
                 for label, c in self.rings]
        rows += [safe.html('<div><i class="rm-launch-key" style="border-color:{c};background:{c}55"></i>{label}</div>',
                           c=c, label=label) for label, c in self.launches]
        rows += [safe.html('<div><i class="rm-line-key" style="border-color:{c}"></i>{label}</div>', c=c,
                           label=label) for label, c in self.bearings]
        return (safe.html("<details open><summary><b>Legend</b></summary>{rows}</details>", rows=safe.join(rows))
                if rows else "")

    @property
    def body(self) -> safe.Markup | str:
        return self.body_html()


CSS = """
<style>
.rm-event-icon, .rm-cluster-icon { background: transparent; border: none; }
.rm-event { width: 16px; height: 16px; border-radius: 50%; border: 2px solid #fff; box-sizing: content-box;
            box-shadow: 0 0 0 1px rgba(0,0,0,.45); position: relative; }
.rm-event.rm-region { background: rgba(255,255,255,.85); border: 3px dashed; width: 12px; height: 12px; }
.rm-event.rm-country { width: 26px; height: 14px; border-radius: 2px; border: 2px solid; background: #fff;
                       color: #111; font: 700 10px/14px system-ui, sans-serif; text-align: center; }
.rm-event.rm-cluster { width: 22px; height: 22px; background: #fff; border: 2px solid #333; color: #111;
                       font: 700 11px/22px system-ui, sans-serif; text-align: center;
                       box-shadow: 0 0 0 3px rgba(255,255,255,.7), 0 1px 4px rgba(0,0,0,.5); }
.rm-count { position: absolute; top: -9px; right: -11px; background: #222; color: #fff; border-radius: 8px;
            font: 10px/14px system-ui, sans-serif; min-width: 14px; padding: 0 3px; text-align: center; }
.rm-popup { max-height: 320px; overflow-y: auto; }
.rm-popup-event + .rm-popup-event { border-top: 1px solid #ddd; margin-top: 6px; padding-top: 6px; }
.rm-title { font-weight: 600; }
.rm-meta { color: #555; font-size: 12px; }
.rm-level { font-size: 12px; font-weight: 600; color: #7a4a00; }
.rm-edit { display: inline-block; margin-top: 4px; font-weight: 600; }
.rm-popup blockquote { margin: 4px 0; padding-left: 8px; border-left: 3px solid #ccc; font-style: italic; }
.rm-legend { position: absolute; bottom: 52px; left: 10px; z-index: 1000; background: rgba(255,255,255,.92);
             padding: 0 8px 6px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px;
             max-width: min(280px, 40%); max-height: 40%; overflow-y: auto; box-sizing: border-box; }
.rm-legend:empty { display: none; }
.rm-legend summary { cursor: pointer; position: sticky; top: 0; padding-top: 6px; background: inherit; }
.rm-note { font-style: italic; max-width: 240px; margin: 2px 0 4px; }
.rm-legend i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px;
               vertical-align: -1px; }
.rm-legend i.rm-ring-key { border-radius: 0; border: 2px solid; background: transparent; }
.rm-legend i.rm-launch-key { border-radius: 0; border: 2px dashed; }
.rm-legend i.rm-line-key { border-radius: 0; width: 16px; height: 0; border-top: 3px dashed; vertical-align: middle;
                              background: transparent; }
.rm-legend i.rm-key-country { border-radius: 2px; border: 2px solid #333; width: 14px; height: 8px; background: #fff; }
.rm-legend i.rm-key-region { border: 2px dashed #333; width: 7px; height: 7px; background: #fff; }
.rm-ring-label-icon { width: 0; height: 0; }
/* markercluster slides every marker icon while it animates a zoom; a label is placed for the new view. */
.leaflet-cluster-anim .leaflet-marker-icon.rm-ring-label-icon { transition: none; }
.rm-ring-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
                      font: 600 12px/16px system-ui, sans-serif; padding: 0 6px; border: 1.5px solid;
                      border-radius: 9px; background: rgba(255,255,255,.9); box-shadow: 0 1px 2px rgba(0,0,0,.25); }
</style>
"""
