"""The offline labelled basemap: vector tiles cut once by geodata/build_basemap.py, drawn on canvas.

The tiles (`static/basemap/tiles/{2,4,6,8}/x/y.json` and `index.json`) hold land, urban areas, lakes,
rivers, coastlines, first-level regions, country borders and labels that were decluttered when they were
cut (each label carries the zooms at which it shows). `static/basemap/reachmap-basemap.js` draws them
(a Leaflet GridLayer for the geometry, one canvas above the overlays for the labels).

- In the app the browser fetches the tiles it needs from `/app/static/basemap/tiles/` and caches them.
- An exported file cannot fetch: it embeds the tiles of its view (`view_tiles`, within a byte budget:
  the view's zoom, the whole world at zoom 2, the zoom below, and the zoom above over the view's
  centre); past them the layer draws the nearest embedded coarser tile, so zooming degrades instead of
  going blank. A picture (PNG) embeds only the tiles its one view draws. The tiles travel packed
  (`pack_tiles`: coordinates delta-coded as varints, then deflate and base85, under a third of their JSON)
  and the page unpacks them with the browser's own DecompressionStream, as the events' payload.

Base layers: `vector` (light) and `vector-dark`. "Country borders" and "Place names" are overlays in the
layer control that switch those parts of the basemap on and off.
"""

from __future__ import annotations

import functools
import json
import zlib
from pathlib import Path

import folium
import numpy as np
from branca.element import MacroElement, Template
from folium.elements import JSCSSMixin

from dashboard.mapview import safe
from dashboard.mapview.assets import OWN_DIR, OWN_PREFIX
from dashboard.mapview.packing import bytes85, text85, varints
from dashboard.rings import TILE_PX, mercator_y

BASEMAP_DIR = OWN_DIR                      # static/basemap
TILES_DIR = BASEMAP_DIR / "tiles"
SERVED_PREFIX = OWN_PREFIX                 # /app/static/basemap: Streamlit serves static/ at /app/static/
SERVED_TILES = SERVED_PREFIX + "/tiles/"
SCRIPT_URL = SERVED_PREFIX + "/reachmap-basemap.js"
STYLES = {"vector": "light", "vector-dark": "dark"}  # ViewState base -> basemap style
PARTS = {"countries": "borders", "capitals": "labels"}  # ViewState layer -> the basemap part it shows
EMBED_MAX_BYTES = 3_000_000  # of tile JSON (about a third of that reaches the page, packed)
VIEW_MARGIN = 0.25  # of a screen, around an exported page's view, embedded at its zoom
GEOMETRY = ("land", "urban", "lake", "a1", "a0", "coast", "river")  # layers of coordinate arrays


def data_zoom(z: int) -> int:
    """The zoom of the data tiles drawn at display zoom z (the script's dataZoom)."""
    return 2 if z <= 3 else 4 if z <= 5 else 6 if z <= 7 else 8


def world_px(lon: float, lat: float, z: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at zoom z (256-pixel tiles)."""
    s = TILE_PX * 2 ** z
    return (lon + 180) / 360 * s, mercator_y(lat) * s


@functools.lru_cache(maxsize=2)
def load_index(tiles_dir: Path = TILES_DIR) -> dict:
    return json.loads((tiles_dir / "index.json").read_text(encoding="utf-8"))


def _existing(index: dict) -> frozenset[tuple[int, int, int]]:
    return frozenset((int(tz), t[0], t[1]) for tz, ts in index["tiles"].items() for t in ts)


def tiles_for_view(index: dict, lon: float, lat: float, zoom: int, display_zoom: int,
                   width: int = 1280, height: int = 800, margin: float = 0.5) -> list[tuple[int, int, int]]:
    """Data tiles (tz, x, y) drawn at display_zoom over the view (zoom, width × height px, plus a margin)."""
    cx, cy = world_px(lon, lat, zoom)
    f = 2 ** (display_zoom - zoom)
    hw, hh = width * (0.5 + margin) * f, height * (0.5 + margin) * f
    cx, cy = cx * f, cy * f
    n = 2 ** display_zoom
    tz = data_zoom(max(display_zoom, 2))
    exists = _existing(index)
    out = set()
    for x in range(int((cx - hw) // 256), int((cx + hw) // 256) + 1):
        for y in range(max(0, int((cy - hh) // 256)), min(n - 1, int((cy + hh) // 256)) + 1):
            x %= n
            t = tz
            if t == 8 and (8, x >> (display_zoom - 8), y >> (display_zoom - 8)) not in exists:
                t = 6  # outside the theatre the finest tiles are zoom 6
            if display_zoom >= t:
                out.add((t, x >> (display_zoom - t), y >> (display_zoom - t)))
            else:
                k = 2 ** (t - display_zoom)
                out.update((t, x * k + i, y * k + j) for i in range(k) for j in range(k))
    return sorted(out & exists)


@functools.lru_cache(maxsize=512)
def _tile_text(tiles_dir: Path, key: str) -> str:
    return (tiles_dir / f"{key}.json").read_text(encoding="utf-8")


def view_tiles(lon: float, lat: float, zoom: int, width: int = 1600, height: int = 1000,
               max_bytes: int = EMBED_MAX_BYTES, tiles_dir: Path = TILES_DIR, *,
               still: bool = False) -> dict[str, str]:
    """The tiles an offline file embeds for its view: {"tz/x/y": tile JSON text}, at most max_bytes.

    The view's own zoom (and a quarter screen around it) first, then the whole world at zoom 2, zoom −1,
    and zoom +1 over the central half of the view (what a reader sees after one step in at the centre;
    elsewhere that step draws the coarser tile) while they fit. `still`: a picture that never moves draws
    only its view, with a thin margin.
    """
    index = load_index(tiles_dir)
    zoom = max(0, min(int(zoom), index["format"]["max_zoom"]))
    if still:  # Leaflet draws the tiles under the viewport; the margin absorbs rounding of its centre
        want = tiles_for_view(index, lon, lat, zoom, zoom, width, height, margin=0.05)
        return {key: _tile_text(tiles_dir, key) for key in (f"{t}/{x}/{y}" for t, x, y in want)}
    tiles: dict[str, str] = {}
    used = 0
    # (zoom, part of the view, margin): a quarter screen around the view keeps a short pan sharp (half a
    # screen cost 35 KB more at zoom 5); one step out is the same data tiles over twice the width.
    levels = ((zoom, 1.0, VIEW_MARGIN), (2, None, 0), (zoom - 1, 1.0, VIEW_MARGIN), (zoom + 1, 0.5, 0.0))
    for z, part, margin in levels:
        if not 0 <= z <= index["format"]["max_zoom"]:
            continue
        want = (tiles_for_view(index, 0, 0, 2, 2, 1024, 1024, 0) if part is None
                else tiles_for_view(index, lon, lat, zoom, z, round(width * part), round(height * part), margin))
        level = {key: _tile_text(tiles_dir, key) for key in (f"{t}/{x}/{y}" for t, x, y in want) if key not in tiles}
        size = sum(len(text.encode("utf-8")) for text in level.values())
        if used + size > max_bytes and z != zoom:
            continue  # the view's own tiles always go in: without them the file would open blank
        used += size
        tiles.update(level)
    return tiles


# ---------------------------------------------------------------------------------------------- packing

@functools.lru_cache(maxsize=4096)
def _packed_tile(tiles_dir: Path, key: str, text: str) -> tuple[str, bytes]:
    """One tile as (its JSON with each coordinate array replaced by its length, the arrays' varints).

    Each array is delta-coded pairwise (x and y against the previous x and y): neighbouring vertices are
    a few units apart, so the varints are mostly one byte and deflate finds the rest."""
    tile = json.loads(text)
    flat: list[int] = []
    firsts: list[int] = []  # where each array starts in `flat`
    for layer in GEOMETRY:
        for group in tile.get(layer, []):
            for a in group[1]:
                firsts.append(len(flat))
                flat.extend(a)
            group[1] = [len(a) for a in group[1]]
    v = np.array(flat, np.int64)
    lengths = np.diff(np.append(firsts, len(v))).astype(np.int64)
    offset = np.arange(len(v)) - np.repeat(np.asarray(firsts, np.int64), lengths)  # place in its array
    d = v.copy()
    d[2:] -= v[:-2]
    d[offset < 2] = v[offset < 2]  # each array's first x and y stay absolute
    coded = varints(d)
    return json.dumps(tile, separators=(",", ":"), ensure_ascii=False), coded


def pack_tiles(tiles: dict[str, str], tiles_dir: Path = TILES_DIR) -> str:
    """The index (without its source list) and the tiles as the page's `packed` string: base85 text
    (mapview.packing) of deflate of [uint32 LE length][skeleton JSON: {"index", "tiles": [[key, tile], ...]}][varints].

    Every tile's coordinate arrays are lengths in the skeleton; their values follow as varints in the
    skeleton's order (tiles, then GEOMETRY layers, groups, arrays). `unpack_tiles` and the page's
    script read it back to the same JSON."""
    parts = [_packed_tile(tiles_dir, key, tiles[key]) for key in sorted(tiles)]
    index = {k: v for k, v in load_index(tiles_dir).items() if k != "sources"}
    skeleton = ('{"index":' + json.dumps(index, ensure_ascii=False, separators=(",", ":")) + ',"tiles":[' +
                ",".join(f"[{json.dumps(key)},{tile}]" for key, (tile, _) in zip(sorted(tiles), parts)) + "]}")
    head = skeleton.encode("utf-8")
    raw = len(head).to_bytes(4, "little") + head + b"".join(coded for _, coded in parts)
    # Level 6: level 9 saves 1% and takes twice as long; this runs on every export.
    return text85(zlib.compress(raw, 6))


def unpack_tiles(packed: str) -> tuple[dict, dict[str, str]]:
    """(index, {"tz/x/y": tile JSON text}) from `pack_tiles` output, as the page's script reads it."""
    raw = zlib.decompress(bytes85(packed))
    n = int.from_bytes(raw[:4], "little")
    skeleton = json.loads(raw[4:4 + n].decode("utf-8"))
    at = 4 + n

    def value() -> int:
        nonlocal at
        v = shift = 0
        while True:
            b = raw[at]
            at += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return (v >> 1) ^ -(v & 1)

    tiles = {}
    for key, tile in skeleton["tiles"]:
        for layer in GEOMETRY:
            for group in tile.get(layer, []):
                arrays = []
                for length in group[1]:
                    a = [value() for _ in range(length)]
                    for i in range(2, length):
                        a[i] += a[i - 2]
                    arrays.append(a)
                group[1] = arrays
        tiles[key] = json.dumps(tile, separators=(",", ":"), ensure_ascii=False)
    if at != len(raw):
        raise ValueError(f"packed tiles: {len(raw) - at} bytes left over")
    return skeleton["index"], tiles


def embedded_json(tiles: dict[str, str], tiles_dir: Path = TILES_DIR) -> str:
    """`window.REACHMAP_BASEMAP` for an offline page: {"packed": the index and tiles as base85 text}.

    The base85 alphabet holds no character that could end the <script> element, a JS string or start a
    Jinja tag; the names inside it are data the script parses, never markup."""
    return '{"packed":"' + pack_tiles(tiles, tiles_dir) + '"}'


class _Script(JSCSSMixin, MacroElement):
    """Loads reachmap-basemap.js after Leaflet: a link in the app, the file's text in an exported page."""

    default_js = [("reachmap_basemap", SCRIPT_URL)]
    _template = Template("")


class TiledBasemap(folium.map.Layer):
    """One style of the offline basemap as a base layer of the layer control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.reachmapBasemap({{ this.options_js }});
        {% endmacro %}
    """)

    def __init__(self, name: str, style: str, *, show: bool, hide: tuple[str, ...] = (),
                 served: bool = True) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "ReachmapBasemap"
        options = {"style": style, "hide": list(hide), "maxZoom": 18}
        options |= {"url": SERVED_TILES} if served else {"fetch": False}
        self.options_js = safe.js_json(options)


class BasemapPart(folium.map.Layer):
    """An overlay of the layer control that shows one part of the basemap (borders, labels)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.reachmapBasemap.toggle({{ this.part_js }});
        {% endmacro %}
    """)

    def __init__(self, name: str, part: str, *, show: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "BasemapPart"
        self.part_js = safe.js_json(part)


MAX_ADDED_LABELS = 50_000  # added places sent to a map, the most populous first


def added_labels_js(places) -> str:
    """The places added to the gazetteer (gazetteer.added_places) as the argument of the script's
    `L.reachmapBasemap.addLabels`: names joined by newlines (a GeoNames name holds no tab or newline), lon and
    lat in 1e-5 degrees, class digits, and the zoom from which each shows (the tiles' population rule,
    geodata/build_basemap.py POP_FROM). Names come from a user's file: js_json makes them inert text."""
    places = places[:MAX_ADDED_LABELS]
    names = "\n".join(p.name.replace("\n", " ") for p in places)
    lon = ",".join(str(round(p.lon * 1e5)) for p in places)
    lat = ",".join(str(round(p.lat * 1e5)) for p in places)
    cls = "".join("1" if p.population >= 100_000 else "2" if p.population >= 10_000 else "3" for p in places)
    z = ",".join("7" if p.population >= 10_000 else "8" if p.population >= 3_000 else "9" if p.population >= 1_000
                 else "10" for p in places)
    return f'{{"names":{safe.js_json(names)},"lon":[{lon}],"lat":[{lat}],"cls":{safe.js_json(cls)},"z":[{z}]}}'


class AddedLabels(MacroElement):
    """Labels for the places added to the gazetteer that the bundled tiles do not hold (see the script)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.reachmapBasemap.addLabels({{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, payload: str) -> None:
        super().__init__()
        self._name = "AddedLabels"
        self.payload = payload


def add_basemap(m: folium.Map, base: str, names: dict[str, str], layer_names: dict[str, str],
                shown_layers: set[str], *, served: bool, view: tuple[float, float, int] | None,
                size: tuple[int, int] = (1600, 1000), added: str = "", still: bool = False) -> None:
    """The light and dark basemaps as base layers (`base` selects one), and the part overlays.

    served: the app fetches tiles from static/; otherwise the tiles of `view` (lon, lat, zoom) are
    embedded in the page (an exported file). added: `added_labels_js` of the places added to the gazetteer.
    still: the page is a picture of `size` pixels that never moves (PNG): only its view's tiles go in.
    """
    m.add_child(_Script())
    if added:
        m.add_child(AddedLabels(added))
    if not served:
        lon, lat, zoom = view or (29.0, 52.0, 5)
        tiles = view_tiles(lon, lat, zoom, *size, still=still)
        m.get_root().header.add_child(
            safe.Literal("<script>window.REACHMAP_BASEMAP = " + embedded_json(tiles) + ";</script>"))
    hide = tuple(part for key, part in PARTS.items() if key not in shown_layers)
    for key, style in STYLES.items():
        m.add_child(TiledBasemap(names[key], style, show=base == key, hide=hide, served=served))
    for key, part in PARTS.items():
        m.add_child(BasemapPart(layer_names[key], part, show=key in shown_layers))
