"""The running app on a store of thousands of events: the clustered map shows exactly the filtered count, a
filter change swaps it, and the Events and Sources pages list events read on demand from the store.

A real `streamlit run app.py` on its own GeoPackage and the system Chromium; nothing is mocked.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from dashboard.mapview import grid
from dashboard.mapview.bulk import BULK_THRESHOLD
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.query import EventFilter
from dashboard.store import GeoPackageStore
from dashboard.table import EventTable, select
from tests.browser.conftest import serve_app

N = 12_000
SOURCE = Source("Scale test feed", "Test desk <b>", "https://example.org/feed", date(2024, 1, 2), "As filed.")
COUNT = "() => { const b = window.reachmapBulk; return b && b.drawn ? b.count : null; }"


def _events(n: int) -> list[Event]:
    rng = random.Random(7)
    places = [Place.at(f"test:{c}{i}", f"{c} place {i}", "village", lon + rng.uniform(-2, 2), lat + rng.uniform(-1, 1),
                       country=c, admin1=f"{c} region {i % 5}")
              for c, lon, lat, k in (("UA", 31.0, 49.0, 30), ("BY", 27.5, 53.5, 8), ("RU", 37.0, 55.0, 10))
              for i in range(k)]
    types = ("battles", "explosions/remote violence", "protests")
    return [Event(id=f"SC{i:06d}", title=f"Event {i}", event_type=rng.choice(types),
                  time=TimeSpan.day(date(2023, 1, 1) + timedelta(days=rng.randrange(365))),
                  place=rng.choice(places), source=SOURCE)
            for i in range(n)]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale-app") / "big.gpkg"
    with GeoPackageStore.open(path) as store:
        store.put_events(_events(N), origin="test:scale")
    return path


@pytest.fixture(scope="module")
def big_app(big_store, chromium_path):
    with serve_app(big_store) as url:
        yield url, EventTable.from_store_path(big_store)


@pytest.fixture(scope="module")
def served_app(big_store, chromium_path):
    """The same store with the server clustering every selection for the map's view (served mode)."""
    with serve_app(big_store, env={"REACHMAP_MAP_SERVED_ABOVE": "0"}) as url:
        yield url, EventTable.from_store_path(big_store)


def _count(table: EventTable, *countries: str) -> int:
    return len(select(table, EventFilter(countries=countries)))


def _no_error(page) -> None:
    assert page.page.locator("[data-testid='stException']").count() == 0
    assert page.page.locator("[data-testid='stAlertContentError']").count() == 0


def test_the_map_clusters_exactly_the_filtered_events_and_a_filter_change_swaps_them(page, big_app):
    url, table = big_app
    ua, ua_by = _count(table, "UA"), _count(table, "UA", "BY")
    assert BULK_THRESHOLD < ua < ua_by < N
    page.open(f"{url}/?v=1&country=UA")
    page.page.wait_for_function(f"() => ({COUNT})() === {ua}")
    assert page.page.get_by_text(f"{ua:,} events", exact=False).first.is_visible()
    assert page.map_frame.locator(".rm-bulk-note").inner_text() == (
        f"Showing {ua:,} events clustered; zoom in for individual events")
    page.page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
    page.page.keyboard.type("Belarus")
    page.page.keyboard.press("Enter")
    page.page.wait_for_function(f"() => ({COUNT})() === {ua_by}")
    page.page.get_by_text(f"{ua_by:,} events", exact=False).first.wait_for()
    _no_error(page)
    assert page.external_requests() == []


BULK = "() => window.reachmapBulk"
SERVED_AT = "(z) => { const b = window.reachmapBulk; return b && b.drawn && b.served && b.served.zoom === z; }"


def _served_shows_exactly_its_view(page, table: EventTable, rows) -> dict:
    bulk = page.page.evaluate(BULK)
    view = grid.View(bulk["served"]["zoom"], *bulk["served"]["box"])
    assert bulk["shown"] == grid.cluster_view(table, rows, view).in_view
    return bulk


def test_served_mode_sends_the_views_clusters_and_follows_the_map_as_it_zooms(page, served_app):
    url, table = served_app
    ua, ua_by = _count(table, "UA"), _count(table, "UA", "BY")
    page.open(f"{url}/?v=1&country=UA")
    page.page.wait_for_function(f"() => ({COUNT})() === {ua}")
    bulk = _served_shows_exactly_its_view(page, table, select(table, EventFilter(countries=("UA",))))
    assert bulk["served"]["zoom"] == 5 and bulk["shown"] == ua  # all of Ukraine's events are in view
    assert page.map_frame.locator(".rm-bulk-note").inner_text() == (
        f"Showing {ua:,} events clustered; zoom in for individual events")
    # Zoomed in, the layer asks for its new view and the server's answer holds only the events in it.
    ua_rows = select(table, EventFilter(countries=("UA",)))
    spot = [float(table.lat[ua_rows[0]]), float(table.lon[ua_rows[0]])]  # a village of the test data
    page.page.evaluate("(at) => { window.reachmapBulk = null; window.reachmapMap.setView(at, 11); }", spot)
    page.page.wait_for_function(SERVED_AT, arg=11)
    bulk = _served_shows_exactly_its_view(page, table, select(table, EventFilter(countries=("UA",))))
    assert 0 < bulk["shown"] < ua and bulk["count"] == ua
    # A click on a cluster zooms in on its events, and the server follows again.
    xy = page.page.evaluate("""() => { let layer; window.feature_group[0].eachLayer(l => { layer = l; });
        const size = window.reachmapMap.getSize(), box = window.reachmapMap.getContainer().getBoundingClientRect();
        const it = layer._items.find(i => i.cluster !== undefined && i.x > 80 && i.y > 80 &&
                                          i.x < size.x - 260 && i.y < size.y - 80);
        return it ? [box.left + it.x, box.top + it.y] : null; }""")
    assert xy is not None
    page.page.evaluate("() => { window.reachmapBulk = null; }")
    page.page.mouse.click(*xy)
    page.page.wait_for_function("() => { const b = window.reachmapBulk; return b && b.drawn && b.served.zoom > 11; }")
    _served_shows_exactly_its_view(page, table, select(table, EventFilter(countries=("UA",))))
    # A filter change keeps the view and clusters the new selection for it.
    zoom = page.page.evaluate("() => window.reachmapMap.getZoom()")
    page.page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
    page.page.keyboard.type("Belarus")
    page.page.keyboard.press("Enter")
    page.page.wait_for_function(f"() => ({COUNT})() === {ua_by}")
    bulk = _served_shows_exactly_its_view(page, table, select(table, EventFilter(countries=("UA", "BY"))))
    assert bulk["served"]["zoom"] == zoom
    _no_error(page)
    assert page.external_requests() == []


def test_the_events_page_lists_every_selected_event_read_from_the_store(page, big_app):
    url, table = big_app
    by = _count(table, "BY")
    page.open(f"{url}/events?v=1&country=BY")
    grid = page.page.locator("[data-testid='stDataFrame']")
    grid.wait_for()
    page.page.get_by_text(f"{by:,} events", exact=False).first.wait_for()
    # The grid tells assistive technology how many rows it holds (data rows + the header row).
    rows = page.page.locator("[data-testid='stDataFrame'] [aria-rowcount]").first.get_attribute("aria-rowcount")
    assert int(rows) == by + 1
    _no_error(page)


def test_the_sources_page_counts_every_event_and_lists_the_first(page, big_app):
    url, _ = big_app
    page.open(f"{url}/sources")
    page.page.get_by_text(f"cited by {N:,} events", exact=False).first.wait_for()
    assert page.page.get_by_text("Test desk <b>", exact=False).first.is_visible()  # escaped, shown as typed
    page.page.get_by_text(f"and {N - 20:,} more events citing this source", exact=False).first.wait_for()
    _no_error(page)
