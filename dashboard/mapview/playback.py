"""Playback: the filtered events frame by frame on the map, in the browser, with no server round trip.

A control in the map's top-right corner (under the layer menu) plays the selection as frames: the events of a
moving window of days (1, 7 or 30) or cumulatively, one step (1, 7 or 30 days) after the other, at 1 to 8
frames a second; pause, step and scrub. A strip above the slider is the timeline of the selection (events per
day) with the current frame marked, and the page's own timeline (dashboard/ui/timeline.py) marks it too. Dated
rings (their GeoJSON properties `valid_from`/`valid_until`, days since 1970-01-01) appear and vanish by their
days. Everything a frame needs is already in the page: the clustered layer's columns (mapview/bulk.py) carry
each event's start day, and each frame clusters only the frame's events: while playing into 60 px cells of the
zoom shown, in one pass (so a frame of 100k events stays within 100 ms: benchmarks/playback.py); paused, with
supercluster as the layer always does (so clicks on clusters zoom in and list their events). A map of a few
markers (one per place, with popups) keeps a clustered copy of its events in standby and shows it while a
frame is shown.

Paused, stepped or scrubbed, the frame goes into the app's URL (`play=2022-06-25&window=7d&step=1d`, see
share.Frame): the permalink reopens that frame, paused. An exported HTML page plays the same way; a PNG of a
paused frame shows that frame. Not in served mode (mapview.grid: above settings.map_served_above events the
page holds only one view's clusters): the control then says why it cannot play.

An event is in a frame when its first day is (the payload holds start days only); one that began before the
playback's first day counts from that day, so the last cumulative frame holds every selected event.
`window.reachmapPlayback` exposes {show(k, live), play(), pause(), frames, state} for tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import folium
import numpy as np
from branca.element import MacroElement
from folium.template import Template

from dashboard.mapview import safe

EPOCH = date(1970, 1, 1)
MAX_STRIP_DAYS = 40_000  # the strip's per-day counts (about 110 years); longer spans are not played


def epoch_day(day: date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Timeline:
    """The days the playback runs over and the events on each (its strip)."""

    first: int  # days since 1970-01-01
    last: int
    counts: tuple[int, ...]  # events starting on each day from first to last

    @classmethod
    def of_days(cls, days: np.ndarray, start: date | None = None, end: date | None = None) -> Timeline | None:
        """From the events' start days (days since 1970-01-01); the date filter's days bound it where set."""
        days = np.asarray(days, dtype=np.int64)
        if not len(days):
            return None
        first = epoch_day(start) if start is not None else int(days.min())
        last = epoch_day(end) if end is not None else int(days.max())
        first, last = min(first, last), max(first, last)
        if last - first + 1 > MAX_STRIP_DAYS:
            return None
        # As the control counts them: an event begun before the first day counts from it.
        days = np.maximum(days, first)
        inside = days[days <= last]
        counts = np.bincount(inside - first, minlength=last - first + 1)
        return cls(first, last, tuple(int(c) for c in counts))


class Playback(MacroElement):
    """The play control of a map (or of the events layer that a map component swaps in: `configure`
    then runs when that layer is added to its map)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.library }}
        (function () {
          var target = {{ this._parent.get_name() }}, cfg = {{ this.config }};
          if (target instanceof L.Map) { window.ReachmapPlayback.configure(target, cfg); return; }
          if (target._map) { window.ReachmapPlayback.configure(target._map, cfg); }
          target.on("add", function () { window.ReachmapPlayback.configure(target._map, cfg); });
        })();
        {% endmacro %}
    """)

    def __init__(self, timeline: Timeline | None, frame: tuple[date, int, int] | None, *, standby: str = "",
                 markers: str = "", unavailable: str = "", remember: bool = True) -> None:
        super().__init__()
        self._name = "Playback"
        config = {"first": timeline.first, "last": timeline.last, "counts": list(timeline.counts)} if timeline else {}
        if frame is not None:  # (last day, window days or 0 for cumulative, step days), as share.Frame
            day, window, step = frame
            config["frame"] = {"day": epoch_day(day), "window": window, "step": step}
        config.update(standby=standby, markers=markers, unavailable=unavailable, remember=remember)
        self.config = safe.js_json(config)
        self.library = _LIBRARY


def add_playback(parent: folium.Map | folium.FeatureGroup, timeline: Timeline | None,
                 frame: tuple[date, int, int] | None, *,
                 standby: folium.FeatureGroup | None = None, markers: folium.FeatureGroup | None = None,
                 unavailable: str = "", remember: bool = True) -> None:
    """Add the play control. `standby`: a clustered copy of the events, shown instead of `markers` while a
    frame is shown (a map of markers). `unavailable`: the sentence the control shows instead of playing.
    `remember`: a paused frame goes into the app's URL (not on a snapshot's page: its view is frozen)."""
    parent.add_child(Playback(timeline, frame, standby=standby.get_name() if standby is not None else "",
                              markers=markers.get_name() if markers is not None else "", unavailable=unavailable,
                              remember=remember))


def ring_days(valid) -> dict:
    """The GeoJSON properties a dated ring carries for the control (None where open or undated)."""
    if valid is None:
        return {}
    return {"valid_from": epoch_day(valid.start) if valid.start else None,
            "valid_until": epoch_day(valid.end) if valid.end else None}


def frame_days(day: date, window: int, first: date) -> tuple[date, date]:
    """The days a frame shows, as the control computes them: `window` days up to `day` (0: cumulative, from
    the playback's `first` day), never before `first`."""
    lo = first if window == 0 else max(first, day - timedelta(days=window - 1))
    return lo, day


_LIBRARY = r"""
if (!window.ReachmapPlayback) { window.ReachmapPlayback = (function () {
  "use strict";
  var DAY_MS = 86400000, MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
  var WINDOWS = [[1, "1 day"], [7, "7 days"], [30, "30 days"], [0, "cumulative"]];
  var STEPS = [[1, "1 day"], [7, "7 days"], [30, "30 days"]], SPEEDS = [1, 2, 4, 8];
  function d(day) { return new Date(day * DAY_MS); }
  function iso(day) { return d(day).toISOString().slice(0, 10); }
  function dayText(day) { var x = d(day); return x.getUTCDate() + " " + MONTHS.substr(3 * x.getUTCMonth(), 3) + " " + x.getUTCFullYear(); }
  function span(lo, hi) {
    if (lo === hi) { return dayText(lo); }
    var a = d(lo), b = d(hi);
    if (a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth()) {
      return a.getUTCDate() + "–" + dayText(hi);
    }
    if (a.getUTCFullYear() === b.getUTCFullYear()) {
      return a.getUTCDate() + " " + MONTHS.substr(3 * a.getUTCMonth(), 3) + " – " + dayText(hi);
    }
    return dayText(lo) + " – " + dayText(hi);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function select(options, value, title) {
    var s = el("select");
    s.title = title;
    options.forEach(function (o) {
      var opt = el("option", null, o[1]);
      opt.value = String(o[0]);
      s.appendChild(opt);
    });
    s.value = String(value);
    return s;
  }
  function addStyle() {
    if (document.getElementById("rm-play-style")) { return; }
    var s = el("style");
    s.id = "rm-play-style";
    s.textContent = ".rm-play{background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;" +
      "box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,sans-serif;width:330px;color:#222}" +
      ".rm-play button{font:13px system-ui,sans-serif;min-width:28px;height:24px;margin-right:3px;cursor:pointer;" +
      "border:1px solid #bbb;border-radius:3px;background:#fff}.rm-play select{font:11px system-ui,sans-serif;" +
      "margin-right:4px}.rm-play-label{font-weight:600;margin-left:4px}.rm-play-strip{display:block;width:100%;" +
      "height:26px;margin:4px 0 0}.rm-play input[type=range]{width:100%;margin:0}.rm-play-opts{margin-top:2px;" +
      "color:#555}.rm-play.rm-play-off{width:auto;padding:3px}.rm-play.rm-play-off button{margin:0;cursor:help}";
    document.head.appendChild(s);
  }
  // -- the clustered layer, drawn from the events of some days only --------------------------------
  function key(days) { return days ? days[0] + ":" + days[1] : "all"; }
  // While playing: the frame's events grouped into 60 px cells of the zoom shown, in one pass (a few ms for
  // 100k), answering getClusters as supercluster does; paused, the layer indexes them with supercluster.
  var CELL_PX = 60;
  function abbreviated(n) { return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? Math.round(n / 100) / 10 + "k" : n; }
  function cellIndex(cols, q, keep) {
    return {
      options: {maxZoom: 16},
      getClusters: function (bbox, zoom) {
        var west = bbox[0], east = bbox[2], world = east - west >= 360, cells = new Map(), out = [];
        var scale = 256 * Math.pow(2, zoom) / CELL_PX, n = keep ? keep.length : cols.lon.length;
        var sinMax = Math.sin(85.0511 * Math.PI / 180);
        for (var i = 0; i < n; i++) {
          var k = keep ? keep[i] : i, lon = cols.lon[k] * q, lat = cols.lat[k] * q;
          if (lat < bbox[1] || lat > bbox[3]) { continue; }
          if (!world) {
            lon += 360 * Math.ceil((west - lon) / 360);  // the copy of the world at or east of the view's west
            if (lon > east) { continue; }
          }
          var s = Math.max(-sinMax, Math.min(sinMax, Math.sin(lat * Math.PI / 180)));
          var cx = Math.floor((lon + 180) / 360 * scale);
          var cy = Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale);
          var id = cx * 4194304 + cy, c = cells.get(id);
          if (c) { c.n++; c.lon += lon; c.lat += lat; } else { cells.set(id, {n: 1, lon: lon, lat: lat, k: k}); }
        }
        cells.forEach(function (c) {
          if (c.n === 1) { out.push({geometry: {coordinates: [c.lon, c.lat]}, properties: c.k}); return; }
          out.push({geometry: {coordinates: [c.lon / c.n, c.lat / c.n]},
                    properties: {cluster: true, cluster_id: -1, point_count: c.n, point_count_abbreviated: abbreviated(c.n)}});
        });
        return out;
      },
      getClusterExpansionZoom: function () { return 17; },  // a click while playing: pause first
      getLeaves: function () { return []; }
    };
  }
  function patchBulk() {
    var B = window.ReachmapBulk;
    if (!B || B.Layer.prototype.setDays) { return; }
    var proto = B.Layer.prototype, indexed = proto._indexed, onAdd = proto.onAdd;
    B.Layer.include({
      _rmDays: null, _rmBuilt: null, _rmShown: 0,
      _indexed: function () {
        if (!this._rmDays) { this._rmBuilt = "all"; this._rmShown = this._cols.lon.length; return indexed.call(this); }
        this._rmIndex(null);
        this._timing.clustered = performance.now();
        if (this._map) { this._redraw(); }
        return this;
      },
      onAdd: function (map) {
        if (map._rmPlayback) { this._rmDays = map._rmPlayback.days(); }
        onAdd.call(this, map);
        if (this._cols && !this._served && this._rmBuilt !== key(this._rmDays)) { this._rmIndex(null); this._redraw(); }
      },
      // Show the events of days [lo, hi] (days since 1970-01-01), or all (null). `zoom`: index for that zoom
      // only (while playing: a fraction of the work); otherwise for every zoom. Returns the events shown.
      setDays: function (days, zoom) {
        this._rmDays = days;
        if (!this._cols || this._served) { return null; }
        this._rmIndex(zoom === undefined ? null : zoom);
        if (this._map) { this._redraw(); }
        return this._rmShown;
      },
      _rmIndex: function (zoom) {
        var cols = this._cols, meta = this._meta, n = cols.lon.length, keep = null, days = this._rmDays;
        if (days) {
          // An event that began before the playback's first day (and still runs on it: the filter selects by
          // overlap) counts from that first day.
          var lo = days[0] - meta.baseDay, hi = days[1] - meta.baseDay, first = (days[2] || 0) - meta.baseDay;
          var m = 0, day = cols.day;
          keep = new Int32Array(n);
          for (var i = 0; i < n; i++) { var x = Math.max(day[i], first); if (x >= lo && x <= hi) { keep[m++] = i; } }
          keep = keep.subarray(0, m);
        }
        this._index = zoom !== null ? cellIndex(cols, meta.quantum, keep)
          : new Supercluster({radius: 60, extent: 256, maxZoom: 16, minPoints: 2})
            .load(window.ReachmapBulk.features(cols, meta.quantum, meta.v === 2, keep));
        this._rmBuilt = zoom === null ? key(days) : "live";
        this._rmShown = keep ? keep.length : n;
      }
    });
  }
  // -- the control ----------------------------------------------------------------------------------
  // Each frame's days for the page's timeline (dashboard/ui/timeline.py), which marks them.
  function announce(days) {
    window.__reachmapFrame = days;
    window.dispatchEvent(new CustomEvent("reachmap:frame", {detail: days}));
  }
  function Player(map) {
    this.map = map; this.k = -1; this.playing = false; this.timer = null; this.frames = [];
    this.window = 7; this.step = 1; this.speed = 2; this.days = function () { return null; };
    this.rings = ringsOf(map);
  }
  function ringsOf(map) {
    var out = [], marks = {};
    map.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (p && typeof p.label === "string" && ("valid_from" in p || "valid_until" in p)) { out.push({layer: l, props: p}); }
      var tags = l.options && l.options.tags;  // a site's dot (mapview.sites): shown and hidden with its ring
      if (tags && tags.length && typeof tags[0] === "string") { (marks[tags[0]] = marks[tags[0]] || []).push(l); }
    });
    out.forEach(function (r) { r.marks = (typeof r.props.site_mark === "string" && marks[r.props.site_mark]) || []; });
    return out;
  }
  Player.prototype.configure = function (cfg) {
    this.cfg = cfg;
    if (cfg.frame) { this.window = cfg.frame.window; this.step = cfg.frame.step; }
    this.frames = [];
    if (cfg.first !== undefined) {
      for (var t = cfg.first; t <= cfg.last; t += this.step) { this.frames.push(t); }
      if (this.frames[this.frames.length - 1] !== cfg.last) { this.frames.push(cfg.last); }
    }
    if (!this.control) { this.build(); } else { this.refresh(); }
    if (cfg.frame && this.frames.length) {
      var k = 0;
      while (k + 1 < this.frames.length && this.frames[k + 1] <= cfg.frame.day) { k++; }
      this.show(k, false);
    } else if (this.k >= 0 && this.frames.length) {
      this.show(Math.min(this.k, this.frames.length - 1), false);
    } else {
      this.publish(null);
    }
  };
  Player.prototype.build = function () {
    addStyle();
    var self = this, control = L.control({position: "topright"});
    control.onAdd = function () {
      var box = el("div", "rm-play leaflet-control");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      self.box = box;
      self.refresh();
      return box;
    };
    this.control = control.addTo(this.map);
  };
  Player.prototype.refresh = function () {
    var self = this, box = this.box;
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.classList.toggle("rm-play-off", !!this.cfg.unavailable || !this.frames.length);
    if (this.cfg.unavailable || !this.frames.length) {
      // A small greyed button that says why when pointed at: it must not cover the map it cannot play.
      var off = el("button", "rm-play-toggle", "\u25B6");
      off.disabled = true;
      off.title = this.cfg.unavailable || "No dated events to play.";
      off.setAttribute("aria-label", off.title);
      box.appendChild(off);
      return;
    }
    var row = el("div");
    var back = el("button", "rm-play-back", "\u2039"), play = el("button", "rm-play-toggle", "\u25B6");
    var next = el("button", "rm-play-next", "\u203A"), stop = el("button", "rm-play-stop", "\u2715");
    back.title = "Previous frame"; play.title = "Play / pause"; next.title = "Next frame";
    stop.title = "Show every selected event again";
    this.label = el("span", "rm-play-label", "Play the selection day by day");
    [back, play, next, stop, this.label].forEach(function (x) { row.appendChild(x); });
    box.appendChild(row);
    this.strip = el("canvas", "rm-play-strip");
    box.appendChild(this.strip);
    this.scrub = el("input");
    this.scrub.type = "range"; this.scrub.min = 0; this.scrub.max = this.frames.length - 1; this.scrub.step = 1;
    this.scrub.value = Math.max(this.k, 0);
    this.scrub.setAttribute("aria-label", "Frame");
    box.appendChild(this.scrub);
    var opts = el("div", "rm-play-opts");
    var win = select(WINDOWS, this.window, "Days in each frame"), step = select(STEPS, this.step, "Days from frame to frame");
    var speed = select(SPEEDS.map(function (s) { return [s, s + " frames/s"]; }), this.speed, "Frames a second");
    win.className = "rm-play-window"; step.className = "rm-play-step"; speed.className = "rm-play-speed";
    opts.appendChild(document.createTextNode("window ")); opts.appendChild(win);
    opts.appendChild(document.createTextNode("step ")); opts.appendChild(step);
    opts.appendChild(speed);
    box.appendChild(opts);
    this.toggle = play;
    play.onclick = function () { if (self.playing) { self.pause(); } else { self.play(); } };
    back.onclick = function () { self.pause(); self.show(Math.max(self.k - 1, 0), false); self.remember(); };
    next.onclick = function () { self.pause(); self.show(Math.min(self.k + 1, self.frames.length - 1), false); self.remember(); };
    stop.onclick = function () { self.stop(); };
    this.scrub.oninput = function () { self.pause(); self.show(parseInt(self.scrub.value, 10), true); };
    this.scrub.onchange = function () { self.show(parseInt(self.scrub.value, 10), false); self.remember(); };
    win.onchange = function () { self.window = parseInt(win.value, 10); self.show(Math.max(self.k, 0), false); self.remember(); };
    step.onchange = function () {
      var day = self.k >= 0 ? self.frames[self.k] : null;
      self.step = parseInt(step.value, 10);
      self.configure(Object.assign({}, self.cfg, {frame: day === null ? null : {day: day, window: self.window, step: self.step}}));
      self.remember();
    };
    speed.onchange = function () { self.speed = parseInt(speed.value, 10); };
    this.drawStrip();
  };
  // Frame k's days [first, last], and the playback's first day (see _rmIndex).
  Player.prototype.bounds = function (k) {
    var t = this.frames[k], first = this.cfg.first;
    return [this.window === 0 ? first : Math.max(first, t - this.window + 1), t, first];
  };
  // Show frame k: every clustered layer of the map draws the frame's events; rings appear by their days.
  Player.prototype.show = function (k, live) {
    if (!this.frames.length) { return; }
    var t0 = performance.now(), self = this, days = this.bounds(k), map = this.map, shown = 0;
    this.k = k;
    this.days = function () { return days; };
    this.standby(true);
    var zoom = live ? Math.round(map.getZoom()) : undefined;
    map.eachLayer(function (l) {
      if (!l.setDays) { return; }
      var n = l.setDays(days, zoom);
      shown += n || 0;
      // Still inflating its columns: the frame is drawn when they are; count them then.
      if (n === null && l.ready && !l._rmWaits) { l._rmWaits = true; l.ready.then(function () { self.show(self.k, false); }); }
    });
    this.rings.forEach(function (r) {
      var p = r.props, on = (p.valid_until == null || p.valid_until >= days[0]) && (p.valid_from == null || p.valid_from <= days[1]);
      r.layer.setStyle({opacity: on ? 1 : 0, fillOpacity: on ? 0.08 : 0});
      r.marks.forEach(function (mk) { var el = mk.getElement && mk.getElement(); if (el) { el.style.display = on ? "" : "none"; } });
      (map._rmRingLabels || []).forEach(function (it) {
        if (it.ring.props === p) { it.el.style.display = on ? "" : "none"; }
      });
      r.on = on;
    });
    if (this.scrub) { this.scrub.value = k; }
    if (this.label) {
      this.label.textContent = span(days[0], days[1]) + " · " + shown.toLocaleString("en") + " events";
    }
    this.drawStrip();
    announce([days[0], days[1]]);
    this.publish({k: k, from: iso(days[0]), to: iso(days[1]), shown: shown, ms: performance.now() - t0,
                  rings: this.rings.map(function (r) { return !!r.on; })});
    map.getContainer().setAttribute("data-play-frame", String(k));
  };
  // What tests and benchmarks read (and drive): window.reachmapPlayback.
  Player.prototype.publish = function (frame) {
    var self = this;
    window.reachmapPlayback = Object.assign({frames: this.frames.length, playing: this.playing,
      unavailable: this.cfg.unavailable || "", show: function (i, l) { self.show(i, l); },
      play: function () { self.play(); }, pause: function () { self.pause(); }, stop: function () { self.stop(); }},
      frame || {k: -1});
  };
  // A map of markers shows its clustered copy while a frame is shown, its markers again after "stop".
  // The swap happens inside the markers' layer group, so the layer menu's "Events" still shows and hides
  // them (and the map's URL keeps its layers: the group itself never leaves the map).
  Player.prototype.standby = function (on) {
    var cfg = this.cfg, standby = cfg.standby && window[cfg.standby], markers = cfg.markers && window[cfg.markers];
    if (!standby || !markers || on === !!this.stashed) { return; }
    if (on) {
      this.stashed = markers.getLayers();
      markers.clearLayers();
      standby.eachLayer(function (l) { markers.addLayer(l); });
    } else {
      markers.clearLayers();
      this.stashed.forEach(function (l) { markers.addLayer(l); });
      this.stashed = null;
    }
  };
  Player.prototype.play = function () {
    var self = this;
    if (this.k < 0 || this.k >= this.frames.length - 1) { this.k = -1; }
    this.playing = true;
    if (this.toggle) { this.toggle.textContent = "\u275A\u275A"; }
    var tick = function () {
      if (!self.playing) { return; }
      if (self.k >= self.frames.length - 1) { self.pause(); return; }
      self.show(self.k + 1, true);
      self.timer = setTimeout(tick, 1000 / self.speed);
    };
    tick();
  };
  Player.prototype.pause = function () {
    var was = this.playing;
    this.playing = false;
    clearTimeout(this.timer);
    if (this.toggle) { this.toggle.textContent = "\u25B6"; }
    if (was && this.k >= 0) { this.show(this.k, false); this.remember(); }
  };
  Player.prototype.stop = function () {
    this.pause();
    this.k = -1;
    this.days = function () { return null; };
    var map = this.map;
    map.eachLayer(function (l) { if (l.setDays) { l.setDays(null); } });
    this.rings.forEach(function (r) {
      r.layer.setStyle({opacity: 1, fillOpacity: 0.08});
      (map._rmRingLabels || []).forEach(function (it) { if (it.ring.props === r.props) { it.el.style.display = ""; } });
    });
    this.standby(false);
    if (this.label) { this.label.textContent = "Play the selection day by day"; }
    this.drawStrip();
    map.getContainer().setAttribute("data-play-frame", "");
    announce(null);
    this.publish(null);
    this.remember();
  };
  // The paused frame into the app's URL (play, window, step), as the map's view is (mapview._ViewToUrl).
  Player.prototype.remember = function () {
    var k = this.k;
    if (!this.cfg.remember) { return; }
    try {
      var top = window.parent;
      if (!top || (top === window && !window.__reachmapApp)) { return; }
      var url = new URL(top.location.href), p = url.searchParams;
      if (k < 0) { p.delete("play"); p.delete("window"); p.delete("step"); } else {
        p.set("play", iso(this.frames[k]));
        if (this.window === 7) { p.delete("window"); } else { p.set("window", this.window ? this.window + "d" : "all"); }
        if (this.step === 1) { p.delete("step"); } else { p.set("step", this.step + "d"); }
      }
      if (!p.has("v")) { p.set("v", "1"); }
      top.history.replaceState(top.history.state, "", url.pathname + "?" +
        p.toString().replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%40/g, "@").replace(/%7E/g, "~"));
    } catch (e) { /* not inside the app (an exported file) */ }
  };
  Player.prototype.drawStrip = function () {
    var c = this.strip, counts = this.cfg.counts;
    if (!c || !counts) { return; }
    var w = c.clientWidth || 314, h = c.clientHeight || 26, ratio = window.devicePixelRatio || 1;
    c.width = w * ratio; c.height = h * ratio;
    var ctx = c.getContext("2d"), n = counts.length, bins = new Array(w).fill(0), top = 0;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    for (var i = 0; i < n; i++) { var b = Math.floor(i * w / n); bins[b] += counts[i]; }
    for (var j = 0; j < w; j++) { top = Math.max(top, bins[j]); }
    ctx.clearRect(0, 0, w, h);
    if (this.k >= 0) {
      var days = this.bounds(this.k), a = (days[0] - this.cfg.first) * w / n, z = (days[1] - this.cfg.first + 1) * w / n;
      ctx.fillStyle = "rgba(183,28,28,.15)"; ctx.fillRect(a, 0, Math.max(z - a, 1.5), h);
      ctx.fillStyle = "#b71c1c"; ctx.fillRect(Math.max(z - 1.5, 0), 0, 1.5, h);
    }
    ctx.fillStyle = "#546e7a";
    for (var x = 0; x < w; x++) {
      if (bins[x]) { var bh = Math.max(1, Math.round((h - 2) * Math.sqrt(bins[x] / top))); ctx.fillRect(x, h - bh, 1, bh); }
    }
  };
  return {
    configure: function (map, cfg) {
      patchBulk();
      if (!map._rmPlayback) { map._rmPlayback = new Player(map); }
      map._rmPlayback.configure(cfg);
      return map._rmPlayback;
    }
  };
})(); }
"""

