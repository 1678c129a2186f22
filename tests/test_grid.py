"""Clusters computed on the server for one view (mapview.grid) and their payload (served mode of mapview.bulk)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dashboard.mapview import grid
from dashboard.mapview.bulk import decode, encode
from dashboard.mapview.grid import CELL_PX, DETAIL_CAP, MAX_ZOOM, TILE_PX, View, cluster_view, view_around
from tests.test_bulk import synthetic_table

TABLE = synthetic_table(60_000, seed=3)
ALL = np.arange(len(TABLE))


def _inside(view: View, rows: np.ndarray = ALL) -> np.ndarray:
    lon, lat = TABLE.lon[rows], TABLE.lat[rows]
    k = np.ceil((view.west - lon) / 360.0) * 360.0 if view.east - view.west < 360 else 0.0
    ok = (lat >= view.south) & (lat <= view.north) & (lon + k <= view.east if view.east - view.west < 360 else True)
    return rows[ok]


VIEWS = [view_around(49.0, 31.0, z, 1200, 620).padded() for z in (2, 5, 7, 9, 11, 13)] + [
    View(8, 25.0, 48.0, 30.0, 51.0), View(6, -180.0, -85.0, 180.0, 85.0)]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"z{v.zoom}")
def test_every_selected_event_in_the_view_is_counted_once_and_no_other(view):
    rows = ALL[::3]  # a selection, not the whole table
    c = cluster_view(TABLE, rows, view)
    inside = _inside(view, rows)
    assert c.in_view == len(inside) == c.shown
    assert np.all(c.count >= 2)
    assert set(c.points.tolist()) <= set(inside.tolist())
    assert np.all(np.diff(c.points) > 0)
    # Each cluster's mean lies within its events' bounding box, and that box within the 3 × 3 cells of the
    # grid it may merge.
    west, south, east, north = c.bounds.T
    e = 1e-9  # a mean of equal numbers may differ from them in the last bit
    assert np.all((west - e <= c.lon) & (c.lon <= east + e) & (south - e <= c.lat) & (c.lat <= north + e))
    cell_deg = 360.0 * CELL_PX / (TILE_PX * 2 ** view.zoom)
    assert np.all(east - west <= 3 * cell_deg + 1e-9)


def test_events_either_side_of_a_cell_edge_are_one_cluster_not_two_overlapping_circles():
    zoom = 8
    edge = grid._lon(CELL_PX * 300 / (TILE_PX * 2 ** zoom))  # the west edge of cell 300 at zoom 8
    px_deg = 360.0 / (TILE_PX * 2 ** zoom)
    lon = np.r_[np.full(50, edge - 5 * px_deg), np.full(5, edge + 5 * px_deg), [edge + 40 * CELL_PX * px_deg]]
    table = dataclasses.replace(TABLE, lon=np.r_[lon, TABLE.lon[len(lon):]], lat=np.r_[np.full(len(lon), 50.0),
                                                                                         TABLE.lat[len(lon):]])
    c = cluster_view(table, np.arange(len(lon)), View(zoom, edge - 5, 49.0, edge + 40, 51.0))
    assert c.count.tolist() == [55] and len(c.points) == 1  # ten pixels apart: merged; a far one alone


def test_a_cell_holds_the_same_events_however_the_map_is_panned():
    a = View(9, 29.0, 49.0, 33.0, 51.0)
    b = View(9, 29.7, 49.3, 33.7, 51.3)  # panned by a fraction of a cell
    ca, cb = cluster_view(TABLE, ALL, a), cluster_view(TABLE, ALL, b)
    inner = View(9, 30.5, 49.8, 32.0, 50.5)  # well inside both: whole cells only

    def clusters_in(c):
        keep = (c.bounds[:, 0] >= inner.west) & (c.bounds[:, 2] <= inner.east) & \
               (c.bounds[:, 1] >= inner.south) & (c.bounds[:, 3] <= inner.north)
        return sorted(zip(c.count[keep].tolist(), np.round(c.lon[keep], 9).tolist(), np.round(c.lat[keep], 9).tolist()))

    assert clusters_in(ca) == clusters_in(cb) and len(clusters_in(ca)) > 10


def test_above_max_zoom_every_event_in_view_is_its_own_point_even_at_one_spot():
    spot = np.flatnonzero((TABLE.lon == TABLE.lon[0]) & (TABLE.lat == TABLE.lat[0]))
    assert len(spot) > 1  # the synthetic table repeats locations
    lon, lat = TABLE.lon[0], TABLE.lat[0]
    view = view_around(lat, lon, MAX_ZOOM + 1, 1200, 620)
    c = cluster_view(TABLE, ALL, view)
    assert len(c.count) == 0 and set(spot.tolist()) <= set(c.points.tolist())
    # At MAX_ZOOM those same events are one cluster at their spot, with a box of no size.
    c16 = cluster_view(TABLE, ALL, dataclasses.replace(view, zoom=MAX_ZOOM))
    at = np.flatnonzero((c16.bounds[:, 0] == lon) & (c16.bounds[:, 1] == lat))
    assert len(at) == 1 and c16.count[at[0]] == len(spot) and c16.bounds[at[0], 2] == lon


def test_more_than_the_detail_cap_in_view_above_max_zoom_stays_clustered(monkeypatch):
    monkeypatch.setattr(grid, "DETAIL_CAP", 10)
    c = cluster_view(TABLE, ALL, View(MAX_ZOOM + 2, 20.0, 44.0, 41.0, 57.0))
    assert len(c.count) > 0 and c.shown == len(TABLE)
    assert DETAIL_CAP == 50_000


def test_a_view_of_far_more_cells_than_events_costs_memory_by_the_events():
    # Zoom 20 over the whole world is 2**38 cells: only the occupied ones are numbered.
    c = cluster_view(TABLE, ALL[:5000], View(20, -180.0, -85.0, 180.0, 85.0))
    assert c.shown == 5000


def test_a_view_across_the_antimeridian_finds_events_on_both_sides():
    table = dataclasses.replace(TABLE, lon=np.where(np.arange(len(TABLE)) % 2 == 0, 179.5, -179.5),
                                lat=np.full(len(TABLE), 65.0))
    view = View(7, 178.0, 64.0, 182.0, 66.0)  # Leaflet's longitudes past 180 east of the antimeridian
    c = cluster_view(table, ALL, view)
    assert c.in_view == len(TABLE) == c.shown
    assert np.all((c.lon >= 178.0) & (c.lon <= 182.0))  # in the view's own longitudes, not -179.5
    assert sorted(np.round(c.lon, 6).tolist()) == [179.5, 180.5]
    assert cluster_view(table, ALL, View(7, 170.0, 64.0, 175.0, 66.0)).in_view == 0


def test_view_around_and_padding_match_leaflets_pixel_grid():
    v = view_around(0.0, 0.0, 1, 512, 512)  # zoom 1: the world is 512 px wide
    assert (v.west, v.east) == (-180.0, 180.0) and v.north == pytest.approx(85.0511, abs=1e-4)
    small = view_around(50.45, 30.52, 10, 1000, 600)
    assert small.east - small.west == pytest.approx(1000 / (256 * 2 ** 10) * 360)
    big = small.padded()
    assert big.covers(small) and not small.covers(big)
    assert big.east - big.west == pytest.approx(3 * (small.east - small.west))
    assert not big.covers(dataclasses.replace(small, zoom=11))


def test_the_served_payload_carries_the_view_its_clusters_and_single_events():
    rows = ALL[::2]
    view = view_around(49.0, 31.0, 8, 1200, 620).padded()
    c = cluster_view(TABLE, rows, view)
    payload = encode(TABLE, rows, {}, clusters=c)
    meta = payload.meta
    assert meta["count"] == len(rows) and meta["rows"] == len(c.points)
    assert sum(meta["typeCounts"]) == len(rows)  # the legend describes the whole selection
    assert meta["served"]["zoom"] == 8 and meta["served"]["box"] == [view.west, view.south, view.east, view.north]
    assert meta["served"]["shown"] == c.shown == c.in_view
    back = decode(payload)
    assert back["id"] == TABLE.id[c.points].tolist()
    np.testing.assert_allclose(back["lon"], TABLE.lon[c.points], atol=0.5e-5)
    np.testing.assert_array_equal(back["clusters"]["count"], c.count)
    np.testing.assert_allclose(back["clusters"]["lat"], c.lat, atol=0.5e-5)
    np.testing.assert_allclose(back["clusters"]["bounds"], c.bounds, atol=0.5e-5)
    # Kilobytes, whatever the number of selected events.
    assert len(payload.data) < 40_000 < len(encode(TABLE, rows, {}).data)


def _bulk_meta(m) -> dict:
    from dashboard.mapview.bulk import BulkEvents

    def walk(element):
        for child in element._children.values():
            if isinstance(child, BulkEvents):
                return child
            found = walk(child)
            if found is not None:
                return found
        return None

    import json

    return json.loads(walk(m).meta)


def test_a_still_picture_is_clustered_here_for_its_one_view_and_a_page_that_pans_is_not():
    """A PNG never pans or zooms: its events come clustered for the view it shows (the tiles' view), as the
    app's served mode sends them; an exported page still gets every event to cluster in the browser."""
    from dashboard.mapview import Basemap, MapView, _embedded_view, build_map

    rows = ALL[::3]
    still = Basemap(still=(1200, 800))
    meta = _bulk_meta(build_map([], [], still, MapView(), draw=False, sync_url=False, bulk=(TABLE, rows)))
    lon, lat, zoom = _embedded_view(MapView(), [], (TABLE, rows), (1200, 800))
    view = view_around(lat, lon, zoom, 1200, 800).padded()
    assert meta["served"]["zoom"] == zoom and meta["served"]["box"] == [view.west, view.south, view.east, view.north]
    assert meta["count"] == len(rows) and meta["served"]["shown"] == len(_inside(view, rows))
    page = _bulk_meta(build_map([], [], Basemap(), MapView(), draw=False, sync_url=False, bulk=(TABLE, rows)))
    assert "served" not in page and page["rows"] == len(rows)
