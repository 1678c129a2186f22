"""An exported page of 100,000 events: at most 15 bytes an event, opened from disk with no request leaving it,
its packed tiles and events unpacked by the page itself, and one zoom step in at its centre drawn from
embedded tiles of that zoom (not from the coarser ones it falls back to elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import export
from dashboard.mapview import Basemap
from dashboard.scene import Scene
from dashboard.share import ViewState
from dashboard.table import StoredEvents
from tests.test_bulk import synthetic_table

N = 100_000
VIEW = ViewState(center=(52.0, 29.0), zoom=5)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    table = synthetic_table(N)
    rows = np.arange(N)
    scene = Scene(VIEW, StoredEvents(table.id[rows], lambda ids: []), (), (), table, rows)
    path = tmp_path_factory.mktemp("page") / "map.html"
    path.write_text(export.to_html(scene, Basemap()), encoding="utf-8")
    return path


def test_the_page_takes_at_most_15_bytes_an_event(page_file):
    per_event = page_file.stat().st_size / N
    assert per_event <= 15, per_event  # 45.8 when the tiles were JSON and the events unsorted


def test_the_page_opens_offline_and_one_step_in_at_its_centre_draws_the_next_zoom(chromium_path, page_file):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=["--headless=new", "--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                                 if route.request.url == page_file.as_uri() else route.abort()))
            tab = context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(page_file.as_uri())
            tab.wait_for_function("() => document.querySelector('.leaflet-container').dataset.basemap === 'ready'"
                                  " && window.reachmapBulk", timeout=60_000)
            bulk = tab.evaluate("window.reachmapBulk")
            assert bulk["count"] == bulk["shown"] == N  # every event unpacked and clustered
            # the packed ids decode to the table's ids
            ids = tab.evaluate("""Object.values(window).find(v => v instanceof window.ReachmapBulk.Layer)
                                  ._cols.ids.slice(0, 50)""")
            assert set(ids) <= set(synthetic_table(N).id.tolist()) and len(set(ids)) == 50
            drawn = tab.evaluate("""() => new Promise(done => {
                const map = Object.values(window).find(v => v instanceof L.Map);
                const base = document.querySelector('.leaflet-container').reachmapBasemap;
                base.once('load', () => {
                  const z = map.getZoom(), b = map.getPixelBounds(), own = [], fallback = [];
                  for (let x = Math.floor(b.min.x / 256); x <= Math.floor(b.max.x / 256); x++)
                    for (let y = Math.floor(b.min.y / 256); y <= Math.floor(b.max.y / 256); y++)
                      base._pick(z, x, y).forEach(p => {
                        const t = base._ready[p.join('/')];
                        (t && !t.parent ? own : fallback).push(p.join('/'));
                      });
                  done({zoom: z, own: own.length, fallback: fallback, labels: base.labelsInView().length});
                });
                map.setZoom(map.getZoom() + 1, {animate: false});
            })""")
            assert drawn["zoom"] == 6 and drawn["own"] > 20 and drawn["fallback"] == [], drawn
            assert drawn["labels"] > 50 and errors == []
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # nothing but the file itself
