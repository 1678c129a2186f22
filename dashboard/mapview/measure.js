/* Reachmap measure tool: click points on the map, read geodesic distances and initial bearings (WGS84).
 *
 * Distances and bearings are Karney's algorithm (geographiclib-geodesic, vendored in static/vendor), the
 * same as pyproj.Geod in the CLI (`python -m dashboard measure`): they agree to the metre. Each segment is
 * drawn along its geodesic, densified every DENSIFY_M metres, with longitudes unrolled so that a line across
 * the antimeridian stays one line.
 *
 * While the tool is on, a click on the map is the tool's alone: it is caught before Leaflet sees it, so no
 * marker opens its popup and the app's map component (dashboard/ui/map_component.py) receives no click and
 * reruns nothing. Off, the map is exactly as without the tool. The button or Esc ends a measurement; × clears
 * it and goes on measuring. In the app the points are kept in sessionStorage, so a rebuilt map keeps them.
 *
 *   window.reachmapMeasure = {on(), off(), clear(), add(lat, lon), points(), segments(), total_m(), active()}
 *   (the newest map's tool, for tests); segments() = [{from, to, metres, azimuth}] with azimuth in [0, 360).
 */
if (!window.ReachmapMeasure) { window.ReachmapMeasure = (function () {
  "use strict";
  var DENSIFY_M = 20000, MAX_STEPS = 500, NMI_M = 1852, STORE = "reachmap-measure";

  function geod() { return window.geodesic && window.geodesic.Geodesic.WGS84; }
  function azimuth(a) { var x = ((a % 360) + 360) % 360; return x >= 359.95 ? 0 : x; }
  function km(m) { return (m / 1000).toFixed(3) + " km"; }
  function nmi(m) { return (m / NMI_M).toFixed(2) + " nmi"; }
  function deg(a) { return a.toFixed(1) + "°"; }
  function el(tag, cls, text, parent) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  /* One segment: its length and initial bearing, and its geodesic as [lat, lon] from lon `lon0` on. */
  function segment(g, a, b, lon0) {
    var G = window.geodesic.Geodesic, inv = g.Inverse(a.lat, a.lon, b.lat, b.lon);
    var line = g.InverseLine(a.lat, lon0, b.lat, lon0 + (b.lon - a.lon));
    var steps = Math.min(MAX_STEPS, Math.max(1, Math.ceil(inv.s12 / DENSIFY_M))), path = [];
    for (var i = 0; i <= steps; i++) {
      var p = line.Position(inv.s12 * i / steps, G.STANDARD | G.LONG_UNROLL);
      path.push([p.lat2, p.lon2]);
    }
    return {from: a, to: b, metres: inv.s12, azimuth: azimuth(inv.azi1), path: path};
  }

  var Control = L.Control.extend({
    options: {position: "topleft"},

    onAdd: function (map) {
      var self = this;
      this._map = map;
      this._points = [];
      this._segments = [];
      this._active = false;
      this._group = L.layerGroup().addTo(map);
      var box = el("div", "rm-measure leaflet-bar leaflet-control");
      var button = this._button = el("a", "rm-measure-toggle", "", box);
      button.href = "#";
      button.setAttribute("role", "button");
      button.title = "Measure geodesic distances and bearings (click points on the map; Esc ends)";
      button.setAttribute("aria-label", button.title);
      button.innerHTML = '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true"><g fill="none" ' +
        'stroke="currentColor" stroke-width="1.6"><rect x="1.5" y="6.5" width="17" height="7" rx="1"/>' +
        '<path d="M5 6.5v3M8 6.5v2M11 6.5v3M14 6.5v2"/></g></svg>';
      var panel = this._panel = el("div", "rm-measure-panel", "", box);
      var head = el("div", "rm-measure-head", "", panel);
      el("b", "", "Measure (WGS84 geodesic)", head);
      var close = el("a", "rm-measure-clear", "×", head);
      close.href = "#";
      close.title = "Clear the measurement";
      this._list = el("ol", "rm-measure-list", "", panel);
      this._total = el("div", "rm-measure-total", "", panel);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      L.DomEvent.on(button, "click", function (e) { L.DomEvent.preventDefault(e); self.toggle(); });
      L.DomEvent.on(close, "click", function (e) { L.DomEvent.preventDefault(e); self.clear(); });
      this._onClick = function (e) { self._click(e); };
      this._onKey = function (e) {
        if (!map.getContainer().isConnected) { document.removeEventListener("keydown", self._onKey); return; }
        if (e.key === "Escape" && self._active) { self.off(); }
      };
      if (!geod()) {
        box.classList.add("rm-measure-unavailable");
        button.title = "Measuring is unavailable: geographiclib-geodesic did not load";
      }
      this._render();
      window.reachmapMeasure = this.api();
      setTimeout(function () { self._restore(); }, 0);
      return box;
    },

    onRemove: function () {
      // The map is going (the app rebuilds it on a change of rings or layers): what is measured stays stored
      // for the map that replaces it, so leaving must not save the cleared state.
      this._leaving = true;
      this.off();
      this._group.remove();
    },

    api: function () {
      var self = this;
      return {
        on: function () { self.on(); }, off: function () { self.off(); }, clear: function () { self.clear(); },
        add: function (lat, lon) { self.on(); self.add(lat, lon); return self._segments.length; },
        points: function () { return self._points.map(function (p) { return [p.lat, p.lon]; }); },
        segments: function () {
          return self._segments.map(function (s) {
            return {from: [s.from.lat, s.from.lon], to: [s.to.lat, s.to.lon], metres: s.metres, azimuth: s.azimuth};
          });
        },
        total_m: function () { return self._segments.reduce(function (t, s) { return t + s.metres; }, 0); },
        active: function () { return self._active; }
      };
    },

    toggle: function () { if (this._active) { this.off(); } else { this.on(); } },

    on: function () {
      if (this._active || !geod()) { return; }
      this._active = true;
      var c = this._map.getContainer();
      // Capture phase on the map's container: before Leaflet's own handlers and the markers' (see top).
      c.addEventListener("click", this._onClick, true);
      document.addEventListener("keydown", this._onKey);
      c.classList.add("rm-measuring");
      this._zoomed = this._map.doubleClickZoom.enabled();
      this._map.doubleClickZoom.disable();
      this._render();
    },

    off: function () {
      this.clear();
      if (!this._active) { return; }
      this._active = false;
      var c = this._map.getContainer();
      c.removeEventListener("click", this._onClick, true);
      document.removeEventListener("keydown", this._onKey);
      c.classList.remove("rm-measuring");
      if (this._zoomed) { this._map.doubleClickZoom.enable(); }
      this._render();
      this._save();
    },

    _click: function (e) {
      if (e.target.closest && e.target.closest(".leaflet-control")) { return; }
      if (this._map.dragging && this._map.dragging.moved()) { return; }  // the end of a pan, not a point
      e.stopPropagation();
      e.preventDefault();
      var p = this._map.mouseEventToLatLng(e);
      this.add(p.lat, p.lng);
    },

    add: function (lat, lon) {
      var g = geod();
      lat = Number(lat); lon = Number(lon);
      if (!g || !isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90) { return; }
      var point = {lat: lat, lon: lon}, last = this._points[this._points.length - 1];
      if (last) {
        var lon0 = this._segments.length ? this._segments[this._segments.length - 1].path.slice(-1)[0][1] : last.lon;
        this._segments.push(segment(g, last, point, lon0));
      }
      this._points.push(point);
      this._draw();
      this._render();
      this._save();
    },

    clear: function () {
      this._points = [];
      this._segments = [];
      this._group.clearLayers();
      this._render();
      this._save();
    },

    _draw: function () {
      this._group.clearLayers();
      var style = {color: "#c2185b", weight: 3, opacity: 0.95, interactive: false};
      var path = this._points.length ? [[this._points[0].lat, this._points[0].lon]] : [];
      this._segments.forEach(function (s) { path = path.concat(s.path.slice(1)); });
      if (path.length > 1) { L.polyline(path, style).addTo(this._group); }
      var vertices = [path[0]], total = 0, group = this._group;
      this._segments.forEach(function (s) { vertices.push(s.path[s.path.length - 1]); });
      vertices.forEach(function (v, i) {
        if (!v) { return; }
        var dot = L.circleMarker(v, {radius: 4, color: "#c2185b", weight: 2, fillColor: "#fff", fillOpacity: 1,
                                     interactive: false}).addTo(group);
        if (i > 0) {
          total += this._segments[i - 1].metres;
          dot.bindTooltip(km(total), {permanent: true, direction: "right", offset: [6, 0],
                                      className: "rm-measure-label"});
        }
      }, this);
    },

    _render: function () {
      var box = this._panel.parentNode;
      box.classList.toggle("rm-measure-on", this._active);
      this._button.setAttribute("aria-pressed", this._active ? "true" : "false");
      this._list.textContent = "";
      this._segments.forEach(function (s, i) {
        var li = el("li", "rm-measure-segment", "", this._list);
        li.dataset.metres = s.metres.toFixed(3);
        li.dataset.azimuth = s.azimuth.toFixed(1);
        li.textContent = km(s.metres) + " · " + nmi(s.metres) + " · bearing " + deg(s.azimuth);
        li.title = "Segment " + (i + 1) + ": initial bearing from true north, clockwise";
      }, this);
      var total = this._segments.reduce(function (t, s) { return t + s.metres; }, 0);
      this._total.dataset.metres = total.toFixed(3);
      this._total.textContent = this._segments.length ? "Total " + km(total) + " · " + nmi(total)
        : this._points.length ? "Click the next point." : "Click a point on the map to start.";
    },

    _save: function () {
      if (!window.__reachmapApp || this._leaving || !this._map.getContainer().isConnected) { return; }
      try {
        window.sessionStorage.setItem(STORE, JSON.stringify({active: this._active, points: this.api().points()}));
      } catch (err) { /* storage refused (private mode, quota): the measurement lives until the map goes */ }
    },

    _restore: function () {
      if (!window.__reachmapApp || !this._map) { return; }
      var saved = null;
      try { saved = JSON.parse(window.sessionStorage.getItem(STORE) || "null"); } catch (err) { saved = null; }
      if (!saved || !saved.active || !Array.isArray(saved.points)) { return; }
      this.on();
      saved.points.forEach(function (p) { if (Array.isArray(p)) { this.add(p[0], p[1]); } }, this);
    }
  });

  return {control: function (options) { return new Control(options); }};
})(); }
