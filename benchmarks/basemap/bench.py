"""Benchmark and check the offline labelled basemap (issue 12) in Chromium, alone and in the app.

    python benchmarks/basemap/bench.py [--shots] [--runs 5] [--no-app]

1. The basemap alone (the baseline): serves the repository root on 127.0.0.1 (http.server), opens
   benchmarks/basemap/index.html (Leaflet and the basemap layer, nothing else) in headless Chromium:
   first-view basemap bytes (tiles + index, counted by the server, fresh browser each view); the zoom
   6 -> 10 repaint over Chernihiv (cold: tiles fetched; warm: cached), light and dark; label checks
   (Chernihiv at zoom 9, Desna at zoom 10/11, no city districts).
2. The app, as a user gets it (`streamlit run app.py` on a fresh store, skipped with --no-app): bytes of
   basemap data the map fetched for its first view at zoom 9 over Chernihiv, and the zoom 6 -> 10 repaint
   of the app's map (events, ring, border and basemap) until its tiles and labels are painted.
3. The offline HTML export (dashboard.export.to_html of the Desna strike at zoom 9, opened from disk):
   its size, the basemap bytes in it and its labels.
4. The repository size of the basemap data.
Every request the browser makes is recorded; any that is not to 127.0.0.1 (or file:) fails the run.
--shots writes screenshots of the basemap alone into benchmarks/basemap/ (the README's pictures of the app
come from docs/screenshots.py).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
import zlib
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
VIEWPORT = {"width": 1280, "height": 800}
CHERNIHIV = (51.40, 31.10)
DESNA = (50.92744, 30.76678)
VIEWS = {  # name: (lat, lon, zoom)
    "chernihiv-z9": (*CHERNIHIV, 9), "belarus-z7": (53.7, 27.9, 7), "eastern-europe-z5": (52.0, 30.0, 5),
    "world-z2": (30.0, 20.0, 2),
}
BASEMAP_DATA = [ROOT / "static" / "basemap" / "tiles", ROOT / "geodata" / "basemap",
                ROOT / "static" / "basemap" / "reachmap-basemap.js"]


class Counter(http.server.SimpleHTTPRequestHandler):
    served: dict[str, int] = {}

    def log_message(self, *args):  # quiet
        pass

    def copyfile(self, source, outputfile):
        data = source.read()
        Counter.served[self.path] = Counter.served.get(self.path, 0) + len(data)
        outputfile.write(data)


def serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(Counter, directory=str(ROOT))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def repo_size() -> tuple[int, int, int]:
    files = [p for d in BASEMAP_DATA for p in ([d] if d.is_file() else d.rglob("*")) if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    packed = sum(len(zlib.compress(p.read_bytes(), 9)) for p in files)
    return len(files), raw, packed


LABELS_JS = "document.querySelector('.leaflet-container').reachmapBasemap.labelsInView()"
# Zoom the map in `frame` to z without animation; resolve with the ms until the basemap's tiles are in and
# its labels painted, plus two frames (everything else on the map repaints in those frames too).
ZOOM_JS = """z => new Promise(resolve => {
  const base = document.querySelector('.leaflet-container').reachmapBasemap, map = base._map;
  const t0 = performance.now();
  base.once('load', () => {
    (function wait() {
      if (base._labelFrame || base.isLoading()) return requestAnimationFrame(wait);
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    })();
  });
  map.setZoom(z, {animate: false});
})"""


def export_page(place: tuple[float, float], zoom: int) -> tuple[str, int]:
    """The offline HTML export of one strike at `place` (lat, lon), and the bytes of tiles it embeds."""
    from dashboard import export
    from dashboard.gazetteer import Gazetteer
    from dashboard.mapview.basemap import view_tiles
    from dashboard.model import Place
    from dashboard.scene import Scene, load_basemap
    from dashboard.share import ViewState
    from tests.conftest import make_event

    lat, lon = place
    event = make_event(place=Place.at("geonames:710071", "Desna", "village", lon, lat, country="UA"))
    scene = Scene(ViewState(center=(lat, lon), zoom=zoom), (event,), (), ())
    embedded = sum(len(t.encode()) for t in view_tiles(lon, lat, zoom).values())
    return export.to_html(scene, load_basemap(Gazetteer.open())), embedded


def app_runs(browser, runs: int, watch, failures: list[str]) -> None:
    """The app's own map: first-view basemap bytes and the zoom 6 -> 10 repaint, on a fresh store."""
    from tests.browser.conftest import serve_app

    with tempfile.TemporaryDirectory() as tmp, serve_app(Path(tmp) / "store.gpkg") as url:
        def open_app(query: str):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            watch(page)
            sizes: list[tuple[str, int]] = []
            page.on("requestfinished", lambda r: sizes.append((urlparse(r.url).path, r.sizes()["responseBodySize"])))
            page.goto(url + "/" + query)
            page.locator('.rm-map-box .leaflet-container[data-basemap="ready"]').last.wait_for()
            frame = page.main_frame  # the map is in the app's page (dashboard.ui.map_component)
            return ctx, page, frame, sizes

        print("the app (streamlit run app.py, fresh store; the map with the story's events and border):")
        ctx, page, frame, sizes = open_app("?v=1&c=51.3,31.1&z=9")
        page.wait_for_timeout(300)
        data = sum(n for p, n in sizes if p.startswith("/app/static/basemap/"))
        tiles = sum(1 for p, _ in sizes if p.startswith("/app/static/basemap/tiles/") and "index" not in p)
        labels = frame.evaluate(LABELS_JS)
        print(f"  first view, zoom 9 over Chernihiv: {data:>10,} bytes of basemap data on the wire "
              f"({tiles} tiles, index and script; {len(labels)} labels drawn)")
        if data > 3_000_000:
            failures.append(f"app: first view {data:,} bytes > 3 MB")
        ctx.close()
        for style, base in (("light", ""), ("dark", "&base=vector-dark")):
            cold, warm = [], []
            for run in range(runs):
                ctx, page, frame, _ = open_app(f"?v=1&c={CHERNIHIV[0]},{CHERNIHIV[1]}&z=6{base}")
                cold.append(frame.evaluate(ZOOM_JS, 10))
                if run == 0:
                    for _ in range(runs):
                        frame.evaluate(ZOOM_JS, 6)
                        warm.append(frame.evaluate(ZOOM_JS, 10))
                ctx.close()
            print(f"  zoom 6 -> 10 over Chernihiv, {style:5s}: cold median {statistics.median(cold):4.0f} ms, "
                  f"max {max(cold):4.0f} ms;  warm median {statistics.median(warm):4.0f} ms, "
                  f"max {max(warm):4.0f} ms  ({runs} runs each)")
            if statistics.median(cold) > 500 or statistics.median(warm) > 500:
                failures.append(f"app, {style}: zoom 6->10 repaint over 0.5 s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", action="store_true", help="write the screenshots into benchmarks/basemap/")
    ap.add_argument("--runs", type=int, default=5, help="warm repaint runs (median printed)")
    ap.add_argument("--no-app", dest="app", action="store_false", help="skip the measurements in the app")
    args = ap.parse_args(argv)
    httpd, origin = serve()
    outside: list[str] = []
    failures: list[str] = []

    def watch(page):
        def on_request(req):
            u = urlparse(req.url)
            if not (u.scheme in ("file", "data", "blob") or u.hostname == "127.0.0.1"):
                outside.append(req.url)
        page.on("request", on_request)
        page.on("pageerror", lambda e: failures.append(f"page error: {e}"))

    def block(route):
        u = urlparse(route.request.url)
        if u.scheme in ("file", "data", "blob") or u.hostname == "127.0.0.1":
            return route.continue_()
        return route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def open_page(lat, lon, z, style="light"):
            ctx = browser.new_context(viewport=VIEWPORT)
            ctx.route("**/*", block)
            page = ctx.new_page()
            watch(page)
            page.goto(f"{origin}/benchmarks/basemap/index.html?lat={lat}&lon={lon}&z={z}&style={style}")
            page.wait_for_function("window.bench")
            page.evaluate("bench.settled()")
            page.wait_for_function("document.querySelector('#map').getAttribute('data-basemap-labels') !== null")
            return ctx, page

        print("the basemap alone (benchmarks/basemap/index.html: Leaflet and the basemap layer, nothing else)")
        print("first view (fresh browser, bytes of basemap data fetched):")
        for name, (lat, lon, z) in VIEWS.items():
            Counter.served.clear()
            ctx, page = open_page(lat, lon, z)
            page.evaluate("bench.settled()")
            page.wait_for_timeout(200)
            data = sum(v for k, v in Counter.served.items() if k.startswith("/static/basemap/"))
            tiles = sum(1 for k in Counter.served if k.startswith("/static/basemap/tiles/") and "index" not in k)
            labels = page.evaluate("bench.labels()")
            print(f"  {name:18s} {data:>10,} bytes  ({tiles} tiles, {len(labels)} labels drawn)")
            if data > 3_000_000:
                failures.append(f"{name}: first view {data:,} bytes > 3 MB")
            if args.shots and name != "world-z2":
                page.screenshot(path=str(HERE / f"{name}.png"))
                if name == "chernihiv-z9":
                    page.evaluate("bench.style('dark')")
                    page.wait_for_timeout(200)
                    page.screenshot(path=str(HERE / f"{name}-dark.png"))
            if name == "chernihiv-z9":
                texts = {l["text"] for l in labels}
                for want in ("Chernihiv", "Nizhyn", "Kozelets", "Desna"):
                    if want not in texts:
                        failures.append(f"zoom 9 over Chernihiv: no label {want!r}")
            ctx.close()

        print("zoom 6 -> 10 over Chernihiv (setZoom without animation until tiles and labels are painted):")
        for style in ("light", "dark"):
            cold, warm = [], []
            for run in range(args.runs):
                ctx, page = open_page(*CHERNIHIV, 6, style)  # a fresh browser cache each time
                cold.append(page.evaluate("bench.zoomTo(10)"))
                if run == 0:
                    for _ in range(args.runs):
                        page.evaluate("bench.zoomTo(6)")
                        warm.append(page.evaluate("bench.zoomTo(10)"))
                ctx.close()
            print(f"  {style:5s}: cold (zoom-10 tiles fetched from 127.0.0.1) median {statistics.median(cold):4.0f} ms,"
                  f" max {max(cold):4.0f} ms;  warm (cached) median {statistics.median(warm):4.0f} ms,"
                  f" max {max(warm):4.0f} ms  ({args.runs} runs each)")
            if statistics.median(cold) > 500 or statistics.median(warm) > 500:
                failures.append(f"{style}: zoom 6->10 repaint over 0.5 s")

        print("labels:")
        ctx, page = open_page(*DESNA, 10)
        for z in (10, 11):
            page.evaluate(f"bench.view({DESNA[0]}, {DESNA[1]}, {z})")
            page.wait_for_timeout(100)
            texts = {l["text"] for l in page.evaluate("bench.labels()") if l["cls"] != "river"}
            print(f"  Desna village (GeoNames 710071) labelled at zoom {z}: {'Desna' in texts}")
        if "Desna" not in texts:
            failures.append("Desna is not labelled at zoom 11")
        for (lat, lon, city) in ((50.45, 30.52, "Kyiv"), (52.22, 21.01, "Warsaw")):
            for z in (9, 10, 11):
                page.evaluate(f"bench.view({lat}, {lon}, {z})")
                page.wait_for_timeout(50)
                texts = {l["text"] for l in page.evaluate("bench.labels()")}
                bad = texts & {"Obolon", "Pechersk", "Mokotów", "Podil", "Darnytsia", "Wola", "Praga Południe"}
                if bad:
                    failures.append(f"districts labelled as towns over {city} at zoom {z}: {sorted(bad)}")
            print(f"  {city} zoom 9-11 without district names: "
                  f"{not any(city in f for f in failures)}")
        ctx.close()

        print("offline HTML export (dashboard.export.to_html of the Desna strike at zoom 9, opened from disk):")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.html"
            page_html, embedded = export_page(DESNA, 9)
            path.write_text(page_html, encoding="utf-8")
            ctx = browser.new_context(viewport=VIEWPORT)
            ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                      else (outside.append(route.request.url), route.abort()))
            page = ctx.new_page()
            watch(page)
            page.goto(path.as_uri())
            page.wait_for_function("document.querySelector('.leaflet-container[data-basemap=\"ready\"]')")
            texts = {lab["text"] for lab in page.evaluate(LABELS_JS)}
            print(f"  export.html {path.stat().st_size:,} bytes ({embedded:,} of them basemap tiles); labels at "
                  f"zoom 9 include Chernihiv: {'Chernihiv' in texts}, Desna: {'Desna' in texts}")
            if "Chernihiv" not in texts:
                failures.append("export: no Chernihiv label")
            ctx.close()

        if args.app:
            app_runs(browser, args.runs, watch, failures)
        browser.close()
    httpd.shutdown()

    n, raw, packed = repo_size()
    print(f"repository size of the basemap data: {n:,} files, {raw:,} bytes ({raw / 1e6:.1f} MB; "
          f"{packed / 1e6:.1f} MB zlib-compressed as git stores them)")
    if raw > 60_000_000:
        failures.append("basemap data over 60 MB")
    print(f"requests that left 127.0.0.1/file: {len(outside)}")
    failures += [f"request left the machine: {u}" for u in outside[:10]]
    for f in failures:
        print("FAIL:", f)
    print("basemap benchmark: " + ("all checks passed" if not failures else f"{len(failures)} check(s) failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
