"""The Map page's timeline in Chromium: bars for every selected event, drag to set the dates, no chart
library (the Vega-Lite chart it replaced cost every first visit about 0.6 s, benchmarks/map_page.py)."""

from __future__ import annotations

import re
import time
from datetime import date
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import Page

BARS = ("() => [...document.querySelectorAll('*')].filter(e => e.shadowRoot && e.shadowRoot.querySelector('.rm-timeline'))"
        ".flatMap(e => [...e.shadowRoot.querySelectorAll('rect.bar')]).map(r => parseInt(r.dataset.events))")


def _heading_count(page: Page) -> int:
    text = page.page.locator("h3").filter(has_text=re.compile(r"\d+ events?")).first.inner_text()
    return int(re.search(r"(\d+) events?", text).group(1))


def _bars_and_heading(page: Page, timeout_s: float = 30.0) -> tuple[int, int]:
    """The bars' total and the heading's count once they agree, or as they stand after timeout_s: after a
    drag the old bars stay on screen until the rerun's new ones replace them, so one look can see both."""
    deadline = time.monotonic() + timeout_s
    while True:
        bars, heading = sum(page.page.evaluate(BARS)), _heading_count(page)
        if bars == heading or time.monotonic() > deadline:
            return bars, heading
        page.page.wait_for_timeout(200)


def _svg_box(page: Page) -> dict:
    return page.page.evaluate(
        "() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.rm-timeline'));"
        " const b = h.shadowRoot.querySelector('svg').getBoundingClientRect();"
        " return {x: b.x, y: b.y, width: b.width, height: b.height}; }")


def test_the_timeline_counts_every_event_and_a_drag_sets_the_dates(browser, app_url):
    page = Page(browser, 1280, 1400)
    try:
        page.open(f"{app_url}/?v=1&from=2022-06-01&to=2022-06-30").wait_for_map()
        page.page.get_by_text("Drag across the bars").wait_for()
        page.page.wait_for_function(f"() => ({BARS})().length > 0")
        assert sum(page.page.evaluate(BARS)) == _heading_count(page) > 0
        assert not [u for u in page.requests if "vega" in u.lower()]  # no chart library was loaded
        box = _svg_box(page)
        y = box["y"] + box["height"] * 0.6
        page.page.mouse.move(box["x"] + box["width"] * 0.30, y)  # about 9 June ...
        page.page.mouse.down()
        page.page.mouse.move(box["x"] + box["width"] * 0.60, y, steps=5)  # ... to about 18 June
        page.page.mouse.up()
        page.page.wait_for_function("() => !location.search.includes('from=2022-06-01')")
        query = parse_qs(urlparse(page.page.url).query)
        start, end = date.fromisoformat(query["from"][0]), date.fromisoformat(query["to"][0])
        assert date(2022, 6, 5) <= start < end <= date(2022, 6, 22), (start, end)
        page.page.get_by_text("Drag across the bars").wait_for()
        page.page.wait_for_function(f"() => ({BARS})().length > 0")
        bars, heading = _bars_and_heading(page)
        assert bars == heading
    finally:
        page.close()
