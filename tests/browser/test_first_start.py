"""A first start on a fresh data folder (issue 13): the map comes before the place-name index is complete.

`streamlit run app.py` with no gazetteer index and no store: the story's map must be drawn while the index
of 1.1 million names is still being built in another process, the page must say in words how far that
build is, and once it is complete the words go and name lookups work. (benchmarks/map_page.py times it.)
"""

from __future__ import annotations

import time

from dashboard.gazetteer import INDEX_VERSION, places_path
from tests.browser.conftest import Page, serve_app

WORDS = "first start only"


def test_first_map_before_the_names_then_the_names(tmp_path, browser):
    index = tmp_path / f"gazetteer-v{INDEX_VERSION}.sqlite"
    env = {"REACHMAP_DATA_DIR": str(tmp_path), "REACHMAP_STORE_PATH": None, "REACHMAP_GAZETTEER_INDEX": None}
    with serve_app(None, env) as url:
        page = Page(browser, 1280, 720).open(url + "/")
        try:
            page.wait_for_map()
            page.map_frame.locator(".rm-event").first.wait_for()
            assert page.marker_count() == 13  # the story, seeded into a new store from the places alone
            if not index.exists():  # the names are still being indexed: the page says so, in words
                assert places_path(index).exists()
                caption = page.page.get_by_text(WORDS).first
                caption.wait_for()
                assert "%" in caption.inner_text() and "the map works now" in caption.inner_text()
            deadline = time.monotonic() + 120
            while not index.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert index.exists(), "the place-name index was not complete within 2 minutes"
            page.page.get_by_text(WORDS).first.wait_for(state="detached")  # the words go by themselves
            assert not places_path(index).exists()
            page.page.goto(url + "/?v=1&near=Chernihiv:100")  # a filter by a place name works
            page.wait_for_map()
            page.page.get_by_text("within 100 km of Chernihiv").first.wait_for()
        finally:
            page.close()
