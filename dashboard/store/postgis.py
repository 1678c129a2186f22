"""The team's store: PostgreSQL with PostGIS behind the same EventStore interface as the GeoPackage (#18).

One connection per store object, autocommit, with explicit transactions: every write is one transaction, and
on any error nothing is written. Rows go in through COPY into a temporary table, then one INSERT … ON
CONFLICT per batch (upsert; an id twice in one batch keeps the last). Writes of events take WRITE_LOCK for
their transaction: two imports at once run one after the other instead of deadlocking on the places they
share (row locks taken in different orders), and readers never wait (MVCC). Each such transaction bumps
reachmap_changes.counter, which names the version of the events for caches (`change_counter`).

Every change is recorded as on the GeoPackage (schema 2, store.history; the rows and their writer are in
store.pg_rows): edits, deletions and restores lock the event's row (FOR UPDATE) and compare its version inside
their transaction, so optimistic concurrency holds across connections and servers. An edit waits for an import
that holds WRITE_LOCK to commit (seconds for 100k rows): it then sees the import's version.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import shapely

from psycopg.rows import dict_row

from dashboard import settings
from dashboard.errors import ConflictError, NotFoundError, StoreError
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.store import history, pg_rows, pg_schema
from dashboard.store.base import Change, EventStore, Listed, SourceGroup, WriteSummary, id_list
from dashboard.store.geopackage import RECORD_COLUMNS, _pairs, _record_schema, _shown
from dashboard.store.pg_rows import RowWriter
from dashboard.store.snapshots import (EVENT_SCHEMA, FROZEN_BATCH, PLACE_SCHEMA, FrozenEvents, FrozenWriter, Snapshot,
                                       SnapshotInfo, frozen_bytes, read_frozen)

Seed = Callable[[], Iterable[tuple[Iterable[Event], str]]]

_EVENT_SELECT = ("e.event_id, e.title, e.description, e.event_type, e.t_start, e.t_end, e.t_precision, e.t_text, "
                 "e.t_note, e.place_key, e.source_title, e.source_publisher, e.source_url, e.source_published, "
                 "e.quote, e.actors, e.attributes")
_BY_ID = ("FROM unnest(%s::text[]) WITH ORDINALITY AS j(id, n) JOIN events AS e ON e.event_id = j.id")
_RECORD_SELECT = ("e.event_id, e.title, e.description, e.event_type, to_char(e.t_start, 'YYYY-MM-DD'), "
                  "to_char(e.t_end, 'YYYY-MM-DD'), e.t_precision, e.t_text, e.t_note, p.name, p.kind, p.country, "
                  "p.admin1, p.geonameid, e.actors, e.source_title, e.source_publisher, e.source_url, "
                  "to_char(e.source_published, 'YYYY-MM-DD'), e.quote, e.attributes, e.lon, e.lat")
# frozen_events' columns: EVENT_SCHEMA's first 16 (dates as ISO text), then the place key and the pin.
_FROZEN_SELECT = ("e.event_id, e.title, e.event_type, e.description, e.actors, to_char(e.t_start, 'YYYY-MM-DD'), "
                  "to_char(e.t_end, 'YYYY-MM-DD'), e.t_precision, e.t_text, e.t_note, e.source_title, "
                  "e.source_publisher, e.source_url, to_char(e.source_published, 'YYYY-MM-DD'), e.quote, "
                  "e.attributes, e.place_key, e.lon, e.lat")
_LISTED_SELECT = ("e.event_id, e.t_start, e.t_end, e.t_precision, e.t_text, e.title, e.place_name, e.event_type, "
                  "e.source_publisher, e.quote, e.source_url, e.lon, e.lat")
_SOURCE_KEY = "source_publisher, source_title, source_url, source_published"
_SOURCE_GROUPS_SQL = f"""
WITH g AS (SELECT {_SOURCE_KEY}, count(*) AS n FROM events GROUP BY {_SOURCE_KEY}
           ORDER BY n DESC, {_SOURCE_KEY} NULLS FIRST LIMIT %s),
     r AS (SELECT e.*, g.n AS group_n, row_number() OVER (PARTITION BY g.source_publisher, g.source_title,
                  g.source_url, g.source_published ORDER BY e.t_start, e.event_id) AS rn
           FROM events e JOIN g ON e.source_publisher = g.source_publisher AND e.source_title = g.source_title
                AND e.source_url = g.source_url AND e.source_published IS NOT DISTINCT FROM g.source_published)
SELECT {_EVENT_SELECT.replace('e.', '')}, group_n FROM r WHERE rn <= %s
ORDER BY group_n DESC, {_SOURCE_KEY} NULLS FIRST, rn"""  # NULLS FIRST: SQLite sorts NULL first


def shown_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))
    except ValueError:
        return "the configured PostgreSQL URL"


def connect(url: str) -> psycopg.Connection:
    """A connection to the server at `url`, or StoreError: one sentence naming the URL (no password)."""
    shown = shown_url(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"The store URL {shown} is not a PostgreSQL URL ({_reason(exc)}); set REACHMAP_STORE_URL "
                         "like postgresql://user@host:5432/dbname.") from exc
    except psycopg.Error as exc:
        raise StoreError(f"Cannot connect to the store {shown} ({_reason(exc)}); check that the server runs and "
                         "that REACHMAP_STORE_URL names its host, port, database and user.") from exc
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def _reason(exc: BaseException) -> str:
    """The server's or libpq's message, first line only, without the connection string it may quote."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[-1] if text.startswith("connection to server") else text


class PostGISStore(EventStore):
    """Events in a PostGIS database; its schema made (and seeded) on first use, never in a foreign database."""

    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self._conn = conn
        self.url = url
        self.location = shown_url(url)  # what messages name
        self._places: dict[str, Place] = {}
        self._lock = threading.RLock()  # one connection, one transaction at a time: threads take turns

    @classmethod
    def open(cls, url: str, seed: Seed | None = None) -> PostGISStore:
        conn = connect(url)
        store = cls(conn, url)
        try:
            pg_schema.migrate(conn, store.location,
                              None if seed is None else lambda c: [store._write(es, o, settings.user()) for es, o in seed()])
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"Could not prepare the store {store.location} ({_reason(exc)}); nothing was "
                             "changed. Is the postgis extension installed and may this user create it?") from exc
        except BaseException:
            conn.close()
            raise
        return store

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def _write_transaction(self, doing: str = "write events to") -> Iterator[None]:
        """One transaction that changes events or places: serialised with other such writers, counted."""
        try:
            with self._lock, self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.WRITE_LOCK,))
                for statement in pg_rows.STAGE:
                    self._conn.execute(statement)
                yield
                self._conn.execute("UPDATE reachmap_changes SET counter = counter + 1")
        except psycopg.Error as exc:
            raise StoreError(f"Could not {doing} the store {self.location} ({_reason(exc)}); "
                             "nothing was changed.") from exc
        finally:
            self._places.clear()  # a rolled-back write may have replaced places this cache holds

    def put_events(self, events: Iterable[Event], origin: str, user: str | None = None,
                   revision: str | None = None) -> WriteSummary:
        with self._write_transaction():
            return self._write(events, origin, settings.user() if user is None else user, revision)

    def _write(self, events: Iterable[Event], origin: str, user: str, revision: str | None = None) -> WriteSummary:
        """Write events and their places in batches, recording what changed, inside the caller's transaction."""
        if self._conn.execute("SELECT to_regclass('pg_temp.stage_events')").fetchone()[0] is None:
            for statement in pg_rows.STAGE:
                self._conn.execute(statement)
        writer = RowWriter(self._conn, origin, user, revision)
        for place_rows, event_rows in pg_rows.event_rows(events, origin, writer.now):
            writer.write_staged(place_rows, event_rows)
        return writer.summary

    @contextmanager
    def bulk_writer(self, origin: str, user: str | None = None, revision: str | None = None) -> Iterator[RowWriter]:
        """A RowWriter inside one transaction (as GeoPackageStore.bulk_writer): committed when the block
        ends, rolled back if it raises."""
        with self._write_transaction():
            yield RowWriter(self._conn, origin, settings.user() if user is None else user, revision)

    def put_snapshot(self, snapshot: Snapshot) -> None:
        # The text as its ASCII bytes, sent as they are (a binary parameter the server reads as UTF-8 text):
        # a str of it, then psycopg's UTF-8 copy, then libpq's, held it three times beside the stream.
        frozen = frozen_bytes(snapshot.events)  # before the transaction: a bad event writes nothing
        try:
            with self._lock, self._conn.transaction():
                inserted = self._conn.execute(
                    "INSERT INTO snapshots (id, title, created_at, query, events, event_count, thumbnail, owner) "
                    "VALUES (%s, %s, %s, %s, convert_from(%b, 'UTF8'), %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (snapshot.id, snapshot.title, snapshot.created_at, snapshot.query, frozen, len(snapshot.events),
                     snapshot.thumbnail, snapshot.owner)).rowcount
        except psycopg.Error as exc:
            raise StoreError(f"Could not save the snapshot in the store {self.location} ({_reason(exc)}); "
                             "nothing was changed.") from exc
        if not inserted:
            raise StoreError(f"A snapshot with id {_shown(snapshot.id)} already exists; snapshots are never "
                             "overwritten, so make a new id.")

    def set_snapshot_thumbnail(self, snapshot_id: str, thumbnail: bytes) -> bool:
        return self._change_snapshots("UPDATE snapshots SET thumbnail = %s WHERE id = %s", (thumbnail, snapshot_id),
                                      "save the snapshot's picture in", "the snapshot itself is kept")

    def delete_snapshot(self, snapshot_id: str, owner: str | None = None) -> bool:
        sql, args = "DELETE FROM snapshots WHERE id = %s", (snapshot_id,)
        if owner is not None:
            sql, args = sql + " AND owner = %s", args + (owner,)
        return self._change_snapshots(sql, args, "delete the snapshot from", "nothing was changed")

    def _change_snapshots(self, sql: str, args: tuple, doing: str, outcome: str) -> bool:
        try:
            with self._lock:
                return self._conn.execute(sql, args).rowcount > 0  # autocommit: one statement, one transaction
        except psycopg.Error as exc:
            raise StoreError(f"Could not {doing} the store {self.location} ({_reason(exc)}); {outcome}.") from exc

    # -- edits with history (issue 18) ------------------------------------------------------------
    # Each runs in one _write_transaction: under WRITE_LOCK, with the event's row locked (FOR UPDATE) before its
    # version is compared, so two editors saving from one version, on any connections or servers, give one
    # success and one ConflictError.

    def version(self, event_id: str) -> int:
        rows = self._rows("SELECT version FROM events WHERE event_id = %s", (event_id,))
        if not rows:
            raise NotFoundError(f"No event with id {_shown(event_id)} in the store {self.location}.")
        return rows[0][0]

    def save_event(self, event: Event, user: str, expected_version: int | None, origin: str = "edit") -> int:
        with self._write_transaction("save the event in"):
            current = self._current(event.id)  # locked: no one else saves it until this commits
            if (new := history.save_new_or_check(self, event, user, expected_version, origin, current)) is not None:
                return new
            writer = RowWriter(self._conn, origin, user)
            for place_rows, event_rows in pg_rows.event_rows([event], origin, writer.now):
                writer.write_staged(place_rows, event_rows)
            return current[0] + writer.updated

    def delete_event(self, event_id: str, user: str, expected_version: int, origin: str = "edit") -> int:
        with self._write_transaction("delete the event from"):
            current = self._current(event_id)
            self._require_version(event_id, current, expected_version, "deleted")
            self._delete([event_id], user, origin)
            return current[0] + 1

    def delete_events(self, event_ids: Sequence[str], user: str, origin: str) -> int:
        ids = list(dict.fromkeys(event_ids))  # an id twice is deleted once
        deleted = 0
        with self._write_transaction("delete the events from"):
            for at in range(0, len(ids), pg_rows.BATCH * 10):
                deleted += self._delete(ids[at:at + pg_rows.BATCH * 10], user, origin)
        return deleted

    def history(self, event_id: str) -> list[Change]:
        try:
            with self._lock, self._conn.transaction():  # one view of the history and the row
                self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return self._history(event_id)
        except psycopg.Error as exc:
            raise StoreError(f"Cannot read the store {self.location} ({_reason(exc)}).") from exc

    def _history(self, event_id: str) -> list[Change]:
        rows = self._named(f"SELECT {pg_rows.CHANGE_COLUMNS} FROM history AS h WHERE h.event_id = %s "
                           "ORDER BY h.version", (event_id,))
        meta = self._rows("SELECT version, origin, updated_by, updated_at FROM events WHERE event_id = %s",
                          (event_id,))
        if not meta and not rows:
            raise NotFoundError(f"The store {self.location} never held an event with id {_shown(event_id)}.")
        current = self.get_event(event_id) if meta else None
        return history.changes(rows, current, meta[0] if meta else None)

    def restore(self, event_id: str, version: int, user: str, expected_version: int | None) -> int:
        with self._write_transaction("restore the event in"):
            current = self._current(event_id)  # locked first: the history read next cannot change under us
            return history.restore_version(self, event_id, version, user, expected_version, current,
                                           self._history(event_id))

    def deleted(self, limit: int = 100) -> list[Change]:
        rows = self._named(pg_rows.STILL_DELETED_SQL, (limit,))
        return [Change(r["event_id"], r["version"], r["action"], r["user"], r["at"], r["origin"],
                       history.event_from_state(r["state"]), None) for r in rows]

    def _current(self, event_id: str) -> tuple[int, str, datetime] | None:
        """(version, updated_by, updated_at) of a stored event, its row locked until the transaction ends;
        None if there is none."""
        row = self._conn.execute("SELECT version, updated_by, updated_at FROM events WHERE event_id = %s "
                                 "FOR UPDATE", (event_id,)).fetchone()
        return tuple(row) if row is not None else None

    def _deletion(self, event_id: str) -> tuple[int, str, datetime] | None:
        """(version, user, at) of the deletion of an event that is deleted now; None if it is not."""
        return self._conn.execute(
            'SELECT h.version, h."user", h.at FROM history AS h WHERE h.event_id = %s AND NOT EXISTS '
            "(SELECT 1 FROM events AS e WHERE e.event_id = h.event_id) ORDER BY h.version DESC LIMIT 1",
            (event_id,)).fetchone()

    def _require_version(self, event_id: str, current: tuple | None, expected: int, doing: str) -> None:
        """ConflictError unless the event is stored at version `expected`; NotFoundError if never stored."""
        if current is not None and current[0] == expected:
            return
        if current is None:
            gone = self._deletion(event_id)
            if gone is None:
                raise NotFoundError(f"No event with id {_shown(event_id)} in the store {self.location}.")
            raise ConflictError(f"The event {_shown(event_id)} was deleted by {gone[1] or 'someone'} at "
                                f"{gone[2]:%Y-%m-%d %H:%M:%S} UTC (version {gone[0]}) after you opened version "
                                f"{expected}; nothing was {doing}. Restore it first if it should stay.", None, gone[0])
        raise ConflictError(f"The event {_shown(event_id)} was changed by {current[1] or 'someone'} at "
                            f"{current[2]:%Y-%m-%d %H:%M:%S} UTC (now version {current[0]}) after you opened version "
                            f"{expected}; nothing was {doing}. Compare the two versions, then save from version "
                            f"{current[0]}.", self.get_event(event_id), current[0])

    def _write_one(self, event: Event, user: str, origin: str, action: str, version: int, had_row: bool) -> None:
        """Write one event at `version`, recording `action` (the replaced row's state if it had one)."""
        at = pg_rows.now()
        writer = RowWriter(self._conn, origin, user)
        for place_rows, event_rows in pg_rows.event_rows([event], origin, writer.now):
            writer.stage(place_rows, event_rows)
            if had_row:
                self._conn.execute(pg_rows.RECORD_ROWS_SQL, (action, user, at, origin, [event.id]))
            else:
                self._conn.execute(pg_rows.RECORD_NEW_SQL, (event.id, version, action, user, at, origin))
            writer.commit_staged({event.id: version})

    def _delete(self, ids: list[str], user: str, origin: str) -> int:
        """Record the rows of these ids as deleted, then remove them; how many there were."""
        self._conn.execute(pg_rows.RECORD_ROWS_SQL, ("deleted", user, pg_rows.now(), origin, ids))
        return self._conn.execute("DELETE FROM events WHERE event_id = ANY(%s)", (ids,)).rowcount

    # -- reading ---------------------------------------------------------------------------------

    def _named(self, sql: str, args: Sequence | None = None) -> list[dict]:
        """Rows as dicts by column name (what store.history reads)."""
        try:
            with self._lock:
                return self._conn.cursor(row_factory=dict_row).execute(sql, args).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"Cannot read the store {self.location} ({_reason(exc)}).") from exc

    def _rows(self, sql: str, args: Sequence | None = None, binary: bool = False) -> list[tuple]:
        """The query's rows; `binary`: the values in PostgreSQL's binary format (bytea as its bytes, not hex)."""
        try:
            with self._lock:
                return self._conn.cursor(binary=binary).execute(sql, args).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"Cannot read the store {self.location} ({_reason(exc)}).") from exc

    def events(self, start: date | None = None, end: date | None = None,
               countries: tuple[str, ...] = ()) -> list[Event]:
        sql = [f"SELECT {_EVENT_SELECT} FROM events e WHERE true"]
        args: list[object] = []
        if start is not None:
            sql.append("AND e.t_end >= %s")
            args.append(start)
        if end is not None:
            sql.append("AND e.t_start <= %s")
            args.append(end)
        if countries:
            sql.append("AND (" + " OR ".join("strpos(e.countries, %s) > 0" for _ in countries) + ")")
            args.extend(f",{c.upper()}," for c in countries)
        sql.append("ORDER BY e.t_start, e.event_id")
        return self._events(self._rows(" ".join(sql), args))

    def get_event(self, event_id: str) -> Event:
        rows = self._rows(f"SELECT {_EVENT_SELECT} FROM events e WHERE e.event_id = %s", (event_id,))
        if not rows:
            raise NotFoundError(f"No event with id {event_id!r} in the store {self.location}.")
        return self._events(rows)[0]

    def events_by_id(self, ids: Sequence[str]) -> list[Event]:
        ids = list(ids)
        rows = self._rows(f"SELECT {_EVENT_SELECT} {_BY_ID}", (ids,))
        built = dict(zip((r[0] for r in rows), self._events(rows)))
        self._require(ids, built)
        return [built[i] for i in ids]

    def frozen_events(self, ids: Sequence[str]) -> FrozenEvents:
        """These events as a snapshot's columns, read as rows of text and numbers without building an Event
        each (as GeoPackageStore.frozen_events), a batch at a time into the snapshot's compressed stream
        (FrozenWriter); NotFoundError naming the first id the store does not hold."""
        import pyarrow as pa

        ids = id_list(ids)
        if not ids:
            return FrozenEvents.from_events(())
        writer = FrozenWriter()
        names = EVENT_SCHEMA.names  # the first 16 columns of _FROZEN_SELECT are these, in this order
        for at in range(0, len(ids), FROZEN_BATCH):
            part = ids[at:at + FROZEN_BATCH]
            rows = self._rows(f"SELECT {_FROZEN_SELECT} {_BY_ID} ORDER BY j.n", (part,))
            if len(rows) != len(part):
                self._require(part, {r[0]: r for r in rows})
            columns = list(zip(*rows))
            del rows
            batch = {name: pa.array(values, EVENT_SCHEMA.field(name).type)
                     for name, values in zip(names[:16], columns)}
            batch["lon"], batch["lat"] = pa.array(columns[17], pa.float64()), pa.array(columns[18], pa.float64())
            writer.add(batch, pa.array(columns[16], pa.string()))
        keys = writer.place_keys.to_pylist()
        places = self._rows("SELECT key, name, kind, ST_AsBinary(geom), country, admin1, geonameid, population, "
                            "pin_lon, pin_lat FROM places WHERE key = ANY(%s) ORDER BY key", (keys,))
        if len(places) != len(keys):
            raise StoreError(f"The store {self.location} lacks a place its events name; it is damaged.")
        place_values = list(zip(*places))
        # WKB as FrozenEvents.from_events writes it: ISO, little-endian.
        place_values[3] = shapely.to_wkb(shapely.from_wkb([bytes(w) for w in place_values[3]]), byte_order=1,
                                         flavor="iso").tolist()
        place_table = pa.table({name: pa.array(values, PLACE_SCHEMA.field(name).type)
                                for name, values in zip(PLACE_SCHEMA.names, place_values)}, schema=PLACE_SCHEMA)
        return writer.finish(place_table, self.location)

    def record_rows(self, ids: Sequence[str], batch: int = 20_000) -> Iterator[tuple]:
        """Every field of these events with their place's, in this order, as GeoPackageStore.record_rows gives."""
        ids = list(ids)
        for at in range(0, len(ids), batch):
            part = ids[at:at + batch]
            rows = self._rows(f"SELECT {_RECORD_SELECT} {_BY_ID} JOIN places p ON p.key = e.place_key "
                              "ORDER BY j.n", (part,))
            if len(rows) != len(part):
                self._require(part, {r[0]: r for r in rows})
            yield from rows

    def record_tables(self, ids: Sequence[str], batch: int = 10_000) -> Iterator:
        """record_rows as Arrow tables of RECORD_COLUMNS (as GeoPackageStore.record_tables)."""
        import pyarrow as pa

        ids = id_list(ids)
        schema = _record_schema()
        for at in range(0, len(ids), batch):
            rows = list(self.record_rows(ids[at:at + batch], batch))
            yield pa.table({name: pa.array(values, schema.field(name).type)
                            for name, values in zip(RECORD_COLUMNS, zip(*rows))}, schema=schema)

    def listing(self, ids: Sequence[str]) -> list[Listed]:
        ids = list(ids)
        rows = self._rows(f"SELECT {_LISTED_SELECT} {_BY_ID}", (ids,))
        found = {r[0]: r for r in rows}
        self._require(ids, found)
        return [Listed(*found[i]) for i in ids]

    def source_groups(self, per_source: int, max_groups: int) -> list[SourceGroup]:
        rows = self._rows(_SOURCE_GROUPS_SQL, (max_groups, per_source))
        events = self._events([r[:-1] for r in rows])
        groups: dict[tuple, SourceGroup] = {}
        for row, event in zip(rows, events):
            key = (row[11], row[10], row[12], row[13])  # publisher, title, url, published
            if key not in groups:
                groups[key] = SourceGroup(*key, row[-1], [])
            groups[key].events.append(event)
        return list(groups.values())

    def count_sources(self) -> int:
        return self._rows(f"SELECT count(*) FROM (SELECT 1 FROM events GROUP BY {_SOURCE_KEY}) g")[0][0]

    def count(self) -> int:
        return self._rows("SELECT count(*) FROM events")[0][0]

    def origins(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT DISTINCT origin FROM events ORDER BY origin")]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        # The frozen text as its UTF-8 bytes, in binary (bytea as hex text was twice its size): read_frozen
        # decodes them without a str of 200 MB at 1M events.
        rows = self._rows("SELECT id, title, created_at, query, convert_to(events, 'UTF8'), thumbnail, owner "
                          "FROM snapshots WHERE id = %s", (snapshot_id,), binary=True)
        if not rows:
            raise NotFoundError(f"No snapshot with id {_shown(snapshot_id)}; it may have been deleted, "
                                "or the link is incomplete.")
        sid, title, created_at, query, events, thumbnail, owner = rows[0]
        return Snapshot(id=sid, title=title, created_at=created_at, query=query, events=read_frozen(events),
                        thumbnail=thumbnail, owner=owner)

    def snapshots(self, owner: str | None = None) -> list[SnapshotInfo]:
        where, args = ("WHERE owner = %s ", (owner,)) if owner is not None else ("", ())
        rows = self._rows("SELECT id, title, created_at, thumbnail, event_count, owner FROM snapshots "
                          f"{where}ORDER BY created_at DESC, seq DESC", args)
        return [SnapshotInfo(*r) for r in rows]

    def meta(self) -> dict[str, str]:
        return dict(self._rows("SELECT key, value FROM reachmap_meta"))

    def change_counter(self) -> int:
        """The number of committed writes of events or places so far: what caches of the events are keyed by."""
        return self._rows("SELECT counter FROM reachmap_changes")[0][0]

    @property
    def store_id(self) -> str:
        """A random id given to the store when its schema was made: a database dropped and made again differs."""
        return self.meta()["store_id"]

    def close(self) -> None:
        self._conn.close()

    # -- building objects ------------------------------------------------------------------------

    def _require(self, ids: Sequence[str], found: dict) -> None:
        if len(found) < len(set(ids)):
            missing = next(i for i in ids if i not in found)
            raise NotFoundError(f"The store {self.location} no longer holds the event {_shown(missing)} "
                                f"({len(set(ids)) - len(found)} missing); it changed since the page was drawn, "
                                "reload it.")

    def _events(self, rows: list[tuple]) -> list[Event]:
        self._places.clear()  # other writers may have changed a place since the last read
        self._read_places({r[9] for r in rows})
        places = self._places
        return [Event(id=r[0], title=r[1], description=r[2], event_type=r[3],
                      time=TimeSpan(r[4], r[5], r[6], r[7], r[8]), place=places[r[9]],
                      source=Source(r[10], r[11], r[12], r[13], r[14]), actors=tuple(json.loads(r[15])),
                      attributes=_pairs(json.loads(r[16]))) for r in rows]

    def _read_places(self, keys: Iterable[str]) -> None:
        wanted = [k for k in keys if k not in self._places]
        if not wanted:
            return
        rows = self._rows("SELECT key, ST_AsBinary(geom), name, kind, country, admin1, geonameid, population, "
                          "pin_lon, pin_lat FROM places WHERE key = ANY(%s)", (wanted,))
        geometries = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else []
        for r, geometry in zip(rows, geometries):
            self._places[r[0]] = Place(key=r[0], name=r[2], kind=r[3], geometry=geometry, country=r[4],
                                       admin1=r[5], geonameid=r[6], population=r[7],
                                       pin=(r[8], r[9]) if r[8] is not None else None)
        if len(rows) < len(wanted):
            raise StoreError(f"The store {self.location} lacks a place its events name; it is damaged.")
