"""The whole app as `streamlit run app.py` starts it (Streamlit's AppTest runs the real script)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.settings import PROJECT_DIR


def test_app_opens_on_the_map_page_with_the_story(store_path, gazetteer):
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Reachmap"
    assert at.subheader[0].value.startswith("13 events")


def test_app_explains_a_broken_store_in_one_sentence(store_path, gazetteer):
    store_path.write_bytes(b"garbage")
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert "not a GeoPackage" in at.error[0].value
    assert store_path.read_bytes() == b"garbage"
