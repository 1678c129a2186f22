"""The GeoPackage store's record of changes (issue 18): the history table, the states it keeps, and Changes.
PostGIS keeps the same rows (store.pg_rows); the states, Changes and revisions below serve both backends.

One row per recorded change: event_id, version (the version the change produced), action, user, at (UTC ISO),
origin, and `state`: the event as it was BEFORE the change (JSON, see STATE_SQL; NULL when there was no row:
a "created" by the app's form, a "restored" of a deleted event). So a deletion keeps the deleted state, an
update the state it replaced, and what a change made ("after") is the next change's state, or the row in
`events`. An event written by an import gets version 1 and no history row (a million-row import writes no
second million rows): its "created" Change is made from its row, or from the state the next change kept,
which carries the row's own version, origin, updated_by and updated_at.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import shapely

from dashboard.model import Event, Place, Source, TimeSpan, are_text_pairs
from dashboard.store import gpkg
from dashboard.store.base import Change

TABLE_SQL = """
CREATE TABLE history (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, version INTEGER NOT NULL,
  action TEXT NOT NULL, user TEXT NOT NULL, at TEXT NOT NULL, origin TEXT NOT NULL, state TEXT,
  UNIQUE (event_id, version));
CREATE INDEX history_action_at ON history(action, at)
"""
DESCRIPTION = "Every recorded change of an event: who, when, what made it, and the event as it was before"

# The state of the events row `e` with its place `p`, as one JSON text built by SQLite (no Event is built to
# keep it). Place geometry as the GeoPackage blob in hex: bit-exact.
STATE_SQL = ("json_object('id', e.event_id, 'title', e.title, 'description', e.description, "
             "'event_type', e.event_type, 't_start', e.t_start, 't_end', e.t_end, 't_precision', e.t_precision, "
             "'t_text', e.t_text, 't_note', e.t_note, 'actors', e.actors, 'attributes', e.attributes, "
             "'source_title', e.source_title, 'source_publisher', e.source_publisher, 'source_url', e.source_url, "
             "'source_published', e.source_published, 'quote', e.quote, 'version', e.version, 'origin', e.origin, "
             "'updated_by', e.updated_by, 'updated_at', e.updated_at, "
             "'place', json_object('key', p.key, 'name', p.name, 'kind', p.kind, 'country', p.country, "
             "'admin1', p.admin1, 'geonameid', p.geonameid, 'population', p.population, 'pin_lon', p.pin_lon, "
             "'pin_lat', p.pin_lat, 'geom', hex(p.geom)))")
# Record the current row of one event (parameters: action, user, at, origin, event_id) as the state a change
# replaces, under the version that change produces (the row's version + 1).
RECORD_ROW_SQL = ("INSERT INTO history (event_id, version, action, user, at, origin, state) "
                  f"SELECT e.event_id, e.version + 1, ?, ?, ?, ?, {STATE_SQL} "
                  "FROM events AS e JOIN places AS p ON p.key = e.place_key WHERE e.event_id = ?")
# The same for many events given as one JSON array (parameters: action, user, at, origin, ids).
RECORD_ROWS_SQL = ("INSERT INTO history (event_id, version, action, user, at, origin, state) "
                   f"SELECT e.event_id, e.version + 1, ?, ?, ?, ?, {STATE_SQL} "
                   "FROM json_each(?) AS j CROSS JOIN events AS e ON e.event_id = j.value "
                   "JOIN places AS p ON p.key = e.place_key")
# A change with no row before it (parameters: event_id, version, action, user, at, origin).
RECORD_NEW_SQL = ("INSERT INTO history (event_id, version, action, user, at, origin, state) "
                  "VALUES (?, ?, ?, ?, ?, ?, NULL)")
# The last change of each of these ids that is not in events (deleted): (event_id, version, state).
DELETED_SQL = ("SELECT h.event_id, h.version, h.state FROM json_each(?) AS j "
               "CROSS JOIN history AS h ON h.event_id = j.value "
               "WHERE h.version = (SELECT max(version) FROM history WHERE event_id = h.event_id) "
               "AND NOT EXISTS (SELECT 1 FROM events WHERE event_id = h.event_id)")
STILL_DELETED_SQL = ("SELECT h.* FROM history AS h WHERE h.action = 'deleted' "
                     "AND h.version = (SELECT max(version) FROM history WHERE event_id = h.event_id) "
                     "AND NOT EXISTS (SELECT 1 FROM events WHERE event_id = h.event_id) "
                     "ORDER BY h.at DESC, h.fid DESC LIMIT ?")


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def event_from_state(state: str | dict) -> Event:
    """The Event a kept state describes."""
    s = json.loads(state) if isinstance(state, str) else state
    p = s["place"]
    # The GeoPackage keeps its geometry blob ("geom"), PostGIS the ISO WKB ("wkb"): both in hex, bit-exact.
    geometry = gpkg.from_blob(bytes.fromhex(p["geom"])) if "geom" in p else shapely.from_wkb(bytes.fromhex(p["wkb"]))
    place = Place(key=p["key"], name=p["name"], kind=p["kind"], geometry=geometry,
                  country=p["country"], admin1=p["admin1"], geonameid=p["geonameid"], population=p["population"],
                  pin=(p["pin_lon"], p["pin_lat"]) if p["pin_lon"] is not None else None)
    published = s["source_published"]
    stored = json.loads(s["attributes"])
    pairs = tuple(map(tuple, stored))
    return Event(
        id=s["id"], title=s["title"], description=s["description"], event_type=s["event_type"],
        time=TimeSpan(date.fromisoformat(s["t_start"]), date.fromisoformat(s["t_end"]), s["t_precision"],
                      s["t_text"], s["t_note"]),
        place=place,
        source=Source(s["source_title"], s["source_publisher"], s["source_url"],
                      date.fromisoformat(published) if published else None, s["quote"]),
        actors=tuple(json.loads(s["actors"])),
        attributes=pairs if are_text_pairs(pairs) else tuple((str(k), str(v)) for k, v in stored),
    )


def moment(text: str | datetime) -> datetime:
    """A stored UTC time as an aware datetime (rows written before histories have '+00:00' too; PostGIS gives
    datetimes)."""
    at = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def changes(rows: list, current: Event | None, current_meta: tuple[int, str, str, str] | None) -> list[Change]:
    """The Changes of one event, oldest first, from its history rows (ordered by version) and its current row
    (None when deleted; current_meta: the row's version, origin, updated_by, updated_at)."""
    states = [json.loads(r["state"]) if r["state"] is not None else None for r in rows]
    befores = [event_from_state(s) if s is not None else None for s in states]
    out: list[Change] = []
    first = rows[0]["version"] if rows else None
    if first is None or first > 1:  # version 1 was written by an import: made from the row that kept it
        if first is None:
            meta, after = current_meta, current
        else:
            s = states[0]
            meta, after = (s["version"], s["origin"], s["updated_by"], s["updated_at"]), befores[0]
        if meta is not None and after is not None:
            out.append(Change(after.id, meta[0], "created", meta[2], moment(meta[3]), meta[1], None, after))
    for i, row in enumerate(rows):
        if row["action"] == "deleted":
            after = None
        elif i + 1 < len(rows):
            after = befores[i + 1]
        else:
            after = current
        out.append(Change(row["event_id"], row["version"], row["action"], row["user"], moment(row["at"]),
                          row["origin"], befores[i], after))
    return out


def revision_order(value: str | None) -> float | None:
    """An ACLED timestamp as a number that orders revisions: Unix seconds, or a date text (re-saved files) as the
    seconds of its midnight UTC; None when there is none or it is neither."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def revision_of(attributes_text: str, name: str) -> float | None:
    """The revision attribute `name` in an events row's attributes JSON.

    Read off the text as the store and the importers write it (`["timestamp", "1656979200"]`: a quote inside a
    JSON text is escaped, so this cannot match inside another value); parsed whole only when written otherwise.
    Parsing every row's attributes was a third of re-importing 100k revised ACLED events."""
    key = f'["{name}", "'
    at = attributes_text.find(key)
    if at >= 0:
        start = at + len(key)
        value = attributes_text[start:attributes_text.find('"', start)]
        if "\\" not in value:
            return revision_order(value)
    elif name not in attributes_text:
        return None
    try:
        pairs = json.loads(attributes_text)
    except ValueError:
        return None
    for pair in pairs:
        if len(pair) == 2 and pair[0] == name:
            return revision_order(str(pair[1]))
    return None


def shown(value: str, limit: int = 60) -> str:
    """A value quoted in a message, cut so a 10,000-character id does not fill the screen."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return f"'{text}'"


def restore_version(store, event_id: str, version: int, user: str, expected_version: int | None,
                    current: tuple | None, changes: list[Change]) -> int:
    """EventStore.restore inside the backend's write transaction, for both backends: `current` is the event's
    (version, updated_by, updated_at) or None if deleted (PostGIS has locked its row), `changes` its history.
    The backend supplies `_require_version`, `_write_one` and `get_event`."""
    from dashboard.errors import ConflictError, NotFoundError, StoreError

    target = next((c for c in changes if c.version == version), None)
    if target is None:
        raise NotFoundError(f"The event {shown(event_id)} has no version {version} (it has "
                            f"{changes[0].version} to {changes[-1].version}).")
    if target.after is None:
        raise StoreError(f"Version {version} of the event {shown(event_id)} is its deletion; restore the "
                         f"version before it ({version - 1}) instead.")
    if expected_version is None:
        if current is not None:
            raise ConflictError(
                f"The event {shown(event_id)} is no longer deleted: it is at version {current[0]} "
                f"(by {current[1] or 'someone'}); nothing was restored. Look at it, then restore again.",
                store.get_event(event_id), current[0])
        last = changes[-1].version
        store._write_one(target.after, user, "restore", "restored", last + 1, had_row=False)
        return last + 1
    store._require_version(event_id, current, expected_version, "restored")
    if store.get_event(event_id) == target.after:
        return current[0]  # it is that version already: nothing to record
    store._write_one(target.after, user, "restore", "restored", current[0] + 1, had_row=True)
    return current[0] + 1


def save_new_or_check(store, event, user: str, expected_version: int | None, origin: str,
                      current: tuple | None) -> int | None:
    """EventStore.save_event's checks, for both backends, inside the backend's write transaction: a new event
    (expected_version None) is written here at version 1 and 1 returned; for an edit the stored version is
    checked (ConflictError) and None returned, and the backend writes the update. `current` as for
    restore_version."""
    from dashboard.errors import StoreError

    if expected_version is not None:
        store._require_version(event.id, current, expected_version, "saved")
        return None
    if current is not None:
        raise StoreError(f"An event with id {shown(event.id)} exists already (version {current[0]}); "
                         "edit that one, or give the new event another id.")
    gone = store._deletion(event.id)
    if gone is not None:
        raise StoreError(f"The event {shown(event.id)} was deleted (version {gone[0]}); restore it "
                         "instead of adding it again, or give the new event another id.")
    store._write_one(event, user, origin, "created", 1, had_row=False)
    return 1
