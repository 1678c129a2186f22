"""The exported map as a PNG, drawn by the system's headless Chromium with no network."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dashboard import settings
from dashboard.errors import DashboardError, ValidationError
from dashboard.export.page import map_page
from dashboard.mapview import Basemap
from dashboard.scene import Scene

Progress = Callable[[float, str], None]

CHROMIUM_ARGS: tuple[str, ...] = ("--headless=new", "--no-sandbox", "--disable-gpu",
                                  "--disable-background-networking", "--disable-component-update")
RENDER_TIMEOUT_MS = 30_000
MIN_PX, MAX_PX = 200, 8000

_READY_JS = """(wantVectors) => {
  if (document.readyState !== "complete") return false;
  const map = document.querySelector(".folium-map.leaflet-container");
  if (!map || !map.querySelector(".leaflet-map-pane")) return false;
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
    return bool(("countries" in shown and basemap.countries.get("features")) or
                ("events" in shown and scene.events) or ("capitals" in shown and basemap.capitals) or
                ({"rings", "reach"} & shown and scene.rings) or ("border" in shown and basemap.border is not None))


def _chromium() -> str:
    path = settings.get("chromium_path")
    found = shutil.which(path)  # an executable file, or a command name on PATH ("chromium")
    if found is None:
        raise DashboardError(f"Chromium was not found at {path}; install Debian's chromium package "
                             "(apt-get install chromium) or set REACHMAP_CHROMIUM_PATH.")
    return found


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _render_png(page_html: str, executable: str, width: int, height: int, want_vectors: bool,
                say: Progress) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="reachmap-png-") as tmp:
        path = Path(tmp) / "map.html"
        path.write_text(page_html, encoding="utf-8")
        try:
            with sync_playwright() as pw:
                say(0.35, "Starting the browser")
                browser = pw.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
                try:
                    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1,
                                            service_workers="block")
                    # Nothing but the file itself and its data: URIs; an export never touches the network.
                    page.route("**/*", lambda route: route.continue_()
                               if route.request.url.startswith(("file:", "data:")) else route.abort())
                    say(0.55, "Rendering the map")
                    page.goto(path.as_uri(), wait_until="load", timeout=RENDER_TIMEOUT_MS)
                    page.wait_for_function(_READY_JS, arg=want_vectors, timeout=RENDER_TIMEOUT_MS, polling="raf")
                    page.evaluate(_PAINTED_JS)
                    say(0.85, "Saving the image")
                    png = page.screenshot(type="png", full_page=False)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DashboardError(f"Chromium could not draw the map: {first}") from None
    return png


def to_png(scene: Scene, basemap: Basemap, width: int = 1600, height: int = 1000, title: str | None = None,
           progress: Progress | None = None) -> bytes:
    """The exported map as a PNG of width × height pixels, drawn by the system's headless Chromium offline."""
    say = progress or (lambda fraction, message: None)
    width, height = _size(width, "width"), _size(height, "height")
    executable = _chromium()
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        raise DashboardError("PNG export needs the playwright package: pip install playwright "
                             "(it drives the system Chromium; no browser download is needed).") from None
    say(0.05, "Building the map")
    page_html = map_page(scene, basemap, title, picture=True)
    want_vectors = _draws_something(scene, basemap)
    args = (page_html, executable, width, height, want_vectors, say)
    if not _loop_running():
        png = _render_png(*args)
    else:
        # Playwright's sync API refuses a thread that already runs an asyncio loop (another Playwright,
        # a notebook): render in a thread of its own there.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reachmap-png") as pool:
            png = pool.submit(_render_png, *args).result()
    say(1.0, "Done")
    return png
