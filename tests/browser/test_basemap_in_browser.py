"""The offline labelled basemap in the running app, with every request that would leave the machine blocked.

Labels are drawn on a canvas; the layer lists what it drew (`labelsInView()` on the map container), and
the tests also count the river and region-line colours in a screenshot of the map, so a basemap that lists
labels but paints nothing fails too.
"""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import LOCAL_PREFIXES, Page

CHERNIHIV_Z9 = "/?v=1&near=Chernihiv:100&c=51.3,31.1&z=9"
LABELS = "document.querySelector('.leaflet-container').reachmapBasemap.labelsInView()"
# reachmap-basemap.js, light style: rivers #6d9cc2, region lines #b3a695 (dashed), land #f4f1ea.
RIVER, REGION, LAND = (0x6d, 0x9c, 0xc2), (0xb3, 0xa6, 0x95), (0xf4, 0xf1, 0xea)


class OfflinePage(Page):
    """An app page whose browser reaches nothing but this machine: anything else is recorded and aborted."""

    def __init__(self, browser, width: int = 1400, height: int = 1100):
        super().__init__(browser, width, height)
        self.blocked: list[str] = []

        def route(r):
            if r.request.url.startswith(LOCAL_PREFIXES):
                return r.continue_()
            self.blocked.append(r.request.url)
            return r.abort()

        self.context.route("**/*", route)

    def wait_for_basemap(self) -> None:
        self.wait_for_map()
        self.map_frame.locator('.leaflet-container[data-basemap="ready"]').wait_for(timeout=90_000)

    def labels(self) -> list[dict]:
        return self.map_frame.locator(".leaflet-container").evaluate(f"() => {LABELS}")

    def map_pixels(self) -> np.ndarray:
        png = self.map_frame.screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    def top_query(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.page.url).query)


def near(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 10) -> int:
    return int((np.abs(rgb - np.array(colour)).max(axis=-1) <= tol).sum())


@pytest.fixture
def offline(browser):
    p = OfflinePage(browser)
    yield p
    p.close()


def test_at_zoom_9_over_chernihiv_the_map_names_its_towns_and_draws_rivers_and_oblast_lines(offline, app_url):
    offline.open(app_url + CHERNIHIV_Z9).wait_for_basemap()
    labels = offline.labels()
    places = {lab["text"] for lab in labels if lab["cls"] in ("capital", "city", "town", "village")}
    assert {"Chernihiv", "Nizhyn", "Kozelets", "Mena", "Snovsk"} <= places, sorted(places)
    assert {"Desna", "Dnieper"} <= {lab["text"] for lab in labels if lab["cls"] == "river"}
    chernihiv = next(lab for lab in labels if lab["text"] == "Chernihiv")
    assert chernihiv["cls"] in ("city", "capital")  # a regional centre is emphasised over the towns around it
    # "ready" is set when the tiles have arrived; Leaflet fades them in over the next frames, so the
    # screenshot is taken again until they are painted (or 10 s pass, and the last one is judged).
    deadline = time.monotonic() + 10
    while True:
        rgb = offline.map_pixels()
        painted = (near(rgb, RIVER) > 400, near(rgb, REGION, 6) > 150,
                   near(rgb, LAND, 3) > rgb.shape[0] * rgb.shape[1] * 0.3)
        if all(painted) or time.monotonic() > deadline:
            break
    assert painted[0], "no rivers painted"  # about 1,000 px at 940 × 620
    assert painted[1], "no oblast lines painted"
    assert painted[2], "no land painted"
    assert offline.blocked == [] and offline.external_requests() == []


def test_zooming_in_names_the_village_of_desna_and_never_city_districts(offline, app_url):
    offline.open(app_url + CHERNIHIV_Z9).wait_for_basemap()
    for lat, lon, z, wanted, unwanted in ((50.9274, 30.7668, 11, "Desna", None),
                                          (50.45, 30.52, 11, "Kyiv", {"Obolon", "Pechersk", "Podil", "Darnytsia"})):
        offline.leaflet(f"map.setView([{lat}, {lon}], {z}, {{animate: false}})")
        towns = set()
        for _ in range(100):  # labels are redrawn in an animation frame after the tiles arrive
            towns = {lab["text"] for lab in offline.labels() if lab["cls"] != "river"}
            if wanted in towns:
                break
            offline.page.wait_for_timeout(100)
        assert wanted in towns, sorted(towns)
        assert not (unwanted or set()) & towns
    assert offline.blocked == []


def test_the_dark_style_is_a_permalink_and_the_layer_control_writes_the_choice(offline, app_url):
    offline.open(app_url + CHERNIHIV_Z9 + "&base=vector-dark").wait_for_basemap()
    background = offline.map_frame.locator(".leaflet-container").evaluate("e => e.style.background")
    assert background in ("rgb(23, 34, 45)", "#17222d")  # the dark style's sea
    assert "Chernihiv" in {lab["text"] for lab in offline.labels()}
    offline.map_frame.locator(".leaflet-control-layers").hover()
    offline.map_frame.get_by_text("Offline map", exact=True).click()
    offline.page.wait_for_function("() => !new URL(location.href).searchParams.has('base')")
    offline.map_frame.get_by_text("Place names", exact=True).click()
    offline.page.wait_for_function("() => new URL(location.href).searchParams.get('layers') !== null")
    assert "capitals" not in offline.top_query()["layers"][0].split(",")
    for _ in range(50):
        if offline.labels() == []:
            break
        offline.page.wait_for_timeout(100)
    assert offline.labels() == []
    assert offline.blocked == []
