"""100,000 events in a real Chromium: the clustered map paints, shows exactly the filtered events, stays local.

The map is a standalone exported file (assets inlined), as `export` writes it; no Streamlit server needed.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dashboard.mapview import LAYER_NAMES, MapView, build_map
from dashboard.mapview.assets import inline
from dashboard.mapview.bulk import CLICK_PREFIX, add_bulk_events
from dashboard.query import EventFilter
from dashboard.scene import load_basemap
from dashboard.table import select
from tests.test_bulk import COLOURS, synthetic_table

WAIT = 60_000


@pytest.fixture(scope="module")
def selection():
    table = synthetic_table(100_000)
    rows = select(table, EventFilter(start=date(2022, 3, 1), end=date(2024, 6, 30), countries=("UA", "BY")))
    assert 50_000 < len(rows) < 100_000
    return table, rows


@pytest.fixture(scope="module")
def map_file(selection, gazetteer, tmp_path_factory):
    table, rows = selection
    view = MapView(layers=tuple(k for k in LAYER_NAMES if k != "events"))  # the bulk layer replaces markers
    m = build_map([], [], load_basemap(gazetteer), view, draw=False, sync_url=False)
    add_bulk_events(m, table, rows, COLOURS, fit_bounds=True)
    path = tmp_path_factory.mktemp("scale") / "map.html"
    path.write_text(inline(m.get_root().render()), encoding="utf-8")
    return path


def _layer(page, expression: str):
    return page.page.evaluate(f"() => {{ const layer = Object.values(window).find(v => v instanceof"
                              f" window.ReachmapBulk.Layer); return {expression}; }}")


def test_100k_events_paint_and_the_count_shown_is_the_filtered_count(page, map_file, selection):
    _, rows = selection
    page.open(map_file.as_uri())
    page.page.wait_for_function("() => window.reachmapBulk", timeout=WAIT)
    painted = page.page.evaluate("window.reachmapBulk")
    assert painted["count"] == painted["shown"] == len(rows)
    assert painted["drawn"] > 0
    legend = page.page.locator(".rm-bulk-note").inner_text()
    assert legend == f"Showing {len(rows):,} events clustered; zoom in for individual events"
    assert page.external_requests() == []


def test_every_cluster_holds_exactly_its_count_of_the_selected_events(page, map_file, selection):
    table, rows = selection
    page.open(map_file.as_uri())
    page.page.wait_for_function("() => window.reachmapBulk", timeout=WAIT)
    counts, leaves = _layer(page, """(() => {
        const idx = layer._index, ids = layer._cols.ids, counts = [], leaves = [];
        for (const f of idx.getClusters([-180, -90, 180, 90], 4)) {
          const n = f.properties.cluster ? f.properties.point_count : 1;
          const mine = f.properties.cluster ? idx.getLeaves(f.properties.cluster_id, Infinity).map(l => ids[l.properties])
                                            : [ids[f.properties]];
          counts.push(n); leaves.push(mine.length);
          for (const id of mine) { window.__seen = (window.__seen || []); window.__seen.push(id); }
        }
        return [counts, leaves];
      })()""")
    assert counts == leaves and len(counts) > 1
    seen = page.page.evaluate("window.__seen")
    assert sorted(seen) == sorted(table.id[rows].tolist())  # each selected event in exactly one cluster


def test_a_cluster_click_zooms_in_and_a_point_click_names_the_event(page, map_file, selection):
    table, rows = selection
    page.open(map_file.as_uri())
    page.page.wait_for_function("() => window.reachmapBulk", timeout=WAIT)
    zoom = _layer(page, "layer._map.getZoom()")
    x, y = _layer(page, "(() => { const c = layer._items.filter(i => i.cluster !== undefined)"
                        ".sort((a, b) => b.n - a.n)[0]; return [c.x, c.y]; })()")
    box = page.page.locator(".leaflet-container").bounding_box()
    page.page.mouse.click(box["x"] + x, box["y"] + y)
    page.page.wait_for_function(f"() => {{ const map = Object.values(window).find(v => v instanceof"
                                f" window.ReachmapBulk.Layer)._map; return map.getZoom() > {zoom}"
                                f" && !map._animatingZoom; }}", timeout=WAIT)
    # Deep enough for single events: stand on one, as streamlit-folium would listen to the layer.
    _layer(page, """(() => { window.__tip = null;
        layer.on('click', e => { window.__tip = e.sourceTarget.getTooltip().getContent(); });
        const row = 0, q = layer._meta.quantum;
        layer._map.setView([layer._cols.lat[row] * q, layer._cols.lon[row] * q], 18, {animate: false});
        return true; })()""")
    page.page.wait_for_function("() => Object.values(window).find(v => v instanceof window.ReachmapBulk.Layer)"
                                "._items.some(i => i.row === 0)", timeout=WAIT)
    x, y = _layer(page, "(() => { const p = layer._items.find(i => i.row === 0); return [p.x, p.y]; })()")
    page.page.mouse.click(box["x"] + x, box["y"] + y)
    page.page.wait_for_function("() => window.reachmapLastClick", timeout=WAIT)
    clicked = page.page.evaluate("window.reachmapLastClick")
    first = _layer(page, "layer._cols.ids[0]")  # the event stood on (the payload keeps its rows by place)
    assert first in set(table.id[rows].tolist())
    assert first in clicked["ids"] and set(clicked["ids"]) <= set(table.id[rows].tolist())
    assert page.page.evaluate("window.__tip") == CLICK_PREFIX + clicked["ids"][0]
    shown = clicked["ids"][0]
    row = int(np.flatnonzero(table.id == shown)[0])
    popup = page.page.locator(".leaflet-popup-content").inner_text()
    assert f"{shown} · {table.types[table.type_code[row]]} · {np.datetime64(int(table.t_start[row]), 'D')}" in popup
    assert page.external_requests() == []
