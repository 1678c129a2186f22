"""Many events on the map: a compact columnar payload, clustered in the browser by supercluster, drawn on canvas.

Above `BULK_THRESHOLD` events, one Leaflet marker with a popup per event is too slow to build, to send and
to paint. Instead the map carries the selected events as columns — lon/lat in units of 1e-5° (so within
0.5e-5° of the stored value), the start day as an offset, a type index, and the event ids — deflated and
written into the page as base85 text (mapview/packing.py). The rows are sorted by place so that the
coordinates, and the ids split into prefix and number, go as small deltas (`_encode_sorted`: about 7
bytes per event in the page for ACLED-like data, 13.6 unsorted). The browser inflates them with the
built-in DecompressionStream, clusters them with supercluster (vendored, static/vendor/supercluster) and
draws clusters and points on one canvas, again on every moveend/zoomend. A cluster shows its count and
zooms in on click (or lists its events when they share one spot); a point shows id, type and date — all
in the payload, so an exported HTML file needs no server.

The full event (title, source, quote) is loaded on demand: a click on a point

- fires a ``click`` on the Leaflet layer whose tooltip text is ``reachmap-event:<event id>``. Inside the
  app, streamlit-folium attaches its click handler to every layer and returns that text as
  ``last_object_clicked_tooltip`` (ask for it in ``returned_objects``); `clicked_event_id` parses it.
- dispatches a ``reachmap:event-click`` DOM event on ``window`` with ``{ids, rows, latlng}`` and keeps
  the same object in ``window.reachmapLastClick`` (for other hosts and for tests).

When the first frame is drawn the layer sets ``window.reachmapBulk`` = ``{count, shown, drawn, paintedAt}``
(``shown``: the sum of the counts of everything supercluster returns for the whole world, which must equal
``count``; ``paintedAt``: ``performance.now()`` after the frame was committed; ``served``: null, or the zoom
and box of the view the server clustered, see below).

Served mode (`clusters=`, above `settings.map_served_above` events in the app): the server clusters the
selected events for one view (mapview/grid.py) and the payload holds only that view's clusters and single
events; ``shown`` is then the number of events in that view. When the map leaves that view or changes zoom
the layer dispatches ``reachmap:view-needed`` on ``window`` with the view it now shows, which the app's map
component sends back as ``map_view``; the next layer replaces this one. A click on a cluster zooms to its
events. The benchmark and the
browser test wait for it; nothing sleeps.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import folium
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from branca.element import Element, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template
from jinja2 import Template as JinjaTemplate

from dashboard.mapview import grid, safe
from dashboard.mapview.assets import local_url
from dashboard.mapview.grid import Clusters
from dashboard.mapview.packing import ALPHABET, bytes85, text85
from dashboard.table import EventTable, type_counts

BULK_THRESHOLD = 5_000   # at or below: one marker per point with its popup (mapview._add_events)
QUANTUM_DEG = 1e-5       # coordinate unit of the payload
COORD_SPLIT = 10         # payload v2 codes each coordinate as its tens of units (delta-coded) and its units
SUPERCLUSTER_URL = "https://cdn.jsdelivr.net/npm/supercluster@9.1.0/dist/supercluster.min.js"
CLICK_PREFIX = "reachmap-event:"
FALLBACK_COLOUR = "#777777"


def clustered_note(count: int) -> str:
    """The legend's sentence for clustered mode (plain text; escape it for HTML)."""
    return f"Showing {count:,} events clustered; zoom in for individual events"


def clicked_event_id(tooltip: str | None) -> str | None:
    """The event id from st_folium's ``last_object_clicked_tooltip`` after a click on a clustered point."""
    if not tooltip or not tooltip.startswith(CLICK_PREFIX):
        return None
    return tooltip[len(CLICK_PREFIX):] or None


# ------------------------------------------------------------------------------------------- payload

@dataclass(frozen=True)
class Payload:
    """The columns of the selected events, ready for the page: JSON metadata and base64 deflate data."""

    meta: dict
    data: str  # zlib(deflate) of the columns, as base85 text (meta "text": "base85", v2) or base64 (v1)

    @property
    def count(self) -> int:
        return self.meta["count"]


def encode(table: EventTable, rows: np.ndarray, type_colours: Mapping[str, str], *,
           clusters: Clusters | None = None, level: int = 1) -> Payload:
    """Pack rows of the table: [lon int32][lat int32][clusters, if any][day][type][area uint8, only if
    any][ids utf-8, '\\n'-separated], little-endian. `area` is 1 for an event located only by an area (a
    country or an admin region, pinned at a point of it), drawn as a square instead of a dot.

    `clusters`: the server's clusters of one view of these rows (mapview.grid): only its single events are
    packed as rows (meta `rows`), after them its clusters as [lon int32][lat int32][count uint32][west,
    south, east, north int32 each], and meta `served` says for which view. The legend (types and their
    counts, `count`) still describes every one of `rows`.
    `level`: zlib's, for the browser-clustered payload: 1 for the app, which packs one at each rerun; a page
    written once to be sent (an HTML export) takes 6, 4% smaller for 0.05 s more per 100,000 events."""
    rows = np.asarray(rows, dtype=np.int64)
    if clusters is None:
        return _encode_sorted(table, rows, type_colours, level)
    points = np.asarray(clusters.points, dtype=np.int64)
    n = len(points)
    lon, lat = _quantised(table.lon[points]), _quantised(table.lat[points])
    start = table.t_start[points]
    base_day = int(start.min()) if n else 0
    day_span = int(start.max()) - base_day if n else 0
    day = (start - base_day).astype("<u2" if day_span < 2**16 else "<u4")
    types, counts, remap = _type_columns(table, rows)
    kind = remap[table.type_code[points]].astype("<u1" if len(types) <= 256 else "<u2")
    ids = table.id_at(points).tolist()
    joined = "\n".join(ids)
    ids_json = joined.count("\n") != max(n - 1, 0)
    if ids_json:  # an id holds a newline: ship them as JSON instead
        joined = json.dumps(ids, ensure_ascii=False)
    area = table.place_coarse[table.place_code[points]].astype("<u1") if n else np.zeros(0, "<u1")
    has_area = bool(area.any())
    grouped = b"" if clusters is None else _cluster_bytes(clusters)
    raw = b"".join((lon.tobytes(), lat.tobytes(), grouped, day.tobytes(), kind.tobytes(),
                    area.tobytes() if has_area else b"", joined.encode("utf-8")))
    meta = {
        "v": 1, "count": len(rows), "rows": n, "quantum": QUANTUM_DEG, "baseDay": base_day,
        "dayBytes": day.dtype.itemsize, "typeBytes": kind.dtype.itemsize,
        "idsJson": ids_json, "areaBytes": 1 if has_area else 0,
        "types": types, "typeCounts": [counts[t] for t in types],
        "colours": [type_colours.get(t, FALLBACK_COLOUR) for t in types],
        "note": clustered_note(len(rows)),
    }
    if clusters is not None:
        v = clusters.view
        meta["served"] = {"zoom": v.zoom, "box": [v.west, v.south, v.east, v.north],
                          "clusters": len(clusters.count), "inView": clusters.in_view, "shown": clusters.shown,
                          "maxZoom": grid.MAX_ZOOM}
    # Level 1: about 10% bigger than level 6 and five times faster; the payload is mostly repetition.
    return Payload(meta, base64.b64encode(zlib.compress(raw, 1)).decode("ascii"))


def _type_columns(table: EventTable, rows: np.ndarray) -> tuple[list[str], Mapping[str, int], np.ndarray]:
    """The types present, most frequent first (the legend lists the big ones first), their counts, and
    each table type code's index among them."""
    counts = type_counts(table, rows)
    types = [t for t, _ in sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))]
    remap = np.zeros(len(table.types), dtype=np.int64)
    remap[[table.types.index(t) for t in types]] = np.arange(len(types))
    return types, counts, remap


def _planes(values: np.ndarray, nbytes: int) -> bytes:
    """Unsigned values as `nbytes` byte planes, low byte first: all first bytes, then all second bytes…
    (deflate finds the runs of equal high bytes that interleaved integers hide). Read from the array's own
    bytes, however wide its type: no 8-byte copy of a column of 1M bytes."""
    if not len(values):
        return b""
    v = np.ascontiguousarray(values)
    if v.dtype.kind not in "ub" or v.dtype.byteorder == ">":
        v = v.astype("<u8")
    return v.view(np.uint8).reshape(len(v), v.dtype.itemsize)[:, :nbytes].T.tobytes()


def _unplanes(raw: bytes, at: int, n: int, nbytes: int) -> np.ndarray:
    out = np.zeros(n, np.uint64)
    for j in range(nbytes):
        out |= np.frombuffer(raw, np.uint8, n, at + j * n).astype(np.uint64) << np.uint64(8 * j)
    return out


def _zigzag_deltas(values: np.ndarray) -> np.ndarray:
    """Each value minus the one before it (the first minus 0), zigzag-coded as unsigned integers of the
    values' width (int32 in, uint32 out): a value and its delta must fit that width, as quantised
    coordinates do (|delta| < 2**30)."""
    v = np.asarray(values)
    bits = 8 * v.dtype.itemsize
    d = np.diff(v, prepend=v.dtype.type(0))
    z = d << v.dtype.type(1)
    z ^= d >> v.dtype.type(bits - 1)
    return z.view(f"<u{v.dtype.itemsize}")


def _undelta(zigzag: np.ndarray) -> np.ndarray:
    z = zigzag.astype(np.uint64)
    return np.cumsum((z >> np.uint64(1)).astype(np.int64) ^ -(z & np.uint64(1)).astype(np.int64))


def _width(values: np.ndarray) -> int:
    """Bytes a column of these unsigned values needs: 1, 2, 4 or 8."""
    top = int(values.max()) if len(values) else 0
    return next(b for b in (1, 2, 4, 8) if top < 1 << (8 * b))


MAX_ID_DIGITS = 15  # an id's trailing number is coded when it has at most this many digits (exact in a JS double)


NUMBERED_CHUNK = 131_072  # ids numbered at a time: Arrow's copies of 1M ids at once peaked at 84 MB


def _numbered_ids(ids: np.ndarray | pa.ChunkedArray) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Ids as (prefixes, each id's prefix index, its trailing number + 1 or 0 when it has none), so that
    prefix + number gives the id back (the number has no leading zero: "x007" is "x00" and 7, "x00" is
    "x0" and 0); None when the ids have too many different prefixes for this to be shorter than their text.

    Arrow kernels, a batch per length of the trailing digits (a regex took 0.1 s per 100k ids), on
    NUMBERED_CHUNK ids at a time, the prefixes numbered in order of first appearance across chunks."""
    arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else pa.array(ids, pa.string())
    n = len(arr)
    which = np.zeros(n, np.int64)
    number = np.zeros(n, np.int64)
    known: dict[str, int] = {}
    most = max(16, n // 8)
    for at in range(0, n, NUMBERED_CHUNK):
        prefixes, local, number[at:at + NUMBERED_CHUNK] = _numbered_chunk(arr.slice(at, NUMBERED_CHUNK))
        index = np.array([known.setdefault(p, len(known)) for p in prefixes], np.int64)
        if len(known) > most:
            return None
        which[at:at + len(local)] = index[local] if len(local) else local
    pa.default_memory_pool().release_unused()  # Arrow's copies, back to the system before the payload grows
    return list(known), which, number


def _numbered_chunk(arr: pa.Array) -> tuple[list[str], np.ndarray, np.ndarray]:
    """_numbered_ids of some ids: their prefixes (each once), each id's index among them, its number."""
    data = arr.cast(pa.binary())
    digits_len = (pc.binary_length(data).to_numpy(zero_copy_only=False).astype(np.int64) -
                  pc.binary_length(pc.utf8_rtrim(arr, characters="0123456789").cast(pa.binary()))
                  .to_numpy(zero_copy_only=False).astype(np.int64))
    number = np.zeros(len(arr), np.int64)
    parts, rows = [], []
    for run in np.unique(digits_len):
        sel = np.flatnonzero(digits_len == run)
        batch = data.take(pa.array(sel))
        if run == 0:
            parts.append(batch)
            rows.append(sel)
            continue
        significant = pc.utf8_ltrim(pc.binary_slice(batch, -int(run)).cast(pa.string()), characters="0")
        width = np.maximum(pc.utf8_length(significant).to_numpy(zero_copy_only=False).astype(np.int64), 1)
        fits = width <= MAX_ID_DIGITS  # "000" keeps its last "0" as the number; longer numbers stay text
        text = pc.if_else(pa.array(fits & (width > 0)), pc.if_else(pc.equal(significant, ""), "0", significant), "0")
        number[sel] = np.where(fits, pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False) + 1, 0)
        cut = np.where(fits, width, 0)
        for c in np.unique(cut):
            at = np.flatnonzero(cut == c)
            part = batch.take(pa.array(at))
            parts.append(pc.binary_slice(part, 0, -int(c)) if c else part)
            rows.append(sel[at])
    which = np.zeros(len(arr), np.int64)
    prefixes: list[str] = []
    if parts:
        coded = pc.dictionary_encode(pa.concat_arrays(parts).cast(pa.string()))
        which[np.concatenate(rows)] = coded.indices.to_numpy(zero_copy_only=False)
        prefixes = coded.dictionary.to_pylist()
    return prefixes, which, number


def _encode_sorted(table: EventTable, rows: np.ndarray, type_colours: Mapping[str, str], level: int = 1) -> Payload:
    """The browser-clustered payload (v2): the rows sorted by place so that every column codes small.

    Rows go west to east (then south to north, then by the id's number): lon and lat are zigzag deltas
    from the previous row (of their tens of units; the units apart); ids split into a few prefixes and a
    number, delta-coded too; every column is stored as byte planes (see _planes) and the whole is deflated.
    About 5.7 bytes an event before base85 for ACLED-like data, against 10 for the same columns unsorted.
    The browser needs no order: its clusters and lists are built from the coordinates.

    Columns are kept as narrow as their values (int32 coordinates and deltas, a byte per type) and each
    is dropped once packed: at 1M events the arrays peaked at 211 MB as int64 columns, and 1.3 GB at 3M."""
    n = len(rows)
    ids = table.selected_ids(rows)  # Arrow text unless the table holds them as objects (the app)
    numbered = _numbered_ids(ids) if n else None
    del ids
    lon, lat = _quantised(table.lon[rows]), _quantised(table.lat[rows])
    order = np.lexsort((numbered[2] if numbered else table.t_start[rows], lat, lon))
    lon, lat, rows = lon[order], lat[order], rows[order]
    start = table.t_start[rows]
    base_day = int(start.min()) if n else 0
    day = (start - base_day).view(np.uint32) if n else np.zeros(0, np.uint32)  # >= 0: the same bits
    del start
    types, counts, remap = _type_columns(table, rows)
    kind = remap.astype(np.uint32)[table.type_code[rows]]
    area = table.place_coarse[table.place_code[rows]].view(np.uint8) if n else np.zeros(0, np.uint8)
    has_area = bool(area.any())
    parts: list[bytes] = []
    widths: dict[str, int] = {}
    # Coordinates as tens of units and the units apart: sources that give 4 decimals (ACLED) leave the
    # units all zero, which deflate then takes for nearly nothing instead of spreading them over the deltas.
    units = []
    for name, coordinate in (("lonBytes", lon), ("latBytes", lat)):
        tens, unit = np.divmod(coordinate, np.int32(COORD_SPLIT))
        delta = _zigzag_deltas(tens)
        del tens
        widths[name] = _width(delta)
        parts.append(_planes(delta, widths[name]))
        units.append(unit)
    del lon, lat, delta
    parts += [_planes(u.astype(np.uint8), 1) for u in units]
    del units
    widths |= {"dayBytes": _width(day), "typeBytes": _width(kind)}
    parts += [_planes(day, widths["dayBytes"]), _planes(kind, widths["typeBytes"]), _planes(area, 1) if has_area else b""]
    del day, kind, area
    if numbered:
        prefixes, which, number = numbered
        which, number = which[order], _zigzag_deltas(number[order])
        del numbered
        widths |= {"prefixBytes": _width(which), "numberBytes": _width(number)}
        parts += [_planes(which, widths["prefixBytes"]), _planes(number, widths["numberBytes"]),
                  json.dumps(prefixes, ensure_ascii=False).encode("utf-8")]
        del which, number
        id_coding = "numbered"
    else:
        ids = table.id_at(rows)  # in the sorted order
        joined = "\n".join(ids.tolist())
        id_coding = "lines" if joined.count("\n") == max(n - 1, 0) else "json"  # an id holds a newline: JSON
        parts.append((joined if id_coding == "lines" else json.dumps(ids.tolist(), ensure_ascii=False)).encode())
    meta = {
        "v": 2, "count": n, "rows": n, "quantum": QUANTUM_DEG, "split": COORD_SPLIT, "baseDay": base_day, **widths,
        "areaBytes": 1 if has_area else 0, "ids": id_coding,
        "types": types, "typeCounts": [counts[t] for t in types],
        "colours": [type_colours.get(t, FALLBACK_COLOUR) for t in types],
        "note": clustered_note(n),
    }
    # Level 1 by default: the planes leave little for a slower level to find (level 6: 4% smaller, three to
    # five times slower). Base85 (mapview.packing): a quarter longer than the bytes where base64 is a third.
    return Payload(meta | {"text": "base85"}, text85(zlib.compress(b"".join(parts), level)))


def _decode_sorted(meta: dict, raw: bytes) -> dict[str, np.ndarray | list]:
    n, at, out = meta["rows"], 0, {}
    for name, nbytes in (("lon", meta["lonBytes"]), ("lat", meta["latBytes"]), ("lonUnits", 1), ("latUnits", 1),
                         ("day", meta["dayBytes"]), ("type", meta["typeBytes"])):
        out[name] = _unplanes(raw, at, n, nbytes)
        at += nbytes * n
    out["area"] = (np.frombuffer(raw, np.uint8, n, at).astype(bool) if meta["areaBytes"] else np.zeros(n, bool))
    at += meta["areaBytes"] * n
    if meta["ids"] == "numbered":
        which = _unplanes(raw, at, n, meta["prefixBytes"]).astype(np.int64)
        at += meta["prefixBytes"] * n
        number = _undelta(_unplanes(raw, at, n, meta["numberBytes"]))
        at += meta["numberBytes"] * n
        prefixes = json.loads(raw[at:].decode("utf-8"))
        ids = [prefixes[w] + (str(k - 1) if k else "") for w, k in zip(which.tolist(), number.tolist())]
    else:
        text = raw[at:].decode("utf-8")
        ids = json.loads(text) if meta["ids"] == "json" else (text.split("\n") if n else [])
    q = meta["quantum"]
    lon = _undelta(out["lon"]) * meta["split"] + out["lonUnits"].astype(np.int64)
    lat = _undelta(out["lat"]) * meta["split"] + out["latUnits"].astype(np.int64)
    return {"lon": lon * q, "lat": lat * q,
            "day": out["day"].astype(np.int64) + meta["baseDay"], "type": [meta["types"][k] for k in out["type"]],
            "area": out["area"], "id": ids}


def _quantised(degrees: np.ndarray) -> np.ndarray:
    """Degrees as the payload's int32 units of QUANTUM_DEG."""
    return np.rint(np.asarray(degrees) / QUANTUM_DEG).astype("<i4")


def _cluster_bytes(clusters: Clusters) -> bytes:
    return b"".join((_quantised(clusters.lon).tobytes(), _quantised(clusters.lat).tobytes(),
                     clusters.count.astype("<u4").tobytes(), _quantised(clusters.bounds).tobytes()))


def decode(payload: Payload) -> dict[str, np.ndarray | list]:
    """The columns back from a payload, as the browser reads them (for tests): lon, lat, day, type, area,
    id of its rows, and `clusters` (lon, lat, count, bounds) when the server clustered them."""
    meta = payload.meta
    n = meta.get("rows", meta["count"])
    raw = zlib.decompress(bytes85(payload.data) if meta.get("text") == "base85" else base64.b64decode(payload.data))
    if meta["v"] == 2:
        return _decode_sorted(meta, raw)
    q = meta["quantum"]
    lon = np.frombuffer(raw, "<i4", n, 0) * q
    lat = np.frombuffer(raw, "<i4", n, 4 * n) * q
    at = 8 * n
    out: dict = {}
    if "served" in meta:
        m = meta["served"]["clusters"]
        out["clusters"] = {"lon": np.frombuffer(raw, "<i4", m, at) * q, "lat": np.frombuffer(raw, "<i4", m, at + 4 * m) * q,
                           "count": np.frombuffer(raw, "<u4", m, at + 8 * m).astype(np.int64),
                           "bounds": np.frombuffer(raw, "<i4", 4 * m, at + 12 * m).reshape(m, 4) * q}
        at += 28 * m
    day_dtype = "<u2" if meta["dayBytes"] == 2 else "<u4"
    day = np.frombuffer(raw, day_dtype, n, at).astype(np.int64) + meta["baseDay"]
    at += meta["dayBytes"] * n
    kind = np.frombuffer(raw, "<u1" if meta["typeBytes"] == 1 else "<u2", n, at)
    at += meta["typeBytes"] * n
    area = np.frombuffer(raw, "<u1", n, at).astype(bool) if meta.get("areaBytes") else np.zeros(n, bool)
    text = raw[at + meta.get("areaBytes", 0) * n:].decode("utf-8")
    ids = json.loads(text) if meta["idsJson"] else (text.split("\n") if n else [])
    return {"lon": lon, "lat": lat, "day": day, "type": [meta["types"][k] for k in kind], "area": area, "id": ids,
            **out}


def payload_bytes(table: EventTable, rows: np.ndarray, type_colours: Mapping[str, str]) -> int:
    """Bytes the bulk layer adds to the page for these rows (its script, payload included)."""
    m = folium.Map(tiles=None)
    add_bulk_events(m, table, rows, type_colours)
    element = next(c for c in _walk_children(m) if isinstance(c, BulkEvents))
    return len(element._template.module.script(element).encode("utf-8"))


def _walk_children(el):
    for child in el._children.values():
        yield child
        yield from _walk_children(child)


# ---------------------------------------------------------------------------------------------- map

def add_bulk_events(m: folium.Map, table: EventTable, indices: np.ndarray, type_colours: Mapping[str, str],
                    *, name: str = "Events", show: bool = True, legend_position: str | None = "bottomright",
                    parent: folium.FeatureGroup | None = None, fit_bounds: bool = False,
                    clusters: Clusters | None = None, level: int = 1) -> None:
    """Add the selected rows to the map as one clustered canvas layer, in its own layer-control entry.

    `parent`: an existing (empty) FeatureGroup to draw into instead of a new one named `name`. Without
    it, a new group is put before any LayerControl of the map, so the control lists it.
    `legend_position`: a Leaflet corner for the legend (types and the clustered-mode sentence), or None
    when the caller's own legend shows `clustered_note`.
    `fit_bounds`: zoom the map to the selected events (when the view does not come from the URL).
    `clusters`: the server's clusters of these rows for one view (mapview.grid.cluster_view): the layer draws
    them and asks for another view when the map leaves it (served mode), instead of clustering every row.
    `level`: the payload's zlib level (see `encode`).
    """
    group = parent
    if group is None:
        group = folium.FeatureGroup(name, show=show)
        group.add_to(m)
        _move_layer_controls_last(m)
    group.add_child(BulkEvents(encode(table, indices, type_colours, clusters=clusters, level=level), legend_position))
    if fit_bounds and len(indices):
        lon, lat = table.lon[indices], table.lat[indices]
        m.fit_bounds([(float(lat.min()), float(lon.min())), (float(lat.max()), float(lon.max()))],
                     padding=(30, 30), max_zoom=9)


def _move_layer_controls_last(m: folium.Map) -> None:
    # A LayerControl's script names its layers; it must run after theirs or Leaflet gets `undefined`.
    items = list(m._children.items())
    m._children.clear()
    m._children.update([kv for kv in items if not isinstance(kv[1], folium.LayerControl)])
    m._children.update([kv for kv in items if isinstance(kv[1], folium.LayerControl)])


class BulkEvents(JSCSSMixin, MacroElement):
    """The clustered canvas layer (see the module docstring); its script is self-contained, so it also
    works when streamlit-folium evaluates it as part of `feature_group_to_add`."""

    default_js = [("supercluster", SUPERCLUSTER_URL)]

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.library }}
        var {{ this.get_name() }} = window.ReachmapBulk.layer({{ this.meta }}, "{{ this.data }}",
            {{ this.legend }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, payload: Payload, legend_position: str | None = "bottomright") -> None:
        super().__init__()
        self._name = "BulkEvents"
        self.meta = safe.js_json(payload.meta)
        self.data = payload.data
        self.legend = safe.js_json(legend_position)
        self.library = _LIBRARY
        # Served from static/vendor like every other asset (assets.localize would do the same).
        self.default_js = [(n, local_url(u)) for n, u in self.default_js]

    def render(self, **kwargs) -> None:
        """As MacroElement.render, but the script goes into the page as plain text: branca would make the
        rendered script a Jinja template of its own and tokenise megabytes of payload (0.6 s at 800k)."""
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Text(script(self, kwargs)), name=self.get_name())


class _Text(Element):
    """Text put into the page as it is (it is not a template)."""

    _template = JinjaTemplate("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


_LIBRARY = r"""
if (!window.ReachmapBulk) { window.ReachmapBulk = (function () {
  "use strict";
  var DAY_MS = 86400000;
  function bytesOf(b64) {
    if (Uint8Array.fromBase64) { return Uint8Array.fromBase64(b64); }
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }
  var ALPHABET = "%ALPHABET%";  // mapview/packing.py: base85 without " ' \\ < > & { } `
  var PLACE = [16777216, 65536, 256, 1];  // a group's four bytes, most significant first
  function bytes85(text) {  // five digits for four bytes; a last group of r + 1 digits for r bytes
    var digit = new Uint8Array(128), n = text.length, rest = n % 5, groups = (n - rest) / 5 + (rest ? 1 : 0);
    for (var i = 0; i < 85; i++) { digit[ALPHABET.charCodeAt(i)] = i; }
    var out = new Uint8Array((n - rest) / 5 * 4 + (rest ? rest - 1 : 0)), o = 0;
    for (var g = 0, at = 0; g < groups; g++, at += 5) {
      var v = 0;
      for (var k = 0; k < 5; k++) { v = v * 85 + (at + k < n ? digit[text.charCodeAt(at + k)] : 84); }
      for (var b = 0, m = at + 5 <= n ? 4 : rest - 1; b < m; b++) { out[o++] = Math.floor(v / PLACE[b]) % 256; }
    }
    return out;
  }
  function inflate(text, base85) {
    var bytes = base85 ? bytes85(text) : bytesOf(text);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  // n unsigned values stored as nb byte planes, low byte first (bulk.py _planes)
  function planes(u8, at, n, nb) {
    if (nb === 1) { return u8.subarray(at, at + n); }
    var out = new Float64Array(n), i, p1 = at + n, p2 = at + 2 * n, p3 = at + 3 * n;
    if (nb === 2) { for (i = 0; i < n; i++) { out[i] = u8[at + i] + u8[p1 + i] * 256; } return out; }
    for (i = 0; i < n; i++) { out[i] = u8[at + i] + u8[p1 + i] * 256 + u8[p2 + i] * 65536 + u8[p3 + i] * 16777216; }
    for (var j = 4, scale = 4294967296; j < nb; j++, scale *= 256) {
      for (i = 0, p1 = at + j * n; i < n; i++) { out[i] += u8[p1 + i] * scale; }
    }
    return out;
  }
  function undelta(zigzag, out) {  // running sums of zigzag-coded deltas
    for (var i = 0, v = 0; i < zigzag.length; i++) {
      var z = zigzag[i];
      v += z % 2 ? -(z + 1) / 2 : z / 2;
      out[i] = v;
    }
    return out;
  }
  function sortedColumns(meta, buf) {  // v2: rows by place, delta-coded byte planes (bulk.py _encode_sorted)
    var u8 = new Uint8Array(buf), n = meta.rows, at = 0, cols = {};
    function take(bytes) { var col = planes(u8, at, n, bytes); at += bytes * n; return col; }
    var lonTens = undelta(take(meta.lonBytes), new Float64Array(n));
    var latTens = undelta(take(meta.latBytes), new Float64Array(n));
    cols.lon = new Int32Array(n); cols.lat = new Int32Array(n);
    for (var r = 0; r < n; r++) {
      cols.lon[r] = lonTens[r] * meta.split + u8[at + r]; cols.lat[r] = latTens[r] * meta.split + u8[at + n + r];
    }
    at += 2 * n;
    cols.day = take(meta.dayBytes);
    cols.type = take(meta.typeBytes);
    cols.area = meta.areaBytes ? u8.subarray(at, at + n) : null;
    at += meta.areaBytes * n;
    if (meta.ids === "numbered") {
      // Made on first use (a click, a list): a picture never needs the 100,000s of strings.
      var which = take(meta.prefixBytes), number = undelta(take(meta.numberBytes), new Float64Array(n));
      var prefixes = JSON.parse(new TextDecoder().decode(u8.subarray(at))), ids = null;
      Object.defineProperty(cols, "ids", {enumerable: true, get: function () {
        if (!ids) {
          ids = new Array(n);
          for (var i = 0; i < n; i++) { ids[i] = prefixes[which[i]] + (number[i] ? String(number[i] - 1) : ""); }
        }
        return ids;
      }});
    } else {
      var text = new TextDecoder().decode(u8.subarray(at));
      cols.ids = n === 0 ? [] : (meta.ids === "json" ? JSON.parse(text) : text.split("\n"));
    }
    return cols;
  }
  function columns(meta, buf) {
    if (meta.v === 2) { return sortedColumns(meta, buf); }
    var n = meta.rows == null ? meta.count : meta.rows, at = 8 * n, text;
    var cols = {lon: new Int32Array(buf, 0, n), lat: new Int32Array(buf, 4 * n, n)};
    if (meta.served) {  // the server's clusters of one view (mapview/grid.py): 4-byte columns, aligned
      var m = meta.served.clusters;
      cols.clusters = {lon: new Int32Array(buf, at, m), lat: new Int32Array(buf, at + 4 * m, m),
                       count: new Uint32Array(buf, at + 8 * m, m), bounds: new Int32Array(buf, at + 12 * m, 4 * m)};
      at += 28 * m;
    }
    cols.day = meta.dayBytes === 2 ? new Uint16Array(buf, at, n) : new Uint32Array(buf, at, n);
    at += meta.dayBytes * n;
    cols.type = meta.typeBytes === 1 ? new Uint8Array(buf, at, n) : new Uint16Array(buf, at, n);
    at += meta.typeBytes * n;
    cols.area = meta.areaBytes ? new Uint8Array(buf, at, n) : null;
    at += (meta.areaBytes || 0) * n;
    text = new TextDecoder().decode(new Uint8Array(buf, at));
    cols.ids = n === 0 ? [] : (meta.idsJson ? JSON.parse(text) : text.split("\n"));
    return cols;
  }
  // supercluster 9.1 reads each input feature once, keeping only its coordinates and its properties
  // (here: the row number), so one feature object is reused for every row instead of making 100,000s.
  // tests/browser/test_scale_in_browser.py checks every cluster's leaves against the data.
  // supercluster grows each cluster from the first point it meets that is not yet taken: rows sorted by
  // place (payload v2) would seed every cluster at its western edge and leave overlapping leftovers east
  // of it. They are fed in a spread order instead (row k·stride mod n, stride coprime with n, near n/φ).
  function spreadStride(n) {
    function gcd(a, b) { while (b) { var t = a % b; a = b; b = t; } return a; }
    var s = Math.max(1, Math.round(n * 0.6180339887));
    while (n > 1 && gcd(s, n) !== 1) { s++; }
    return s;
  }
  // `keep`: only these rows (an Int32Array of row numbers, in row order), as the play control asks for.
  function features(cols, q, spread, keep) {
    var n = keep ? keep.length : cols.lon.length, coords = [0, 0], stride = spread ? spreadStride(n) : 1;
    var f = {type: "Feature", properties: 0, geometry: {type: "Point", coordinates: coords}};
    var rows = {length: n};
    rows[Symbol.iterator] = function () {
      var i = 0, k = 0, step = {value: f, done: false};
      return {next: function () {
        if (i >= n) { return {value: undefined, done: true}; }
        var row = keep ? keep[k] : k;
        coords[0] = cols.lon[row] * q; coords[1] = cols.lat[row] * q; f.properties = row; i++;
        k = (k + stride) % n;
        return step;
      }};
    };
    return rows;
  }
  // Streamlit mounts the map's scripts once; a clustered layer added later (streamlit-folium's
  // feature_group_to_add) may find supercluster not loaded: load the vendored copy, found beside Leaflet's.
  var loading = null;
  function superclusterReady() {
    if (window.Supercluster) { return Promise.resolve(); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var leaflet = document.querySelector('script[src$="/leaflet/leaflet.js"]');
        if (!leaflet) { reject(new Error("supercluster is not loaded and Leaflet's folder is unknown")); return; }
        var s = document.createElement("script");
        s.src = leaflet.src.replace(/leaflet\/leaflet\.js$/, "supercluster/supercluster.min.js");
        s.onload = resolve;
        s.onerror = function () { reject(new Error("cannot load " + s.src)); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }
  function isoDay(day) { return new Date(day * DAY_MS).toISOString().slice(0, 10); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function addStyle() {
    if (document.getElementById("rm-bulk-style")) { return; }
    var s = el("style");
    s.id = "rm-bulk-style";
    s.textContent = ".rm-bulk-legend{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;" +
      "box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.4 system-ui,sans-serif;max-width:260px}" +
      ".rm-bulk-legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}" +
      ".rm-bulk-note{font-weight:600;margin-bottom:3px}.rm-bulk-list{max-height:220px;overflow-y:auto;" +
      "font:12px/1.45 system-ui,sans-serif}.rm-bulk-list div+div{border-top:1px solid #eee}" +
      ".rm-bulk-head{font-weight:600}.rm-bulk-more{margin:4px 0;font:12px system-ui,sans-serif;cursor:pointer}";
    document.head.appendChild(s);
  }
  // Cluster fill by size, like leaflet.markercluster's default palette.
  function clusterColour(n) { return n < 100 ? "#6ecc39" : n < 1000 ? "#f0c20c" : n < 10000 ? "#f18017" : "#d9453d"; }
  function clusterRadius(n) { return 11 + 4 * Math.log10(n); }
  function abbreviated(n) {  // as supercluster's point_count_abbreviated
    return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? Math.round(n / 100) / 10 + "k" : n;
  }
  // The server's clusters and single events of one view, in the form supercluster's getClusters returns.
  function servedFeatures(cols, q) {
    var c = cols.clusters, out = [];
    for (var i = 0; i < c.count.length; i++) {
      out.push({geometry: {coordinates: [c.lon[i] * q, c.lat[i] * q]},
                properties: {cluster: true, cluster_id: i, point_count: c.count[i],
                             point_count_abbreviated: abbreviated(c.count[i])}});
    }
    for (var k = 0; k < cols.lon.length; k++) {
      out.push({geometry: {coordinates: [cols.lon[k] * q, cols.lat[k] * q]}, properties: k});
    }
    return out;
  }
  var POINT_R = 5.5, PAD = 0.5, PAGE = 100;

  var Layer = L.Layer.extend({
    initialize: function (meta, data, legendPosition) {
      this._meta = meta;
      this._legendPosition = legendPosition;
      this._items = [];
      var self = this;
      this._timing = {start: performance.now()};
      this.ready = inflate(data, meta.text === "base85").then(function (buf) {
        self._cols = columns(meta, buf);
        self._timing.inflated = performance.now();
        if (meta.served) {  // clustered by the server for one view: nothing to index here
          self._served = servedFeatures(self._cols, meta.quantum);
          self._timing.clustered = performance.now();
          if (self._map) { self._redraw(); }
          return self;
        }
        return superclusterReady().then(function () { return self._indexed(); });
      });
    },
    _indexed: function () {
      // extent 256 = Leaflet's tile size, so radius is in screen pixels: wider than the biggest circle.
      this._index = new Supercluster({radius: 60, extent: 256, maxZoom: 16, minPoints: 2})
        .load(features(this._cols, this._meta.quantum, this._meta.v === 2));
      this._timing.clustered = performance.now();
      if (this._map) { this._redraw(); }
      return this;
    },
    onAdd: function (map) {
      addStyle();
      if (!map.getPane("rmBulk")) { map.createPane("rmBulk").style.zIndex = 450; }
      this._canvas = el("canvas", "leaflet-zoom-animated");
      this._canvas.style.pointerEvents = "none";
      map.getPane("rmBulk").appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      map.on("zoomanim", this._onZoomAnim, this);
      map.on("click", this._onClick, this);
      map.on("mousemove", this._onMove, this);
      if (this._legendPosition) { this._legend = this._makeLegend().addTo(map); }
      if (this._index || this._served) { this._redraw(); }
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      map.off("zoomanim", this._onZoomAnim, this);
      map.off("click", this._onClick, this);
      map.off("mousemove", this._onMove, this);
      if (this._legend) { this._legend.remove(); this._legend = null; }
      L.DomUtil.remove(this._canvas);
    },
    _makeLegend: function () {
      var meta = this._meta, control = L.control({position: this._legendPosition});
      control.onAdd = function () {
        var box = el("div", "rm-bulk-legend leaflet-control");
        box.appendChild(el("div", "rm-bulk-note", meta.note));
        for (var i = 0; i < meta.types.length && i < 12; i++) {
          var row = el("div"), key = el("i");
          key.style.background = meta.colours[i];
          row.appendChild(key);
          row.appendChild(document.createTextNode(meta.types[i] + " (" + meta.typeCounts[i].toLocaleString("en") + ")"));
          box.appendChild(row);
        }
        L.DomEvent.disableClickPropagation(box);
        return box;
      };
      return control;
    },
    _onZoomAnim: function (e) {
      if (!this._drawnCenter) { return; }
      var map = this._map, scale = map.getZoomScale(e.zoom, this._drawnZoom);
      var half = map.getSize().multiplyBy(0.5 + PAD);
      var offset = half.multiplyBy(-scale).add(map.project(this._drawnCenter, e.zoom))
        .subtract(map._getNewPixelOrigin(e.center, e.zoom));
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },
    _redraw: function () {
      var map = this._map;
      if (!map || !(this._index || this._served)) { return; }
      var size = map.getSize(), pad = size.multiplyBy(PAD), full = size.add(pad.multiplyBy(2));
      var topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
      var ratio = window.devicePixelRatio || 1, canvas = this._canvas;
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = full.x * ratio; canvas.height = full.y * ratio;
      canvas.style.width = full.x + "px"; canvas.style.height = full.y + "px";
      this._drawnCenter = map.getCenter(); this._drawnZoom = map.getZoom();
      var nw = map.containerPointToLatLng(pad.multiplyBy(-1)), se = map.containerPointToLatLng(size.add(pad));
      var west = nw.lng, east = se.lng;
      if (east - west >= 360) { west = -180; east = 180; }
      var zoom = Math.round(map.getZoom());
      var features = this._served ||
        this._index.getClusters([west, Math.max(se.lat, -90), east, Math.min(nw.lat, 90)], zoom);
      var ctx = canvas.getContext("2d"), meta = this._meta, cols = this._cols, items = [];
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, full.x, full.y);
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      // Points first, clusters on top: a cluster's count is never hidden by a dot.
      var order = features.slice().sort(function (a, b) { return (a.properties.cluster ? 1 : 0) - (b.properties.cluster ? 1 : 0); });
      for (var i = 0; i < order.length; i++) {
        var f = order[i], g = f.geometry.coordinates, lng = g[0];
        // The map may show the world more than once: draw where it is nearest the view's centre.
        lng += 360 * Math.round((this._drawnCenter.lng - lng) / 360);
        var p = map.latLngToContainerPoint([g[1], lng]).add(pad);
        if (f.properties.cluster) {
          var n = f.properties.point_count, r = clusterRadius(n);
          ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
          ctx.fillStyle = clusterColour(n); ctx.globalAlpha = 0.85; ctx.fill(); ctx.globalAlpha = 1;
          ctx.lineWidth = 2; ctx.strokeStyle = "#ffffff"; ctx.stroke();
          ctx.fillStyle = "#111"; ctx.font = "bold 12px system-ui,sans-serif";
          ctx.fillText(f.properties.point_count_abbreviated, p.x, p.y);
          items.push({x: p.x - pad.x, y: p.y - pad.y, r: r, cluster: f.properties.cluster_id, n: n, ll: [g[1], lng]});
        } else {
          var k = f.properties, colour = meta.colours[cols.type[k]] || "#777";
          if (cols.area && cols.area[k]) {  // located only by a country or region: an outlined square
            ctx.fillStyle = "#ffffff"; ctx.fillRect(p.x - POINT_R, p.y - POINT_R, 2 * POINT_R, 2 * POINT_R);
            ctx.lineWidth = 2.5; ctx.strokeStyle = colour;
            ctx.strokeRect(p.x - POINT_R, p.y - POINT_R, 2 * POINT_R, 2 * POINT_R);
          } else {
            ctx.beginPath(); ctx.arc(p.x, p.y, POINT_R, 0, 2 * Math.PI);
            ctx.fillStyle = colour; ctx.fill();
            ctx.lineWidth = 1.5; ctx.strokeStyle = "#ffffff"; ctx.stroke();
          }
          items.push({x: p.x - pad.x, y: p.y - pad.y, r: POINT_R, row: k, n: 1, ll: [g[1], lng]});
        }
      }
      this._items = items;
      var self = this;
      if (!this._painted) {
        this._painted = true;
        var shown = 0;
        if (meta.served) { shown = meta.served.shown; } else {
          var world = this._index.getClusters([-180, -90, 180, 90], 0);
          for (var j = 0; j < world.length; j++) { shown += world[j].properties.cluster ? world[j].properties.point_count : 1; }
        }
        // Two frames: the first runs before the canvas is composited, the second after.
        var t = this._timing;
        t.drawn = performance.now();
        requestAnimationFrame(function () { requestAnimationFrame(function () {
          window.reachmapBulk = {count: meta.count, shown: shown, drawn: items.length, paintedAt: performance.now(),
            served: meta.served ? {zoom: meta.served.zoom, box: meta.served.box} : null,
            ms: {start: t.start, inflate: t.inflated - t.start, cluster: t.clustered - t.inflated,
                 draw: t.drawn - t.clustered}};
          self.fire("painted", window.reachmapBulk);
        }); });
      }
      if (meta.served) { this._askForView(); }
    },
    // Served mode: when the map leaves the box the server clustered (or changes zoom), ask for the new view.
    // The app's map component turns the event into a state value, which reruns the map's fragment.
    _askForView: function () {
      var map = this._map, served = this._meta.served, box = served.box, b = map.getBounds();
      var zoom = Math.round(map.getZoom()), west = b.getWest(), east = b.getEast();
      var south = Math.max(b.getSouth(), -85.0511), north = Math.min(b.getNorth(), 85.0511);
      var world = box[2] - box[0] >= 360 || east - west >= 360;
      var k = 360 * Math.round(((box[0] + box[2]) - (west + east)) / 720);  // the box's copy of the world
      var inside = (world ? box[2] - box[0] >= 360 : west + k >= box[0] && east + k <= box[2]) &&
        south >= box[1] && north <= box[3];
      if (zoom === served.zoom && inside) { return; }
      var size = map.getSize(), centre = map.getCenter();
      var want = {zoom: zoom, lat: centre.lat, lng: centre.lng, width: size.x, height: size.y,
                  west: west, south: south, east: east, north: north};
      var key = [zoom, west.toFixed(4), south.toFixed(4), east.toFixed(4), north.toFixed(4)].join(",");
      if (this._asked === key) { return; }
      this._asked = key;
      window.dispatchEvent(new CustomEvent("reachmap:view-needed", {detail: want}));
    },
    _hits: function (point) {
      var out = [];
      for (var i = this._items.length - 1; i >= 0; i--) {
        var it = this._items[i], dx = it.x - point.x, dy = it.y - point.y;
        if (dx * dx + dy * dy <= (it.r + 3) * (it.r + 3)) { out.push(it); }
      }
      return out;
    },
    _onMove: function (e) {
      this._map.getContainer().style.cursor = this._hits(e.containerPoint).length ? "pointer" : "";
    },
    _onClick: function (e) {
      var hits = this._hits(e.containerPoint);
      if (!hits.length) { return; }
      var top = hits[0];
      if (top.cluster !== undefined && this._served) {
        // Zoom to the cluster's events; events at one spot are shown one by one above maxZoom.
        var q = this._meta.quantum, bb = this._cols.clusters.bounds, i4 = 4 * top.cluster, map = this._map;
        var sw = L.latLng(bb[i4 + 1] * q, bb[i4] * q), ne = L.latLng(bb[i4 + 3] * q, bb[i4 + 2] * q);
        var to = sw.equals(ne) ? this._meta.served.maxZoom + 1 : map.getBoundsZoom(L.latLngBounds(sw, ne).pad(0.2));
        to = Math.min(Math.max(to, map.getZoom() + 1), map.getMaxZoom());
        map.setView(sw.equals(ne) ? sw : L.latLngBounds(sw, ne).getCenter(), to);
        return;
      }
      if (top.cluster !== undefined) {
        var zoom = this._index.getClusterExpansionZoom(top.cluster);
        if (zoom <= this._index.options.maxZoom) { this._map.setView(top.ll, zoom); return; }
        // Events at one spot (the index never splits them): list every one of them.
        var leaves = this._index.getLeaves(top.cluster, Infinity).map(function (f) { return f.properties; });
        this._select(leaves, top.n, L.latLng(top.ll));
        return;
      }
      var rows = hits.filter(function (h) { return h.cluster === undefined; }).map(function (h) { return h.row; });
      this._select(rows, rows.length, L.latLng(top.ll));
    },
    _select: function (rows, total, latlng) {
      var meta = this._meta, cols = this._cols, ids = rows.map(function (k) { return cols.ids[k]; });
      var list = el("div", "rm-bulk-list"), shown = 0;
      if (total > 1) { list.appendChild(el("div", "rm-bulk-head", total.toLocaleString("en") + " events here")); }
      // Every event is listed, a page at a time: a button adds the next PAGE rows (the list scrolls).
      var more = el("button", "rm-bulk-more");
      function page() {
        rows.slice(shown, shown + PAGE).forEach(function (k) {
          var where = cols.area && cols.area[k] ? " · located only by country or region" : "";
          list.insertBefore(el("div", "rm-bulk-row", cols.ids[k] + " · " + meta.types[cols.type[k]] + " · " +
            isoDay(meta.baseDay + cols.day[k]) + where), more);
        });
        shown = Math.min(rows.length, shown + PAGE);
        more.textContent = "Show " + Math.min(PAGE, rows.length - shown).toLocaleString("en") + " more of " +
          (rows.length - shown).toLocaleString("en");
        more.style.display = shown < rows.length ? "" : "none";
      }
      list.appendChild(more);
      L.DomEvent.on(more, "click", function (ev) { L.DomEvent.stop(ev); page(); });
      L.DomEvent.disableClickPropagation(list);
      page();
      L.popup({maxWidth: 360}).setLatLng(latlng).setContent(list).openOn(this._map);
      var detail = {ids: ids, rows: rows, latlng: [latlng.lat, latlng.lng]};
      window.reachmapLastClick = detail;
      window.dispatchEvent(new CustomEvent("reachmap:event-click", {detail: detail}));
      // streamlit-folium reads the clicked layer's tooltip text into last_object_clicked_tooltip.
      var text = "reachmap-event:" + ids[0], tip = {_content: text, getContent: function () {
        return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }};
      this.fire("click", {latlng: latlng, sourceTarget: {_tooltip: tip, getTooltip: function () { return tip; }}}, true);
    }
  });
  return {Layer: Layer, columns: columns, features: features,
          layer: function (meta, data, legend) { return new Layer(meta, data, legend); }};
})(); }
"""
_LIBRARY = _LIBRARY.replace("%ALPHABET%", ALPHABET)
