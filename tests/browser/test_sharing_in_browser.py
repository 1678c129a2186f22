"""Sharing as a colleague receives it: a snapshot link opens read-only, an exported HTML file works offline."""

from __future__ import annotations

import os
import subprocess
import sys

from dashboard.ingest import open_store
from dashboard.scene import Scene
from dashboard.settings import PROJECT_DIR
from dashboard.share import from_query
from dashboard.snapshot import freeze


def test_a_snapshot_link_opens_read_only(page, app_url, browser_store, gazetteer):
    with open_store(browser_store, gazetteer=gazetteer) as store:
        events = tuple(e for e in store.events() if e.place.country == "UA")
        snapshot_id = freeze(store, Scene(from_query("?v=1&country=UA").state, events, (), ()), "Ukraine only")
    page.open(f"{app_url}/?snapshot={snapshot_id}").wait_for_map()
    page.map_frame.locator(".rm-event").first.wait_for()
    assert page.page.locator("h1").first.inner_text() == "Ukraine only"
    assert page.marker_count() == len(events)
    assert page.page.get_by_text("Read-only snapshot").count() == 1
    assert page.page.locator("[data-testid='stSidebar'] input").count() == 0  # no filters to change
    assert page.map_frame.locator(".leaflet-draw").count() == 0  # no drawing tools
    assert page.external_requests() == []


def test_an_exported_html_file_shows_the_markers_from_disk_offline(page, tmp_path, browser_store):
    out = tmp_path / "map.html"
    env = {**os.environ, "REACHMAP_STORE_PATH": str(browser_store)}
    subprocess.run([sys.executable, "-m", "dashboard", "export", "?v=1&ring=iskander-m@Minsk", "--format", "html",
                    "-o", str(out)], check=True, env=env, cwd=PROJECT_DIR, timeout=180, capture_output=True)
    page.open(out.as_uri())
    page.page.locator(".rm-event").first.wait_for()
    counts = page.page.locator(".rm-event").evaluate_all("els => els.map(e => parseInt(e.dataset.count || '1'))")
    assert sum(counts) == 13
    assert page.page.locator("path.rm-ring").count() == 1
    assert page.requests == [out.as_uri()]  # the file itself and nothing else
