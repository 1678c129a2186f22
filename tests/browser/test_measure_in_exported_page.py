"""The measure tool in an exported HTML file opened from disk: off, a marker's popup opens as before; on, a click
on the same marker measures instead; a segment across the antimeridian is one unrolled geodesic whose length
is pyproj's to the metre."""

from __future__ import annotations

import pytest

from dashboard import export, geodesy
from dashboard.ingest.catalogue import load_catalogue
from dashboard.scene import build_scene, load_basemap
from dashboard.share import from_query
from tests.conftest import make_event


@pytest.fixture(scope="module")
def page_file(tmp_path_factory, gazetteer):
    state = from_query("?v=1&c=51.0,30.5&z=8").state
    scene = build_scene(state, [make_event()], gazetteer, load_catalogue())  # one marker, at Desna
    path = tmp_path_factory.mktemp("measure-page") / "map.html"
    path.write_text(export.to_html(scene, load_basemap(gazetteer)), encoding="utf-8")
    return path


def test_measuring_in_an_exported_page_and_markers_when_it_is_off(browser, page_file):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    outside: list[str] = []
    context.route("**/*", lambda route: route.continue_() if route.request.url == page_file.as_uri()
                  else (outside.append(route.request.url), route.abort()))
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.goto(page_file.as_uri())
        tab.wait_for_function("() => window.reachmapMeasure && document.querySelector('.rm-event')")
        assert not tab.evaluate("() => window.reachmapMeasure.active()")
        marker = tab.locator(".rm-event").first
        marker.click()  # off: the marker's popup, as without the tool
        tab.locator(".leaflet-popup").wait_for()
        tab.locator(".leaflet-popup-close-button").click()
        tab.locator(".leaflet-popup").wait_for(state="detached")

        tab.locator(".rm-measure-toggle").click()
        marker.click()  # on: the click is a point, not a popup
        tab.wait_for_function("() => window.reachmapMeasure.points().length === 1")
        assert tab.locator(".leaflet-popup").count() == 0
        lat, lon = tab.evaluate("() => window.reachmapMeasure.points()[0]")
        assert (lat, lon) == pytest.approx((50.92744, 30.76678), abs=0.01)

        tab.evaluate("() => { const m = window.reachmapMeasure; m.clear(); m.add(-17.8, 178.0); m.add(-16.5, -179.9); }")
        km = geodesy.distance_bearing((178.0, -17.8), (-179.9, -16.5))[0]
        assert float(tab.locator(".rm-measure-total").get_attribute("data-metres")) == round(km * 1000, 3)
        lons = tab.evaluate("() => { const map = Object.values(window).find(v => v instanceof L.Map);"
                            " return Object.values(map._layers).filter(l => l instanceof L.Polyline &&"
                            " l.options.color === '#c2185b').map(l => l.getLatLngs().map(p => p.lng))[0]; }")
        assert lons[0] == 178.0 and lons[-1] == pytest.approx(180.1) and lons == sorted(lons)  # one line over 180°

        tab.locator(".rm-measure-clear").click()  # ×: cleared, still measuring
        assert tab.evaluate("() => [window.reachmapMeasure.points().length, window.reachmapMeasure.active()]") == [0, True]
        tab.locator(".rm-measure-toggle").click()  # the button: off again
        assert not tab.evaluate("() => window.reachmapMeasure.active()")
        assert errors == [] and outside == []
    finally:
        context.close()
