"""The measure tool in the running app: Minsk→Desna on the map equals pyproj (the CLI's figure) to the metre,
and a click while measuring adds a point without reaching the app (no rerun), while a click with the tool
off still does."""

from __future__ import annotations

import json

from dashboard.geodesy import measure_path
from dashboard.rings import resolve_origin
from tests.browser.conftest import Page

VIEW = "/?v=1&c=52.4,29.2&z=7"


def _lat_marks(lat: float) -> bytes:
    """How a clicked latitude appears in the component's state sent to the server (JSON in the BackMsg)."""
    return json.dumps(lat).encode()


def test_minsk_to_desna_on_the_map_equals_the_cli_to_the_metre(browser, app_url, gazetteer, tmp_path):
    minsk, desna = (resolve_origin(name, gazetteer).lonlat for name in ("Minsk", "Desna"))
    leg, = measure_path([minsk, desna])
    page = Page(browser, 1280, 1000)
    sent: list[bytes] = []
    page.page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(
        f if isinstance(f, bytes) else str(f).encode())))
    try:
        page.open(app_url + VIEW).wait_for_map()
        toggle = page.map_frame.locator(".rm-measure-toggle")
        toggle.click()
        page.page.wait_for_function("() => window.reachmapMeasure && window.reachmapMeasure.active()")
        page.page.evaluate(f"() => {{ window.reachmapMeasure.add({minsk[1]}, {minsk[0]});"
                           f" window.reachmapMeasure.add({desna[1]}, {desna[0]}); }}")
        segment = page.map_frame.locator(".rm-measure-segment").first
        shown = segment.inner_text()
        assert f"{leg.km:.3f} km" in shown, (shown, leg.km)
        assert float(segment.get_attribute("data-metres")) == round(leg.km * 1000, 3)
        assert f"bearing {leg.bearing:.1f}°" in shown
        assert f"{leg.nmi:.2f} nmi" in shown
        # Drawn along the geodesic, not as one straight line: the polyline has its densified vertices.
        vertices = page.leaflet("Object.values(map._layers).filter(l => l instanceof L.Polyline &&"
                                " !(l instanceof L.Polygon) && l.options.color === '#c2185b')"
                                ".map(l => l.getLatLngs().length)")
        assert vertices == [len(leg.path)]

        # A real click while measuring: a third point, its segment computed like the others, and the click
        # never reaches the app (the component would send the clicked place to the server).
        box = page.map_frame.locator(".leaflet-container").bounding_box()
        page.page.mouse.click(box["x"] + 640, box["y"] + 380)
        page.page.wait_for_function("() => window.reachmapMeasure.points().length === 3")
        third = page.page.evaluate("() => window.reachmapMeasure.points()[2]")
        second, = measure_path([desna, (third[1], third[0])])
        total = page.map_frame.locator(".rm-measure-total")
        assert float(total.get_attribute("data-metres")) == round((leg.km + second.km) * 1000, 3)
        page.map_frame.screenshot(path=str(tmp_path / "measure-in-app.png"))

        # Esc ends the measurement; a click now is the app's again and reaches it.
        page.page.keyboard.press("Escape")
        page.page.wait_for_function("() => !window.reachmapMeasure.active() &&"
                                    " window.reachmapMeasure.points().length === 0")
        assert page.map_frame.locator(".rm-measure-segment").count() == 0
        page.leaflet("map.once('click', e => { window.__offClick = e.latlng.lat; }) && true")
        page.page.mouse.click(box["x"] + 700, box["y"] + 460)
        page.page.wait_for_function("() => window.__offClick !== undefined")
        off = page.page.evaluate("() => window.__offClick")
        _wait_for_frame(page, sent, _lat_marks(off))  # the control: the check below can see a click reach the app
        assert not any(_lat_marks(third[0]) in frame for frame in sent), "the measuring click reached the app"
        assert page.external_requests() == []
    finally:
        page.close()


def _wait_for_frame(page: Page, sent: list[bytes], marks: bytes) -> None:
    """Until a websocket frame holding `marks` has been sent (Playwright's events arrive while it waits)."""
    for _ in range(600):
        if any(marks in frame for frame in sent):
            return
        page.page.wait_for_timeout(100)  # lets Playwright deliver the frame events; the loop is the condition
    raise AssertionError(f"no frame with {marks!r} was sent to the app")



def test_a_line_of_bearing_measures_its_own_length_and_a_rebuilt_map_keeps_the_measurement(browser, app_url,
                                                                                          gazetteer, tmp_path):
    from dashboard.rings import resolve_bearing

    line = resolve_bearing("Desna", 315, 200, gazetteer, "reported launch direction")
    page = Page(browser, 1280, 1000)
    try:
        page.open(app_url + "/?v=1&bearing=Desna:315:200|reported%20launch%20direction&c=51.7,29.9&z=7").wait_for_map()
        page.map_frame.locator("path.rm-bearing").wait_for()
        drawn = page.leaflet("Object.values(map._layers).filter(l => l.feature && l.feature.properties &&"
                             " l.feature.properties.kind === 'bearing').map(l => l.getLatLngs().map(p => [p.lng, p.lat]))")
        assert drawn == [[list(p) for p in line.path]]  # the geodesic's vertices, as geodesy computed them
        (lon0, lat0), (lon1, lat1) = line.path[0], line.path[-1]
        page.page.evaluate(f"() => {{ window.reachmapMeasure.add({lat0}, {lon0});"
                           f" window.reachmapMeasure.add({lat1}, {lon1}); }}")
        segment = page.map_frame.locator(".rm-measure-segment").first
        assert segment.inner_text().startswith("200.000 km · 107.99 nmi · bearing 315.0°")
        page.map_frame.screenshot(path=str(tmp_path / "bearing-in-app.png"))
        # A change that rebuilds the map (a ring): the measurement comes back from the tab's sessionStorage.
        page.page.get_by_role("button", name="Iskander-M from Minsk").click()
        page.page.wait_for_function("() => { const box = [...document.querySelectorAll('.rm-map-box')].pop();"
                                    " return box && box.querySelector('path.rm-ring') && window.reachmapMeasure &&"
                                    " window.reachmapMeasure.points().length === 2; }")
        assert page.page.evaluate("() => window.reachmapMeasure.active()")
        assert page.map_frame.locator(".rm-measure-segment").first.inner_text().startswith("200.000 km")
        assert page.external_requests() == []
    finally:
        page.close()
