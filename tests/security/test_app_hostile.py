"""The running app on a store full of hostile strings: Map (popups, tooltips, legend, in-range table),
Events, Sources and Snapshots pages, and a snapshot with a hostile title, opened in a real Chromium.

Every frame (the app and the map's component iframe, which shares the app's origin) gets a hook that
records any payload that runs (`__pwned`, dialogs); every request is recorded and must stay on the app's
own server; no page may show an exception; canaries must never appear evaluated in the page text.
"""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import Scene
from dashboard.share import from_query
from dashboard.snapshot import freeze
from dashboard.store import GeoPackageStore
from tests.browser.conftest import LOCAL_PREFIXES, Page, serve_app
from tests.security.payloads import EXECUTION_HOOK, PAYLOADS, evaluated_canaries

SNAPSHOT_TITLES = ("<img src=http://127.0.0.1:9/h.png>", "![x](http://127.0.0.1:9/md.png)", "ssti<{{ 7*7 }}>end")


def _events() -> list[Event]:
    out = []
    for i, p in enumerate(PAYLOADS):
        place = Place.at(f"hostile:{i}", p, "village", 29.0 + (i % 10) * 0.25, 50.0 + (i // 10) * 0.25,
                         country="UA", admin1=p)
        source = Source(p, p, f"https://example.org/{i}", date(2022, 6, 25), p)
        out.append(Event(id=f"H{i:03d}", title=p, event_type=p if i % 7 == 0 else "missile strike",
                         time=TimeSpan.day(date(2022, 6, 20 + i % 10)), place=place, source=source, description=p,
                         actors=(p,), attributes=(("fatalities", p), ("geo_precision", p))))
    return out


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, chromium_path, gazetteer):
    path = tmp_path_factory.mktemp("hostile-app") / "hostile.gpkg"
    events = _events()
    with GeoPackageStore.open(path) as store:
        store.put_events(events, origin="test:hostile")
        state = from_query("?v=1&from=2022-06-20&to=2022-06-29").state
        ids = [freeze(store, Scene(state, tuple(events[:5]), (), ()), title) for title in SNAPSHOT_TITLES]
    with serve_app(path) as url:
        yield url, ids


@pytest.fixture
def hooked(browser):
    page = Page(browser)
    page.context.add_init_script(EXECUTION_HOOK)  # every frame, the map's iframe included
    page.dialogs = []
    page.page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    page.close()


def _calls(page: Page) -> list[str]:
    calls = []
    for frame in page.page.frames:
        try:
            calls += frame.evaluate("() => window.__pwned_calls || []")
        except Exception:  # noqa: BLE001 - a frame that navigated away has nothing to report
            continue
    return calls


def _clean(page: Page) -> None:
    assert page.page.locator("[data-testid='stException']").count() == 0
    assert _calls(page) == [] and page.dialogs == []
    assert [u for u in page.requests if not u.startswith(LOCAL_PREFIXES)] == []
    assert not [u for u in page.requests if ":9/" in u], "a payload reached the beacon port"
    text = page.page.locator("body").inner_text()
    assert evaluated_canaries(text) == []


def test_the_map_page_with_every_popup_tooltip_and_the_in_range_table(hooked, hostile_app):
    url, _ = hostile_app
    hooked.open(f"{url}/?v=1&from=2022-06-20&to=2022-06-29&ring=300@50.5,30.0&c=50.8,30.2&z=7")
    hooked.wait_for_map()
    frame = hooked.map_frame
    frame.locator(".rm-event-icon").first.wait_for()
    count = frame.locator(".rm-event-icon").count()
    assert count == len(PAYLOADS)
    # One pass in the page: each click opens that marker's popup (Leaflet does it synchronously); a click
    # also makes the app rerun to show the event below the map, so the loop must not wait between them.
    shown = frame.locator(".leaflet-container").first.evaluate(
        "c => [...c.querySelectorAll('.rm-event-icon')].map(m => {"
        " m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));"
        " m.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
        " const p = [...c.querySelectorAll('.leaflet-popup-content .rm-popup')].pop(); return p ? p.innerText : ''; })")
    assert all(shown) and len(set(shown)) == count  # every popup opened, each with its own event
    assert frame.locator(".rm-legend").count() == 1
    hooked.page.get_by_text("In range", exact=True).first.wait_for()
    _clean(hooked)
    assert any("ssti<{{ 7*7 }}>end" in text for text in shown)  # shown as typed


@pytest.mark.parametrize("page_name", ["events", "sources", "snapshots"])
def test_the_other_pages(hooked, hostile_app, page_name):
    url, _ = hostile_app
    hooked.open(f"{url}/{page_name}?v=1&from=2022-06-20&to=2022-06-29")
    hooked.page.locator("[data-testid='stMainBlockContainer'] h1").first.wait_for()
    if page_name == "events":
        hooked.page.locator("[data-testid='stDataFrame']").wait_for()
    if page_name == "sources":
        hooked.page.get_by_text("ssti<{{ 7*7 }}>end", exact=False).first.wait_for()
    if page_name == "snapshots":
        hooked.page.get_by_text(SNAPSHOT_TITLES[0], exact=False).first.wait_for()
        assert hooked.page.locator("[data-testid='stMainBlockContainer'] img[src*=':9/']").count() == 0
    _clean(hooked)


@pytest.mark.parametrize("which", range(len(SNAPSHOT_TITLES)))
def test_a_snapshot_with_a_hostile_title_shows_it_as_text(hooked, hostile_app, which):
    url, ids = hostile_app
    hooked.open(f"{url}/?snapshot={ids[which]}")
    heading = hooked.page.locator("[data-testid='stMainBlockContainer'] h1").first
    heading.wait_for()
    hooked.page.get_by_text(SNAPSHOT_TITLES[which], exact=False).first.wait_for()
    hooked.wait_for_map()
    _clean(hooked)


ARTICLE = ("Russia will hand Iskander-M systems with a range of up to 500 km to Belarus, Putin told Lukashenko in "
           "St. Petersburg on Saturday. " + " ".join(f"A missile strike hit the village of Desna {p}." for p in PAYLOADS[:40]))


def test_the_article_page_with_hostile_text_title_publisher_and_url(hooked, hostile_app):
    url, _ = hostile_app
    hooked.open(f"{url}/article")
    page = hooked.page
    page.get_by_label("Article text").fill(ARTICLE)
    page.get_by_label("Title").first.fill(PAYLOADS[5])
    page.get_by_label("URL").fill("javascript:__pwned(77)")
    page.get_by_label("Publisher").fill(PAYLOADS[0])
    page.get_by_role("button", name="Find places, dates and events").click()
    page.get_by_text("Places in the text").first.wait_for()
    page.get_by_text("is not an http(s) link", exact=False).first.wait_for()
    page.locator("mark").first.wait_for()
    _clean(hooked)
    page.get_by_role("button", name="accepted events").click()
    page.get_by_text("Stored:", exact=False).first.wait_for()
    _clean(hooked)
