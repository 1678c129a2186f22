"""Regenerate the README's screenshots: the app at 1280×720 (docs/app-1280x720.png) and its map on the
offline basemap (docs/basemap-*.png).

    python docs/screenshots.py

Starts the app (`streamlit run app.py`) on a fresh store in a temporary folder, opens each view in
headless Chromium (the system's /usr/bin/chromium) with every request that would leave the machine
aborted, waits until the basemap has drawn its first view, and saves the map. It fails, writing nothing,
if a view lacks the labels it is meant to show or if any request tried to leave the machine.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from dashboard import settings  # noqa: E402
from tests.browser.conftest import LOCAL_PREFIXES, serve_app  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

VIEWPORT = {"width": 1600, "height": 1300}
# file name: (query, labels that must be drawn)
VIEWS = {
    "basemap-chernihiv-z9.png": ("?v=1&c=51.25,31.0&z=9", {"Chernihiv", "Nizhyn", "Kozelets", "Desna", "Dnieper"}),
    "basemap-belarus-z7.png": ("?v=1&c=53.6,27.9&z=7&ring=iskander-m@Minsk", {"Minsk", "Homyel'", "Pinsk", "Pripyat"}),
    "basemap-eastern-europe-z5.png": ("?v=1&c=51.5,29.0&z=5&reach=iskander-m@BY", {"Kyiv", "Warsaw", "Moscow",
                                                                                 "Black Sea"}),
    "basemap-chernihiv-z9-dark.png": ("?v=1&c=51.25,31.0&z=9&base=vector-dark", {"Chernihiv", "Desna"}),
}
# The whole app as a user first sees it, at 1280×720: sidebar with rings and filters, summary, map.
APP_VIEWS = {"app-1280x720.png": ("?v=1&ring=iskander-m@Minsk&c=52.3,29.5&z=5", {"Minsk", "Kyiv"})}
LABELS = "e => e.reachmapBasemap.labelsInView().map(l => l.text)"


def main() -> int:
    blocked: list[str] = []
    shots: dict[str, bytes] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, serve_app(Path(tmp) / "store.gpkg") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=settings.get("chromium_path"), args=CHROMIUM_ARGS)
        for name, (query, wanted) in {**VIEWS, **APP_VIEWS}.items():
            whole = name in APP_VIEWS
            context = browser.new_context(viewport={"width": 1280, "height": 720} if whole else VIEWPORT)
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL_PREFIXES)
                          else (blocked.append(r.request.url), r.abort()))
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(url + "/" + query)
            iframe = page.locator(".rm-map-box").last  # the map, in the app's page
            frame = iframe
            frame.locator('.leaflet-container[data-basemap="ready"]').wait_for()
            page.wait_for_timeout(500)  # the events' and rings' own frames after the basemap's
            drawn = set(frame.locator(".leaflet-container").evaluate(LABELS))
            if wanted - drawn:
                problems.append(f"{name}: no label {sorted(wanted - drawn)} (drew {len(drawn)} labels)")
            if whole:
                shots[name] = page.screenshot()
            else:
                iframe.scroll_into_view_if_needed()
                shots[name] = iframe.screenshot()
            print(f"{name}: {len(drawn)} labels, {len(shots[name]):,} bytes")
            context.close()
        browser.close()
    problems += [f"a request tried to leave the machine: {u}" for u in blocked]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for name, png in shots.items():
        (ROOT / "docs" / name).write_bytes(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
