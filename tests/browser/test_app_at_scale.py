"""The running app on a store of thousands of events: the clustered map shows exactly the filtered count, a
filter change swaps it, and the Events and Sources pages list events read on demand from the store.

A real `streamlit run app.py` on its own GeoPackage and the system Chromium; nothing is mocked.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

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
def big_app(tmp_path_factory, chromium_path):
    path = tmp_path_factory.mktemp("scale-app") / "big.gpkg"
    with GeoPackageStore.open(path) as store:
        store.put_events(_events(N), origin="test:scale")
    with serve_app(path) as url:
        yield url, EventTable.from_store_path(path)


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
