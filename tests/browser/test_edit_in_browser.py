"""Two analysts in two browsers on one store: one opens an event's editor from its map popup and saves it, the
other sees the change on their map after a rerun, without reloading the page. The server is shared behind a
login proxy (user_header): the editor's change is recorded under the login the proxy names, not the instance's
`user` setting."""

from __future__ import annotations

import pytest

from dashboard.ingest import open_store
from tests.browser.conftest import Page, serve_app

DESNA = "desna-missile-strike-2022-06-25"
HEADER = "X-Forwarded-User"
EDITED = "Desna strike, edited in the browser"

# The tooltips of the map's event markers (each a JSON string the page holds: data, never markup).
TOOLTIPS = ("Object.values(map._layers).filter(l => l.getTooltip && l.getTooltip())"
            ".map(l => l.getTooltip().getContent())")


@pytest.fixture(scope="module")
def edit_url(tmp_path_factory, gazetteer, chromium_path):
    store = tmp_path_factory.mktemp("edit") / "store.gpkg"
    with serve_app(store, env={"REACHMAP_USER": "alice", "REACHMAP_USER_HEADER": HEADER}) as url:
        yield url, store


def _open_desna_popup(page: Page) -> None:
    page.leaflet("(() => { const m = Object.values(map._layers).find(l => l.getTooltip && l.getTooltip()"
                 " && /Desna/.test(l.getTooltip().getContent()) && l.getPopup && l.getPopup());"
                 " m.fire('click'); m.openPopup(); return true; })()")


def test_one_page_edits_from_a_popup_and_another_sees_it_after_a_rerun(browser, edit_url, gazetteer):
    url, store = edit_url
    watcher = Page(browser)
    editor = Page(browser)
    editor.context.set_extra_http_headers({HEADER: "carol"})  # what the login proxy would add
    try:
        watcher.open(f"{url}/?v=1").wait_for_map()
        watcher.map_frame.locator(".rm-event").first.wait_for()
        assert not any(EDITED in t for t in watcher.leaflet(TOOLTIPS))

        editor.open(f"{url}/?v=1").wait_for_map()
        editor.map_frame.locator(".rm-event").first.wait_for()
        _open_desna_popup(editor)
        link = editor.page.locator(".leaflet-popup a.rm-edit").first
        assert link.get_attribute("href") == f"events?edit={DESNA}"
        link.click()
        title = editor.page.get_by_label("Title", exact=True).first
        title.wait_for()
        editor.page.wait_for_function("() => location.pathname.endsWith('/events')")
        assert title.input_value() == "Massive missile strike on Desna launched from Belarus"
        assert editor.page.get_by_text("You edit as carol.").count() == 1
        title.fill(EDITED)
        editor.page.get_by_role("button", name="Save changes").click()
        editor.page.get_by_text(f"Saved “{EDITED}” as version 2").wait_for()
        with open_store(store, gazetteer=gazetteer) as s:
            assert s.get_event(DESNA).title == EDITED and s.history(DESNA)[-1].user == "carol"

        # The watcher's page reruns (a filter change), and its map shows the edited title.
        watcher.page.get_by_text("Story day", exact=True).click()
        watcher.page.wait_for_function("() => location.search.includes('from=2022-06-25')")
        watcher.page.wait_for_function(
            "(want) => { const k = window.reachmapMap instanceof L.Map ? window.reachmapMap : null;"
            " return !!k && Object.values(k._layers).some(l => l.getTooltip && l.getTooltip()"
            " && l.getTooltip().getContent().includes(want)); }", arg=EDITED, timeout=90_000)
        # The editor goes to the Map page and back by the menu: the open editor shows the event again (Streamlit
        # dropped its widgets' values while another page was shown).
        editor.page.locator("[data-testid='stSidebarNav'] a", has_text="Map").click()
        editor.wait_for_map()
        editor.page.locator("[data-testid='stSidebarNav'] a", has_text="Events").click()
        editor.page.wait_for_function(
            "(want) => [...document.querySelectorAll('input[aria-label=\"Title\"]')].some(i => i.value === want)",
            arg=EDITED)
        assert watcher.page.locator("[data-testid='stException']").count() == 0
        assert editor.page.locator("[data-testid='stException']").count() == 0
        assert watcher.external_requests() == [] and editor.external_requests() == []
    finally:
        watcher.close()
        editor.close()
