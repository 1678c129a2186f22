"""The app, the columnar table and the CLI on a PostGIS store (REACHMAP_STORE_URL), against the test server."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.model import TimeSpan
from dashboard.settings import PROJECT_DIR
from dashboard.store import GeoPackageStore
from dashboard.table import EventTable, _cache_files
from tests.conftest import BORDER, make_event

pytest.importorskip("psycopg")


@pytest.fixture
def pg_env(postgres, gazetteer, tmp_path, monkeypatch):
    """A fresh PostGIS database as the app's store; data_dir (where its table is kept) in tmp_path."""
    url = postgres.create()
    monkeypatch.setenv("REACHMAP_GAZETTEER_INDEX", str(gazetteer.path))  # the index built once, not again
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REACHMAP_STORE_URL", url)
    return url


def _events():
    return [make_event("b", title="second", day=date(2022, 6, 26), actors=("Russia",)),
            make_event("a", title="first É", time=TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate")),
            make_event("border", place=BORDER, time=TimeSpan.day(date(2022, 2, 24)), description="ÀÉ line")]


def _same(left: EventTable, right: EventTable) -> None:
    for name in ("id", "title", "type_code", "t_start", "t_end", "lon", "lat", "country_code", "admin_code",
                 "actor_code", "place_code", "publisher_code", "place_coarse"):
        assert np.array_equal(getattr(left, name), getattr(right, name)), name
    for name in ("types", "country_sets", "admins", "actor_sets", "publishers"):
        assert getattr(left, name) == getattr(right, name), name
    assert left.text.equals(right.text)
    assert [None if s is None else s.wkt for s in left.place_shapes] == [
        None if s is None else s.wkt for s in right.place_shapes]


def test_the_table_from_postgis_is_the_table_from_the_geopackage_and_is_kept_until_a_write(pg_env, tmp_path):
    from dashboard.store.postgis import PostGISStore

    with GeoPackageStore.open(tmp_path / "same.gpkg") as gpkg, PostGISStore.open(pg_env) as pg:
        gpkg.put_events(_events(), "t")
        pg.put_events(_events(), "t")
        kept = _cache_files(tmp_path / "data" / "postgis-cache" / pg.store_id)
        table = EventTable.from_store(pg_env)
        _same(table, EventTable.from_store_path(gpkg.path))
        assert list(table.id) == ["a", "border", "b"] and all(f.exists() for f in kept)
        stamp = [f.stat().st_mtime_ns for f in kept]
        _same(EventTable.from_store(pg_env), table)  # read back from the kept files
        assert [f.stat().st_mtime_ns for f in kept] == stamp
        pg.put_events([make_event("c", day=date(2022, 7, 1))], "t")
        assert list(EventTable.from_store(pg_env).id) == ["a", "border", "b", "c"]


def test_an_empty_postgis_store_gives_an_empty_table(pg_env):
    from dashboard.store.postgis import PostGISStore

    with PostGISStore.open(pg_env):
        pass
    assert len(EventTable.from_store(pg_env)) == 0


def test_the_map_page_shows_the_events_of_a_postgis_store(pg_env):
    from dashboard.store.postgis import PostGISStore

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=180).run()
    assert not at.exception
    assert at.subheader[0].value.startswith("13 events")  # the new store was seeded with the stories
    with PostGISStore.open(pg_env) as store:
        assert store.count() == 13
        store.put_events([make_event("extra", title="A strike on PostGIS")], "test")
    at.run()
    assert not at.exception and at.subheader[0].value.startswith("14 events")


def test_the_cli_exports_from_a_postgis_store(pg_env, tmp_path, capsys):
    from dashboard.cli import main
    from dashboard.store.postgis import PostGISStore

    with PostGISStore.open(pg_env) as store:
        store.put_events(_events(), "t")  # a made store is not seeded again
    out = tmp_path / "out.geojson"
    assert main(["export", "?v=1&country=BY", "--format", "geojson", "-o", str(out)]) == 0
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["id"] for f in features] == ["border"]
    out_csv = tmp_path / "out.csv"
    assert main(["export", "?v=1", "--format", "csv", "-o", str(out_csv)]) == 0
    assert out_csv.read_text(encoding="utf-8").count("\n") == 4


def test_an_unreachable_store_url_is_one_sentence_in_the_cli(monkeypatch, capsys, tmp_path):
    from dashboard.cli import main

    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REACHMAP_STORE_URL", "postgresql://ana:pw@127.0.0.1:9/none")
    code = main(["export", "?v=1", "--format", "csv", "-o", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code != 0 and "Cannot connect to the store postgresql://ana@127.0.0.1:9/none" in err
    assert "pw" not in err and "Traceback" not in err


def test_store_copy_moves_everything_both_ways_and_refuses_a_full_destination(postgres, tmp_path, capsys):
    from datetime import datetime, timezone

    from dashboard.cli import main
    from dashboard.store.postgis import PostGISStore
    from dashboard.store.snapshots import Snapshot

    source = tmp_path / "source.gpkg"
    with GeoPackageStore.open(source) as store:
        store.put_events(_events()[:2], "story:one")
        store.put_events(_events()[2:], "import:two.csv")
        for n, sid in enumerate("xy"):
            store.put_snapshot(Snapshot(sid * 24, f"view {sid}", datetime(2024, 5, 1, n, tzinfo=timezone.utc),
                                        "?v=1", tuple(_events()[n:]), thumbnail=b"png" if n else None, owner=sid))
        edited, gone = _events()[0], _events()[1]
        store.save_event(replace(edited, title="Retitled by ann"), "ann", 1)
        store.delete_event(gone.id, "bob", 1)
        ids = [e.id for e in _events()]
        expected = (store.events(), store.origins(), store.snapshots(),
                    [store.get_snapshot(s * 24) for s in "xy"], [store.history(i) for i in ids], store.deleted())
    url = postgres.create()
    back = tmp_path / "back.gpkg"
    assert main(["store", "copy", str(source), url]) == 0
    assert main(["store", "copy", url, str(back)]) == 0
    assert "Copied 2 events and 2 snapshots" in capsys.readouterr().out
    for location in (url, back):
        with (PostGISStore.open(location) if location == url else GeoPackageStore.open(location)) as store:
            assert (store.events(), store.origins(), store.snapshots(), [store.get_snapshot(s * 24) for s in "xy"],
                    [store.history(i) for i in ids], store.deleted()) == expected  # histories too, who and when
            assert store.version(edited.id) == 2 and store.restore(gone.id, 1, "cem", None) == 3
    assert main(["store", "copy", str(source), url]) == 2  # not into a store that holds events
    assert "already holds 3 events and 2 snapshots" in capsys.readouterr().err


def test_a_data_folder_that_cannot_be_written_still_gives_the_table(pg_env, tmp_path, monkeypatch):
    from dashboard.store.postgis import PostGISStore

    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(blocker))  # postgis-cache/ cannot be made under a file
    with PostGISStore.open(pg_env) as store:
        store.put_events(_events(), "t")
    assert list(EventTable.from_store(pg_env).id) == ["a", "border", "b"]
