"""The GeoPackage side of issue 18: schema version 2 made from a version-1 store in place, or not at all; the
columnar table kept beside the store follows edits and deletions."""

from __future__ import annotations

import sqlite3

import pytest

from dashboard.errors import StoreError
from dashboard.store import GeoPackageStore
from dashboard.store.geopackage import SCHEMA_VERSION
from dashboard.table import EventTable
from tests.conftest import make_event


def version_1_store(path):
    """A store as schema version 1 left it: no version or updated_by column, no history table."""
    with GeoPackageStore.open(path) as s:
        s.put_events([make_event("old1"), make_event("old2", title="Second")], origin="import:2022.csv")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE history")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'history'")
        conn.execute("ALTER TABLE events DROP COLUMN version")
        conn.execute("ALTER TABLE events DROP COLUMN updated_by")
        conn.execute("UPDATE reachmap_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    return path


def columns(path, table):
    with sqlite3.connect(path) as conn:
        found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    conn.close()
    return found


def test_a_version_1_store_is_upgraded_in_place_on_open(tmp_path):
    path = version_1_store(tmp_path / "v1.gpkg")
    assert "version" not in columns(path, "events")
    with GeoPackageStore.open(path) as store:
        assert store.meta()["schema_version"] == str(SCHEMA_VERSION) == "2"
        assert store.count() == 2 and store.version("old1") == store.version("old2") == 1
        [created] = store.history("old2")
        assert (created.action, created.origin, created.user, created.after.title) == \
            ("created", "import:2022.csv", "", "Second")
        assert store.save_event(make_event("old2", title="Edited"), "ann", 1) == 2
    with sqlite3.connect(path) as conn:
        registered = conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'history'").fetchone()
    conn.close()
    assert registered == ("attributes",)
    with GeoPackageStore.open(path) as store:  # opened again: nothing to upgrade, the edit kept
        assert store.get_event("old2").title == "Edited" and store.version("old2") == 2


def test_an_upgrade_that_fails_leaves_the_store_exactly_as_it_was(tmp_path):
    path = version_1_store(tmp_path / "v1.gpkg")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE history (note TEXT)")  # someone's own table in the way
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="left exactly as it was"):
        GeoPackageStore.open(path)
    assert path.read_bytes() == before and "version" not in columns(path, "events")


def test_a_store_of_a_newer_schema_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "future.gpkg"
    GeoPackageStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE reachmap_meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="newer than this Reachmap understands"):
        GeoPackageStore.open(path)


def test_the_kept_table_follows_an_edit_and_a_deletion(tmp_path):
    path = tmp_path / "kept.gpkg"
    with GeoPackageStore.open(path) as store:
        store.put_events([make_event(f"e{i}") for i in range(5)], origin="test")
    assert EventTable.from_store_path(path).title.tolist() == ["A strike"] * 5
    with GeoPackageStore.open(path) as store:
        store.save_event(make_event("e2", title="Edited"), "ann", 1)
    table = EventTable.from_store_path(path)
    assert sorted(table.title.tolist()) == ["A strike"] * 4 + ["Edited"]
    with GeoPackageStore.open(path) as store:
        store.delete_event("e3", "ann", 1)
    assert sorted(EventTable.from_store_path(path).id.tolist()) == ["e0", "e1", "e2", "e4"]
    with GeoPackageStore.open(path) as store:
        store.restore("e3", 1, "ann", None)
    assert len(EventTable.from_store_path(path)) == 5


def test_gdal_reads_the_history_as_a_table(tmp_path):
    import pyogrio

    path = tmp_path / "h.gpkg"
    with GeoPackageStore.open(path) as store:
        store.save_event(make_event("a"), "ann", None)
        store.delete_event("a", "ann", 1)
    assert "history" in {name for name, _ in pyogrio.list_layers(path)}
    frame = pyogrio.read_dataframe(path, layer="history")
    assert frame["action"].tolist() == ["created", "deleted"] and frame["user"].tolist() == ["ann", "ann"]
