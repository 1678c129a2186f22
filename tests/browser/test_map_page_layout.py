"""The Map page as a user first sees it: the map fills the first screen, rings are one click away, the link
box always holds the current view."""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_BOX, Page


def _visible_share(page: Page, width: int, height: int) -> float:
    box = page.page.locator(MAP_BOX).last.bounding_box()
    w = max(0.0, min(box["x"] + box["width"], width) - max(box["x"], 0.0))
    h = max(0.0, min(box["y"] + box["height"], height) - max(box["y"], 0.0))
    return w * h / (width * height)


# At 1280×720 the map must cover 60 % of the screen; on a larger screen its fixed 620 px height is all in
# view (the map has a height given in pixels: 49 % of 1600×1000).
@pytest.mark.parametrize("width, height, least", [(1280, 720, 0.6), (1600, 1000, 0.45)])
def test_the_map_fills_most_of_the_first_screen_and_the_quick_rings_are_on_it(browser, app_url, width, height,
                                                                               least):
    page = Page(browser, width, height)
    try:
        page.open(f"{app_url}/?v=1").wait_for_map()
        share = _visible_share(page, width, height)
        assert share >= least, f"the map covers {share:.0%} of a {width}×{height} screen without scrolling"
        box = page.page.locator(MAP_BOX).last.bounding_box()
        assert box["y"] + box["height"] <= height  # the whole map, not only part of it
        quick = page.page.get_by_role("button", name="Iskander-M from Minsk")
        box = quick.bounding_box()
        assert box and box["y"] + box["height"] <= height  # one click away, without scrolling
        quick.click()
        page.map_frame.locator("path.rm-ring").first.wait_for()
        assert _visible_share(page, width, height) >= least  # a ring added does not push the map down
    finally:
        page.close()


def _link_box(page: Page):
    """The "Copy link" box's text field, inside its own component frame."""
    for frame in page.page.frames:
        try:
            if frame.evaluate("() => !!document.getElementById('l') && !!document.getElementById('b')"):
                return frame.locator("#l")
        except Exception:  # a frame that went away while we looked
            continue
    raise AssertionError("no link box on the page")


def test_the_link_box_follows_the_map_without_a_click(page, app_url):
    page.open(f"{app_url}/?v=1&c=52.0,29.0&z=5").wait_for_map()
    link = _link_box(page)
    assert "z=5" in link.input_value()
    page.leaflet("map.setView([51.5, 31.3], 8, {animate: false})")
    page.page.wait_for_function("() => location.href.includes('z=8')")
    for _ in range(50):  # the box polls the address bar
        if link.input_value() == page.page.url:
            break
        page.page.wait_for_timeout(100)
    assert link.input_value() == page.page.url and "z=8" in link.input_value()


def test_a_first_visit_loads_the_map_as_one_script_and_the_menus_only_when_opened(browser, app_url):
    """The first visit of a new browser waits for the code of every widget on the page before it shows any
    (benchmarks/map_page.py): the typed dates, the downloads and the ring form are in menus whose widgets
    are drawn when opened, and the map's scripts come as one file."""
    page = Page(browser, 1280, 720)  # a new context: an empty cache
    try:
        page.open(f"{app_url}/?v=1").wait_for_map()
        loaded = page.page.evaluate("() => performance.getEntriesByType('resource').map(r => r.name)")
        chunks = {url.rsplit("/", 1)[-1].split(".")[0] for url in loaded if "/static/js/" in url}
        assert not chunks & {"DateInput", "DownloadButton", "Radio"}, sorted(chunks)
        scripts = [u.rsplit("/app/static/", 1)[-1] for u in page.requests if "/app/static/" in u and u.endswith(".js")]
        assert scripts == ["bundle/reachmap-map.js"]
        page.page.get_by_role("button", name="Type the dates").click()
        year = page.page.get_by_role("spinbutton", name="year, From")
        year.wait_for()
        assert year.inner_text() == "1992"  # the story's first event
        page.page.keyboard.press("Escape")
        page.page.get_by_role("button", name="Download").click()
        page.page.get_by_role("button", name="GEOJSON").wait_for()
    finally:
        page.close()
