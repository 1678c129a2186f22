"""The PNG renderer builds its page while Chromium starts: the page it draws, and a failed build, both end cleanly."""

from __future__ import annotations

import threading

import pytest

from dashboard.errors import DashboardError
from dashboard.export.png import render_page

# What the renderer waits for: a Leaflet map container with its pane (png._READY_JS), here without Leaflet.
PAGE = ("<html><head></head><body style='margin:0'><div class='folium-map leaflet-container'>"
        "<div class='leaflet-map-pane'></div></div></body></html>")


def _png_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("reachmap-png")]


def test_a_page_built_while_chromium_starts_is_drawn(chromium_path):
    built = []

    def build() -> str:
        built.append(threading.current_thread().name)
        return PAGE

    png = render_page(build, chromium_path, 320, 200)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert built == [threading.current_thread().name]  # built in the caller's thread, not the browser's
    assert not _png_threads()


def test_a_page_that_fails_to_build_raises_its_error_and_closes_chromium(chromium_path):
    def build() -> str:
        raise DashboardError("the map could not be built")

    with pytest.raises(DashboardError, match="could not be built"):
        render_page(build, chromium_path, 320, 200)
    assert not _png_threads()  # the browser thread ended, and with it Chromium
