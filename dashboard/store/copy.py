"""A whole store moved to another backend: GeoPackage ⇄ PostGIS, events with their origins, then snapshots.

A new destination is written as its creation (the GeoPackage built under a temporary name, the PostGIS schema
and events in one transaction): a failed copy leaves no half store. A destination that holds events or
snapshots is refused, untouched. What is not copied: each event's updated_at, version and history (the
copy is a new write: every event arrives at version 1 with one "created" change; see issue 18).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from dashboard.errors import StoreError
from dashboard.model import Event
from dashboard.store.base import EventStore
from dashboard.store.geopackage import GeoPackageStore

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
            return dst.count(), len(infos)
