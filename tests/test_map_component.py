"""The map in the app's page (dashboard.ui.map_component): what it puts into the page stays in its box."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dashboard import ingest
from dashboard.mapview import assets, bulk_layer
from dashboard.scene import Scene, load_basemap, scene_map
from dashboard.share import ViewState
from dashboard.table import EventTable
from dashboard.ui.map_component import in_page_header


@pytest.fixture
def app_maps(store_path, gazetteer):
    with ingest.open_store(store_path, gazetteer=gazetteer) as store:  # the story, as the app stores it
        events = tuple(store.events())
    table = EventTable.from_store_path(store_path)
    scene = Scene(ViewState(), events, (), (), table, np.arange(len(table)))
    basemap = load_basemap(gazetteer)
    return [assets.use_bundle(scene_map(scene, basemap)),
            assets.use_bundle(scene_map(scene, basemap, with_events=False)),
            assets.use_bundle(scene_map(scene, basemap, interactive=False))], bulk_layer(table, scene.rows)


def _selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    return [sel.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for sel in block.split(",")]


def test_no_style_of_the_map_reaches_outside_its_box(app_maps):
    """folium's header styles `html, body` and `*`; in the app's page that restyled Streamlit itself (a
    click on the Countries box landed on its tag instead of its input)."""
    from streamlit_folium import _get_header

    maps, _ = app_maps
    for m in maps:
        m.get_root().render()
        header = in_page_header(_get_header(m))
        assert not re.search(r"<meta|<script", header)
        selectors = _selectors("".join(re.findall(r"<style>(.*?)</style>", header, flags=re.DOTALL)))
        assert len(selectors) > 10
        outside = [s for s in selectors if not re.match(r"^(\.rm-|\.leaflet-|\.marker-cluster|#map_div\b)", s)]
        assert outside == []


def test_the_page_loads_only_local_scripts_and_styles(app_maps):
    maps, _ = app_maps
    for m in maps:
        js, css = assets.map_links(m)
        assert js[0] == assets.BUNDLE_URL
        assert all(url.startswith(("/app/static/vendor/", "/app/static/bundle/", "/app/static/basemap/"))
                   for url in js + css)
