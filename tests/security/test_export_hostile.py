"""Every hostile payload in every text field of events and rings, through every export format.

HTML, KML, KMZ, CSV, GeoJSON and PNG: no evaluated template canary anywhere; KML and GeoJSON parse
strictly and give each payload back (KML without the characters XML 1.0 cannot hold); CSV cells read back
through the csv module; the exported HTML opened in real Chromium with every popup opened and every
tooltip shown runs nothing and requests nothing; the PNG renderer reads no local file and reaches no
socket, even for a page whose markup is hostile itself.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point, box

from dashboard import export
from dashboard.export.kml import xml_text
from dashboard.export.png import render_page
from dashboard.export.tabular import is_formula
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.rings import Ring
from dashboard.scene import Scene, load_basemap
from dashboard.share import ViewState
from tests.security.payloads import CANARIES, EXECUTION_HOOK, PAYLOADS, evaluated_canaries

KML = "{http://www.opengis.net/kml/2.2}"
CENTRE = (49.5, 28.0)  # lat, lon: the grid of events above, the grid of rings below
ZOOM = 5
COLUMNS = 10


def _grid(i: int, top: float) -> tuple[float, float]:
    return 20.0 + 1.6 * (i % COLUMNS), top - 1.0 * (i // COLUMNS)  # lon, lat; ~35 px apart at zoom 5


def hostile_event(i: int, text: str, lon: float, lat: float) -> Event:
    """`text` in every text field an event has (ids and keys too: imported files set them)."""
    place = Place.at(f"place-{i}-{text}", text, "point", lon, lat, admin1=text)
    source = Source(text, text, f"https://example.org/r{i}?q={text}", date(2022, 6, 25), text)
    return Event(f"event-{i}-{text}", text, text, TimeSpan(date(2022, 6, 20), date(2022, 6, 28), "approximate",
                                                          text, text),
                 place, source, description=text, actors=(text, f"second actor {i}"),
                 attributes=((text, text), ("fatalities", text), ("geo_precision", text)))


def hostile_ring(i: int, text: str, lon: float, lat: float) -> Ring:
    """`text` as the ring's label, origin, system, munition and range source; a hand-drawn square."""
    origin = Place(f"origin-{i}", text, "city", Point(lon, lat), country="BY", admin1=text)
    source = Source(text, text, f"https://example.org/range{i}?q={text}", date(2022, 6, 1), text)
    return Ring(text, "ring", origin, 40.0, box(lon - 0.4, lat - 0.3, lon + 0.4, lat + 0.3), system=text,
                munition=text, source=source)


def hostile_scene(payloads: list[str] = PAYLOADS) -> Scene:
    events = tuple(hostile_event(i, p, *_grid(i, 57.0)) for i, p in enumerate(payloads))
    rings = tuple(hostile_ring(i, p, *_grid(i, 49.0)) for i, p in enumerate(payloads))
    return Scene(ViewState(center=CENTRE, zoom=ZOOM), events, rings, ())


@pytest.fixture(scope="module")
def scene() -> Scene:
    return hostile_scene()


@pytest.fixture(scope="module")
def basemap(gazetteer):
    return load_basemap(gazetteer)


TITLE = "\n".join(PAYLOADS)


@pytest.fixture(scope="module")
def outputs(scene, basemap) -> dict[str, str]:
    return {"html": export.to_html(scene, basemap, title=TITLE[:2000]),
            "html-title": export.to_html(Scene(scene.state, (), (), ()), basemap, title=TITLE),
            "picture": export.map_page(scene, basemap, TITLE, picture=True),
            "kml": export.to_kml(scene, title=TITLE), "geojson": export.to_geojson(scene, title=TITLE),
            "csv": export.to_csv(scene),
            "kmz": zipfile.ZipFile(io.BytesIO(export.to_kmz(scene, title=TITLE))).read("doc.kml").decode("utf-8")}


def _as_text(value: object) -> str:
    """A record value as the text formats write it: lists joined by '; ', attributes as JSON, None empty."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------- text formats

@pytest.mark.parametrize("fmt", ["html", "html-title", "picture", "kml", "kmz", "geojson", "csv"])
def test_no_canary_is_evaluated_in_any_output(outputs, fmt):
    assert evaluated_canaries(outputs[fmt]) == []


def test_every_payload_reaches_every_format(outputs):
    """The suite is only as good as its reach: each payload's marker text is in each output in some form."""
    for fmt in ("kml", "geojson", "csv"):
        for n, payload in enumerate(PAYLOADS):
            assert f"event-{n}-" in outputs[fmt], (fmt, payload)
    assert all("{{ 7*7 }}" in outputs[f] for f in ("kml", "kmz", "geojson", "csv"))
    assert all("&#123;&#123; 7*7 &#125;&#125;" in outputs[f] for f in ("html", "html-title", "picture"))
    assert "event-0-" not in outputs["html-title"]


def _strict_json(text: str) -> dict:
    def no_constant(name: str):
        raise AssertionError(f"GeoJSON holds {name}, which JSON does not have")

    return json.loads(text, parse_constant=no_constant)


def test_geojson_parses_strictly_and_gives_every_payload_back_exactly(outputs, scene):
    doc = _strict_json(outputs["geojson"])
    assert doc["reachmap"]["title"] == TITLE
    props = [f["properties"] for f in doc["features"]]
    rings, events = props[:len(scene.rings)], props[len(scene.rings):]
    assert rings == [export.ring_record(r) for r in scene.rings]
    assert events == [export.event_record(e) for e in scene.events]
    for e, p in zip(scene.events, events):
        assert p["title"] == p["description"] == p["quote"] == p["place"] == p["time_text"] == e.title
        assert p["attributes"][e.title] == e.title and p["actors"][0] == e.title


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_kml_parses_strictly_and_gives_every_payload_back_without_what_xml_cannot_hold(outputs, scene, fmt):
    root = ET.fromstring(outputs[fmt].encode("utf-8"))  # expat: any malformed byte is a ParseError
    doc = root.find(f"{KML}Document")
    assert doc.findtext(f"{KML}name") == xml_text(TITLE)
    marks = list(root.iter(f"{KML}Placemark"))
    assert len(marks) == len(scene.rings) + len(scene.events)
    records = [export.ring_record(r) for r in scene.rings] + [export.event_record(e) for e in scene.events]
    names = [r.label for r in scene.rings] + [e.title for e in scene.events]
    for mark, record, name in zip(marks, records, names):
        assert mark.findtext(f"{KML}name") == xml_text(name)
        data = {d.get("name"): d.findtext(f"{KML}value") or "" for d in mark.iter(f"{KML}Data")}
        assert data == {k: xml_text(_as_text(v)) for k, v in record.items()}
        description = mark.findtext(f"{KML}description")
        assert "<" not in description  # Google Earth reads it as HTML: no tag may start
    assert "\r" in "".join(d.findtext(f"{KML}value") or "" for d in root.iter(f"{KML}Data"))  # CR kept


def test_kml_loads_no_icon_from_anywhere(outputs):
    kml = ET.fromstring(outputs["kml"].encode("utf-8"))
    assert kml.find(f".//{KML}Icon") is None and "maps.google.com" not in outputs["kml"]
    kmz = ET.fromstring(outputs["kmz"].encode("utf-8"))
    assert {i.findtext(f"{KML}href") for i in kmz.iter(f"{KML}Icon")} == {"files/event.png"}


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_the_kml_export_of_hostile_data_imports_again(outputs, scene, any_store, tmp_path, gazetteer, fmt):
    from dashboard.ingest.importer import import_file

    path = tmp_path / f"hostile.{fmt}"
    if fmt == "kmz":
        path.write_bytes(export.to_kmz(scene, title=TITLE))
    else:
        path.write_text(outputs["kml"], encoding="utf-8")
    store = any_store  # into a store of each backend
    report = import_file(path, store, gazetteer, format="kml")  # all or nothing: every event must come back
    stored = list(store.events())
    assert report.rejected == ()
    if scene.rings:  # the export's range rings are left out with a note: they are not events
        assert any("range ring" in w for w in report.warnings)
    assert report.stored and report.added == len(stored) == len(scene.events)
    titles = {e.title for e in stored}
    for e in scene.events:  # the importer reads a CR as a line break, as it does for any file
        assert xml_text(e.title).replace("\r\n", "\n").replace("\r", "\n") in titles, e.title


def test_csv_cells_read_back_through_the_csv_module(outputs, scene):
    rows = list(csv.reader(io.StringIO(outputs["csv"], newline="")))
    assert tuple(rows[0]) == export.CSV_FIELDS and len(rows) == len(scene.events) + 1
    for e, row in zip(scene.events, rows[1:]):
        record = export.event_record(e)
        for name, cell in zip(export.EVENT_FIELDS, row):
            want = _as_text(record[name])
            assert cell == ("'" + want if is_formula(want) else want), (name, want)


@pytest.mark.parametrize("cell, formula", [
    ("=1+1", True), ("+1", True), ("-1", True), ("@SUM(A1)", True), ("\t=1", True), ("\r=1", True),
    ("  =1+1", True), ("\u00a0=1", True), ("\n+1", True), ("\u3000@x", True), ("\ufeff=1", True),
    ("Minsk", False), ("Minsk - Kyiv", False), ("1-2", False), ("a=b", False), ("", False),
])
def test_csv_formula_cells_are_prefixed_also_after_leading_whitespace(cell, formula):
    event = hostile_event(0, "x", 30.0, 50.0)
    scene = Scene(ViewState(), (Event(event.id, event.title, event.event_type, event.time, event.place,
                                      event.source, description=cell),), (), ())
    row = next(csv.DictReader(io.StringIO(export.to_csv(scene), newline="")))
    assert row["description"] == ("'" + cell if formula else cell)


# ---------------------------------------------------------------------------------------------- PNG renderer

@pytest.fixture
def listener():
    """A TCP socket listening on loopback, counting every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    hits: list[tuple] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            hits.append(addr)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


def _local_lures(tmp_path: Path, port: int) -> str:
    """Markup that loads local files and pings the listener in every way a page can, and a red local image
    and page covering the view: if any local file loads, the screenshot turns red."""
    from PIL import Image

    red = tmp_path / "red.png"
    Image.new("RGB", (50, 50), (255, 0, 0)).save(red)
    secret = tmp_path / "secret.html"
    secret.write_text("<body style='background:#f00'>secret</body>", encoding="utf-8")
    beacon = f"http://127.0.0.1:{port}"
    cover = "position:fixed;left:0;top:0;width:100%;height:100%;border:0"
    return f"""
        <img src="file:///etc/passwd"><iframe src="file:///etc/hostname"></iframe>
        <link rel="stylesheet" href="file:///etc/hosts"><object data="file:///etc/passwd"></object>
        <img src="{red.as_uri()}" style="{cover}"><iframe src="{secret.as_uri()}" style="{cover}"></iframe>
        <div style="{cover};background:url({red.as_uri()})"></div>
        <img src="{beacon}/img.png"><iframe src="{beacon}/frame"></iframe><link rel="stylesheet" href="{beacon}/c.css">
        <link rel="preconnect" href="{beacon}"><link rel="prefetch" href="{beacon}/prefetch">
        <link rel="dns-prefetch" href="{beacon}"><video src="{beacon}/v.mp4"></video>
        <div style="background:url({beacon}/bg.png)">x</div><style>@import url("{beacon}/import.css");</style>
        <script>
          fetch("{beacon}/fetch").catch(() => 0);
          try {{ navigator.sendBeacon("{beacon}/beacon", "x"); }} catch (e) {{}}
          try {{ new WebSocket("ws://127.0.0.1:{port}/ws"); }} catch (e) {{}}
          try {{ const x = new XMLHttpRequest(); x.open("GET", "file:///etc/passwd"); x.send(); }} catch (e) {{}}
        </script>"""


def _reds(png: bytes) -> int:
    import numpy as np
    from PIL import Image

    # The lures' own pure red (255, 0, 0), give or take rounding: no marker colour or basemap fill is that.
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 245) & (rgb[..., 1] < 12) & (rgb[..., 2] < 12)).sum())


def _served(log: list[tuple[str, str]]) -> list[str]:
    return [url for outcome, url in log if outcome in ("allowed", "finished")
            and not url.startswith(("data:", "blob:")) and url != "about:blank"]


def test_the_png_renderer_reads_no_local_file_and_reaches_no_socket(chromium_path, tmp_path, listener):
    port, hits = listener
    page = ('<!DOCTYPE html><html><head></head><body style="margin:0;background:#fff">'
            '<div class="folium-map leaflet-container"><div class="leaflet-map-pane"></div></div>'
            f"{_local_lures(tmp_path, port)}</body></html>")
    log: list[tuple[str, str]] = []
    png = render_page(page, export.png._chromium(), 400, 300, log=log)
    assert hits == [], "a connection reached the listening socket"
    assert _served(log) == [], log
    assert _reds(png) == 0, "a local file showed in the picture"


def test_an_exported_png_of_hostile_events_reads_and_reaches_nothing(chromium_path, tmp_path, listener, basemap):
    port, hits = listener
    lures = [f'<img src="file:///etc/passwd">', '<iframe src="file:///etc/hostname"></iframe>',
             '<link rel="stylesheet" href="file:///etc/hosts">', f"<img src=http://127.0.0.1:{port}/b.png>",
             f'<iframe src="http://127.0.0.1:{port}/f"></iframe>', _local_lures(tmp_path, port)]
    scene = hostile_scene(PAYLOADS[:20] + lures)
    page = export.map_page(scene, basemap, "\n".join(lures), picture=True)
    assert evaluated_canaries(page) == []
    log: list[tuple[str, str]] = []
    png = render_page(page, export.png._chromium(), 1000, 700, want_vectors=True, log=log)
    assert hits == [] and _served(log) == [] and _reds(png) == 0
    assert export.to_png(scene, basemap, 400, 300).startswith(b"\x89PNG")  # the public path draws it too


# ---------------------------------------------------------------------------------------------- in Chromium

_MAP = "window[document.querySelector('.folium-map').id]"


def _open(browser, path: Path):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(EXECUTION_HOOK)
    page = context.new_page()
    seen = {"requests": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(f"() => {_MAP} && document.querySelector('.leaflet-map-pane')")
    return page, seen


def _outside(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(("file:", "data:", "blob:")) and u != "about:blank"]


def test_exported_html_runs_and_requests_nothing_with_every_popup_and_tooltip_open(
        chromium_path, outputs, scene, tmp_path):
    # In a thread of its own: Playwright's sync API refuses a thread where another test left an asyncio loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_check_html_in_chromium, outputs, scene, tmp_path).result()


# Records the text of every tooltip and popup as Leaflet adds it, so the test needs no round trip per one.
_WATCH = """() => {
  window.__seen = [];
  for (const pane of document.querySelectorAll('.leaflet-tooltip-pane, .leaflet-popup-pane')) {
    new MutationObserver(changes => { for (const c of changes) for (const n of c.addedNodes)
      if (n.nodeType === 1) window.__seen.push(n.innerText); }).observe(pane, {childList: true});
  }
}"""
# A popup that pans the map to fit would move the other markers away from where they were measured.
_NO_AUTOPAN = f"() => {{ {_MAP}.eachLayer(l => {{ const p = l.getPopup && l.getPopup(); if (p) p.options.autoPan = false; }}); }}"
_CLOSE = f"() => {{ {_MAP}.closePopup(); }}"  # in braces: a Leaflet call returns the map, too big to send back
_CENTRES = """(selector) => [...document.querySelectorAll(selector)].map(el => {
  const r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, r.left + 3, r.top + 3];
})"""


def _check_html_in_chromium(outputs, scene, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    files = {}
    for name in ("html", "html-title"):
        files[name] = tmp_path / f"{name}.html"
        files[name].write_text(outputs[name], encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=export.png._chromium(), args=["--headless=new", "--no-sandbox"])
        try:
            page, seen = _open(browser, files["html"])
            # The title box and legend hold every payload too (they ran, or not, on load); hidden here so
            # that no overlay covers a marker while each is clicked.
            page.add_style_tag(content=".rm-legend, .rm-export-title, .rm-export-credit, .leaflet-control-container "
                                       "{ display: none !important; }")
            page.evaluate(_NO_AUTOPAN)
            page.evaluate(_WATCH)
            markers = page.evaluate(_CENTRES, ".leaflet-marker-icon.rm-event-icon")
            rings = page.evaluate(_CENTRES, "path.rm-ring")
            assert len(markers) == len(scene.events) and len(rings) == len(scene.rings)
            for x, y, _, _ in markers:  # a real pointer: it hovers (tooltip), then clicks (popup)
                page.mouse.click(x, y)
                page.evaluate(_CLOSE)
            for _, _, x, y in rings:
                page.mouse.move(x, y)
            page.mouse.move(1, 1)
            shown = page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(window.__seen)))")
            calls = page.evaluate("window.__pwned_calls")
            title_page, title_seen = _open(browser, files["html-title"])
            title_text = title_page.inner_text(".rm-export-title") + title_page.title()
            title_calls = title_page.evaluate("window.__pwned_calls")
        finally:
            browser.close()
    assert calls == [] and title_calls == [], (calls, title_calls)
    assert seen["dialogs"] == [] and title_seen["dialogs"] == []
    assert _outside(seen["requests"]) == [] and _outside(title_seen["requests"]) == []
    assert seen["errors"] == [] and title_seen["errors"] == []  # no payload broke the page's script
    texts = "\n".join(shown)
    popups = sum("Source:" in t for t in shown)
    assert popups == len(scene.events), f"{popups} of {len(scene.events)} popups opened"
    tooltips = len(shown) - popups  # one per marker hovered on its way to the click, one per ring hovered
    assert tooltips >= len(scene.events) + len(scene.rings), f"{tooltips} tooltips shown"
    for source in CANARIES:  # shown literally, as typed
        assert source in texts and source in title_text, source
