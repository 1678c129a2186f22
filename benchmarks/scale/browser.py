"""The browser side: serve the pages like the app does, open them in headless Chromium, time the first paint.

Pages are served by a local http.server: ``/app/static/vendor/…`` from static/vendor (as Streamlit serves
it), ``/bench/…`` from the folder the workers wrote. No other host resolves, and every request that would
leave the machine is counted (there should be none).

"Painted" means: the page's load event has fired and two animation frames have run after it (the second
runs once the first frame after load has been composited) — ``window.__painted``; for Reachmap's
clustered layer, which inflates and clusters after load, also ``window.reachmapBulk.paintedAt``, set two
frames after its first canvas draw. The time reported is the later of the two, in the page's own clock
(``performance.now()``, 0 = start of navigation). Nothing sleeps; Playwright polls the condition.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from dashboard.mapview.assets import LOCAL_PREFIX, VENDOR_DIR

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update",
        # No host but this one resolves: a request that would leave the machine fails at once. (Playwright's
        # page.route would also block them, but it turns the HTTP cache off and sends every request
        # through Python — 9,000 markers' icon requests took 45 s that way.)
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")
PAINTED = ("() => window.__painted !== undefined && "
           "(typeof window.ReachmapBulk === 'undefined' || window.reachmapBulk !== undefined) && "
           "(window.reachmapBasemap === undefined || window.reachmapBasemapAt !== undefined)")
PAINT_TIME = ("() => Math.max(window.__painted, window.reachmapBulk ? window.reachmapBulk.paintedAt : 0, "
              "window.reachmapBasemapAt || 0)")


# What streamlit-folium's frontend does with a new feature_group string (index.tsx, finalizeOnRender):
# remove the previous events layer, eval the new one with the map known as `map_div`.
SWAP = """script => {
  const started = performance.now();
  const map = window[Object.keys(window).find(n => /^map_[0-9a-f]+$/.test(n))];
  window.reachmapBulk = undefined;
  for (const layer of Object.values(map._layers)) {
    if (layer instanceof L.FeatureGroup && layer.getLayers().some(l => l instanceof window.ReachmapBulk.Layer)) {
      map.removeLayer(layer);
    }
  }
  window.map_div = map;
  (0, eval)(script);
  return started;
}"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    pages: Path

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith(LOCAL_PREFIX + "/"):
            return str(VENDOR_DIR / path[len(LOCAL_PREFIX) + 1:])
        if path.startswith("/app/static/"):  # the served basemap, as Streamlit serves static/
            return str(VENDOR_DIR.parent / path[len("/app/static/"):])
        if path.startswith("/bench/"):
            return str(self.pages / path[len("/bench/"):])
        return str(self.pages / "__missing__")

    def log_message(self, *args) -> None:  # quiet
        pass


class Server:
    """A threaded local HTTP server for one folder of pages."""

    def __init__(self, pages: Path) -> None:
        handler = type("Handler", (_Handler,), {"pages": pages})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bench/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Chromium:
    """One headless Chromium for the run; each measurement gets a fresh context (empty cache)."""

    def __init__(self) -> None:
        self._pw = sync_playwright().start()
        self.browser: Browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.version = self.browser.version

    def measure(self, url_a: str, url_b: str, timeout_s: float, swap_url: str | None = None) -> dict:
        """Paint page a in a fresh context, then page b in the same tab (warm cache: a filter change).

        With `swap_url` (Reachmap): open page a again, then swap its events layer for the script at
        swap_url the way streamlit-folium applies `feature_group_to_add`, and time until it is painted.
        """
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        blocked: list[str] = []
        page = context.new_page()
        page.on("request", lambda r: None if r.url.startswith(LOCAL) else blocked.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        out: dict = {}
        try:
            for tag, url in (("a", url_a), ("b", url_b)):
                t0 = time.perf_counter()
                page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
                page.wait_for_function(PAINTED, timeout=timeout_s * 1000, polling=20)
                out[f"wall_{tag}_s"] = time.perf_counter() - t0
                out[f"paint_{tag}_s"] = page.evaluate(PAINT_TIME) / 1000.0
                if tag == "a" and page.evaluate("window.reachmapBulk !== undefined"):
                    out["layer_ms"] = page.evaluate("window.reachmapBulk.ms")
                if tag == "a":
                    cdp = context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    out["js_heap_mb"] = metrics.get("JSHeapUsedSize", 0) / 2**20
                    cdp.detach()
            if swap_url:
                page.goto(url_a, wait_until="commit", timeout=timeout_s * 1000)
                page.wait_for_function(PAINTED, timeout=timeout_s * 1000, polling=20)
                script = page.evaluate("url => fetch(url).then(r => r.text())", swap_url)
                started = page.evaluate(SWAP, script)
                page.wait_for_function("() => window.reachmapBulk !== undefined", timeout=timeout_s * 1000,
                                       polling=20)
                out["swap_paint_s"] = (page.evaluate("window.reachmapBulk.paintedAt") - started) / 1000.0
                out["swap_n"] = page.evaluate("window.reachmapBulk.count")
        except Exception as exc:  # noqa: BLE001 - a timeout is a result to report, not a crash
            out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        finally:
            context.close()
        out["blocked"] = blocked
        out["page_errors"] = errors
        return out

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()

