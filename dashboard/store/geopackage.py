"""The embedded default store: one GeoPackage file (SQLite) that QGIS and GDAL open as layers.

places and events are feature layers; reachmap_meta, snapshots and history (every recorded change of an
event, store.history) are attribute tables (no geometry).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from dashboard import settings
from dashboard.errors import ConflictError, NotFoundError, StoreError
from dashboard.model import Event, Place, Source, TimeSpan, are_text_pairs
from dashboard.store import gpkg, history, versions
from dashboard.store.base import Change, EventStore, Listed, SourceGroup, WriteSummary, id_list, memory_trimmer
from dashboard.store.rows import (_BATCH, _EVENT_UPSERT_V, _PLACE_UPSERT, RowWriter, _event_rows, _write_events,
                                  _write_with)
from dashboard.store.snapshots import (FROZEN_BATCH, FrozenEvents, FrozenWriter, Snapshot, SnapshotInfo,
                                       frozen_pieces, read_frozen_file)

SCHEMA_VERSION = 2  # 2 (issue 18): events.version and events.updated_by, and the history table

_SCHEMA = """
CREATE TABLE places (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB NOT NULL,
  key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
  country TEXT NOT NULL DEFAULT '', admin1 TEXT NOT NULL DEFAULT '',
  geonameid INTEGER, population INTEGER, pin_lon REAL, pin_lat REAL);
CREATE TABLE events (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB NOT NULL,
  event_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  event_type TEXT NOT NULL, t_start TEXT NOT NULL, t_end TEXT NOT NULL, t_precision TEXT NOT NULL,
  t_text TEXT NOT NULL DEFAULT '', t_note TEXT NOT NULL DEFAULT '',
  place_key TEXT NOT NULL REFERENCES places(key), place_name TEXT NOT NULL,
  countries TEXT NOT NULL DEFAULT '', lon REAL NOT NULL, lat REAL NOT NULL, actors TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '[]',
  source_title TEXT NOT NULL, source_publisher TEXT NOT NULL, source_url TEXT NOT NULL DEFAULT '',
  source_published TEXT, quote TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL, updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, updated_by TEXT NOT NULL DEFAULT '');
CREATE INDEX events_t_start ON events(t_start);
CREATE INDEX events_t_end ON events(t_end);
CREATE INDEX events_lon_lat ON events(lon, lat);
CREATE TABLE reachmap_meta (fid INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, value TEXT NOT NULL);
CREATE TABLE snapshots (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
  created_at TEXT NOT NULL, query TEXT NOT NULL, events TEXT NOT NULL, event_count INTEGER NOT NULL,
  thumbnail BLOB, owner TEXT NOT NULL DEFAULT '');
CREATE INDEX snapshots_created_at ON snapshots(created_at);
""" + history.TABLE_SQL
# GeoPackage asks every table in gpkg_contents for an INTEGER PRIMARY KEY (fid); without one GDAL falls back to
# rowid and loses random access. So the snapshot id is UNIQUE, like reachmap_meta.key, not the primary key.
# snapshots.event_count is kept beside the frozen text so the list of snapshots never reads the frozen events.
# created_at is UTC ISO with microseconds (always the same length), so text order is time order.
# events.attributes is a JSON list of [name, value] pairs: ordered, and readable in QGIS as text.

_TABLES = ("places", "events", "reachmap_meta", "snapshots")  # and, from schema version 2, history

_SQLITE_MAGIC = b"SQLite format 3\x00"

# Called once when a new store is created: yields (events, origin) batches to write into it.
Seed = Callable[[], Iterable[tuple[Iterable[Event], str]]]


class GeoPackageStore(EventStore):
    """Events in a GeoPackage file; created (and seeded) on first use, never overwritten if foreign."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._places: dict[str, Place] = {}
        # One connection may serve several Streamlit sessions (threads); SQLite has one transaction per
        # connection, so writes take turns.
        self._write_lock = threading.RLock()

    @classmethod
    def open(cls, path: Path, seed: Seed | None = None) -> GeoPackageStore:
        """Open the store at path; if the file does not exist, create it atomically, seeded by `seed()`."""
        path = Path(path)
        if not path.exists():
            _create(path, seed)
        check_is_ours(path)
        conn = _connect(path)
        _upgrade(conn, path)
        return cls(conn, path)

    # -- writing ---------------------------------------------------------------------------------

    def put_events(self, events: Iterable[Event], origin: str, user: str | None = None,
                   revision: str | None = None) -> WriteSummary:
        user = settings.user() if user is None else user
        try:
            with self._transaction():
                summary = _write_events(self._conn, events, origin, user, revision)
        except sqlite3.Error as exc:
            raise StoreError(f"Could not write events to the store {self.path} ({exc}); nothing was changed.") from exc
        finally:
            self._places.clear()  # a rolled-back write may have replaced places this cache holds
        return summary

    @contextmanager
    def bulk_writer(self, origin: str, user: str | None = None, revision: str | None = None) -> Iterator[RowWriter]:
        """A RowWriter inside one transaction: committed when the block ends, rolled back if it raises.

        The indexes stay while it writes: dropping the events' date and point indexes and building them again
        before the commit saved CPU time at a million rows but cost more wall time than it saved (the builds
        read the whole table back). SQLite's foreign-key check is off while it writes (a lookup per event, a
        tenth of a million-row import): RowWriter.write checks the same thing per batch, with one query for
        the place keys the batch does not write itself.
        """
        with self._write_lock:  # the pragma holds for the connection, which other threads share
            try:
                self._conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set before it
                with self._transaction():
                    yield RowWriter(self._conn, origin, settings.user() if user is None else user, revision)
            except sqlite3.Error as exc:
                raise StoreError(f"Could not write events to the store {self.path} ({exc}); nothing was "
                                 f"changed.") from exc
            finally:
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._places.clear()  # a rolled-back write may have replaced places this cache holds

    def put_snapshot(self, snapshot: Snapshot) -> None:
        # The text is written a piece at a time into a text of its length (SQLite's incremental blob I/O
        # writes TEXT as well), never made whole: binding it as one str held it three times (Python's, the
        # bound copy, the row's) beside the stream it encodes.
        length, pieces = frozen_pieces(snapshot.events)  # before the transaction: a bad event writes nothing
        try:
            with self._transaction(quiet=True):
                if self._conn.execute("SELECT 1 FROM snapshots WHERE id = ?", (snapshot.id,)).fetchone():
                    raise StoreError(f"A snapshot with id {_shown(snapshot.id)} already exists; snapshots are "
                                     "never overwritten, so make a new id.")
                row = self._conn.execute(
                    "INSERT INTO snapshots (id, title, created_at, query, events, event_count, thumbnail, owner) "
                    "VALUES (?, ?, ?, ?, CAST(zeroblob(?) AS TEXT), ?, ?, ?)",
                    (snapshot.id, snapshot.title, _utc_text(snapshot.created_at), snapshot.query, length,
                     len(snapshot.events), snapshot.thumbnail, snapshot.owner),
                ).lastrowid
                with self._conn.blobopen("snapshots", "events", row) as blob:
                    for piece in pieces:
                        blob.write(piece)
                    if blob.tell() != length:  # frozen_pieces counted wrong: never keep a text cut short
                        raise StoreError(f"Could not save the snapshot in the store {self.path} (its text came "
                                         f"to {blob.tell():,} bytes, not {length:,}); nothing was changed.")
                self._touch("snapshots")
        except sqlite3.Error as exc:
            raise StoreError(f"Could not save the snapshot in the store {self.path} ({exc}); "
                             "nothing was changed.") from exc

    def set_snapshot_thumbnail(self, snapshot_id: str, thumbnail: bytes) -> bool:
        return self._change_snapshots("UPDATE snapshots SET thumbnail = ? WHERE id = ?", (thumbnail, snapshot_id),
                                      "save the snapshot's picture in", "the snapshot itself is kept")

    def delete_snapshot(self, snapshot_id: str, owner: str | None = None) -> bool:
        sql, args = "DELETE FROM snapshots WHERE id = ?", (snapshot_id,)
        if owner is not None:
            sql, args = sql + " AND owner = ?", args + (owner,)
        return self._change_snapshots(sql, args, "delete the snapshot from", "nothing was changed")

    def _change_snapshots(self, sql: str, args: tuple, doing: str, outcome: str) -> bool:
        """Run one UPDATE or DELETE on snapshots in a transaction; True if it touched a row."""
        try:
            with self._transaction(quiet=True):
                changed = self._conn.execute(sql, args).rowcount > 0
                if changed:
                    self._touch("snapshots")
        except sqlite3.Error as exc:
            raise StoreError(f"Could not {doing} the store {self.path} ({exc}); {outcome}.") from exc
        return changed

    # -- edits with history (issue 18) ------------------------------------------------------------

    def version(self, event_id: str) -> int:
        row = self._conn.execute("SELECT version FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No event with id {_shown(event_id)} in the store {self.path}.")
        return row[0]

    def save_event(self, event: Event, user: str, expected_version: int | None, origin: str = "edit") -> int:
        with self._writing("save the event in"):
            current = self._current(event.id)
            if (new := history.save_new_or_check(self, event, user, expected_version, origin, current)) is not None:
                return new
            writer = RowWriter(self._conn, origin, user)
            _write_with(writer, [event], origin)
            return current[0] + writer.updated

    def delete_event(self, event_id: str, user: str, expected_version: int, origin: str = "edit") -> int:
        with self._writing("delete the event from"):
            current = self._current(event_id)
            self._require_version(event_id, current, expected_version, "deleted")
            self._delete([event_id], user, origin)
            return current[0] + 1

    def delete_events(self, event_ids: Sequence[str], user: str, origin: str) -> int:
        ids = list(dict.fromkeys(event_ids))  # an id twice is deleted once
        deleted = 0
        with self._writing("delete the events from"):
            for at in range(0, len(ids), _BATCH * 10):
                deleted += self._delete(ids[at:at + _BATCH * 10], user, origin)
        return deleted

    def history(self, event_id: str) -> list[Change]:
        rows = self._conn.execute("SELECT * FROM history WHERE event_id = ? ORDER BY version", (event_id,)).fetchall()
        row = self._conn.execute("SELECT * FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row is None and not rows:
            raise NotFoundError(f"The store {self.path} never held an event with id {_shown(event_id)}.")
        current = self._event(row) if row is not None else None
        meta = (row["version"], row["origin"], row["updated_by"], row["updated_at"]) if row is not None else None
        return history.changes(rows, current, meta)

    def restore(self, event_id: str, version: int, user: str, expected_version: int | None) -> int:
        with self._writing("restore the event in"):
            return history.restore_version(self, event_id, version, user, expected_version,
                                           self._current(event_id), self.history(event_id))

    def deleted(self, limit: int = 100) -> list[Change]:
        rows = self._conn.execute(history.STILL_DELETED_SQL, (limit,)).fetchall()
        return [Change(r["event_id"], r["version"], r["action"], r["user"], history.moment(r["at"]), r["origin"],
                       history.event_from_state(r["state"]), None) for r in rows]

    def _current(self, event_id: str) -> tuple[int, str, str] | None:
        """(version, updated_by, updated_at) of a stored event; None if there is none."""
        row = self._conn.execute("SELECT version, updated_by, updated_at FROM events WHERE event_id = ?",
                                 (event_id,)).fetchone()
        return tuple(row) if row is not None else None

    def _deletion(self, event_id: str) -> tuple[int, str, str] | None:
        """(version, user, at) of the deletion of an event that is deleted now; None if it is not."""
        row = self._conn.execute(history.DELETED_SQL, (json.dumps([event_id]),)).fetchone()
        if row is None:
            return None
        detail = self._conn.execute("SELECT user, at FROM history WHERE event_id = ? AND version = ?",
                                    (event_id, row[1])).fetchone()
        return row[1], detail[0], detail[1]

    def _require_version(self, event_id: str, current: tuple | None, expected: int, doing: str) -> None:
        """ConflictError unless the event is stored at version `expected`; NotFoundError if never stored."""
        if current is not None and current[0] == expected:
            return
        if current is None:
            gone = self._deletion(event_id)
            if gone is None:
                raise NotFoundError(f"No event with id {_shown(event_id)} in the store {self.path}.")
            raise ConflictError(f"The event {_shown(event_id)} was deleted by {gone[1] or 'someone'} at {gone[2][:19]} "
                                f"UTC (version {gone[0]}) after you opened version {expected}; nothing was {doing}. "
                                "Restore it first if it should stay.", None, gone[0])
        raise ConflictError(f"The event {_shown(event_id)} was changed by {current[1] or 'someone'} at "
                            f"{current[2][:19]} UTC (now version {current[0]}) after you opened version {expected}; "
                            f"nothing was {doing}. Compare the two versions, then save from version {current[0]}.",
                            self.get_event(event_id), current[0])

    def _write_one(self, event: Event, user: str, origin: str, action: str, version: int, had_row: bool) -> None:
        """Write one event at `version`, recording `action` (the replaced row's state if it had one)."""
        at = history.now_text()
        if had_row:
            self._conn.execute(history.RECORD_ROW_SQL, (action, user, at, origin, event.id))
        else:
            self._conn.execute(history.RECORD_NEW_SQL, (event.id, version, action, user, at, origin))
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for place_rows, event_rows in _event_rows([event], origin, now):
            self._conn.executemany(_PLACE_UPSERT, place_rows)
            self._conn.executemany(_EVENT_UPSERT_V, [row + (version, user) for row in event_rows])

    def _delete(self, ids: list[str], user: str, origin: str) -> int:
        """Record the rows of these ids as deleted, then remove them; how many there were."""
        text = json.dumps(ids)
        self._conn.execute(history.RECORD_ROWS_SQL, ("deleted", user, history.now_text(), origin, text))
        return self._conn.execute("DELETE FROM events WHERE event_id IN (SELECT value FROM json_each(?))",
                                  (text,)).rowcount

    @contextmanager
    def _writing(self, doing: str) -> Iterator[None]:
        """One write transaction of an edit; an SQLite error becomes one sentence, and nothing is written."""
        try:
            with self._transaction():
                yield
        except sqlite3.Error as exc:
            raise StoreError(f"Could not {doing} the store {self.path} ({exc}); nothing was changed.") from exc
        finally:
            self._places.clear()  # a rolled-back write may have replaced places this cache holds

    @contextmanager
    def _transaction(self, quiet: bool = False) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back if anything in it raises.

        `quiet`: the block touches no event or place (snapshots only), which is noted for what is kept
        beside the store (store.versions)."""
        with self._write_lock:
            self._conn.execute("BEGIN IMMEDIATE")  # outside the try: if BEGIN fails there is nothing to undo
            try:
                before = versions.file_version(self.path) if quiet else None  # no one else can commit now
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            if quiet:
                versions.note_quiet_write(self.path, before, versions.file_version(self.path))

    def _touch(self, table: str) -> None:
        # GeoPackage readers (QGIS) look at last_change to see that a table's content changed.
        self._conn.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                           "WHERE table_name = ?", (table,))

    # -- reading ---------------------------------------------------------------------------------

    def events(self, start: date | None = None, end: date | None = None,
               countries: tuple[str, ...] = ()) -> list[Event]:
        sql = ["SELECT * FROM events WHERE 1=1"]
        args: list[object] = []
        if start is not None:
            sql.append("AND t_end >= ?")
            args.append(start.isoformat())
        if end is not None:
            sql.append("AND t_start <= ?")
            args.append(end.isoformat())
        if countries:
            sql.append("AND (" + " OR ".join("instr(countries, ?) > 0" for _ in countries) + ")")
            args.extend(f",{c.upper()}," for c in countries)
        sql.append("ORDER BY t_start, event_id")
        rows = self._conn.execute(" ".join(sql), args).fetchall()
        self._read_places(row["place_key"] for row in rows)
        return [self._event(row) for row in rows]

    def get_event(self, event_id: str) -> Event:
        row = self._conn.execute("SELECT * FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No event with id {event_id!r} in the store {self.path}.")
        return self._event(row)

    def events_by_id(self, ids: Sequence[str]) -> list[Event]:
        """The events with these ids, in this order, read with one indexed query (ids passed as one JSON
        parameter); NotFoundError naming the first id the store does not hold."""
        rows = self._conn.execute(_BY_ID_SQL.format(columns="e.*"), (json.dumps(list(ids)),)).fetchall()
        found = {row["event_id"]: row for row in rows}
        _require(ids, found, self.path)
        self._read_places(row["place_key"] for row in rows)
        return [self._event(found[i]) for i in ids]

    def record_rows(self, ids: Sequence[str], batch: int = 20_000) -> Iterator[tuple]:
        """Every field of these events with their place's, in this order, as tuples of _RECORD_SQL's columns, read
        in batches (exports write 100k events this way without building an Event or a Place each)."""
        ids = list(ids)
        cursor = self._conn.cursor()
        cursor.row_factory = None  # plain tuples: a sqlite3.Row per row, then a tuple of it, cost a third more
        for at in range(0, len(ids), batch):
            part = ids[at:at + batch]
            rows = cursor.execute(_BY_ID_SQL.format(columns=_RECORD_SQL) + _RECORD_JOIN, (json.dumps(part),)).fetchall()
            if len(rows) == len(part) and [row[0] for row in rows] == part:  # json_each's order, each id once
                yield from rows
                continue
            found = {row[0]: row for row in rows}
            _require(part, found, self.path)
            yield from map(found.__getitem__, part)

    def frozen_events(self, ids: Sequence[str]) -> FrozenEvents:
        """These events as a snapshot's columns, read by GDAL into Arrow in C: no Event is built (100,000 in
        about 1.5 s, where building them took 11 s). NotFoundError naming the first id the store does not hold.

        FROZEN_BATCH ids at a time (a list, a numpy array or Arrow text: made str a batch at a time), each
        batch read in one query and written into the snapshot's compressed stream (FrozenWriter), GDAL's
        freed batches given back to the system as they go: what grows with the number of events is the
        stream and the places, where all 1M ids in one query also held the query, SQLite's parse of it and
        400 MB of GDAL's freed batches. GDAL hands text over as C strings, which would end a text at a NUL
        character: the query flags such rows (imports remove NULs, events written through put_events may keep
        them), and then the events are read the exact, slower way.
        """
        import pyarrow as pa
        import pyogrio

        if not len(ids):
            return FrozenEvents.from_events(())
        writer, trim = FrozenWriter(), memory_trimmer()
        try:
            for at in range(0, len(ids), FROZEN_BATCH):
                part = id_list(ids[at:at + FROZEN_BATCH])
                batch = self._frozen_batch(part)
                if batch is None:
                    return FrozenEvents.from_events(self.events_by_id(id_list(ids)))
                writer.add(dict(zip(batch.schema.names, batch.columns)), batch.column("place_key"))
                del batch
                trim()
            places = self._frozen_places(writer.place_keys)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.GeometryError,
                pyogrio.errors.FieldError, pa.ArrowInvalid) as exc:
            reason = str(exc).rsplit("): ", 1)[-1]  # GDAL quotes the whole query before SQLite's reason
            raise StoreError(f"Cannot read the events to freeze from the store {self.path} ({reason}).") from exc
        if places is None:
            return FrozenEvents.from_events(self.events_by_id(id_list(ids)))
        frozen = writer.finish(places, self.path)
        del places, writer
        trim()  # the places as GDAL read them, and the stream's earlier, smaller buffers
        return frozen

    def _frozen_batch(self, part: list[str]) -> pa.Table | None:
        """One batch of frozen_events: _FROZEN_EVENTS_SQL's columns of these events, in this order, as GDAL
        hands them over (so the stream is byte for byte what one query of every id wrote); None when a text
        holds a NUL (GDAL would cut it) or GDAL's rows are not these; NotFoundError naming the first id the
        store does not hold."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyogrio

        _, table = pyogrio.read_arrow(self.path, sql=_FROZEN_EVENTS_SQL.format(ids=_sql_json(part)),
                                      read_geometry=False, batch_size=FROZEN_BATCH)
        if table.num_rows and pc.max(table.column("nul")).as_py():
            return None
        got = table.column("id")
        if table.num_rows != len(part) or not got.equals(pa.chunked_array([pa.array(part, got.type)])):
            # not json_each's order, each id once: an id is missing, or else the events are read the exact way
            _require(part, dict(self._conn.execute(_FIDS_SQL, (json.dumps(part),)).fetchall()), self.path)
            return None
        return table

    def _frozen_places(self, keys: pa.Array) -> pa.Table | None:
        """PLACE_SCHEMA's columns of these places, in this order, FROZEN_BATCH at a time; None when a text holds
        a NUL (GDAL would cut it); StoreError when one is missing. WKB made ours (ISO, little-endian), as
        FrozenEvents.from_events writes it."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyogrio
        import shapely

        parts, trim = [], memory_trimmer()
        for at in range(0, len(keys), FROZEN_BATCH):
            wanted = keys[at:at + FROZEN_BATCH]
            _, part = pyogrio.read_arrow(self.path, sql=_FROZEN_PLACES_SQL.format(keys=_sql_json(wanted.to_pylist())),
                                         read_geometry=True)
            if part.num_rows and pc.max(part.column("nul")).as_py():
                return None
            if part.num_rows != len(wanted):
                raise StoreError(f"The store {self.path} lacks a place its events name; it is damaged.")
            wkb = shapely.to_wkb(shapely.from_wkb(part.column("geom").to_numpy(zero_copy_only=False)),
                                 byte_order=1, flavor="iso")
            parts.append(part.drop_columns(["geom", "nul"]).append_column("wkb", pa.array(wkb, pa.binary())))
            del part, wkb
            trim()
        return pa.concat_tables(parts)

    def record_tables(self, ids: Sequence[str], batch: int = 10_000) -> Iterator[pa.Table]:
        """record_rows as columns: the same fields of these events, in this order, as Arrow tables of up to
        `batch` rows (columns named as RECORD_COLUMNS), read by GDAL in C without a Python object per value.

        Each batch's fids are found in the event_id index first (the index alone, in the ids' sorted order),
        then its rows read by fid in ascending order (row after row of the file, not one text-index search
        per id, which took half the time), then put back in the order asked for. A batch at a time, so memory
        stays the same whatever the number of ids (all the store's fids and ids at once: 100 MB at 1M).
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyogrio

        if isinstance(ids, (pa.Array, pa.ChunkedArray)):
            ids = ids.to_numpy(zero_copy_only=False)
        elif not isinstance(ids, np.ndarray):  # a list, or a numpy array of text (StoredEvents.ids): no copy
            ids = list(ids)
        if not len(ids):
            return
        path = str(self.path)
        cursor = self._conn.cursor()
        cursor.row_factory = None
        try:
            for at in range(0, len(ids), batch):
                chunk = ids[at:at + batch]
                wanted = chunk.tolist() if isinstance(chunk, np.ndarray) else chunk
                found = cursor.execute(_FIDS_SQL, (json.dumps(sorted(wanted)),)).fetchall()
                if len(found) != len(wanted):
                    _require(wanted, dict(found), self.path)
                fid_of = dict(found)
                fids = np.fromiter(map(fid_of.__getitem__, wanted), np.int64, len(wanted))
                part = pa.array(wanted, pa.string())
                order = np.argsort(fids, kind="stable")
                in_order = json.dumps(fids[order].tolist())  # numbers: nothing to quote
                sql = (f"SELECT {_RECORD_SQL}, {_TEXT_BYTES} FROM json_each('{in_order}') AS j "
                       f"CROSS JOIN events AS e ON e.fid = j.value{_RECORD_JOIN}")
                _, table = pyogrio.read_arrow(path, sql=sql, read_geometry=False)
                held = table.columns[len(RECORD_COLUMNS):]
                table = table.select(range(len(RECORD_COLUMNS)))
                given = [table.column(i) for i, c in enumerate(_RECORD_SQL.split(", ")) if c in _RECORD_TEXTS]
                if not all(pc.all(pc.equal(pc.binary_length(t), n)).as_py() is not False for t, n in zip(given, held)):
                    yield pa.Table.from_pylist(  # GDAL cut a text at a NUL: the batch is read as record_rows reads it
                        [dict(zip(RECORD_COLUMNS, row)) for row in self.record_rows(wanted)],
                        _record_schema())
                    continue
                if table.num_rows != len(part):  # an event without its place, or removed meanwhile
                    _require(wanted, dict.fromkeys(table.column(0).to_pylist()), self.path)
                    raise StoreError(f"The store {self.path} holds events whose place is missing.")
                back = np.empty_like(order)
                back[order] = np.arange(len(order))
                table = table.take(pa.array(back)).rename_columns(RECORD_COLUMNS).cast(_record_schema())
                if not pc.all(pc.equal(table.column("id"), part)).as_py():
                    _require(wanted, {}, self.path)
                yield table
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pa.ArrowInvalid) as exc:
            reason = str(exc).rsplit("): ", 1)[-1]
            raise StoreError(f"Cannot read the events of the store {self.path} ({reason}).") from exc

    def listing(self, ids: Sequence[str]) -> list[Listed]:
        """What a table of these events shows (date, title, place, type, source, quote, link), in this
        order, without building Event objects: the Events page lists 100k events this way."""
        rows = self._conn.execute(_BY_ID_SQL.format(columns=_LISTED_COLUMNS), (json.dumps(list(ids)),)).fetchall()
        found = {row[0]: row for row in rows}
        _require(ids, found, self.path)
        day = date.fromisoformat
        return [Listed(r[0], day(r[1]), day(r[2]), *r[3:]) for r in map(found.__getitem__, ids)]

    def source_groups(self, per_source: int, max_groups: int) -> list[SourceGroup]:
        """The `max_groups` most cited sources (then by publisher and title), each with how many events cite
        it and its first `per_source` events by date. An ACLED import gives every event a source of its
        own: 100k of them would be 100k groups, so the page shows the first few and counts the rest."""
        groups: dict[tuple, SourceGroup] = {}
        for row in self._conn.execute(_SOURCE_GROUPS_SQL, (max_groups, per_source)):
            key = (row["source_publisher"], row["source_title"], row["source_url"], row["source_published"])
            if key not in groups:
                groups[key] = SourceGroup(*key[:3], date.fromisoformat(key[3]) if key[3] else None,
                                          row["n"], [])
            groups[key].events.append(self._event(row))
        return list(groups.values())

    def count_sources(self) -> int:
        return self._conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM events GROUP BY {_SOURCE_KEY})").fetchone()[0]

    def count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM events").fetchone()[0]

    def origins(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT origin FROM events ORDER BY origin")]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        row = self._conn.execute("SELECT fid, id, title, created_at, query, thumbnail, owner FROM snapshots "
                                 "WHERE id = ?", (snapshot_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No snapshot with id {_shown(snapshot_id)}; it may have been deleted, "
                                "or the link is incomplete.")
        # The frozen text read a piece at a time (incremental blob I/O): reading it as one value held it
        # twice (SQLite's and Python's bytes, 213 MB each at 1M events) beside the stream decoded from it.
        # Under the write lock: a write through this connection (another thread's) would end the reading.
        try:
            with self._write_lock, self._conn.blobopen("snapshots", "events", row["fid"], readonly=True) as blob:
                events = read_frozen_file(blob, len(blob))
        except sqlite3.Error as exc:
            raise StoreError(f"Could not read the snapshot {_shown(snapshot_id)} from the store {self.path} "
                             f"({exc}); if it was not deleted meanwhile, the store is damaged.") from exc
        return Snapshot(id=row["id"], title=row["title"], created_at=datetime.fromisoformat(row["created_at"]),
                        query=row["query"], events=events, thumbnail=row["thumbnail"], owner=row["owner"])

    def snapshots(self, owner: str | None = None) -> list[SnapshotInfo]:
        where, args = ("WHERE owner = ? ", (owner,)) if owner is not None else ("", ())
        rows = self._conn.execute("SELECT id, title, created_at, thumbnail, event_count, owner FROM snapshots "
                                  f"{where}ORDER BY created_at DESC, fid DESC", args)
        return [SnapshotInfo(r["id"], r["title"], datetime.fromisoformat(r["created_at"]), r["thumbnail"],
                             r["event_count"], r["owner"]) for r in rows]

    def meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT key, value FROM reachmap_meta"))

    def close(self) -> None:
        self._conn.close()

    def _place(self, key: str) -> Place:
        if key not in self._places:
            self._read_places([key])
        return self._places[key]

    def _read_places(self, keys: Iterable[str]) -> None:
        """Read these places into the cache with one query and one geometry decoding (those not there yet)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._places]
        if not wanted:
            return
        rows = self._conn.execute("SELECT p.* FROM json_each(?) AS j CROSS JOIN places AS p ON p.key = j.value",
                                  (json.dumps(wanted),)).fetchall()
        for row, geometry in zip(rows, gpkg.from_blobs([row["geom"] for row in rows])):
            self._places[row["key"]] = Place(
                key=row["key"], name=row["name"], kind=row["kind"], geometry=geometry,
                country=row["country"], admin1=row["admin1"], geonameid=row["geonameid"],
                population=row["population"],
                pin=(row["pin_lon"], row["pin_lat"]) if row["pin_lon"] is not None else None,
            )

    def _event(self, row: sqlite3.Row) -> Event:
        published = row["source_published"]
        return Event(
            id=row["event_id"], title=row["title"], description=row["description"],
            event_type=row["event_type"],
            time=TimeSpan(date.fromisoformat(row["t_start"]), date.fromisoformat(row["t_end"]),
                          row["t_precision"], row["t_text"], row["t_note"]),
            place=self._place(row["place_key"]),
            source=Source(row["source_title"], row["source_publisher"], row["source_url"],
                          date.fromisoformat(published) if published else None, row["quote"]),
            actors=tuple(json.loads(row["actors"])),
            attributes=_pairs(json.loads(row["attributes"])),
        )


def _pairs(stored: list) -> tuple[tuple[str, str], ...]:
    """Stored attributes as (name, value) text pairs: as written (the common case, checked at C speed), or
    each part made text (a store written by other software may hold numbers)."""
    pairs = tuple(map(tuple, stored))
    return pairs if are_text_pairs(pairs) else tuple((str(k), str(v)) for k, v in stored)


# record_rows' columns, in the order export.records.record_batches unpacks them.
_RECORD_SQL = ("e.event_id, e.title, e.description, e.event_type, e.t_start, e.t_end, e.t_precision, e.t_text, "
               "e.t_note, p.name, p.kind, p.country, p.admin1, p.geonameid, e.actors, e.source_title, "
               "e.source_publisher, e.source_url, e.source_published, e.quote, e.attributes, e.lon, e.lat")
_RECORD_JOIN = " JOIN places AS p ON p.key = e.place_key"
# The length in bytes of each text field of a record as SQLite holds it, which keeps a NUL inside a text; GDAL
# hands the text over as a C string, cut at its first NUL, so a text GDAL gives shorter held one. (CAST to
# BLOB changes no byte; one search of all the fields joined for a NUL took a third of the time GDAL reads.)
_RECORD_TEXTS = tuple(c for c in _RECORD_SQL.split(", ") if c not in ("p.geonameid", "e.lon", "e.lat"))
_TEXT_BYTES = ", ".join(f"length(CAST({c} AS BLOB)) AS bytes_{i}" for i, c in enumerate(_RECORD_TEXTS))
# record_tables' names for _RECORD_SQL's columns (export.records.EVENT_FIELDS where they are the same field).
RECORD_COLUMNS = ("id", "title", "description", "event_type", "start", "end", "precision", "time_text", "time_note",
                  "place", "place_kind", "country", "admin1", "geonameid", "actors", "source_title",
                  "source_publisher", "source_url", "source_published", "quote", "attributes", "lon", "lat")


def _record_schema():  # (pyarrow is imported when columns are read, not with the store)
    import pyarrow as pa

    return pa.schema([(name, pa.int64() if name == "geonameid" else pa.float64() if name in ("lon", "lat")
                       else pa.string()) for name in RECORD_COLUMNS])
# The ids arrive as one JSON array: one parameter whatever their number, joined to the event_id index.
_FIDS_SQL = "SELECT e.event_id, e.fid FROM json_each(?) AS j CROSS JOIN events AS e ON e.event_id = j.value"
_BY_ID_SQL = ("SELECT {columns} FROM json_each(?) AS j CROSS JOIN events AS e ON e.event_id = j.value")
_LISTED_COLUMNS = ("e.event_id, e.t_start, e.t_end, e.t_precision, e.t_text, e.title, e.place_name, e.event_type, "
                   "e.source_publisher, e.quote, e.source_url, e.lon, e.lat")
def _has_nul(columns: tuple[str, ...]) -> str:
    """SQL for 'one of these texts holds a NUL': one search of their concatenation as bytes (|| keeps NULs)."""
    return "instr(CAST(" + " || ".join(f"COALESCE({c}, '')" for c in columns) + " AS BLOB), X'00')"


# frozen_events' queries: GDAL runs them (it takes no parameters, so the ids come as one JSON text literal).
# `nul` flags a row with a NUL character in a text, which GDAL's C strings would cut short.
_FROZEN_TEXTS = ("e.event_id", "e.title", "e.event_type", "e.description", "e.actors", "e.t_start", "e.t_end",
                 "e.t_precision", "e.t_text", "e.t_note", "e.source_title", "e.source_publisher", "e.source_url",
                 "e.source_published", "e.quote", "e.attributes", "e.place_key")
_FROZEN_EVENTS_SQL = (
    "SELECT e.event_id AS id, e.title, e.event_type, e.description, e.actors, e.t_start, e.t_end, e.t_precision, "
    "e.t_text, e.t_note, e.source_title, e.source_publisher, e.source_url, e.source_published, e.quote, "
    "e.attributes, e.place_key, e.lon, e.lat, "
    f"{_has_nul(_FROZEN_TEXTS)} AS nul "
    "FROM json_each({ids}) AS j CROSS JOIN events AS e ON e.event_id = j.value")
_FROZEN_PLACES_SQL = (
    "SELECT p.key, p.name, p.kind, p.country, p.admin1, p.geonameid, p.population, p.pin_lon, p.pin_lat, p.geom, "
    f"{_has_nul(('p.key', 'p.name', 'p.kind', 'p.country', 'p.admin1'))} AS nul "
    "FROM json_each({keys}) AS j CROSS JOIN places AS p ON p.key = j.value")


def _sql_json(values: list[str]) -> str:
    """A JSON array of texts as an SQL string literal: ASCII (json escapes the rest), quotes doubled."""
    return "'" + json.dumps(values).replace("'", "''") + "'"


_SOURCE_KEY = "source_publisher, source_title, source_url, source_published"
_SOURCE_GROUPS_SQL = f"""
WITH g AS (SELECT {_SOURCE_KEY}, count(*) AS n FROM events GROUP BY {_SOURCE_KEY}
           ORDER BY n DESC, {_SOURCE_KEY} LIMIT ?),
     r AS (SELECT e.*, g.n AS n, row_number() OVER (PARTITION BY g.source_publisher, g.source_title, g.source_url,
                  g.source_published ORDER BY e.t_start, e.event_id) AS rn
           FROM events e JOIN g ON e.source_publisher = g.source_publisher AND e.source_title = g.source_title
                AND e.source_url = g.source_url AND e.source_published IS g.source_published)
SELECT * FROM r WHERE rn <= ? ORDER BY n DESC, {_SOURCE_KEY}, rn"""


def _require(ids: Sequence[str], found: dict, path: Path) -> None:
    if len(found) < len(set(ids)):
        missing = next(i for i in ids if i not in found)
        raise NotFoundError(f"The store {path} no longer holds the event {_shown(missing)} "
                            f"({len(set(ids)) - len(found)} missing); it changed since the page was drawn, reload it.")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB: a 100,000-event import keeps its indexes in memory
    return conn


def _create(path: Path, seed: Seed | None) -> None:
    """Build the whole file under a temporary name, then rename: a crash never leaves half a store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".reachmap-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = _connect(tmp)
        try:
            conn.execute("BEGIN")
            gpkg.create_core(conn)
            _run_schema(conn)  # not executescript: it would commit half-way
            gpkg.register_features(conn, "places", "GEOMETRY", "Places named by stories and imports")
            gpkg.register_features(conn, "events", "POINT", "Events with their provenance")
            gpkg.register_attributes(conn, "reachmap_meta", "Reachmap schema version and history")
            gpkg.register_attributes(conn, "snapshots", "Shared views frozen with a copy of their events")
            gpkg.register_attributes(conn, "history", history.DESCRIPTION)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            conn.executemany("INSERT INTO reachmap_meta (key, value) VALUES (?, ?)",
                             [("schema_version", str(SCHEMA_VERSION)), ("created_at", now)])
            if seed is not None:
                for events, origin in seed():
                    _write_events(conn, events, origin, settings.user())
            conn.execute("COMMIT")
        finally:
            conn.close()
        if path.exists():  # someone else created it meanwhile: keep theirs
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _run_schema(conn: sqlite3.Connection, schema: str = _SCHEMA) -> None:
    for statement in schema.split(";"):
        if statement.strip():
            conn.execute(statement)


def check_is_ours(path: Path) -> None:
    """Refuse, with one sentence, a file that is not a Reachmap GeoPackage; never touch it."""
    hint = "point REACHMAP_STORE_PATH at another file, or move this one away"
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"Cannot read the store {path}: {exc.strerror}; {hint}.") from exc
    if magic != _SQLITE_MAGIC:
        raise StoreError(f"The store {path} is not a GeoPackage (not an SQLite file); {hint}.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            has_meta = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='reachmap_meta'").fetchone()[0]
            version = conn.execute(
                "SELECT value FROM reachmap_meta WHERE key='schema_version'").fetchone() if has_meta else None
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The store {path} is damaged ({exc}); {hint}.") from exc
    if app_id != gpkg.APPLICATION_ID or not has_meta:
        raise StoreError(f"The file {path} is a database but not a Reachmap store; {hint}.")
    if version is None or int(version[0]) > SCHEMA_VERSION:
        raise StoreError(f"The store {path} has schema version {version[0] if version else 'none'}, "
                         f"newer than this Reachmap understands ({SCHEMA_VERSION}); upgrade Reachmap.")
    required = _TABLES + (("history",) if int(version[0]) >= 2 else ())
    missing = [t for t in required if t not in tables]
    if missing:  # only a store made by a development build before the table existed
        raise StoreError(f"The store {path} lacks the table(s) {', '.join(missing)} (it was made by an earlier "
                         f"development build); move it away and Reachmap will build a new one.")


_ADDED_COLUMNS = (  # (table, column, definition): added by later builds within the same schema version
    ("events", "attributes", "TEXT NOT NULL DEFAULT '[]'"),
    ("snapshots", "owner", "TEXT NOT NULL DEFAULT ''"),  # '' = made on a single-user instance
)


def _missing_columns(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return [(table, column, definition) for table, column, definition in _ADDED_COLUMNS
            if column not in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}]


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Give a store made by an earlier development build the columns added since (same schema version)."""
    for table, column, definition in _missing_columns(conn):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")  # our constants, not input


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM reachmap_meta WHERE key = 'schema_version'").fetchone()[0])


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Bring an older store to SCHEMA_VERSION in place, in one transaction: all of it or nothing.

    Schema 1 → 2 (issue 18): events gain version (1 for every stored event) and updated_by (''), and the
    history table is made and registered. check_is_ours has refused a newer schema already."""
    if _schema_version(conn) == SCHEMA_VERSION and not _missing_columns(conn):
        return  # the usual open: no write, no lock
    try:
        conn.execute("BEGIN IMMEDIATE")  # another process may be upgrading it too: read the version inside
        try:
            version = _schema_version(conn)
            _add_missing_columns(conn)
            if version < 2:
                conn.execute("ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
                conn.execute("ALTER TABLE events ADD COLUMN updated_by TEXT NOT NULL DEFAULT ''")
                _run_schema(conn, history.TABLE_SQL)
                gpkg.register_attributes(conn, "history", history.DESCRIPTION)
            if version < SCHEMA_VERSION:
                conn.execute("UPDATE reachmap_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
                conn.execute("INSERT INTO reachmap_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                             "value = excluded.value", (f"upgraded_from_{version}_at",
                                                        datetime.now(timezone.utc).isoformat(timespec="seconds")))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"Could not upgrade the store {path} to schema version {SCHEMA_VERSION} ({exc}); it was "
                         "left exactly as it was. Check that the file and its folder can be written to, or move "
                         "the store away and Reachmap will build a new one.") from exc


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


_shown = history.shown
