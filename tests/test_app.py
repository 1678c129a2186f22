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


def test_app_explains_a_foreign_postgis_database_in_one_sentence(postgres, gazetteer, tmp_path, monkeypatch):
    """The PostGIS twin of the damaged file: a database holding someone else's tables is refused, untouched."""
    import psycopg

    def tables():
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()

    url = postgres.create()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE theirs (x integer)")
    before = tables()
    monkeypatch.setenv("REACHMAP_STORE_URL", url)
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REACHMAP_GAZETTEER_INDEX", str(gazetteer.path))
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert "is not a Reachmap store" in at.error[0].value and "theirs" in at.error[0].value
    assert tables() == before
