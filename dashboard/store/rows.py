"""The rows of the GeoPackage's events and places tables, and the writer that stores them recording each change.

Rows are tuples in the tables' column order, built from Event objects (`_event_rows`) or by an importer itself
(ingest.acled, without an Event per row). RowWriter decides, batch by batch, which rows are new, changed,
equal to the stored ones or older than them, and keeps the state each change replaced (store.history).
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone

from shapely.geometry import Point

from dashboard.model import Event, Place, TimeSpan
from dashboard.store import gpkg, history
from dashboard.store.base import WriteSummary

_PLACE_UPSERT = (
    "INSERT INTO places (geom, key, name, kind, country, admin1, geonameid, population, pin_lon, pin_lat) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET geom=excluded.geom, "
    "name=excluded.name, kind=excluded.kind, country=excluded.country, admin1=excluded.admin1, "
    "geonameid=excluded.geonameid, population=excluded.population, pin_lon=excluded.pin_lon, "
    "pin_lat=excluded.pin_lat")
_EVENT_COLUMNS = ("geom", "event_id", "title", "description", "event_type", "t_start", "t_end", "t_precision",
                  "t_text", "t_note", "place_key", "place_name", "countries", "lon", "lat", "actors", "attributes",
                  "source_title", "source_publisher", "source_url", "source_published", "quote", "origin",
                  "updated_at")
_EVENT_INSERT = f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})"
_EVENT_UPSERT = (_EVENT_INSERT + " ON CONFLICT(event_id) DO UPDATE SET "
                 + ", ".join(f"{c}=excluded.{c}" for c in _EVENT_COLUMNS if c != "event_id"))
# The same with the row's version and who wrote it (the writers append both to each row of _EVENT_COLUMNS).
_VERSIONED = _EVENT_COLUMNS + ("version", "updated_by")
_EVENT_INSERT_V = f"INSERT INTO events ({', '.join(_VERSIONED)}) VALUES ({', '.join('?' * len(_VERSIONED))})"
_EVENT_UPSERT_V = (_EVENT_INSERT_V + " ON CONFLICT(event_id) DO UPDATE SET "
                   + ", ".join(f"{c}=excluded.{c}" for c in _VERSIONED if c != "event_id"))
_CONTENT = _EVENT_COLUMNS.index("origin")  # a row's content: its columns before origin and updated_at
_PLACE_COLUMNS = ("geom", "key", "name", "kind", "country", "admin1", "geonameid", "population", "pin_lon", "pin_lat")
# The stored content of these events (ids as one JSON array): the content columns, version, and their place's row.
_STORED_SQL = (f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS[:_CONTENT])}, e.version, "
               f"{', '.join('p.' + c for c in _PLACE_COLUMNS)} FROM json_each(?) AS j "
               "CROSS JOIN events AS e ON e.event_id = j.value JOIN places AS p ON p.key = e.place_key")
_BATCH = 1000  # rows per executemany; also the size of one "which of these ids exist?" query
# One encoder for every row (the text of actors and attributes): json.dumps with options builds a new encoder on
# each call.
_json = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _write_events(conn: sqlite3.Connection, events: Iterable[Event], origin: str, user: str,
                  revision: str | None = None) -> WriteSummary:
    """Write events (and their places) in batches through a RowWriter, recording what changed.

    Runs inside the caller's transaction; if `events` raises part-way, the caller rolls everything back.
    """
    writer = RowWriter(conn, origin, user, revision)
    _write_with(writer, events, origin)
    return writer.summary


def _write_with(writer: RowWriter, events: Iterable[Event], origin: str) -> None:
    for place_rows, event_rows in _event_rows(events, origin, writer.now):
        writer.write(place_rows, event_rows)


def _event_rows(events: Iterable[Event], origin: str, now: str) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The events as batches of (place rows, event rows) in the tables' column order.

    A place is given again only when its content differs from the last one given under its key."""
    # Per place key: the place as last written, its point blob, countries and pin, so a place shared by
    # 1,000 events is written and measured once. Per time span (often shared too): its dates as text.
    places: dict[str, tuple[Place, bytes, str, float, float]] = {}
    spans: dict[int, tuple[TimeSpan, str, str]] = {}
    place_rows: list[tuple] = []
    event_rows: list[tuple] = []
    for event in events:
        place = event.place
        known = places.get(place.key)
        if known is None or known[0] is not place and not (
                known[0] == place and known[0].geometry.equals_exact(place.geometry, 0)):
            lon, lat = place.lonlat
            point = _point_blob(lon, lat)
            # A point place's own blob is that point's (gpkg.to_blob gives the same bytes, built slower).
            blob = point if type(place.geometry) is Point and place.pin is None else gpkg.to_blob(place.geometry)
            place_rows.append((blob, place.key, place.name, place.kind, place.country,
                               place.admin1, place.geonameid, place.population, *(place.pin or (None, None))))
            known = places[place.key] = (place, point, _countries(place), lon, lat)
        _, point, countries, lon, lat = known
        time = event.time
        dates = spans.get(id(time))
        if dates is None or dates[0] is not time:
            dates = spans[id(time)] = (time, time.start.isoformat(), time.end.isoformat())
        src = event.source
        event_rows.append((
            point, event.id, event.title, event.description, event.event_type, dates[1], dates[2],
            time.precision, time.text, time.note, place.key, place.name, countries, lon, lat,
            _json(event.actors) if event.actors else "[]",
            _json(event.attributes) if event.attributes else "[]",
            src.title, src.publisher, src.url, src.published.isoformat() if src.published else None,
            src.quote, origin, now,
        ))
        if len(event_rows) >= _BATCH:
            yield place_rows, event_rows
            place_rows, event_rows = [], []
    if event_rows or place_rows:
        yield place_rows, event_rows


class RowWriter:
    """Writes place and event rows, ready for the tables, in bulk: what an import of a million rows uses.

    Rows are tuples in the tables' column order (_PLACE_COLUMNS without fid, _EVENT_COLUMNS). Every change is
    recorded (store.history): a new id gets version 1 and no history row; a stored event whose content (or
    its place's) differs is updated to version + 1 with the replaced state kept; one equal to the stored event
    is left alone (unchanged); a deleted id comes back as a "restored" version. With `revision` (an attribute
    name: ACLED's "timestamp"), an incoming row older than the stored one is left alone (skipped), and a
    deleted event comes back only when newer than the state it was deleted in.
    """

    def __init__(self, conn: sqlite3.Connection, origin: str, user: str = "", revision: str | None = None) -> None:
        self._conn = conn
        self.origin = origin
        self.user = user
        self.revision = revision
        self.now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._at = history.now_text()
        self._new = (1, user)
        # With no history at all (a first import), no id can be a deleted one: that query is not asked.
        self._history = conn.execute("SELECT EXISTS (SELECT 1 FROM history)").fetchone()[0]
        self.added = self.updated = self.unchanged = self.skipped = 0

    def write(self, place_rows: Sequence[tuple], event_rows: Sequence[tuple]) -> None:
        if not event_rows:
            if place_rows:
                self._conn.executemany(_PLACE_UPSERT, place_rows)
            return
        ids = [row[1] for row in event_rows]
        if len(set(ids)) != len(ids):  # an id twice: each run of distinct ids is written after the one before
            run: dict[str, tuple] = {}
            first = True
            for event_id, row in zip(ids, event_rows):
                if event_id in run:
                    self.write(place_rows if first else (), list(run.values()))
                    run, first = {}, False
                run[event_id] = row
            self.write(place_rows if first else (), list(run.values()))
            return
        _require_places(self._conn, place_rows, event_rows)
        existing = {r[0] for r in self._conn.execute(
            "SELECT e.event_id FROM json_each(?) AS j CROSS JOIN events AS e ON e.event_id = j.value",
            (json.dumps(ids),))}
        deleted = {}
        if self._history:
            deleted = {r[0]: (r[1], r[2]) for r in self._conn.execute(
                history.DELETED_SQL, (json.dumps([i for i in ids if i not in existing]),))}
        if not existing and not deleted:  # the common case: every id new
            if place_rows:
                self._conn.executemany(_PLACE_UPSERT, place_rows)  # first: events reference places by key
            tail = self._new
            self._conn.executemany(_EVENT_INSERT_V, [row + tail for row in event_rows])
            self.added += len(event_rows)
            return
        self._write_mixed(place_rows, event_rows, ids, existing, deleted)

    def _write_mixed(self, place_rows: Sequence[tuple], event_rows: Sequence[tuple], ids: list[str],
                     existing: set[str], deleted: dict[str, tuple[int, str | None]]) -> None:
        stored = {}
        if existing:
            cursor = self._conn.cursor()
            cursor.row_factory = None  # plain tuples, compared with the incoming rows
            stored = {r[1]: r for r in cursor.execute(_STORED_SQL, (json.dumps(sorted(existing)),))}
        incoming_places = {row[1]: row for row in place_rows}
        attributes = _EVENT_COLUMNS.index("attributes")
        new_rows, changed, back = [], [], []
        for event_id, row in zip(ids, event_rows):
            old = stored.get(event_id)
            if old is not None:
                if self._older(row[attributes], old[attributes], strictly=True):
                    self.skipped += 1
                    continue
                place = incoming_places.get(row[10])
                if tuple(old[:_CONTENT]) == row[:_CONTENT] and (
                        place is None or tuple(old[_CONTENT + 1:]) == tuple(place)):
                    self.unchanged += 1
                    continue
                changed.append(row + (old[_CONTENT] + 1, self.user))
            elif event_id in deleted:
                version, state = deleted[event_id]
                if state is not None and self._older(row[attributes], json.loads(state)["attributes"], strictly=False):
                    self.skipped += 1
                    continue
                back.append(row + (version + 1, self.user))
            else:
                new_rows.append(row + self._new)
        # The replaced states are kept before the places are written: an event's state holds its place as it was.
        if changed:  # one statement for the batch: the states are built by SQLite, read from the rows in place
            self._conn.execute(history.RECORD_ROWS_SQL, ("updated", self.user, self._at, self.origin,
                                                         json.dumps([row[1] for row in changed])))
        self._conn.executemany(history.RECORD_NEW_SQL, [(row[1], row[-2], "restored", self.user, self._at,
                                                         self.origin) for row in back])
        if place_rows:
            self._conn.executemany(_PLACE_UPSERT, place_rows)
        self._conn.executemany(_EVENT_INSERT_V, new_rows + back)
        self._conn.executemany(_EVENT_UPSERT_V, changed)
        self.added += len(new_rows) + len(back)
        self.updated += len(changed)

    def _older(self, incoming: str, stored: str, strictly: bool) -> bool:
        """Whether the incoming row's revision is older than (or, not strictly, as old as) the stored one's."""
        if self.revision is None:
            return False
        new, old = history.revision_of(incoming, self.revision), history.revision_of(stored, self.revision)
        if new is None or old is None:
            return False
        return new < old if strictly else new <= old

    @property
    def summary(self) -> WriteSummary:
        return WriteSummary(self.added, self.updated, self.unchanged, self.skipped)


def _require_places(conn: sqlite3.Connection, place_rows: Sequence[tuple], event_rows: Sequence[tuple]) -> None:
    """What the foreign key events.place_key → places.key asks, for one batch: every place is written."""
    others = {row[10] for row in event_rows}.difference(row[1] for row in place_rows)
    if not others:
        return
    found = conn.execute("SELECT count(*) FROM json_each(?) AS j CROSS JOIN places AS p ON p.key = j.value",
                         (json.dumps(sorted(others)),)).fetchone()[0]
    if found != len(others):
        raise sqlite3.IntegrityError("FOREIGN KEY constraint failed (an event's place is not stored)")


_POINT_HEADER = b"GP" + bytes([0, 0b0000_0011]) + struct.pack("<i", gpkg.SRS_ID)
_POINT_BODY = struct.Struct("<4dBI2d")


def _point_blob(lon: float, lat: float) -> bytes:
    """gpkg.to_blob(Point(lon, lat)) without building a shapely Point: envelope, then ISO WKB (1 = Point)."""
    return _POINT_HEADER + _POINT_BODY.pack(lon, lon, lat, lat, 1, 1, lon, lat)


point_blob = _point_blob  # for importers that build the tables' rows themselves (ingest.acled)


def _countries(place: Place) -> str:
    """',BY,UA,': the countries a place belongs to, delimited so a substring test matches whole codes."""
    return "," + ",".join(place.countries) + "," if place.countries else ""
