"""A real Streamlit server and a real headless Chromium (the system's, never a downloaded one).

The `chromium_path` fixture (tests/conftest.py) skips these tests with the reason when no browser is
installed, and fails them instead under REACHMAP_REQUIRE_BROWSER=1, as .ci/run sets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from dashboard import settings
from tests.conftest import CHROMIUM_ARGS  # noqa: F401 - the browser tests import it from here

LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:", "file:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_store(tmp_path_factory):
    """The store file the browser tests' app server uses."""
    return tmp_path_factory.mktemp("browser") / "store.gpkg"


@contextmanager
def serve_app(store, env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free localhost port with this store (None: the data folder's);
    stopped when the block ends. `env` adds or (with None values) removes environment variables."""
    port = _free_port()
    env = {**os.environ, **({"REACHMAP_STORE_PATH": str(store)} if store is not None else {}), **(env or {})}
    env = {k: v for k, v in env.items() if v is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(settings.PROJECT_DIR / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=settings.PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # poll the health endpoint: a condition, not a fixed sleep
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not answer its health check within 90 s")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_url(browser_store, gazetteer, chromium_path):
    """The app on its own store, for the whole session."""
    with serve_app(browser_store) as url:
        yield url


MAP_BOX = ".rm-map-box"  # the map in the app's page (dashboard.ui.map_component)


class Page:
    """A browser page on the app that records every request it makes."""

    def __init__(self, browser, width: int = 1400, height: int = 1100):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(90_000)  # CI machines are slow and shared: wait longer, never sleep
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str) -> Page:
        self.page.goto(url)
        return self

    @property
    def map_frame(self):
        """The map's box in the page (dashboard.ui.map_component draws it there, not in an iframe)."""
        # During a rerun Streamlit can hold the outgoing map next to the new one: take the newest.
        return self.page.locator(MAP_BOX).last

    def wait_for_map(self, timeout: float = 90_000) -> None:
        self.map_frame.locator(".leaflet-container").wait_for(timeout=timeout)
        self.map_frame.locator(".leaflet-overlay-pane path").first.wait_for(state="attached", timeout=timeout)

    def leaflet(self, expression: str):
        """Evaluate `expression` with `map` bound to the page's Leaflet map."""
        return self.page.evaluate(
            # The app keeps its map as window.reachmapMap; an exported file as map_<id>.
            "(expr) => { const k = window.reachmapMap instanceof L.Map ? 'reachmapMap'"
            " : Object.keys(window).find(n => /^map_[0-9a-f]+$/.test(n));"
            " return Function('map', 'return ' + expr)(window[k]); }", expression)

    def marker_count(self) -> int:
        """Events on the map: each marker says how many events it stands for."""
        counts = self.map_frame.locator(".rm-event").evaluate_all(
            "els => els.map(e => parseInt(e.dataset.count || '1'))")
        return sum(counts)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_PREFIXES)]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser):
    p = Page(browser)
    yield p
    p.close()
