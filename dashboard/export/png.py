"""The exported map as a PNG, drawn by the system's headless Chromium with no network."""

from __future__ import annotations

import importlib
import queue
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dashboard import settings
from dashboard.errors import DashboardError, ValidationError

if TYPE_CHECKING:  # the map's modules bring folium (0.3 s): `start` must not wait for them (see to_png)
    from dashboard.mapview import Basemap
    from dashboard.scene import Scene

Progress = Callable[[float, str], None]

# No host name or address resolves ("MAP * ~NOTFOUND" covers IP literals too): a map never needs the network.
CHROMIUM_ARGS: tuple[str, ...] = ("--headless=new", "--no-sandbox", "--disable-gpu",
                                  "--disable-background-networking", "--disable-component-update",
                                  "--host-resolver-rules=MAP * ~NOTFOUND")
# What the rendered page may load: its own inline code and styles, data:/blob: images and fonts; nothing else
# (no file:, no http(s), no frames, no connections, no forms, no navigation by <base>).
RENDER_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline' data: blob:; "
                 "img-src data: blob:; font-src data: blob:; connect-src 'none'; frame-src 'none'; "
                 "form-action 'none'; base-uri 'none'")
ALLOWED_PREFIXES: tuple[str, ...] = ("data:", "blob:")
RENDER_TIMEOUT_MS = 30_000
MIN_PX, MAX_PX = 200, 8000

_READY_JS = """(wantVectors) => {
  if (document.readyState !== "complete") return false;
  const map = document.querySelector(".folium-map.leaflet-container");
  if (!map || !map.querySelector(".leaflet-map-pane")) return false;
  // the offline basemap: its first view's tiles drawn and its labels painted (reachmap-basemap.js)
  if (map.reachmapBasemap && map.getAttribute("data-basemap") !== "ready") return false;
  return !wantVectors || map.querySelector("path.leaflet-interactive, .leaflet-marker-icon") !== null;
}"""
# Fonts loaded, then two frames: the first lays out what was drawn, the second has painted it.
_PAINTED_JS = ("() => document.fonts.ready.then(() => new Promise("
               "r => requestAnimationFrame(() => requestAnimationFrame(r))))")


def _size(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PX <= value <= MAX_PX:
        raise ValidationError(name, value, f"must be a whole number of pixels from {MIN_PX} to {MAX_PX}")
    return value


def _draws_something(scene: Scene, basemap: Basemap) -> bool:
    shown = set(scene.state.layers)
    return bool(("events" in shown and scene.events) or ({"rings", "reach"} & shown and scene.rings) or
                any(not a.empty for a in scene.launches) or
                ("border" in shown and basemap.border is not None) or scene.bearings)


def _chromium() -> str:
    path = settings.get("chromium_path")
    found = shutil.which(path)  # an executable file, or a command name on PATH ("chromium")
    if found is None:
        raise DashboardError(f"Chromium was not found at {path}; install Debian's chromium package "
                             "(apt-get install chromium) or set REACHMAP_CHROMIUM_PATH.")
    return found


def _with_policy(page_html: str) -> str:
    """The page with the renderer's Content-Security-Policy as the first thing in its head."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{RENDER_POLICY}">'
    at = page_html.find("<head>")
    return page_html[:at + 6] + meta + page_html[at + 6:] if at >= 0 else meta + page_html


def _allowed(url: str) -> bool:
    return url.startswith(ALLOWED_PREFIXES) or url == "about:blank"


class Ahead:
    """A Chromium started before the page it will draw exists: `draw` hands it the page.

    Starting takes 0.6-0.8 s. `render_page` starts it while the map is built; the CLI starts it before it
    even opens the store, so that loading the table, the gazetteer and folium (about 1.5 s for 100k
    events) hides all of it. Close it (or use `with`) if the page is never drawn.
    """

    def __init__(self, executable: str, width: int, height: int,
                 log: list[tuple[str, str]] | None = None) -> None:
        self.size = (_size(width, "width"), _size(height, "height"))
        # Progress is told from the caller's thread, where a UI may update (Streamlit's widgets need its thread).
        self._told: queue.SimpleQueue[tuple[float, str]] = queue.SimpleQueue()
        self._page: Future[tuple[str, bool]] = Future()
        # Playwright's sync API refuses a thread where an asyncio loop runs (Streamlit's, a notebook's, another
        # Playwright's): the browser is driven from a thread of its own, always.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reachmap-png")
        self._done = self._pool.submit(_render, self._page, executable, *self.size,
                                       lambda fraction, message: self._told.put((fraction, message)), log)

    def draw(self, page_html: str | Callable[[], str], want_vectors: bool = False,
             say: Progress | None = None) -> bytes:
        """The screenshot of `page_html` (or of what the function returns, built in the caller's thread)."""
        try:
            self._page.set_result((page_html() if callable(page_html) else page_html, want_vectors))
        except BaseException as exc:
            self._page.set_exception(exc)  # the browser thread closes Chromium; close() waits for that
            self.close()
            raise
        try:
            while not (self._done.done() and self._told.empty()):
                try:
                    fraction, message = self._told.get(timeout=0.05)
                except queue.Empty:
                    continue
                if say is not None:
                    say(fraction, message)
            return self._done.result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the browser if no page came (an error before it); wait for its thread either way."""
        if not self._page.done():
            self._page.set_exception(DashboardError("The map was not drawn: the export stopped before it."))
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_page(page_html: str | Callable[[], str], executable: str, width: int, height: int,
                want_vectors: bool = False, say: Progress | None = None,
                log: list[tuple[str, str]] | None = None) -> bytes:
    """A screenshot of `page_html` in headless Chromium that can read no file and reach no host.

    `page_html` may be a function that builds the page: it runs in the caller's thread while Chromium
    starts in another (starting takes 0.6-0.8 s, building a map of 100k events about 0.4 s).

    Four locks, each enough for the usual case: the page is set as the content of about:blank (no file:
    origin, so Chromium refuses every file: URL, and there is no folder to look around in); a
    Content-Security-Policy allows only inline code and data:/blob: resources; every request other than
    data:, blob: and about:blank is aborted; and name resolution is off (`--host-resolver-rules`), which
    also stops the TCP preconnect Chromium makes for an iframe before any route sees it.
    `log`, when given, receives (outcome, url) for every request the page made: "allowed", "aborted",
    "finished" or "failed" — tests read it.
    """
    return Ahead(executable, width, height, log).draw(page_html, want_vectors, say)


@contextmanager
def offline_tab(executable: str, width: int, height: int, log: list[tuple[str, str]] | None = None):
    """(context, tab) of a headless Chromium that can read no file and reach no host (see render_page),
    width × height pixels; the browser is closed when the block ends. Playwright's sync API: run it in a
    thread of its own."""
    from playwright.sync_api import sync_playwright

    note = log.append if log is not None else (lambda entry: None)

    def route(route) -> None:
        url = route.request.url
        if _allowed(url):
            note(("allowed", url))
            route.continue_()
        else:
            note(("aborted", url))
            route.abort("blockedbyclient")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                          service_workers="block", accept_downloads=False)
            context.route("**/*", route)
            tab = context.new_page()
            tab.on("requestfinished", lambda r: note(("finished", r.url)))
            tab.on("requestfailed", lambda r: note(("failed", r.url)))
            yield context, tab
        finally:
            browser.close()


def show_page(tab, page_html: str, want_vectors: bool) -> None:
    """Set the map page as the tab's content (with the renderer's policy) and wait until it is painted."""
    tab.set_content(_with_policy(page_html), wait_until="load", timeout=RENDER_TIMEOUT_MS)
    tab.wait_for_function(_READY_JS, arg=want_vectors, timeout=RENDER_TIMEOUT_MS, polling="raf")
    tab.evaluate(_PAINTED_JS)


def chromium_failed(exc: Exception, what: str) -> DashboardError:
    """Playwright's error as one sentence: 'Chromium could not draw the map: …'."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DashboardError(f"Chromium could not draw {what}: {first}")


def _render(page: Future[tuple[str, bool]], executable: str, width: int, height: int,
            say: Progress | None, log: list[tuple[str, str]] | None) -> bytes:
    from playwright.sync_api import Error as PlaywrightError

    say = say or (lambda fraction, message: None)
    try:
        say(0.35, "Starting the browser")
        with offline_tab(executable, width, height, log) as (context, tab):
            # built meanwhile by the caller; its error, if any, ends this too
            page_html, want_vectors = page.result()
            say(0.55, "Rendering the map")
            show_page(tab, page_html, want_vectors)
            say(0.85, "Saving the image")
            return screenshot(context, tab)
    except PlaywrightError as exc:
        raise chromium_failed(exc, "the map") from None


def screenshot(context, tab) -> bytes:
    """The viewport as a PNG, encoded for speed: Chromium's fast zlib setting takes half the time of
    Playwright's default encoding (0.15 s against 0.35 s at 1600 × 1000) for a file about 12% larger, and
    the same pixels. Playwright's own screenshot would also wait for fonts, which _PAINTED_JS did."""
    import base64

    cdp = context.new_cdp_session(tab)
    try:
        shot = cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True,
                                                   "captureBeyondViewport": False, "fromSurface": True})
    finally:
        cdp.detach()
    return base64.b64decode(shot["data"])


def to_png(scene: Scene, basemap: Basemap, width: int = 1600, height: int = 1000, title: str | None = None,
           progress: Progress | None = None, *, thumbnail: bool = False, ahead: Ahead | None = None) -> bytes:
    """The exported map as a PNG of width × height pixels, drawn by the system's headless Chromium offline.

    `thumbnail`: the map alone, without title box, legend, credits and controls (snapshot lists).
    `ahead`: a browser already started (`start`) for this picture; its size wins."""
    from dashboard.export.page import map_page  # imported here so that `start` comes up before folium loads

    say = progress or (lambda fraction, message: None)
    if ahead is None:
        ahead = start(width, height)
    say(0.05, "Building the map")
    want_vectors = _draws_something(scene, basemap)
    # Chromium starts while the map is built: at 100k events that is 0.4 s of the 3 s a PNG may take.
    png = ahead.draw(lambda: map_page(scene, basemap, title, picture=True, thumbnail=thumbnail, size=ahead.size),
                     want_vectors, say)
    say(1.0, "Done")
    return png


def start(width: int = 1600, height: int = 1000) -> Ahead:
    """Chromium started for a picture of width × height pixels, to `draw` (or close) later."""
    width, height = _size(width, "width"), _size(height, "height")
    executable = _chromium()
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        raise DashboardError("PNG export needs the playwright package: pip install playwright "
                             "(it drives the system Chromium; no browser download is needed).") from None
    return Ahead(executable, width, height)
