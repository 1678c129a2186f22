/* Reachmap offline basemap: pre-cut JSON vector tiles (geodata/build_basemap.py) drawn on canvas.
 *
 *   var base = L.reachmapBasemap({url: "tiles/", style: "light"}).addTo(map);   // tiles/: where they are served
 *   base.setStyle("dark");          // "light" | "dark"
 *   base.labelsInView();            // [{text, cls, x, y, added?}] the labels drawn now (for tests); also as
 *                                   // document.querySelector(".leaflet-container").reachmapBasemap
 *   map container attribute data-basemap-labels = number of labels drawn; event "labels" when drawn
 *
 * Geometry is drawn by a canvas GridLayer (tile pane, under every overlay); labels by one canvas in their
 * own pane above the overlays (pointer-events: none), redrawn after each move or zoom. Labels were
 * decluttered at build time: each carries the zoom range in which it is shown, so nothing is measured
 * or collided here.
 *
 * Parts a user may hide: "borders" (country borders) and "labels" (place names). Option `hide: ["labels"]`
 * sets the map's starting choice; L.reachmapBasemap.toggle("labels") is a layer for a layer control that
 * shows the part while it is on the map. The choice belongs to the map, so it survives a change of style
 * or of base layer.
 *
 * Ready signal: the map container gets data-basemap="ready" and window.reachmapBasemapAt (performance.now())
 * once the first view's tiles are drawn and its labels painted (PNG export and benchmarks wait for it).
 *
 * Added places: L.reachmapBasemap.addLabels({...}) before the layer draws (see _drawAdded).
 *
 * Offline export: set window.REACHMAP_BASEMAP = {index: <index.json>, tiles: {"z/x/y": <tile>, ...}}
 * before the layer is added (or pass it as option `embedded`); tiles found there are never fetched, and
 * with `fetch: false` a missing tile is drawn from the nearest embedded ancestor or left empty.
 * Or {packed: "<base85 text>"}: the index and tiles packed by dashboard/mapview/basemap.py (pack_tiles), read
 * with the browser's DecompressionStream (see unpack below).
 * Needs Leaflet 1.9. No request leaves the page's origin.
 */
(function () {
  "use strict";

  var STYLES = {
    light: {
      sea: "#c9dcea", land: "#f4f1ea", urban: "#e9dfcf", lake: "#c9dcea", coast: "#86a9c2",
      river: "#6d9cc2", a0: "#7d7263", a1: "#b3a695", text: "#24211d", minor: "#4a4640",
      halo: "rgba(255,255,255,0.92)", region: "#7b6d5c", water: "#3b6b93", country: "#5d544a", dot: "#2f2b27"
    },
    dark: {
      sea: "#17222d", land: "#2a2c30", urban: "#3a3a3d", lake: "#17222d", coast: "#3f5d75",
      river: "#3f729c", a0: "#a69c8b", a1: "#5e5a53", text: "#eeebe5", minor: "#c9c5bd",
      halo: "rgba(16,16,18,0.9)", region: "#a99d8b", water: "#86b3d8", country: "#c7bfb1", dot: "#e6e2da"
    }
  };
  // label class -> font, colour key, anchored on a dot (places) or centred
  var CLASSES = [
    {font: "bold 13px", colour: "text", dot: 3.2},            // 0 capital
    {font: "600 12px", colour: "text", dot: 2.6},             // 1 city
    {font: "11px", colour: "text", dot: 2.1},                 // 2 town
    {font: "10.5px", colour: "minor", dot: 1.7},              // 3 village
    {font: "600 10.5px", colour: "region", upper: true},      // 4 region
    {font: "italic 12px", colour: "water"},                   // 5 sea
    {font: "italic 10.5px", colour: "water"},                 // 6 river
    {font: "bold 12px", colour: "country", upper: true}       // 7 country
  ];
  var FAMILY = ' "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif';
  var CLASS_NAMES = ["capital", "city", "town", "village", "region", "sea", "river", "country"];

  function dataZoom(z) { return z <= 3 ? 2 : z <= 5 ? 4 : z <= 7 ? 6 : 8; }

  var GEOMETRY = ["land", "urban", "lake", "a1", "a0", "coast", "river"];

  // Base85 text (dashboard/mapview/packing.py): five digits for four bytes, a last group of r + 1 digits
  // for r bytes, read as if padded with the highest digit.
  var ALPHABET = "!#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz|~";
  var PLACE = [16777216, 65536, 256, 1];  // a group's four bytes, most significant first
  function bytes85(text) {
    var digit = new Uint8Array(128), n = text.length, rest = n % 5, groups = (n - rest) / 5 + (rest ? 1 : 0);
    for (var i = 0; i < 85; i++) digit[ALPHABET.charCodeAt(i)] = i;
    var out = new Uint8Array((n - rest) / 5 * 4 + (rest ? rest - 1 : 0)), o = 0;
    for (var g = 0, at = 0; g < groups; g++, at += 5) {
      var v = 0;
      for (var k = 0; k < 5; k++) v = v * 85 + (at + k < n ? digit[text.charCodeAt(at + k)] : 84);
      for (var b = 0, m = at + 5 <= n ? 4 : rest - 1; b < m; b++) out[o++] = Math.floor(v / PLACE[b]) % 256;
    }
    return out;
  }

  // {index, tiles} from pack_tiles' text: deflate of [uint32 LE n][n bytes of skeleton JSON][varints],
  // the skeleton's coordinate arrays being lengths whose values (zigzag varints, each x and y a delta from
  // the previous pair) follow in the skeleton's order. Unpacked once per page, for both styles.
  function unpack(text) {
    var bytes = bytes85(text);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buf) {
      var u8 = new Uint8Array(buf), n = new DataView(buf).getUint32(0, true), at = 4 + n;
      var skeleton = JSON.parse(new TextDecoder().decode(u8.subarray(4, at))), tiles = {};
      skeleton.tiles.forEach(function (kt) {
        var tile = kt[1];
        GEOMETRY.forEach(function (layer) {
          (tile[layer] || []).forEach(function (group) {
            group[1] = group[1].map(function (length) {
              var a = new Int32Array(length);
              for (var j = 0; j < length; j++) {
                var v = 0, scale = 1, b;
                do { b = u8[at++]; v += (b & 127) * scale; scale *= 128; } while (b & 128);
                v = v % 2 ? -(v + 1) / 2 : v / 2;
                a[j] = j >= 2 ? v + a[j - 2] : v;
              }
              return a;
            });
          });
        });
        tiles[kt[0]] = tile;
      });
      if (at !== u8.length) throw new Error("packed tiles: " + (u8.length - at) + " bytes left over");
      return {index: skeleton.index, tiles: tiles};
    });
  }

  function prepare(tile) {
    // bounding boxes per array, so a display tile skips what it cannot show
    ["land", "urban", "lake", "a1", "a0", "coast", "river"].forEach(function (k) {
      (tile[k] || []).forEach(function (group) {
        group[2] = group[1].map(function (a) {
          var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
          for (var i = 0; i < a.length; i += 2) {
            var x = a[i], y = a[i + 1];
            if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
          }
          return [x0, y0, x1, y1];
        });
      });
    });
    return tile;
  }

  L.ReachmapBasemap = L.GridLayer.extend({
    options: {
      url: "tiles/", style: "light", embedded: null, fetch: true, labels: true, hide: [],
      labelPane: "rm-basemap-labels", updateWhenZooming: false, keepBuffer: 1, maxNativeZoom: 18,
      attribution: "Natural Earth, GeoNames; boundaries: Natural Earth, de facto"
    },

    initialize: function (options) {
      L.setOptions(this, options);
      this._tiles_ = {};      // "tz/x/y" -> Promise(tile | null)
      this._ready = {};       // "tz/x/y" -> tile | null, once loaded
      this._drawn = [];
      var emb = this.options.embedded || window.REACHMAP_BASEMAP || null, self = this;
      this._embedded = emb && emb.tiles ? emb.tiles : {};
      // One request per tile folder, shared by the light and dark layers (each made at once, one shown).
      var indexes = L.ReachmapBasemap._indexes = L.ReachmapBasemap._indexes || {};
      if (emb && emb.packed) {
        emb.unpacked = emb.unpacked || unpack(emb.packed);
        this._indexPromise = emb.unpacked.then(function (u) { self._embedded = u.tiles; return u.index; });
      } else {
        this._indexPromise = emb && emb.index ? Promise.resolve(emb.index)
          : (indexes[this.options.url] = indexes[this.options.url] ||
             fetch(this.options.url + "index.json").then(function (r) { return r.json(); }));
      }
      this._indexPromise.then(function (index) {
        self._index = index;
        self._exists = {};
        Object.keys(index.tiles).forEach(function (tz) {
          var s = {};
          index.tiles[tz].forEach(function (t) { s[t[0] + "/" + t[1]] = true; });
          self._exists[tz] = s;
        });
      });
    },

    onAdd: function (map) {
      if (!map._rmHideSet) {  // the map's starting choice (a toggle already added has its say); toggles change it
        map._rmHideSet = true;
        var hidden = map._rmHidden = map._rmHidden || {};
        this.options.hide.forEach(function (part) { if (!(part in hidden)) hidden[part] = true; });
      }
      if (window.reachmapBasemapAt === undefined) window.reachmapBasemap = "loading";
      this.once("load", this._tilesDrawn, this);
      L.GridLayer.prototype.onAdd.call(this, map);
      // tests find the layer without knowing folium's variable name: container.reachmapBasemap.labelsInView()
      map.getContainer().reachmapBasemap = this;
      map.getContainer().style.background = STYLES[this.options.style].sea;
      if (this.options.labels) {
        var pane = map.getPane(this.options.labelPane) || map.createPane(this.options.labelPane);
        pane.style.zIndex = 450;
        pane.style.pointerEvents = "none";
        this._labelCanvas = L.DomUtil.create("canvas", "rm-basemap-labels", pane);
        map.on("moveend zoomend resize viewreset", this._scheduleLabels, this);
        map.on("zoomstart", this._hideLabels, this);
        this._scheduleLabels();
      }
    },

    onRemove: function (map) {
      if (this._labelCanvas) {
        L.DomUtil.remove(this._labelCanvas);
        map.off("moveend zoomend resize viewreset", this._scheduleLabels, this);
        map.off("zoomstart", this._hideLabels, this);
        this._labelCanvas = null;
      }
      L.GridLayer.prototype.onRemove.call(this, map);
    },

    setStyle: function (name) {
      if (!STYLES[name]) throw new Error("basemap style must be one of " + Object.keys(STYLES).join(", "));
      this.options.style = name;
      if (this._map) this._map.getContainer().style.background = STYLES[name].sea;
      this.redraw();
      this._scheduleLabels();
      return this;
    },

    labelsInView: function () { return this._drawn.slice(); },

    _hidden: function (part) { return !!(this._map && this._map._rmHidden && this._map._rmHidden[part]); },

    // The map's part choice changed: draw again.
    refresh: function () { this.redraw(); this._scheduleLabels(); return this; },

    _tilesDrawn: function () {
      this._tilesIn = true;
      this._signalReady();
    },

    _signalReady: function () {
      if (!this._tilesIn || !this._labelsIn || !this._map) return;
      var container = this._map.getContainer();
      if (container.getAttribute("data-basemap") === "ready") return;
      container.setAttribute("data-basemap", "ready");
      requestAnimationFrame(function () { requestAnimationFrame(function () {
        window.reachmapBasemapAt = performance.now(); }); });
    },

    // ---------------------------------------------------------------- data

    _pick: function (z, x, y) {
      // the data tile that holds display tile z/x/y: [tz, dx, dy]
      var tz = dataZoom(Math.max(z, 2));
      if (tz === 8 && !this._exists["8"][(x >> (z - 8)) + "/" + (y >> (z - 8))]) tz = 6;
      if (z >= tz) return [[tz, x >> (z - tz), y >> (z - tz)]];
      var out = [], n = 1 << (tz - z);
      for (var i = 0; i < n; i++) for (var j = 0; j < n; j++) out.push([tz, x * n + i, y * n + j]);
      return out;
    },

    _load: function (tz, x, y) {
      var key = tz + "/" + x + "/" + y, self = this;
      if (this._tiles_[key]) return this._tiles_[key];
      var p;
      if (this._embedded[key]) {
        p = Promise.resolve(prepare(this._embedded[key]));
      } else if (!this._exists[tz][x + "/" + y]) {
        p = Promise.resolve(null);
      } else if (!this.options.fetch) {
        p = tz > 2 ? this._load(tz - 2, x >> 2, y >> 2).then(function (t) {
          return t ? {parent: [tz - 2, x >> 2, y >> 2], tile: t} : null; }) : Promise.resolve(null);
      } else {
        p = fetch(this.options.url + key + ".json").then(function (r) {
          if (!r.ok) throw new Error(r.status + " " + key);
          return r.json();
        }).then(prepare);
      }
      p = p.catch(function (err) {
        if (window.console) console.warn("reachmap basemap: tile " + key + " not drawn: " + err);
        return null;  // drawn as empty; never retried in this page
      }).then(function (t) { self._ready[key] = t; return t; });
      this._tiles_[key] = p;
      return p;
    },

    createTile: function (coords, done) {
      var tile = document.createElement("canvas"), self = this;
      var dpr = window.devicePixelRatio || 1, size = this.getTileSize();
      tile.width = size.x * dpr;
      tile.height = size.y * dpr;
      this._indexPromise.then(function () {
        var picks = self._pick(coords.z, coords.x, coords.y);
        return Promise.all(picks.map(function (p) { return self._load(p[0], p[1], p[2]); })).then(function (ts) {
          var ctx = tile.getContext("2d");
          ctx.scale(dpr, dpr);
          ts.forEach(function (t, i) {
            var p = picks[i];
            if (t && t.parent) { p = t.parent; t = t.tile; }
            if (t) self._drawTile(ctx, t, p[0], p[1], p[2], coords);
          });
          done(null, tile);
        });
      }).catch(function (err) { done(err, tile); });
      return tile;
    },

    _drawTile: function (ctx, t, tz, dx, dy, c) {
      var st = STYLES[this.options.style], z = c.z, s = Math.pow(2, z - tz);
      var ext = this._index.format.extent, k = 256 * s / ext;
      var ox = dx * 256 * s - c.x * 256, oy = dy * 256 * s - c.y * 256;
      // the display tile in data-tile units, with a margin for line widths
      var m = 4 / k, u0 = -ox / k - m, v0 = -oy / k - m, u1 = (256 - ox) / k + m, v1 = (256 - oy) / k + m;

      function path(groups, filter) {
        ctx.beginPath();
        var any = false;
        (groups || []).forEach(function (g) {
          if (filter && !filter(g[0])) return;
          var arrs = g[1], boxes = g[2];
          for (var j = 0; j < arrs.length; j++) {
            var b = boxes[j];
            if (b[2] < u0 || b[0] > u1 || b[3] < v0 || b[1] > v1) continue;
            var a = arrs[j];
            ctx.moveTo(ox + a[0] * k, oy + a[1] * k);
            for (var i = 2; i < a.length; i += 2) ctx.lineTo(ox + a[i] * k, oy + a[i + 1] * k);
            any = true;
          }
        });
        return any;
      }
      ctx.lineJoin = "round";
      ctx.lineCap = "round";
      if (path(t.land)) { ctx.fillStyle = st.land; ctx.fill("evenodd"); }
      if (z >= 5 && path(t.urban)) { ctx.fillStyle = st.urban; ctx.fill("evenodd"); }
      if (path(t.lake)) { ctx.fillStyle = st.lake; ctx.fill("evenodd"); }
      if (z >= 4 && path(t.a1)) {
        ctx.strokeStyle = st.a1; ctx.lineWidth = z >= 8 ? 1.3 : 0.9;
        ctx.setLineDash(z >= 7 ? [5, 3] : [3, 2]); ctx.stroke(); ctx.setLineDash([]);
      }
      if (path(t.coast)) { ctx.strokeStyle = st.coast; ctx.lineWidth = 0.8; ctx.stroke(); }
      var widths = z >= 9 ? [2.4, 1.7, 1.1] : z >= 7 ? [1.8, 1.2, 0.8] : z >= 5 ? [1.3, 0.8, 0.5] : [0.9, 0.6, 0.4];
      ctx.strokeStyle = st.river;
      for (var cl = 0; cl < 3; cl++) {
        if (cl === 2 && z < 6) break;
        if (path(t.river, function (c) { return c === cl; })) { ctx.lineWidth = widths[cl]; ctx.stroke(); }
      }
      if (!this._hidden("borders") && path(t.a0)) { ctx.strokeStyle = st.a0; ctx.lineWidth = z >= 7 ? 1.6 : 1.1; ctx.stroke(); }
    },

    // ---------------------------------------------------------------- labels

    _hideLabels: function () { if (this._labelCanvas) this._labelCanvas.style.visibility = "hidden"; },

    _scheduleLabels: function () {
      if (this._labelFrame || !this._map) return;
      var self = this;
      this._labelFrame = L.Util.requestAnimFrame(function () { self._labelFrame = null; self._drawLabels(); });
    },

    _drawLabels: function () {
      var map = this._map;
      if (!map || !this._labelCanvas || !this._index) {
        if (map && !this._index) this._indexPromise.then(this._scheduleLabels.bind(this));
        return;
      }
      var z = Math.round(map.getZoom()), size = map.getSize(), dpr = window.devicePixelRatio || 1;
      var canvas = this._labelCanvas, topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = size.x * dpr; canvas.height = size.y * dpr;
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      canvas.style.visibility = "visible";
      var ctx = canvas.getContext("2d");
      ctx.scale(dpr, dpr);
      var st = STYLES[this.options.style], self = this;
      var pb = map.getPixelBounds();
      var tx0 = Math.floor(pb.min.x / 256), ty0 = Math.floor(pb.min.y / 256);
      var tx1 = Math.floor(pb.max.x / 256), ty1 = Math.floor(pb.max.y / 256), n = 1 << z;
      var seen = {}, picks = [], pending = [];
      for (var x = tx0; x <= tx1; x++) for (var y = Math.max(0, ty0); y <= Math.min(n - 1, ty1); y++) {
        var wx = ((x % n) + n) % n;
        this._pick(z, wx, y).forEach(function (p) {
          var key = p.join("/");
          if (seen[key]) return;
          seen[key] = true;
          // the world repeats east-west: keep the offset of this copy
          picks.push([p, Math.floor(x / n)]);
        });
      }
      var drawn = [], hidden = this._hidden("labels");
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      picks.forEach(function (pw) {
        var p = pw[0], key = p.join("/");
        if (!(key in self._ready)) { pending.push(self._load(p[0], p[1], p[2])); return; }
        var t = self._ready[key];
        if (t && t.parent) { p = t.parent; t = t.tile; }
        if (!t || !t.label || hidden) return;
        var scale = 256 * Math.pow(2, z - p[0]), ext = self._index.format.extent;
        var bx = (p[1] + pw[1] * Math.pow(2, p[0])) * scale - pb.min.x, by = p[2] * scale - pb.min.y;
        t.label.forEach(function (l) {
          if (l[4] > z || l[5] < z) return;
          var px = bx + l[1] / ext * scale, py = by + l[2] / ext * scale;
          if (px < -150 || py < -30 || px > size.x + 150 || py > size.y + 30) return;
          self._label(ctx, st, l, px, py);
          drawn.push({text: l[0], cls: CLASS_NAMES[l[3]], x: Math.round(px), y: Math.round(py)});
        });
      });
      if (!hidden && L.ReachmapBasemap.added) this._drawAdded(ctx, st, z, size, drawn);
      this._drawn = drawn;
      map.getContainer().setAttribute("data-basemap-labels", String(drawn.length));
      if (pending.length) Promise.all(pending).then(this._scheduleLabels.bind(this));
      else { this._labelsIn = true; this._signalReady(); this.fire("labels", {count: drawn.length}); }
    },

    // Places added to the gazetteer (GeoNames dumps) that the tiles do not label: from their zoom, most
    // populous first, each only where it overlaps no label already drawn (the tiles' were decluttered
    // when they were built; these are checked here against boxes measured on the canvas).
    _drawAdded: function (ctx, st, z, size, drawn) {
      var a = L.ReachmapBasemap.added, map = this._map, boxes = [], self = this;
      drawn.forEach(function (d) {
        var c = CLASSES[CLASS_NAMES.indexOf(d.cls)], text = c.upper ? d.text.toUpperCase() : d.text;
        ctx.font = c.font + FAMILY;
        var w = ctx.measureText(text).width;
        boxes.push(c.dot ? [d.x - c.dot, d.y - 7, d.x + c.dot + 3 + w, d.y + 7] : [d.x - w / 2, d.y - 7, d.x + w / 2, d.y + 7]);
      });
      var b = map.getBounds().pad(0.1), w0 = b.getWest(), e0 = b.getEast(), s0 = b.getSouth(), n0 = b.getNorth();
      for (var i = 0; i < a.names.length; i++) {
        if (a.z[i] > z) continue;
        var lon = a.lon[i], lat = a.lat[i];
        if (lat < s0 || lat > n0 || lon < w0 || lon > e0) continue;
        var p = map.latLngToContainerPoint([lat, lon]), l = [a.names[i], 0, 0, a.cls[i]];
        var c = CLASSES[l[3]];
        ctx.font = c.font + FAMILY;
        var box = [p.x - c.dot - 1, p.y - 7, p.x + c.dot + 4 + ctx.measureText(l[0]).width, p.y + 7], clash = false;
        for (var k = 0; k < boxes.length && !clash; k++) {
          var o = boxes[k];
          clash = box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3];
        }
        if (clash) continue;
        boxes.push(box);
        self._label(ctx, st, l, p.x, p.y);
        drawn.push({text: l[0], cls: CLASS_NAMES[l[3]], x: Math.round(p.x), y: Math.round(p.y), added: true});
      }
    },

    _label: function (ctx, st, l, x, y) {
      var c = CLASSES[l[3]], text = c.upper ? l[0].toUpperCase() : l[0];
      ctx.font = c.font + FAMILY;
      ctx.lineWidth = 3;
      ctx.strokeStyle = st.halo;
      ctx.fillStyle = st[c.colour];
      if (c.dot) {
        ctx.beginPath();
        ctx.arc(x, y, c.dot, 0, 2 * Math.PI);
        ctx.fillStyle = st.dot;
        ctx.fill();
        ctx.lineWidth = 1; ctx.stroke(); ctx.lineWidth = 3;
        ctx.fillStyle = st[c.colour];
        ctx.textAlign = "left";
        ctx.strokeText(text, x + c.dot + 3, y);
        ctx.fillText(text, x + c.dot + 3, y);
        return;
      }
      ctx.textAlign = "center";
      if (l[6]) {
        ctx.save();
        ctx.translate(x, y);
        ctx.rotate(l[6] * Math.PI / 180);
        ctx.strokeText(text, 0, 0);
        ctx.fillText(text, 0, 0);
        ctx.restore();
      } else {
        ctx.strokeText(text, x, y);
        ctx.fillText(text, x, y);
      }
    }
  });

  L.reachmapBasemap = function (options) { return new L.ReachmapBasemap(options); };

  // The places added to the gazetteer, as the map script passes them (dashboard/mapview/basemap.py,
  // AddedLabels): {names: "A\nB", lon: [1e-5 degrees], lat: [...], cls: "33..", z: [min zoom]}.
  L.reachmapBasemap.addLabels = function (data) {
    var names = data.names ? data.names.split("\n") : [], lon = [], lat = [], cls = [];
    for (var i = 0; i < names.length; i++) {
      lon.push(data.lon[i] / 1e5); lat.push(data.lat[i] / 1e5); cls.push(+data.cls.charAt(i));
    }
    L.ReachmapBasemap.added = {names: names, lon: lon, lat: lat, cls: cls, z: data.z};
  };

  // An overlay for the layer control: while it is on the map, the basemap draws `part`.
  L.ReachmapBasemap.Toggle = L.Layer.extend({
    initialize: function (part) { this._part = part; },
    onAdd: function (map) { this._set(map, false); },
    onRemove: function (map) { this._set(map, true); },
    _set: function (map, hidden) {
      map._rmHidden = map._rmHidden || {};
      map._rmHidden[this._part] = hidden;
      map.eachLayer(function (layer) { if (layer instanceof L.ReachmapBasemap) layer.refresh(); });
    }
  });
  L.reachmapBasemap.toggle = function (part) { return new L.ReachmapBasemap.Toggle(part); };
  L.ReachmapBasemap.STYLES = STYLES;
})();
