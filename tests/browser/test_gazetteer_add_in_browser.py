"""The Import page adds a GeoNames dump to the gazetteer, as `python -m dashboard gazetteer add` does."""

from __future__ import annotations

import shutil
from pathlib import Path

from dashboard.gazetteer import default_index_path
from tests.browser.conftest import Page, serve_app

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "gazetteer" / "UA-sample.txt"


def test_a_dump_uploaded_on_the_import_page_is_added(tmp_path, browser, gazetteer):
    index = tmp_path / "gazetteer.sqlite"  # a copy: the other tests' index stays as it is
    shutil.copy(default_index_path(), index)
    env = {"REACHMAP_GAZETTEER_INDEX": str(index), "REACHMAP_STORE_PATH": str(tmp_path / "store.gpkg")}
    with serve_app(None, env) as url:
        page = Page(browser, 1280, 900).open(url + "/import")
        try:
            page.page.get_by_text("Add places to the gazetteer from a GeoNames dump").click()
            page.page.locator("[data-testid=stExpander] input[type=file]").first.set_input_files(str(SAMPLE))
            page.page.get_by_role("button", name="Add these places").click()
            done = page.page.get_by_text("populated places in UA-sample")
            done.wait_for(timeout=180_000)
            assert "of 15 populated places" in done.inner_text()
            assert (tmp_path / "gazetteer-additions" / "UA-sample.txt").exists()
        finally:
            page.close()
