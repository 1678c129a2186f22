"""The chunked ACLED import (issue 15): rows written as the tables' rows give the store that Events would."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from dashboard.errors import StoreError
from dashboard.ingest.importer import import_file, preview_file
from dashboard.ingest.table import CsvStream
from dashboard.store import GeoPackageStore


def export(path: Path, rows: int) -> Path:
    """An ACLED export whose place keys and ids repeat far apart, with bad rows and a control character."""
    rng = random.Random(42)
    lines = ["event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,assoc_actor_1,iso,country,"
             "admin1,location,latitude,longitude,geo_precision,source,notes,fatalities,timestamp"]
    for n in range(rows):
        village = f"Village {n % 97}" if n % 3 else f"Hamlet {n}"
        lat, lon = (50 + (n % 97) / 100, 30 + (n % 97) / 100) if n % 3 else (51 + rng.random(), 31 + rng.random())
        event_id = f"UKR{n}" if n % 211 else "UKR5"  # repeats an id of the first block
        lines.append(f"{event_id},2022-06-{1 + n % 28:02d},{1 + n % 3},Battles,Armed clash,Military Forces of Russia "
                     f"(2000-),Wagner Group; Unknown,804,Ukraine,Chernihiv,{village},"
                     f"{lat if n % 401 else 95:.4f},{lon:.4f},1,Suspilne,\"On that day, fighting near {village}."
                     f" More{chr(7) if n == 77 else ''}.\",{n % 5},{1656979200 + n % 7 * 86400}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def contents(store: GeoPackageStore) -> list[tuple]:
    return [(e, e.place.geometry.wkb, e.attributes, e.place.country, e.place.admin1) for e in store.events()]


@pytest.mark.parametrize("block", [1 << 22, 1 << 15])  # one block, and many (ids and places repeat across them)
def test_chunked_rows_store_what_events_would(any_store, tmp_path, gazetteer, monkeypatch, block):
    """The rows written in chunks to a store of each backend are what the Events give, stored in a GeoPackage."""
    monkeypatch.setattr(CsvStream, "BLOCK_BYTES", block)
    path = export(tmp_path / "acled.csv", 3000)
    preview = preview_file(path, gazetteer, limit=10_000)
    rows = any_store
    with GeoPackageStore.open(tmp_path / "ev.gpkg") as events:
        report = import_file(path, rows, gazetteer, skip_bad=True)
        events.put_events(preview.events, origin=f"import:{path.name}")
        assert report.rejected == preview.rejected and report.added == len(preview.events) == rows.count()
        assert contents(rows) == contents(events)
        assert {r.reason.split(" as ")[0] for r in report.rejected} >= {"the same id", "latitude is out of range: "
                                                                       "it must be between -90 and 90"}
        assert any("Removed control characters" in w for w in report.warnings)


def test_a_geopackage_row_writer_refuses_an_event_whose_place_is_not_stored(tmp_path):
    """GeoPackage only: its writer takes the file's rows as they are, and leans on SQLite's foreign keys."""
    with GeoPackageStore.open(tmp_path / "s.gpkg") as store:
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            with store.bulk_writer("test") as writer:
                row = (b"GP", "e1", "T", "", "t", "2022-01-01", "2022-01-01", "day", "", "", "nowhere", "N", "",
                       30.0, 50.0, "[]", "[]", "S", "P", "", None, "", writer.origin, writer.now)
                writer.write([], [row])
        assert store.count() == 0
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # on again after the write


def test_a_file_arrow_cannot_read_to_the_end_is_read_whole(any_store, tmp_path, gazetteer, monkeypatch):
    path = export(tmp_path / "acled.csv", 400)
    path.write_bytes(path.read_bytes().replace(b"Hamlet 399", b"Hamlet \xe9"))  # Windows-1252 at the end
    monkeypatch.setattr(CsvStream, "BLOCK_BYTES", 1 << 14)
    store = any_store
    report = import_file(path, store, gazetteer, skip_bad=True)
    assert report.stored and store.get_event("acled:UKR399").place.name == "Hamlet é"
    if isinstance(store, GeoPackageStore):
        assert sqlite3.connect(store.path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
