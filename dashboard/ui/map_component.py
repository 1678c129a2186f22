"""The map in the page itself: a Streamlit component (v2) that runs the folium map's script in the app's
document, where streamlit-folium runs it in an iframe of its own.

Why: a browser's first visit to the Map page waited, after Streamlit's own scripts, for the iframe's
document, streamlit-folium's React bundle, its handshake with the page, and only then for the map's script
(benchmarks/map_page.py). In the page, Leaflet and the basemap load once per tab (``<script>`` elements
kept across reruns and pages), and a filter change swaps the events layer in place.

What it keeps of streamlit-folium's contract, which the Map page relies on:
- the map is rebuilt only when its script changes (ids aside); a new centre or zoom from Python only moves
  it, and a new events layer (``layer``) replaces the previous one without rebuilding the map;
- it returns ``last_clicked`` ({lat, lng} of a click on the map), ``last_object_clicked_tooltip`` (the text
  of the clicked layer's tooltip: the clustered layer's ``reachmap-event:<id>``) and ``last_active_drawing``
  (the GeoJSON feature of the shape last drawn or edited), each kept until the next one, as state values.

And ``map_view``: the view ({zoom, lat, lng, width, height, west, south, east, north}) that a clustered
layer in served mode (clustered by the server for one view, mapview.grid) asked for when the map moved
out of what it was sent.

The script is folium's rendered output, whose data strings `mapview.safe` made inert (for Jinja, HTML and
JS) before it was rendered: nothing here builds markup or code from data.
"""

from __future__ import annotations

import functools
import hashlib
import re

import streamlit as st
from branca.element import MacroElement

from dashboard.mapview.assets import map_links

APP_FLAG = "__reachmapApp"  # set on the app's window: the map's URL sync writes the address bar when it is

_JS = r"""
const scripts = window.__reachmapScripts || (window.__reachmapScripts = new Map());

function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src; s.async = false;
      s.onload = resolve;
      s.onerror = () => { scripts.delete(src); reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    }));
  }
  return scripts.get(src);
}

function loadCss(href) {
  for (const l of document.head.querySelectorAll("link[data-reachmap]")) if (l.dataset.reachmap === href) return;
  const l = document.createElement("link");
  l.rel = "stylesheet"; l.href = href; l.dataset.reachmap = href;
  document.head.appendChild(l);
}

const run = code => (0, eval)(code);  // global scope: folium's `var`s are the globals its snippets expect

function text(html) {
  // folium's tooltip markup (escaped by mapview.safe), read in an inert document: nothing in it loads or runs.
  const doc = new DOMParser().parseFromString(String(html), "text/html");
  return (doc.body.textContent || "").trim();
}

function tooltipOf(e) {
  try {
    const t = e.sourceTarget;
    if (t && typeof t.getTooltip === "function" && t._tooltip && t._tooltip._content) {
      const content = t.getTooltip().getContent();
      return typeof content === "function" ? content(t).innerText : text(String(content));
    }
  } catch (err) { /* a layer without a usable tooltip */ }
  return null;
}

// The clustered layer in served mode asks for the view the map now shows (mapview/bulk.py): the newest
// reporting map's component passes it on as `map_view`, which reruns the map's fragment.
if (!window.__reachmapViewListener) {
  window.__reachmapViewListener = true;
  window.addEventListener("reachmap:view-needed", e => window.__reachmapSetView && window.__reachmapSetView(e.detail));
}

function watch(state, map, setStateValue) {
  map.on("click", e => setStateValue("last_clicked", {lat: e.latlng.lat, lng: e.latlng.lng}));
  const onLayer = e => {
    const tip = tooltipOf(e);
    if (tip !== null) setStateValue("last_object_clicked_tooltip", tip);
  };
  state.onLayer = onLayer;
  for (const layer of Object.values(map._layers)) {
    if (layer && typeof layer.on === "function") layer.on("click", onLayer);
  }
  const drawn = e => {
    if (e.layer && typeof e.layer.toGeoJSON === "function") setStateValue("last_active_drawing", e.layer.toGeoJSON());
  };
  map.on("draw:created", drawn);
  map.on("draw:edited", e => e.layers && e.layers.eachLayer(layer => drawn({layer})));
}

function update(state, data) {
  const map = state.map;
  if (data.layer !== state.layerCode) {
    const old = window.feature_group || [];
    window.feature_group = [];
    state.layerCode = data.layer;
    const ready = [];
    if (data.layer) {
      run(data.layer);
      for (const layer of window.feature_group) {
        if (state.onLayer) layer.on("click", state.onLayer);
        layer.eachLayer && layer.eachLayer(l => {
          if (state.onLayer && l.on) l.on("click", state.onLayer);
          if (l.ready) ready.push(l.ready);
        });
      }
    }
    // The old layer goes once the new one has drawn (a clustered layer inflates its data first): no blank frame.
    Promise.all(ready).finally(() => old.forEach(layer => map.removeLayer(layer)));
  }
  let zoom = map.getZoom(), center = map.getCenter(), moved = false;
  if (data.zoom != null && data.zoom !== state.zoom) { zoom = data.zoom; state.zoom = data.zoom; moved = true; }
  if (data.center && JSON.stringify(data.center) !== JSON.stringify(state.center)) {
    center = data.center; state.center = data.center; moved = true;
  }
  if (moved) map.setView(center, zoom);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  window.__reachmapApp = true;
  if (data.report) window.__reachmapSetView = view => setStateValue("map_view", view);
  let state = parentElement.__reachmap;
  if (state && state.hash !== data.hash) {
    if (state.map) state.map.remove();
    state.box.remove();
    state = undefined;
  }
  if (!state) {
    state = parentElement.__reachmap = {hash: data.hash, map: null, layerCode: null, zoom: null, center: null};
    const box = document.createElement("div");
    box.className = "rm-map-box";
    box.style.height = data.height + "px";
    parentElement.appendChild(box);
    state.box = box;
    data.css.forEach(loadCss);
    state.ready = (async () => {
      await Promise.all(data.js.map(loadScript));  // fetched at once, run in order (async = false)
      box.innerHTML = data.html;  // the map's <div>, <style>s and legend: folium's markup of inert data
      window.feature_group = [];
      run(data.script);
      state.map = window[data.name];
      window.reachmapMap = state.map;  // the page's map, for tests and benchmarks
      if (data.report) watch(state, state.map, setStateValue);
    })();
  }
  state.ready.then(() => update(state, data)).catch(err => {
    state.box.textContent = "The map could not be drawn: " + err.message + ". Reload the page.";
  });
  // Called before the next render and when the element leaves the page: only the latter ends the map.
  return () => setTimeout(() => {
    if (parentElement.isConnected || !state.map) return;
    state.map.remove();
    state.map = null;
    delete parentElement.__reachmap;
  }, 0);
}
"""

_CSS = """
.rm-map-box { position: relative; width: 100%; }
.rm-map-box .folium-map { position: absolute; inset: 0; }
"""

_COMPONENT = st.components.v2.component("reachmap_map", css=_CSS, js=_JS, isolate_styles=False)


# What a map's <head> holds that belongs to a page of its own, not to a box in the app's page.
_DOCUMENT_ONLY = re.compile(
    r"<meta\b[^>]*>"  # charset and viewport: the app's page has its own
    r"|<script\b[^>]*>.*?</script>"  # folium's L_NO_TOUCH / L_DISABLE_3D defaults (innerHTML runs no script)
    r"|<style>\s*(?:html,\s*body|#map)\s*\{[^}]*\}\s*</style>",  # folium's full-window figure
    re.DOTALL)
# The page-wide base rules of mapview's map (its `_CSS`), for the map's box only.
_SCOPED = ((re.compile(r"^\*, ::before, ::after \{", re.MULTILINE),
            ".rm-map-box *, .rm-map-box ::before, .rm-map-box ::after {"),
           (re.compile(r"^body \{", re.MULTILINE), ".rm-map-box {"))


def in_page_header(header: str) -> str:
    """A folium map's header for a box in the app's page: no rule in it reaches outside the box."""
    header = _DOCUMENT_ONLY.sub("", header)
    for pattern, scoped in _SCOPED:
        header = pattern.sub(scoped, header)
    return header


RETURNED = ("last_clicked", "last_object_clicked_tooltip", "last_active_drawing", "map_view")


def _ignore() -> None:
    """A change of a returned value reruns the page (as streamlit-folium's do); nothing else to do."""


def map_in_page(m: MacroElement, *, key: str, height: int, center=None, zoom=None,
                layer: MacroElement | None = None, report: bool = True) -> dict:
    """Draw `m` in the page; what the user last clicked or drew (see the module's docstring).

    `report=False`: a map to look at, whose clicks and drawings rerun nothing (a snapshot's)."""
    from streamlit_folium import _get_feature_group_string, _get_header, _get_html, _get_map_string

    m.get_root().render()
    m.render()
    # streamlit-folium names the map `map_div` (its element id and its variable); in the page each map
    # needs its own name, so that a map of another page still on screen during a rerun is never found.
    name = "rm_map_" + re.sub(r"\W", "_", key)
    own = functools.partial(re.sub, r"\bmap_div\b", name)
    html = own(in_page_header(_get_header(m)) + '<div class="folium-map" id="map_div"></div>' + _get_html(m))
    script = own(_get_map_string(m))
    layer_code = own(_get_feature_group_string(layer, m)) if layer is not None else None
    js, css = map_links(m)
    # The same map, ids aside (folium names every element with a fresh random id): the same hash.
    hash_ = hashlib.sha256(re.sub(r"_[0-9a-f]{32}\b", "", script).encode()).hexdigest()[:16]
    result = _COMPONENT(
        data={"html": html, "script": script, "layer": layer_code, "js": js, "css": css, "height": height,
              "hash": hash_, "name": name, "report": report, "center": list(center) if center else None,
              "zoom": zoom},
        key=key, default=dict.fromkeys(RETURNED),
        **{f"on_{field}_change": _ignore for field in RETURNED})
    return {field: getattr(result, field, None) for field in RETURNED}
