"""The whole app as `streamlit run app.py` starts it (Streamlit's AppTest runs the real script)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.settings import PROJECT_DIR


def test_app_opens_on_the_map_page_with_the_story(store_location, gazetteer):
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert not at.title  # the Map page opens on its summary and the map: no title pushes the map down
    assert at.subheader[0].value.startswith("13 events")
    assert at.sidebar.header[0].value == "Range rings"


def test_app_explains_a_broken_geopackage_in_one_sentence(store_path, gazetteer):
    """GeoPackage only: a damaged file (a PostGIS store that cannot be reached: tests/test_postgis_app.py)."""
    store_path.write_bytes(b"garbage")
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert "not a GeoPackage" in at.error[0].value
    assert store_path.read_bytes() == b"garbage"
