"""The Import page adds a GeoNames dump to the gazetteer, as `python -m dashboard gazetteer add` does, and the
map then labels the places the bundled tiles lack."""

from __future__ import annotations

import shutil
from pathlib import Path

from dashboard.gazetteer import default_index_path
from tests.browser.conftest import Page, serve_app
from tests.test_gazetteer import _dump_line

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "gazetteer" / "UA-sample.txt"


def test_a_dump_uploaded_on_the_import_page_is_added(tmp_path, browser, gazetteer):
    index = tmp_path / "gazetteer.sqlite"  # a copy: the other tests' index stays as it is
    shutil.copy(default_index_path(), index)
    env = {"REACHMAP_GAZETTEER_INDEX": str(index), "REACHMAP_STORE_PATH": str(tmp_path / "store.gpkg")}
    dump = tmp_path / "UA-sample.txt"  # the real rows, and a village made up for the test that no tile labels
    dump.write_text(SAMPLE.read_text("utf-8") + _dump_line(999_000_001, "Testivka", 51.1, 31.5), encoding="utf-8")
    with serve_app(None, env) as url:
        page = Page(browser, 1280, 900).open(url + "/import")
        try:
            page.page.get_by_text("Add places to the gazetteer from a GeoNames dump").click()
            page.page.locator("[data-testid=stExpander] input[type=file]").first.set_input_files(str(dump))
            page.page.get_by_role("button", name="Add these places").click()
            done = page.page.get_by_text("populated places in UA-sample")
            done.wait_for(timeout=180_000)
            assert "of 16 populated places" in done.inner_text()
            assert (tmp_path / "gazetteer-additions" / "UA-sample.txt").exists()
            for zoom, shown in ((11, True), (9, False)):  # a village of unknown population: from zoom 10
                page.open(f"{url}/?v=1&c=51.1,31.5&z={zoom}").wait_for_map()
                ready = page.map_frame.locator('.leaflet-container[data-basemap="ready"]')
                ready.wait_for()
                labels = ready.evaluate("e => e.reachmapBasemap.labelsInView()")
                added = [label["text"] for label in labels if label.get("added")]
                assert ("Testivka" in added) is shown, (zoom, added)
                assert any(not label.get("added") for label in labels)  # the tiles' own labels are still there
        finally:
            page.close()
