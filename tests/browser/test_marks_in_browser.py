"""What only a browser shows of the map's own marks: ring labels on their line (in the app's map and in
the page the PNG is drawn from), markers that overlap on screen spread out, events at one spot all
listed, country badges beside the capital, and a legend that never covers more than a fifth of the map.

Each map is a standalone file (assets inlined), opened with every request recorded.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from shapely.geometry import LineString

from dashboard import geodesy
from dashboard.mapview import MapView, build_map
from dashboard.mapview.assets import inline
from dashboard.mapview.bulk import add_bulk_events
from dashboard.model import Place
from dashboard.rings import Ring
from dashboard.table import EventTable
from tests.browser.conftest import Page
from tests.conftest import make_event
from tests.test_mapview import BASEMAP, MINSK

MAP = "window[Object.keys(window).find(n => /^map_[0-9a-f]+$/.test(n))]"
DESNA = (30.76678, 50.92744)
BELARUS = Place("country:BY", "Belarus", "country", MINSK.geometry.buffer(2.0), country="BY", pin=MINSK.lonlat)


def ring_from_minsk(km: float) -> Ring:
    return Ring(f"Iskander-M, {km:,.0f} km from Minsk", "ring", MINSK, km, geodesy.range_ring(MINSK.lonlat, km))


def border_envelope(km: float) -> Ring:
    border = Place("border:BY-UA", "Belarus–Ukraine border", "border", LineString([(23.6, 51.5), (31.7, 52.1)]))
    return Ring(f"Iskander-M, {km:,.0f} km from Belarus–Ukraine border", "reach", border, km,
                geodesy.reach_envelope(border.geometry, km))


def standalone(m) -> str:
    """The map as one file that opens offline, basemap script included (as export.page makes it)."""
    from dashboard.mapview.basemap import BASEMAP_DIR, SERVED_PREFIX

    return inline(inline(m.get_root().render()), prefix=SERVED_PREFIX, root=BASEMAP_DIR)


def open_map(browser, tmp_path, events=(), rings=(), view=MapView(), size=(1280, 720), name="map") -> Page:
    html = standalone(build_map(list(events), list(rings), BASEMAP, view, draw=False, sync_url=False))
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page = Page(browser, *size)
    page.open(path.as_uri())
    page.page.wait_for_function(f"() => {MAP} && {MAP}.getContainer().querySelector('.leaflet-marker-icon, path')")
    return page


def labels(page: Page) -> list[dict]:
    """Each ring label: its text, whether it is placed, its box in map pixels and the point it stands on."""
    return page.page.evaluate(f"""() => {{
      const map = {MAP}, at = map.getContainer().getBoundingClientRect();
      return [...document.querySelectorAll('.rm-ring-label')].map(el => {{
        const r = el.firstChild.getBoundingClientRect(), x = r.left + r.width / 2 - at.left, y = r.top + r.height / 2 - at.top;
        const ll = map.containerPointToLatLng([x, y]);
        return {{text: el.textContent, placed: el.dataset.placed, visible: getComputedStyle(el).visibility,
                box: [r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top], lon: ll.lng, lat: ll.lat,
                size: [at.width, at.height], kmPerPx: map.distance(ll, map.containerPointToLatLng([x + 1, y])) / 1000}};
      }});
    }}""")


def move_to(page: Page, centre: tuple[float, float], zoom: int) -> None:
    """Pan and zoom the map as a user would, and wait until the labels were placed for the new view."""
    placed = f"parseInt({MAP}.getContainer().dataset.ringLabelsPlaced || '0')"
    before = page.page.evaluate(f"() => {placed}")
    page.page.evaluate(f"() => {{ {MAP}.setView([{centre[0]}, {centre[1]}], {zoom}); }}")
    page.page.wait_for_function(f"() => {placed} > {before} && !{MAP}._animatingZoom"
                                f" && Math.abs({MAP}.getCenter().lat - {centre[0]}) < 0.01")
    # The zoom animation's transitions may still carry the labels for a frame or two: until they rest.
    page.page.wait_for_function("""() => new Promise(done => {
      const at = () => [...document.querySelectorAll('.rm-ring-label span')].map(s => JSON.stringify(s.getBoundingClientRect())).join();
      const first = at();
      requestAnimationFrame(() => requestAnimationFrame(() => done(at() === first)));
    })""")


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _wait_placed(page: Page, n: int) -> None:
    page.page.wait_for_function(f"() => document.querySelectorAll('.rm-ring-label[data-placed=yes]').length === {n}")


# ------------------------------------------------------------------------------------ ring labels

def test_ring_labels_sit_on_their_line_inside_the_map_and_stay_visible_when_panned(browser, tmp_path):
    rings = [ring_from_minsk(500), ring_from_minsk(300), border_envelope(200)]
    page = open_map(browser, tmp_path, [make_event()], rings, MapView(centre=(28.0, 53.0), zoom=6))
    try:
        for view in ("initial", "panned south", "panned east"):
            _wait_placed(page, 3)
            found = labels(page)
            assert [f["text"] for f in found] == [r.label for r in rings]
            origin = page.page.evaluate(f"() => {{ const p = {MAP}.latLngToContainerPoint([{MINSK.lonlat[1]}, {MINSK.lonlat[0]}]); return [p.x, p.y]; }}")
            for f, ring in zip(found, rings):
                x0, y0, x1, y1 = f["box"]
                w, h = f["size"]
                assert f["visible"] == "visible" and 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (view, f)
                # On the line: the label's centre is at the ring's distance from its origin, within 4 px.
                distance = geodesy.in_range(ring.origin.geometry if ring.kind == "reach" else MINSK.geometry,
                                            ring.radius_km, np.array([f["lon"]]), np.array([f["lat"]])).distance_km[0]
                assert abs(distance - ring.radius_km) <= 4 * f["kmPerPx"] + 1.0, (view, ring.label, distance)
                if ring.kind == "ring":  # never over the point the ring is drawn from
                    assert not (x0 - 4 <= origin[0] <= x1 + 4 and y0 - 4 <= origin[1] <= y1 + 4), (view, f)
            for a, b in zip(found, found[1:]):
                assert not _overlap(a["box"], b["box"]), (view, a, b)
            if view != "panned east":  # first the top of the 500 km ring (58.4° N) goes off the map
                move_to(page, (51.5, 27.5) if view == "initial" else (54.0, 33.0), 7)
        assert page.external_requests() == []
    finally:
        page.close()


def test_a_ring_label_hides_with_its_layer_and_when_the_ring_is_out_of_view(browser, tmp_path):
    page = open_map(browser, tmp_path, [], [ring_from_minsk(100)], MapView(centre=(27.56, 53.9), zoom=6))
    try:
        _wait_placed(page, 1)
        move_to(page, (40.0, 0.0), 6)  # far away
        assert page.page.locator(".rm-ring-label").get_attribute("data-placed") == "no"
        assert labels(page)[0]["visible"] == "hidden"
    finally:
        page.close()


def test_the_page_the_png_is_drawn_from_shows_the_labels_clear_of_the_title_box(browser, tmp_path, gazetteer):
    from dashboard.export.page import map_page
    from dashboard.scene import Scene, load_basemap
    from dashboard.share import ViewState

    scene = Scene(ViewState(center=(53.5, 28.0), zoom=5), (make_event(),), (ring_from_minsk(500), border_envelope(500)), ())
    path = tmp_path / "picture.html"
    path.write_text(map_page(scene, load_basemap(gazetteer), None, picture=True), encoding="utf-8")
    page = Page(browser, 1600, 1000)
    try:
        page.open(path.as_uri())
        _wait_placed(page, 2)
        title = page.page.locator(".rm-export-title").bounding_box()
        box = (title["x"], title["y"], title["x"] + title["width"], title["y"] + title["height"])
        for f in labels(page):
            assert f["visible"] == "visible" and not _overlap(f["box"], box), f
        page.page.screenshot(path=str(tmp_path / "picture.png"))
        assert page.external_requests() == []
    finally:
        page.close()


# ---------------------------------------------------------------------------- events close together

def _markers(page: Page) -> list[dict]:
    return page.page.evaluate("""() => [...document.querySelectorAll('.rm-event')].map(e => {
        const r = e.getBoundingClientRect();
        return {count: parseInt(e.dataset.count), cluster: e.classList.contains('rm-cluster'),
                level: e.dataset.level || '', x: r.left + r.width / 2, y: r.top + r.height / 2,
                box: [r.left, r.top, r.right, r.bottom]}; })""")


def test_markers_that_overlap_on_screen_become_a_count_that_spreads_out_on_click(browser, tmp_path):
    spots = [Place.at(f"p{i}", f"Spot {i}", "village", DESNA[0] + 0.004 * i, DESNA[1]) for i in range(3)]
    events = ([make_event(f"e{i}", title=f"Event {i}", place=spots[i]) for i in range(3)]
              + [make_event("e3", title="Event 3", place=spots[2]), make_event("far", title="Far away", place=MINSK)])
    page = open_map(browser, tmp_path, events, view=MapView(centre=(30.0, 52.0), zoom=7))
    try:
        page.page.wait_for_selector(".rm-cluster")
        # At zoom 7 the three spots lie within 1 px of each other: without the cluster one would cover the others.
        gap = page.page.evaluate(f"() => {MAP}.latLngToContainerPoint([{DESNA[1]}, {DESNA[0] + 0.008}]).x"
                                 f" - {MAP}.latLngToContainerPoint([{DESNA[1]}, {DESNA[0]}]).x")
        assert gap < 2
        before = _markers(page)
        assert sorted((m["cluster"], m["count"]) for m in before) == [(False, 1), (True, 4)]
        assert sum(m["count"] for m in before) == len(events)
        cluster = next(m for m in before if m["cluster"])
        page.page.mouse.click(cluster["x"], cluster["y"])  # a real click on what the user sees
        page.page.wait_for_function("() => document.querySelectorAll('.rm-event:not(.rm-cluster)').length === 4")
        page.page.wait_for_function(f"() => !{MAP}._animatingZoom && !document.querySelector('.leaflet-cluster-anim')")
        spread = [m for m in _markers(page) if not m["cluster"]]
        near = [m for m in spread if abs(m["x"] - cluster["x"]) < 200 and abs(m["y"] - cluster["y"]) < 200]
        assert sorted(m["count"] for m in near) == [1, 1, 2]
        for a, b in zip(near, near[1:]):
            assert not _overlap(a["box"], b["box"])  # each can be clicked
        titles = set()
        for m in near:
            page.page.evaluate(f"() => {{ {MAP}.closePopup(); }}")  # as its × would: it may cover the next marker
            # Wait until it has faded out and gone: on a busy machine a click could land on it, or read it.
            page.page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 0")
            page.page.mouse.click(m["x"], m["y"])
            popup = page.page.locator(".leaflet-popup-content .rm-popup").last
            popup.wait_for()
            titles.add(popup.inner_text().split("\n")[0] + ("+" if "Event 3" in popup.inner_text() else ""))
        assert titles == {"Event 0", "Event 1", "Event 2+"}
        assert page.external_requests() == []
    finally:
        page.close()


def test_a_country_badge_sits_beside_the_capital_not_on_its_marker(browser, tmp_path):
    events = [make_event("by", title="Arms to Belarus", place=BELARUS), make_event("mn", title="Rally", place=MINSK)]
    page = open_map(browser, tmp_path, events, view=MapView(centre=(27.5, 53.9), zoom=6))
    try:
        page.page.wait_for_selector(".rm-country")
        found = _markers(page)
        badge = next(m for m in found if m["level"] == "country")
        dot = next(m for m in found if m["level"] == "point")
        assert not _overlap(badge["box"], dot["box"])
        assert page.page.locator(".rm-country").inner_text().startswith("BY")
        page.page.mouse.click(badge["x"], badge["y"])
        popup = page.page.locator(".leaflet-popup-content .rm-popup").last
        popup.wait_for()
        assert "Located only at country level: Belarus" in popup.inner_text()
    finally:
        page.close()


def test_every_one_of_many_events_at_one_spot_can_be_listed_in_the_clustered_layer(browser, tmp_path):
    here = [make_event(f"minsk-{i:03d}", title=f"Minsk {i}", place=MINSK, day=date(2022, 6, 1 + i % 28))
            for i in range(250)]
    table = EventTable.from_events(here + [make_event("desna")])
    m = build_map([], [], BASEMAP, MapView(centre=(29.0, 52.5), zoom=6, layers=("countries",)), draw=False,
                  sync_url=False)
    add_bulk_events(m, table, np.arange(len(table)), {})
    path = tmp_path / "bulk.html"
    path.write_text(standalone(m), encoding="utf-8")
    page = Page(browser, 1280, 720)
    try:
        page.open(path.as_uri())
        page.page.wait_for_function("() => window.reachmapBulk")
        point = page.page.evaluate(f"() => {{ const p = {MAP}.latLngToContainerPoint([{MINSK.lonlat[1]}, {MINSK.lonlat[0]}]);"
                                   f" const r = {MAP}.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }}")
        page.page.mouse.click(*point)
        page.page.locator(".rm-bulk-list").wait_for()
        assert page.page.locator(".rm-bulk-head").inner_text() == "250 events here"
        more = page.page.locator(".rm-bulk-more")
        while more.is_visible():
            shown = page.page.locator(".rm-bulk-row").count()
            more.click()
            page.page.wait_for_function(f"() => document.querySelectorAll('.rm-bulk-row').length > {shown}")
        rows = page.page.locator(".rm-bulk-row").all_inner_texts()
        assert sorted(r.split(" · ")[0] for r in rows) == [f"minsk-{i:03d}" for i in range(250)]
        assert page.page.evaluate("window.reachmapLastClick.ids.length") == 250
    finally:
        page.close()


# ------------------------------------------------------------------------------------------- legend

TYPES = [f"event type number {i}" for i in range(20)]


@pytest.mark.parametrize("size", [(1280, 720), (800, 600)])
def test_the_legend_of_20_types_and_4_rings_covers_at_most_a_fifth_of_the_map_and_folds(browser, tmp_path, size):
    events = [make_event(f"e{i}", event_type=t, place=Place.at(f"p{i}", f"P{i}", "point", 20 + i, 50.0))
              for i, t in enumerate(TYPES)]
    rings = [ring_from_minsk(km) for km in (100, 200, 300, 500)]
    page = open_map(browser, tmp_path, events, rings, MapView(centre=(28.0, 53.0), zoom=5), size=size,
                    name=f"legend-{size[0]}")
    try:
        def area(selector: str) -> float:
            box = page.page.locator(selector).bounding_box()
            return box["width"] * box["height"]

        map_area = area(".folium-map")
        assert map_area >= 0.9 * size[0] * size[1]
        assert area(".rm-legend") <= 0.20 * map_area
        # Everything in it is reachable: it scrolls to the last ring's row.
        last = page.page.locator(".rm-legend details > div").last
        last.scroll_into_view_if_needed()
        assert last.inner_text() == rings[-1].label and last.is_visible()
        legend_box, row_box = page.page.locator(".rm-legend").bounding_box(), last.bounding_box()
        assert legend_box["y"] <= row_box["y"] and row_box["y"] + row_box["height"] <= legend_box["y"] + legend_box["height"] + 1
        page.page.locator(".rm-legend summary").click()
        page.page.wait_for_function("() => !document.querySelector('.rm-legend details').open")
        assert area(".rm-legend") <= 0.01 * map_area
    finally:
        page.close()
