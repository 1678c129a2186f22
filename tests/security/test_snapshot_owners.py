"""On a shared server (setting user_header) the Snapshots page lists only the user's own snapshots.

A real `streamlit run` with REACHMAP_USER_HEADER set, and Chromium sending the header a login proxy would
add; without it the page lists nothing and says why. Links still open for anyone.
"""

from __future__ import annotations

import pytest

from dashboard.scene import Scene
from dashboard.share import from_query
from dashboard.snapshot import freeze
from dashboard.store import GeoPackageStore
from tests.browser.conftest import Page, serve_app
from tests.conftest import make_event

HEADER = "X-Forwarded-User"


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory, chromium_path, gazetteer):
    path = tmp_path_factory.mktemp("shared") / "shared.gpkg"
    scene = Scene(from_query("?v=1").state, (make_event(),), (), ())
    with GeoPackageStore.open(path) as store:
        ids = {who: freeze(store, scene, f"Snapshot of {who}", None, who) for who in ("ana", "ben")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACHMAP_USER_HEADER", HEADER)
        with serve_app(path) as url:
            yield url, ids


def _page(browser, user: str | None) -> Page:
    page = Page(browser)
    if user:
        page.context.set_extra_http_headers({HEADER: user})
    return page


def test_each_user_lists_only_their_own_snapshots(browser, shared_app):
    url, _ = shared_app
    page = _page(browser, "ana")
    try:
        page.open(f"{url}/snapshots")
        page.page.get_by_text("Snapshot of ana").first.wait_for()
        page.page.get_by_text("Your snapshots (ana)", exact=False).first.wait_for()
        page.page.get_by_role("button", name="Delete").first.wait_for()  # drawn after the titles, on a slow machine
        assert page.page.get_by_text("Snapshot of ben").count() == 0
        assert page.page.get_by_role("button", name="Delete").count() == 1
    finally:
        page.close()


def test_without_the_header_nothing_is_listed_but_links_still_open(browser, shared_app):
    url, ids = shared_app
    page = _page(browser, None)
    try:
        page.open(f"{url}/snapshots")
        page.page.get_by_text("no snapshot is listed", exact=False).first.wait_for()
        assert page.page.get_by_text("Snapshot of").count() == 0
        page.open(f"{url}/?snapshot={ids['ben']}")
        page.page.get_by_text("Snapshot of ben").first.wait_for()
    finally:
        page.close()
