"""Clusters for one view, computed on the server from the table's columns (numpy, no folium).

Above `settings.map_served_above` selected events the browser is not sent every event to cluster itself
(at 1M that was 8 MB to send, 0.6 s to inflate and 0.4 s to cluster on every filter change). Instead the
server groups the selected events inside the view — the map's box padded by one screen on every side —
into cells of CELL_PX × CELL_PX screen pixels at the view's zoom, anchored to the Web Mercator pixel grid
(so a cell holds the same events however the map is panned); neighbouring cells whose centres are within
CELL_PX pixels are merged, the biggest first, as supercluster merges points. Each group of two or more
events is sent as one cluster (its count, the mean position of its events, their bounding box), a lone
event as itself. Above MAX_ZOOM every event in the view is sent on its own (events at one spot are never
split by zooming; the browser lists them on a click), up to DETAIL_CAP of them.

A few thousand cells at most per view whatever the number of events: the work is O(selected rows) in
numpy (10-80 ms per 1M) and the page receives kilobytes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from dashboard.rings import TILE_PX, mercator_lat, mercator_y
from dashboard.table import EventTable

CELL_PX = 60        # a cluster's cell, in screen pixels (as supercluster's radius 60 in the browser's mode)
MAX_ZOOM = 16       # above: every event in view on its own, as supercluster's maxZoom 16
DETAIL_CAP = 50_000  # events sent one by one for one view at most; above it, clusters even beyond MAX_ZOOM


@dataclass(frozen=True)
class View:
    """What the map shows: its zoom and the box (degrees, west may be < -180 or east > 180 when the map
    shows the world across the antimeridian) to cover."""

    zoom: int
    west: float
    south: float
    east: float
    north: float

    def padded(self, screens: float = 1.0) -> View:
        """The box grown by `screens` times its own size on every side (in Web Mercator, as on screen)."""
        x0, x1 = _mx(self.west), _mx(self.east)
        y0, y1 = mercator_y(self.north), mercator_y(self.south)
        dx, dy = (x1 - x0) * screens, (y1 - y0) * screens
        west, east = _lon(x0 - dx), _lon(x1 + dx)
        if east - west >= 360:
            west, east = -180.0, 180.0
        return View(self.zoom, west, mercator_lat(min(y1 + dy, 1.0)), east, mercator_lat(max(y0 - dy, 0.0)))

    def covers(self, other: View) -> bool:
        return (self.zoom == other.zoom and self.west <= other.west and self.east >= other.east
                and self.south <= other.south and self.north >= other.north)


def view_around(lat: float, lon: float, zoom: int, width_px: int, height_px: int) -> View:
    """The box a map of this size shows when centred on (lat, lon) at this zoom."""
    world = TILE_PX * 2.0 ** zoom
    cx, cy = _mx(lon), mercator_y(lat)
    hx, hy = width_px / 2 / world, height_px / 2 / world
    west, east = _lon(cx - hx), _lon(cx + hx)
    if east - west >= 360:
        west, east = -180.0, 180.0
    return View(zoom, west, mercator_lat(min(cy + hy, 1.0)), east, mercator_lat(max(cy - hy, 0.0)))


@dataclass(frozen=True)
class Clusters:
    """The view's clusters (each of two or more events) and its single events, as table rows."""

    view: View
    lon: np.ndarray       # float64: each cluster's mean position (may lie beyond ±180 across the antimeridian)
    lat: np.ndarray
    count: np.ndarray     # int64: events in each cluster
    bounds: np.ndarray    # float64 (n, 4): west, south, east, north of each cluster's events
    points: np.ndarray    # int64: table rows drawn on their own, ascending
    in_view: int          # selected events inside the view's box

    @property
    def shown(self) -> int:
        return int(self.count.sum()) + len(self.points)


def cluster_view(table: EventTable, rows: np.ndarray, view: View) -> Clusters:
    """Group the selected `rows` of `table` inside `view` into clusters and single events (module docstring)."""
    rows = np.asarray(rows, dtype=np.int64)
    lon, lat = table.lon[rows], table.lat[rows]
    inside = (lat >= view.south) & (lat <= view.north)
    west, east = view.west, view.east
    if east - west >= 360:
        pass
    elif west >= -180 and east <= 180:
        inside &= (lon >= west) & (lon <= east)
    else:
        # Longitudes as the view has them, in [west, west + 360): across the antimeridian past ±180.
        lon = lon + 360.0 * np.ceil((west - lon) / 360.0)
        inside &= lon <= east
    if inside.all():  # the whole selection in view (low zooms): no copies
        sel, vlon, vlat = rows, lon, lat
    else:
        sel, vlon, vlat = rows[inside], lon[inside], lat[inside]
    zoom = view.zoom
    if zoom > MAX_ZOOM and len(sel) <= DETAIL_CAP:
        return Clusters(view, *_no_clusters(), points=sel, in_view=len(sel))
    if not len(sel):
        return Clusters(view, *_no_clusters(), points=sel, in_view=0)
    scale = TILE_PX * 2.0 ** zoom / CELL_PX  # cells across the world
    cx = np.floor(_mx(vlon) * scale).astype(np.int64)
    cy = np.floor(_table_my(table)[sel] * scale).astype(np.int64)
    x0, y0 = int(cx.min()), int(cy.min())
    ny = int(cy.max()) - y0 + 1
    key = (cx - x0) * ny + (cy - y0)
    if int(key.max()) + 1 > 4 * len(key) + 4096:
        # A box of far more cells than events (a high zoom over a wide box): number the occupied cells only,
        # or the per-cell arrays below would be as large as the box.
        cell_keys, key = np.unique(key, return_inverse=True)
    else:
        cell_keys = None
    count = np.bincount(key)
    occupied = np.flatnonzero(count)
    cell = occupied if cell_keys is None else cell_keys[occupied]
    # Per occupied cell (a few thousand at most in a view): events, their sums and bounds, one row if alone.
    slot = np.full(len(count), -1, dtype=np.int64)
    slot[occupied] = np.arange(len(occupied))
    at = slot[key]
    m = len(occupied)
    n_cell = count[occupied]
    sum_lon = np.bincount(at, weights=vlon, minlength=m)
    sum_lat = np.bincount(at, weights=vlat, minlength=m)
    bounds = _bounds(at, m, vlon, vlat, vlon, vlat)
    alone = np.full(m, -1, dtype=np.int64)
    single = n_cell[at] == 1
    alone[at[single]] = sel[single]
    # Neighbouring cells whose centres are closer than a cell on screen become one cluster (greedy, the
    # biggest first, as supercluster does): cells alone would draw overlapping circles at their edges.
    world_px = TILE_PX * 2.0 ** zoom
    owner = _merge(_mx(sum_lon / n_cell) * world_px, mercator_y(sum_lat / n_cell) * world_px, n_cell,
                   cell // ny, cell % ny)
    roots, group = np.unique(owner, return_inverse=True)
    counts = np.bincount(group, weights=n_cell).astype(np.int64)
    lon_mean = np.bincount(group, weights=sum_lon) / counts
    lat_mean = np.bincount(group, weights=sum_lat) / counts
    merged = _bounds(group, len(roots), *bounds.T)
    many = counts >= 2
    points = np.sort(alone[roots[~many]])
    return Clusters(view, lon_mean[many], lat_mean[many], counts[many], merged[many], points=points,
                    in_view=len(sel))


# Kept with the table itself (weak keys: gone with it), as ui.state keeps each table's ring distances.
_MY: weakref.WeakKeyDictionary[EventTable, np.ndarray] = weakref.WeakKeyDictionary()


def _table_my(table: EventTable) -> np.ndarray:
    """Web Mercator y of every row of the table, computed once per table (a third of the work per view)."""
    my = _MY.get(table)
    if my is None:
        my = _MY[table] = mercator_y(table.lat)
        my.flags.writeable = False
    return my


MERGE_MAX = 20_000  # occupied cells above which neighbours are not merged (a detail view over the cap)


def _merge(px: np.ndarray, py: np.ndarray, count: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """For each cell, the cell whose cluster it joins: the biggest cells first take every unclaimed cell
    of the 3 × 3 around them whose centre lies within CELL_PX pixels of theirs."""
    m = len(count)
    if m > MERGE_MAX:
        return np.arange(m)
    where = {xy: i for i, xy in enumerate(zip(cx.tolist(), cy.tolist()))}
    owner = [-1] * m
    xs, ys, cxs, cys = px.tolist(), py.tolist(), cx.tolist(), cy.tolist()
    r2 = CELL_PX * CELL_PX
    for i in np.argsort(-count, kind="stable").tolist():
        if owner[i] >= 0:
            continue
        owner[i] = i
        x, y, a, b = xs[i], ys[i], cxs[i], cys[i]
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                j = where.get((a + da, b + db))
                if j is not None and owner[j] < 0 and (xs[j] - x) ** 2 + (ys[j] - y) ** 2 <= r2:
                    owner[j] = i
    return np.asarray(owner, dtype=np.int64)


def _bounds(at: np.ndarray, m: int, west: np.ndarray, south: np.ndarray, east: np.ndarray,
            north: np.ndarray) -> np.ndarray:
    """(m, 4): the least west and south and the greatest east and north of each of m groups (`at`)."""
    out = np.empty((m, 4))
    out[:, :2], out[:, 2:] = np.inf, -np.inf
    np.minimum.at(out[:, 0], at, west)
    np.minimum.at(out[:, 1], at, south)
    np.maximum.at(out[:, 2], at, east)
    np.maximum.at(out[:, 3], at, north)
    return out


def _no_clusters() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, 4))


def _mx(lon):
    """Web Mercator x in [0, 1) across the world (beyond it past ±180°), of a number or an array."""
    return (lon + 180.0) / 360.0


def _lon(x: float) -> float:
    return float(x) * 360.0 - 180.0
