"""The basemap tiles an offline export needs for its view, within a byte budget (reference for mapview).

    subset = basemap_subset(lon=30.77, lat=50.93, zoom=9)          # {"index": ..., "tiles": {"z/x/y": ...}}
    html = standalone_html(lon=30.77, lat=50.93, zoom=9)           # one self-contained file (prototype)

In the page, `window.REACHMAP_BASEMAP = subset` before `L.reachmapBasemap({fetch: false})`: embedded tiles are
drawn, and where a tile was left out the layer draws its nearest embedded ancestor (coarser), so zooming
past the embedded levels degrades instead of going blank. Nothing is fetched.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TILES = ROOT / "static" / "basemap" / "tiles"


def data_zoom(z: int) -> int:
    return 2 if z <= 3 else 4 if z <= 5 else 6 if z <= 7 else 8


def _world_px(lon: float, lat: float, z: int) -> tuple[float, float]:
    lat = max(-85.05112878, min(85.05112878, lat))
    s = 256 * 2 ** z
    x = (lon + 180) / 360 * s
    y = (0.5 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)) * s
    return x, y


def load_index(tiles_dir: Path = TILES) -> dict:
    return json.loads((tiles_dir / "index.json").read_text(encoding="utf-8"))


def tiles_for_view(index: dict, lon: float, lat: float, zoom: int, display_zoom: int,
                   width: int = 1280, height: int = 800, margin: float = 0.5) -> list[tuple[int, int, int]]:
    """Data tiles (tz, x, y) drawn at display_zoom over the view (zoom, width x height px, plus a margin)."""
    cx, cy = _world_px(lon, lat, zoom)
    f = 2 ** (display_zoom - zoom)
    hw, hh = width * (0.5 + margin) * f, height * (0.5 + margin) * f
    cx, cy = cx * f, cy * f
    n = 2 ** display_zoom
    tz = data_zoom(max(display_zoom, 2))
    exists8 = {tuple(t) for t in index["tiles"]["8"]}
    out = set()
    for x in range(int((cx - hw) // 256), int((cx + hw) // 256) + 1):
        for y in range(max(0, int((cy - hh) // 256)), min(n - 1, int((cy + hh) // 256)) + 1):
            x = x % n
            t = tz
            if t == 8 and (x >> (display_zoom - 8), y >> (display_zoom - 8)) not in exists8:
                t = 6
            if display_zoom >= t:
                out.add((t, x >> (display_zoom - t), y >> (display_zoom - t)))
            else:
                k = 2 ** (t - display_zoom)
                out.update((t, x * k + i, y * k + j) for i in range(k) for j in range(k))
    exists = {(int(tz_), t[0], t[1]) for tz_, ts in index["tiles"].items() for t in ts}
    return sorted(out & exists)


def basemap_subset(lon: float, lat: float, zoom: int, width: int = 1280, height: int = 800,
                   max_bytes: int = 3_000_000, tiles_dir: Path = TILES) -> dict:
    """Tiles for the view's zoom, the whole world at zoom 2, then zoom-1, +1, -2, +2 while they fit."""
    index = load_index(tiles_dir)
    small_index = {k: v for k, v in index.items() if k != "sources"}
    order = [zoom, 2, zoom - 1, zoom + 1, zoom - 2, zoom + 2]
    tiles: dict[str, dict] = {}
    used = 0
    for z in order:
        if not 1 <= z <= index["format"]["max_zoom"]:
            continue
        want = (tiles_for_view(index, 0, 0, 2, 2, 1024, 1024, 0) if z == 2
                else tiles_for_view(index, lon, lat, zoom, z, width, height))
        level, level_bytes = {}, 0
        for tz, x, y in want:
            key = f"{tz}/{x}/{y}"
            if key in tiles:
                continue
            text = (tiles_dir / str(tz) / str(x) / f"{y}.json").read_text(encoding="utf-8")
            level[key] = text
            level_bytes += len(text.encode())
        if used + level_bytes > max_bytes:
            if z == zoom:
                raise ValueError(f"the view's own tiles need {level_bytes:,} bytes, over max_bytes={max_bytes:,}")
            continue
        used += level_bytes
        tiles.update({k: json.loads(v) for k, v in level.items()})
    return {"index": small_index, "tiles": tiles, "bytes": used}


def standalone_html(lon: float, lat: float, zoom: int, style: str = "light", max_bytes: int = 3_000_000) -> str:
    """A self-contained prototype page: Leaflet, the basemap script and the view's tiles inlined."""
    subset = basemap_subset(lon, lat, zoom, max_bytes=max_bytes)
    subset.pop("bytes")
    vendor = ROOT / "static" / "vendor" / "leaflet"
    css = (vendor / "leaflet.css").read_text(encoding="utf-8")
    js = (vendor / "leaflet.js").read_text(encoding="utf-8")
    base = (ROOT / "static" / "basemap" / "reachmap-basemap.js").read_text(encoding="utf-8")
    # JSON inside <script>: "</" must not close the element
    data = json.dumps(subset, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Reachmap export (basemap prototype)</title>
<style>{css}</style><style>html,body{{margin:0;height:100%}}#map{{position:absolute;inset:0}}</style>
<script>{js}</script><script>{base}</script>
<script>window.REACHMAP_BASEMAP = {data};</script>
</head><body><div id="map"></div><script>
var map = L.map("map", {{fadeAnimation: false}}).setView([{lat}, {lon}], {zoom});
var base = L.reachmapBasemap({{style: {json.dumps(style)}, fetch: false}}).addTo(map);
window.bench = {{labels: function () {{ return base.labelsInView(); }},
  loading: function () {{ return base.isLoading(); }}}};
</script></body></html>
"""
