"""The PostGIS store's rows, and the writer that stores them recording each change (store.rows for PostGIS).

Rows go in through COPY into temporary stage tables, then one statement per table and batch. Which rows are
new, changed, equal to the stored ones or older than them is decided per batch with the meaning of the
GeoPackage's RowWriter (store.rows); the states that changes replace are built by the server (STATE_SQL) in
the shape store.history reads, so Changes are made by the same code on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone

import psycopg
import shapely

from dashboard.errors import StoreError
from dashboard.model import Event, Place
from dashboard.store import history
from dashboard.store.base import WriteSummary
from dashboard.store.rows import _countries

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}  # GeoPackage blob header, by envelope flag
BATCH = 5000

PLACE_COLUMNS = ("key", "name", "kind", "country", "admin1", "geonameid", "population", "pin_lon", "pin_lat")
# The GeoPackage RowWriter's event rows (store.rows._EVENT_COLUMNS) without the point blob: lon, lat say it.
EVENT_COLUMNS = ("event_id", "title", "description", "event_type", "t_start", "t_end", "t_precision", "t_text",
                 "t_note", "place_key", "place_name", "countries", "lon", "lat", "actors", "attributes",
                 "source_title", "source_publisher", "source_url", "source_published", "quote", "origin",
                 "updated_at")
_CONTENT = EVENT_COLUMNS[1:EVENT_COLUMNS.index("origin")]  # what makes two rows of one id the same event
_ATTRIBUTES = EVENT_COLUMNS.index("attributes")
# COLLATE "C" where the events and places tables have it: compared with them, the collations must agree.
STAGE = (
    "CREATE TEMP TABLE stage_places (n serial, wkb bytea NOT NULL, key text COLLATE \"C\", name text, kind text, "
    "country text, admin1 text, geonameid bigint, population bigint, pin_lon double precision, "
    "pin_lat double precision) ON COMMIT DROP",
    "CREATE TEMP TABLE stage_events (n serial, event_id text COLLATE \"C\", title text, description text, "
    "event_type text, t_start date, t_end date, t_precision text, t_text text, t_note text, "
    "place_key text COLLATE \"C\", place_name text, countries text, lon double precision, lat double precision, "
    "actors text, attributes text, source_title text COLLATE \"C\", source_publisher text COLLATE \"C\", "
    "source_url text COLLATE \"C\", source_published date, quote text, origin text COLLATE \"C\", "
    "updated_at timestamptz, version integer NOT NULL DEFAULT 1) ON COMMIT DROP",
)
_PLACES_UPSERT = (
    f"INSERT INTO places (geom, {', '.join(PLACE_COLUMNS)}) "
    f"SELECT DISTINCT ON (key) ST_GeomFromWKB(wkb, 4326), {', '.join(PLACE_COLUMNS)} FROM stage_places "
    "ORDER BY key, n DESC ON CONFLICT (key) DO UPDATE SET geom = excluded.geom, "
    + ", ".join(f"{c} = excluded.{c}" for c in PLACE_COLUMNS if c != "key"))
# The stage's rows (distinct ids: RowWriter splits a batch that repeats one) at their version, by `user` (%s).
_EVENTS_UPSERT = (
    f"INSERT INTO events (geom, {', '.join(EVENT_COLUMNS)}, version, updated_by) "
    f"SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326), {', '.join(EVENT_COLUMNS)}, version, %s "
    "FROM stage_events ON CONFLICT (event_id) DO UPDATE SET geom = excluded.geom, "
    + ", ".join(f"{c} = excluded.{c}" for c in EVENT_COLUMNS + ("version", "updated_by") if c != "event_id"))
_PLACE_DIFFERS = (
    "EXISTS (SELECT 1 FROM stage_places sp JOIN places p ON p.key = sp.key WHERE sp.key = s.place_key AND "
    f"(ST_AsBinary(p.geom, 'NDR'), {', '.join('p.' + c for c in PLACE_COLUMNS[1:])}) IS DISTINCT FROM "
    f"(sp.wkb, {', '.join('sp.' + c for c in PLACE_COLUMNS[1:])}))")
# The stored events of the staged ids, locked for this transaction: id, version, attributes, and whether the
# staged row (with its place, if staged too) is the same event. Run with prepare=False, as every statement
# joining the staged rows to the growing tables: psycopg prepares a statement after its fifth run, and the
# plan made while `events` was small (a hash join over a scan of all of it) was then kept for the rest of a
# one-transaction import, each batch reading the whole table (a 1M import slowed from 50k to 9k events a
# minute and did not end in 29 min).
_STORED_SQL = (
    "SELECT s.event_id, e.version, e.attributes, "
    f"({', '.join('e.' + c for c in _CONTENT)}) IS NOT DISTINCT FROM ({', '.join('s.' + c for c in _CONTENT)}) "
    f"AND NOT {_PLACE_DIFFERS} FROM stage_events s JOIN events e ON e.event_id = s.event_id "
    "ORDER BY s.event_id FOR UPDATE OF e")

# The state of the events row `e` with its place `p`, built by the server in the shape store.history reads
# (event_from_state); the place's geometry as ISO WKB in hex ("wkb"): bit-exact.
STATE_SQL = ("jsonb_build_object('id', e.event_id, 'title', e.title, 'description', e.description, "
             "'event_type', e.event_type, 't_start', e.t_start, 't_end', e.t_end, 't_precision', e.t_precision, "
             "'t_text', e.t_text, 't_note', e.t_note, 'actors', e.actors, 'attributes', e.attributes, "
             "'source_title', e.source_title, 'source_publisher', e.source_publisher, 'source_url', e.source_url, "
             "'source_published', e.source_published, 'quote', e.quote, 'version', e.version, 'origin', e.origin, "
             "'updated_by', e.updated_by, 'updated_at', e.updated_at, "
             "'place', jsonb_build_object('key', p.key, 'name', p.name, 'kind', p.kind, 'country', p.country, "
             "'admin1', p.admin1, 'geonameid', p.geonameid, 'population', p.population, 'pin_lon', p.pin_lon, "
             "'pin_lat', p.pin_lat, 'wkb', encode(ST_AsBinary(p.geom, 'NDR'), 'hex')))")
# Record the current rows of these events (parameters: action, user, at, origin, ids) as the states the change
# replaces, under the version the change produces (the row's version + 1).
RECORD_ROWS_SQL = ('INSERT INTO history (event_id, version, action, "user", at, origin, state) '
                   f"SELECT e.event_id, e.version + 1, %s, %s, %s, %s, {STATE_SQL} "
                   "FROM events AS e JOIN places AS p ON p.key = e.place_key WHERE e.event_id = ANY(%s) "
                   "ORDER BY e.event_id")
# A change with no row before it (parameters: event_id, version, action, user, at, origin).
RECORD_NEW_SQL = ('INSERT INTO history (event_id, version, action, "user", at, origin, state) '
                  "VALUES (%s, %s, %s, %s, %s, %s, NULL)")
# The last change of each of these ids that is not in events (deleted): (event_id, version, its attributes).
DELETED_SQL = ("SELECT DISTINCT ON (h.event_id) h.event_id, h.version, h.state ->> 'attributes' FROM history AS h "
               "WHERE h.event_id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.event_id = h.event_id) "
               "ORDER BY h.event_id, h.version DESC")
CHANGE_COLUMNS = 'h.event_id, h.version, h.action, h."user" AS user, h.at, h.origin, h.state::text AS state'
STILL_DELETED_SQL = (f"SELECT {CHANGE_COLUMNS} FROM history AS h WHERE h.action = 'deleted' "
                     "AND h.version = (SELECT max(version) FROM history WHERE event_id = h.event_id) "
                     "AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.event_id = h.event_id) "
                     "ORDER BY h.at DESC, h.seq DESC LIMIT %s")


def now() -> datetime:
    return datetime.now(timezone.utc)


def event_rows(events: Iterable[Event], origin: str, updated_at: str) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The events as batches of (place rows: ISO WKB first, event rows in EVENT_COLUMNS order).

    A place is given again only when its content differs from the last one given under its key."""
    places: dict[str, Place] = {}
    place_rows: list[tuple] = []
    rows: list[tuple] = []
    for event in events:
        place = event.place
        known = places.get(place.key)
        if known is None or known is not place and not (
                known == place and known.geometry.equals_exact(place.geometry, 0)):
            place_rows.append((shapely.to_wkb(place.geometry, byte_order=1, flavor="iso"), place.key,
                               place.name, place.kind, place.country, place.admin1, place.geonameid,
                               place.population, *(place.pin or (None, None))))
            places[place.key] = place
        lon, lat = place.lonlat
        time, src = event.time, event.source
        rows.append((
            event.id, event.title, event.description, event.event_type, time.start, time.end,
            time.precision, time.text, time.note, place.key, place.name, _countries(place), lon, lat,
            json.dumps(list(event.actors), ensure_ascii=False) if event.actors else "[]",
            json.dumps([list(p) for p in event.attributes], ensure_ascii=False) if event.attributes else "[]",
            src.title, src.publisher, src.url, src.published, src.quote, origin, updated_at))
        if len(rows) >= BATCH:
            yield place_rows, rows
            place_rows, rows = [], []
    if place_rows or rows:
        yield place_rows, rows


class RowWriter:
    """GeoPackageStore's RowWriter (store.rows) for PostGIS: the same rows (places with a GeoPackage geometry
    blob, events in its column order after their point blob), written with COPY, and the same record of
    changes: a new id gets version 1 and no history row; a stored event whose content (or its place's)
    differs gets version + 1 with the replaced state kept; one equal to the stored event is left alone
    (unchanged); a deleted id comes back as a "restored" version. With `revision`, an incoming row older than
    the stored one is skipped, and a deleted event comes back only when newer than the state it was deleted in.
    """

    def __init__(self, conn: psycopg.Connection, origin: str, user: str = "", revision: str | None = None) -> None:
        self._conn = conn
        self.origin = origin
        self.user = user
        self.revision = revision
        self.now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._at = now()
        # With no history at all (a first import), no id can be a deleted one: that query is not asked.
        self._history = conn.execute("SELECT EXISTS (SELECT 1 FROM history)").fetchone()[0]
        self.added = self.updated = self.unchanged = self.skipped = 0

    def write(self, place_rows: Sequence[tuple], event_rows: Sequence[tuple]) -> None:
        """GeoPackage rows (as ingest.acled builds them): places with a geometry blob, events after a point blob."""
        places = [(_wkb_of(row[0]), *row[1:]) for row in place_rows]
        self.write_staged(places, [row[1:] for row in event_rows])

    def write_staged(self, place_rows: Sequence[tuple], event_rows: Sequence[tuple]) -> None:
        """Places as (WKB, key, …), events without the blob; what changed is recorded."""
        ids = [row[0] for row in event_rows]
        if len(set(ids)) != len(ids):  # an id twice: each run of distinct ids is written after the one before
            run: dict[str, tuple] = {}
            first = True
            for event_id, row in zip(ids, event_rows):
                if event_id in run:
                    self.write_staged(place_rows if first else (), list(run.values()))
                    run, first = {}, False
                run[event_id] = row
            self.write_staged(place_rows if first else (), list(run.values()))
            return
        self.stage(place_rows, event_rows)
        if not event_rows:
            self.commit_staged({})
            return
        incoming = dict(zip(ids, event_rows))
        drop: list[str] = []
        versions: dict[str, int] = {}
        changed: list[str] = []
        for event_id, version, attributes, same in self._conn.execute(_STORED_SQL, prepare=False):
            if self._older(incoming[event_id][_ATTRIBUTES], attributes, strictly=True):
                self.skipped += 1
                drop.append(event_id)
            elif same:
                self.unchanged += 1
                drop.append(event_id)
            else:
                changed.append(event_id)
                versions[event_id] = version + 1
        stored = len(drop) + len(changed)
        back: list[tuple[str, int]] = []
        if self._history and stored < len(ids):
            missing = [i for i in ids if i not in versions and i not in drop]
            for event_id, version, attributes in self._conn.execute(DELETED_SQL, (missing,), prepare=False):
                if attributes is not None and self._older(incoming[event_id][_ATTRIBUTES], attributes,
                                                          strictly=False):
                    self.skipped += 1
                    drop.append(event_id)
                else:
                    back.append((event_id, version + 1))
                    versions[event_id] = version + 1
        if drop:
            self._conn.execute("DELETE FROM stage_events WHERE event_id = ANY(%s)", (drop,))
        # The replaced states are kept before the places are written: an event's state holds its place as it was.
        if changed:
            self._conn.execute(RECORD_ROWS_SQL, ("updated", self.user, self._at, self.origin, changed))
        if back:
            self._conn.cursor().executemany(RECORD_NEW_SQL, [(i, v, "restored", self.user, self._at, self.origin)
                                                             for i, v in back])
        self.commit_staged(versions)
        self.added += len(ids) - len(drop) - len(changed)
        self.updated += len(changed)

    def stage(self, place_rows: Sequence[tuple], event_rows: Sequence[tuple]) -> None:
        """Put the rows into the stage tables (emptied first): one COPY each."""
        cur = self._conn.cursor()
        cur.execute("TRUNCATE stage_places, stage_events")
        if place_rows:
            with cur.copy(f"COPY stage_places (wkb, {', '.join(PLACE_COLUMNS)}) FROM STDIN") as copy:
                for row in place_rows:
                    copy.write_row(row)
        if event_rows:
            with cur.copy(f"COPY stage_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for row in event_rows:
                    copy.write_row(row)

    def commit_staged(self, versions: dict[str, int]) -> None:
        """Write the staged places, then the staged events at these versions (1 for ids not named)."""
        if versions:
            self._conn.execute("UPDATE stage_events AS s SET version = v.version "
                               "FROM unnest(%s::text[], %s::int[]) AS v(id, version) WHERE s.event_id = v.id",
                               (list(versions), list(versions.values())))
        self._conn.execute(_PLACES_UPSERT, prepare=False)  # first: events reference places by key
        self._conn.execute(_EVENTS_UPSERT, (self.user,), prepare=False)

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


def _wkb_of(blob: bytes) -> bytes:
    """The ISO WKB inside a GeoPackage geometry blob."""
    if blob[:2] != b"GP":
        raise StoreError("A place's geometry is not a GeoPackage blob; the importer built a wrong row.")
    return blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]:]
