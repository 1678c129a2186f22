"""The Streamlit app starts and shows the story's events (Streamlit's AppTest runs the real script)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.settings import PROJECT_DIR


def test_app_shows_the_story_events(store_path, gazetteer):
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 13
    assert "Massive missile strike on Desna launched from Belarus" in set(table["title"])


def test_app_explains_a_broken_store_in_one_sentence(store_path, gazetteer):
    store_path.write_bytes(b"garbage")
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "not a GeoPackage" in app.error[0].value
