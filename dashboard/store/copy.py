"""A whole store moved to another backend: GeoPackage ⇄ PostGIS, events with their origins, then snapshots.

A new destination is written as its creation (the GeoPackage built under a temporary name, the PostGIS schema
and events in one transaction): a failed copy leaves no half store. A destination that holds events or
snapshots is refused, untouched. Then every event's history comes along (`_carry_history`, one more
transaction): each recorded change with its version, who, when and what made it, deleted events' too, and
each event's version, who changed it last and when, so the copy's history reads as the source's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from dashboard.errors import StoreError
from dashboard.model import Event
from dashboard.store.base import EventStore
from dashboard.store.geopackage import GeoPackageStore
from dashboard.store.history import moment

_BATCH = 10_000


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def _open(location: str | Path, seed=None) -> EventStore:
    if is_url(location):
        from dashboard.store.postgis import PostGISStore

        return PostGISStore.open(str(location), seed=seed)
    return GeoPackageStore.open(Path(location), seed=seed)


def event_origins(store: EventStore) -> dict[str, list[str]]:
    """Origin → the ids of its events, in the store's order of events()."""
    if hasattr(store, "url"):
        rows = store._rows("SELECT origin, event_id FROM events ORDER BY t_start, event_id")
    else:
        conn = sqlite3.connect(f"{Path(store.path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT origin, event_id FROM events ORDER BY t_start, event_id").fetchall()
        finally:
            conn.close()
    out: dict[str, list[str]] = {}
    for origin, event_id in rows:
        out.setdefault(origin, []).append(event_id)
    return out


def _batches(store: EventStore) -> Iterator[tuple[Iterable[Event], str]]:
    for origin, ids in event_origins(store).items():
        def events(ids=ids) -> Iterator[Event]:
            for at in range(0, len(ids), _BATCH):
                yield from store.events_by_id(ids[at:at + _BATCH])
        yield events(), origin


def copy_store(source: str | Path, target: str | Path) -> tuple[int, int]:
    """Copy every event (with its origin) and every snapshot of `source` into `target`; (events, snapshots)."""
    if not is_url(source) and not Path(source).is_file():
        raise StoreError(f"No store at {source}; give an existing .gpkg file or a postgresql:// URL to copy from.")
    with _open(source) as src:
        fresh = [False]

        def seed():
            fresh[0] = True
            return _batches(src)

        with _open(target, seed=seed) as dst:
            shown = getattr(dst, "location", target)
            if not fresh[0]:
                if dst.count() or dst.snapshots():
                    raise StoreError(f"The store {shown} already holds {dst.count():,} events and "
                                     f"{len(dst.snapshots()):,} snapshots; copy into a new file or an empty "
                                     "database, so nothing is mixed or overwritten.")
                for events, origin in _batches(src):
                    dst.put_events(events, origin)
            infos = src.snapshots()
            for info in reversed(infos):  # oldest first: the same order of equal times
                dst.put_snapshot(src.get_snapshot(info.id))
            try:
                _carry_history(src, dst)
            except (StoreError, sqlite3.Error) as exc:
                raise StoreError(f"The copy {shown} holds the events and snapshots but not their "
                                 f"history ({exc}); delete it and copy again.") from exc
            return dst.count(), len(infos)


_HISTORY = 'SELECT event_id, version, action, {user}, at, origin, state FROM history ORDER BY event_id, version'
_STAMPS = "SELECT event_id, version, updated_by, updated_at FROM events"


def _read(store: EventStore, sql: str) -> list[tuple]:
    if hasattr(store, "url"):
        return [tuple(r) for r in store._rows(sql)]
    conn = sqlite3.connect(f"{Path(store.path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _carry_history(src: EventStore, dst: EventStore) -> None:
    """The source's recorded changes and each event's version, last editor and time, written into the copy in
    one transaction. Kept states move as they are: either backend reads the other's (store.history)."""
    pg_src = hasattr(src, "url")
    changes = [(e, v, a, u, moment(at), o, None if state is None else
                (json.dumps(state) if isinstance(state, dict) else state))
               for e, v, a, u, at, o, state in _read(src, _HISTORY.format(user='"user"' if pg_src else "user"))]
    stamps = [(e, v, by, moment(at)) for e, v, by, at in _read(src, _STAMPS)]
    if hasattr(dst, "url"):
        with dst._write_transaction("copy the history into"):
            with dst._conn.cursor() as cur:
                cur.execute("DELETE FROM history")  # the copy's own "created" rows, if any
                cur.executemany('INSERT INTO history (event_id, version, action, "user", at, origin, state) '
                                "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)", changes)
                cur.executemany("UPDATE events SET version = %s, updated_by = %s, updated_at = %s "
                                "WHERE event_id = %s", [(v, by, at, e) for e, v, by, at in stamps])
        return
    with dst._transaction():
        dst._conn.execute("DELETE FROM history")
        dst._conn.executemany("INSERT INTO history (event_id, version, action, user, at, origin, state) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)",
                              [(e, v, a, u, at.isoformat(timespec="microseconds"), o, st)
                               for e, v, a, u, at, o, st in changes])
        dst._conn.executemany("UPDATE events SET version = ?, updated_by = ?, updated_at = ? WHERE event_id = ?",
                              [(v, by, at.isoformat(timespec="seconds"), e) for e, v, by, at in stamps])
