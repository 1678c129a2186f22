"""What only a browser shows: the map paints the story, filters change it, links restore it, offline."""

from __future__ import annotations

import re

import pytest




def _summary(page) -> str:
    return page.page.locator("h3").first.inner_text()


def _count_in(summary: str) -> int:
    return int(re.match(r"([\d,]+) events?", summary)[1].replace(",", ""))


def test_the_map_shows_the_story_and_nothing_leaves_the_machine(page, app_url):
    page.open(f"{app_url}/?v=1&ring=iskander-m@Minsk").wait_for_map()
    page.map_frame.locator(".rm-event").first.wait_for()
    assert page.marker_count() == 13 == _count_in(_summary(page))
    assert page.map_frame.locator("path.rm-ring").count() == 1
    assert page.leaflet("typeof L.circle") == "function"  # Leaflet is there, and yet:
    assert page.leaflet("Object.values(map._layers).filter(l => l instanceof L.Circle && !(l instanceof L.CircleMarker)).length") == 0
    assert page.external_requests() == []


def test_changing_the_date_filter_changes_the_markers(page, app_url):
    page.open(f"{app_url}/").wait_for_map()
    page.map_frame.locator(".rm-event").first.wait_for()
    before = page.marker_count()
    page.page.get_by_text("Story day", exact=True).click()
    page.page.wait_for_function("() => location.search.includes('from=2022-06-25')")
    page.page.wait_for_function("() => document.querySelector('h3') && /^8 events/.test(document.querySelector('h3').innerText)",
                                timeout=90_000)
    page.wait_for_map()
    frame = page.map_frame
    frame.locator(".rm-event").first.wait_for()
    page.page.wait_for_function(  # the map may be rebuilt: until it is back, the answer is "not yet"
        "() => { const box = [...document.querySelectorAll('.rm-map-box')].pop();"
        " const els = box ? box.querySelectorAll('.rm-event') : [];"
        " return [...els].reduce((n, e) => n + parseInt(e.dataset.count || '1'), 0) === 8; }", timeout=90_000)
    assert page.marker_count() == 8 < before
    assert page.external_requests() == []


def test_a_permalink_reopens_the_same_view_in_a_fresh_browser(page, browser, app_url):
    from tests.browser.conftest import Page

    page.open(f"{app_url}/?v=1&country=UA&ring=iskander-m@Minsk&c=51.2,30.1&z=7").wait_for_map()
    page.map_frame.locator(".rm-event").first.wait_for()
    centre = page.leaflet("[map.getCenter().lat, map.getCenter().lng, map.getZoom()]")
    assert centre == pytest.approx([51.2, 30.1, 7], abs=0.01)
    page.leaflet("map.setView([50.5, 30.5], 8) && true")  # the user pans and zooms
    page.page.wait_for_function("() => /c=50\\.50*,30\\.50*&z=8/.test(location.search)")
    link = page.page.url
    fresh = Page(browser)  # a new context: no cookies, no session state
    try:
        fresh.open(link).wait_for_map()
        fresh.map_frame.locator(".rm-event").first.wait_for()
        again = fresh.leaflet("[map.getCenter().lat, map.getCenter().lng, map.getZoom()]")
        assert again == pytest.approx([50.5, 30.5, 8], abs=0.01)
        assert _summary(fresh) == _summary(page)
        assert fresh.marker_count() == page.marker_count()
        assert fresh.map_frame.locator("path.rm-ring").count() == 1
        assert fresh.external_requests() == []
    finally:
        fresh.close()


def test_clear_all_filters_works_right_after_a_date_preset(page, app_url):
    """The preset pill stayed selected in the browser: each later rerun applied it again and its
    st.rerun() swallowed the next click, so "Clear all filters" did nothing."""
    page.open(f"{app_url}/").wait_for_map()
    page.page.get_by_text("Story day", exact=True).click()
    page.page.wait_for_function("() => location.search.includes('from=2022-06-25')")
    page.page.get_by_text("on 25 Jun 2022", exact=False).first.wait_for()
    page.page.get_by_role("button", name="Clear all filters").click()
    page.page.wait_for_function("() => !location.search.includes('from=')", timeout=60_000)
    page.page.wait_for_function("() => !document.body.innerText.includes('on 25 Jun 2022')", timeout=60_000)
    assert page.page.locator("[data-testid='stException']").count() == 0


def test_a_rectangle_drawn_on_the_map_filters_the_events_and_stays_drawn(page, app_url):
    """The map reports a finished drawing to the app (map_component's last_active_drawing): the area
    becomes the filter, in the link, and the shape stays on the map."""
    page.open(f"{app_url}/?v=1").wait_for_map()
    page.map_frame.locator(".rm-event").first.wait_for()
    before = _count_in(_summary(page))
    # What Leaflet.draw fires when the user finishes a rectangle around Kyiv (the draw tool's own event).
    page.leaflet("map.fire('draw:created', {layer: L.rectangle([[49.6, 27.9], [52.6, 33.2]]),"
                 " layerType: 'rectangle'}) && true")
    page.page.wait_for_function("() => location.search.includes('area=')", timeout=60_000)
    page.page.wait_for_function("() => /^\\d+ events? /.test(document.querySelector('h3').innerText)"
                                f" && !document.querySelector('h3').innerText.startsWith('{before} ')",
                                timeout=60_000)
    assert 0 < _count_in(_summary(page)) < before
    page.wait_for_map()
    page.page.wait_for_function("() => window.reachmapMap && Object.values(window.reachmapMap._layers)"
                                ".some(l => l instanceof L.Polygon && l.getLatLngs()[0].length === 4)")
    assert page.page.locator("[data-testid='stException']").count() == 0


def test_a_click_on_the_map_offers_the_point_as_a_ring_origin(page, app_url):
    page.open(f"{app_url}/?v=1").wait_for_map()
    page.leaflet("map.fire('click', {latlng: L.latLng(51.5, 31.3)}) && true")
    page.page.get_by_text("Clicked point 51.5000, 31.3000", exact=False).wait_for(timeout=60_000)
