"""Shared snapshots: a view frozen with the events it showed, under an unguessable id, opened read-only.

A permalink (`?v=1&…`) shows whatever the store holds today; a snapshot (`?snapshot=<id>`) shows what was
on screen when it was made, however the data changed since. The rings are not frozen: they are computed
again from the frozen query, the catalogue and the gazetteer, which change only with Reachmap itself.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from dashboard.errors import ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.model import Catalogue, Event, is_hidden_control, span_label
from dashboard.scene import Scene, resolve_bearings, resolve_launches, resolve_rings
from dashboard.share import ViewState, describe, from_query, to_query
from dashboard.store import EventStore
from dashboard.store.snapshots import FrozenEvents, Snapshot
from dashboard.table import EventTable, StoredEvents

ID_BYTES = 18                # 144 random bits
ID_LENGTH = 24               # token_urlsafe: 4 characters per 3 bytes, no padding
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}", re.ASCII)   # use with fullmatch
MAX_TITLE = 120              # characters
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHOWN = 40                  # characters of a bad id quoted back in a message


def new_id() -> str:
    """A fresh snapshot id: 144 bits from `secrets`, 24 URL-safe characters."""
    return secrets.token_urlsafe(ID_BYTES)


def freeze(store: EventStore, scene: Scene, title: str, thumbnail: bytes | None = None, owner: str = "") -> str:
    """Keep the scene's query and a copy of its events as a new snapshot; return its id.

    A blank title becomes a description of the selection ('13 events between 20 Feb and 30 Jun 2022 in UA').
    Raises ValidationError (nothing written) for a title over MAX_TITLE characters or a thumbnail that is not
    a PNG of at most MAX_THUMBNAIL_BYTES. `owner` (a shared server's user name) alone may list and delete it.
    Events read from `store` as columns (StoredEvents: the app's and the CLI's scenes) are copied as columns,
    without building an Event each, a batch at a time: 100,000 of them freeze in about two seconds instead of
    thirty, and 1M without holding them all as one table.
    """
    clean, thumbnail = _title(title), _thumbnail(thumbnail)  # refused before any work
    if isinstance(scene.events, StoredEvents):
        events = store.frozen_events(scene.events.ids.tolist())
    else:
        events = FrozenEvents.from_events(scene.events)
    snapshot = Snapshot(
        id=new_id(), title=clean or _default_title(scene, events), created_at=datetime.now(timezone.utc),
        query=to_query(scene.state), events=events, thumbnail=thumbnail, owner=owner,
    )
    store.put_snapshot(snapshot)
    return snapshot.id


def attach_thumbnail(store: EventStore, snapshot_id: str, thumbnail: bytes) -> bool:
    """Give a frozen snapshot its PNG (drawn after freezing, so freezing never waits for Chromium)."""
    return store.set_snapshot_thumbnail(check_id(snapshot_id), _thumbnail(thumbnail))


def open_snapshot(store: EventStore, snapshot_id: str) -> tuple[Snapshot, ViewState]:
    """The snapshot and its view; ValidationError for a malformed id, NotFoundError for an unknown one."""
    snapshot_id = check_id(snapshot_id)
    snapshot = store.get_snapshot(snapshot_id)
    # We wrote the query with to_query, so from_query has nothing to report; should a later version
    # tighten a bound, the field falls back to its default rather than the snapshot failing to open.
    return snapshot, from_query(snapshot.query).state


def frozen_scene(snapshot: Snapshot, state: ViewState, gazetteer: Gazetteer, catalogue: Catalogue) -> Scene:
    """The scene of an opened snapshot: its frozen events as they are (not filtered again), rings rebuilt.

    Frozen columns come with their EventTable, so a map of 100k frozen events is drawn from columns (as the
    live map is) and no Event object is built unless something iterates the events."""
    rings, problems = resolve_rings(state, gazetteer, catalogue)
    bearings, bearing_problems = resolve_bearings(state, gazetteer)  # lines of bearing: rebuilt like the rings
    launches, launch_problems = resolve_launches(state, gazetteer, catalogue)  # rebuilt too, like rings
    problems, bearings, launches = problems + bearing_problems + launch_problems, tuple(bearings), tuple(launches)
    events = snapshot.events
    if isinstance(events, FrozenEvents):
        return Scene(state, events, tuple(rings), tuple(problems), frozen_table(events), np.arange(len(events)),
                     bearings=bearings, launches=launches)
    return Scene(state, events, tuple(rings), tuple(problems), bearings=bearings, launches=launches)


def frozen_table(frozen: FrozenEvents) -> EventTable:
    """The EventTable of frozen columns, in their order, built in Arrow as `EventTable.from_events` would
    build it from the Event objects (the same columns: the text a filter searches, the pins, the places),
    a batch of events at a time: only the columns it needs are decompressed, and never all at once."""
    from dashboard.table import COARSE_KINDS  # the table's own rules

    places = frozen.places
    keys, kinds = places.column("key").to_pylist(), places.column("kind").to_pylist()
    # A border belongs to both its countries (Place.countries); other places to their one country, if any.
    countries = pa.array([("," + ",".join(key.removeprefix("border:").split("-")) + ",") if kind == "border" and
                          key.startswith("border:") else f",{country}," if country else ",,"
                          for key, kind, country in zip(keys, kinds, places.column("country").to_pylist())],
                         pa.string())
    shapes: dict[str, object] = {}
    coarse: set[str] = set()
    geometries = shapely.from_wkb(places.column("wkb").to_numpy(zero_copy_only=False)) if keys else ()
    for key, kind, geometry, pinned in zip(keys, kinds, geometries, places.column("pin_lon").is_valid().to_pylist()):
        # None when the place is exactly the point its events are pinned at (table._shape_of).
        shapes.setdefault(key, None if geometry.geom_type == "Point" and not pinned else geometry)
        if kind in COARSE_KINDS:
            coarse.add(key)
    del keys, kinds, geometries
    admins, place_keys = places.column("admin1"), places.column("key")

    def columns(ev: pa.RecordBatch) -> dict[str, pa.Array | pa.ChunkedArray]:
        at = ev.column("place")
        text = pc.binary_join_element_wise(ev.column("title"), ev.column("description"), ev.column("quote"), "\n")
        return {
            "id": ev.column("id"), "title": ev.column("title"), "type": ev.column("event_type"),
            "t_start": _days(ev.column("t_start")), "t_end": _days(ev.column("t_end")),
            "countries": countries.take(at), "lon": ev.column("lon"), "lat": ev.column("lat"),
            "actors": ev.column("actors"), "admin": admins.take(at), "place": place_keys.take(at),
            "text": text, "publisher": ev.column("source_publisher"),
        }

    return EventTable.from_column_batches(map(columns, frozen.batches(_TABLE_COLUMNS)), shapes, coarse)


_TABLE_COLUMNS = ("id", "title", "event_type", "t_start", "t_end", "lon", "lat", "actors", "place", "description",
                  "quote", "source_publisher")
_LISTED_COLUMNS = ("t_start", "t_end", "t_precision", "t_text", "title", "place", "event_type", "source_publisher",
                   "quote")


def listing(events: Sequence[Event]) -> dict[str, list]:
    """The table a snapshot's page shows: date, title, place, type, source and quote of each event, read
    from the frozen columns (no Event built for 100k rows) or from the events themselves.

    Frozen columns are read a batch at a time, and a value many rows share (a date, a place's name, a type,
    a publisher) is one text object for all of them: 1M rows take a third of the memory one text per cell took."""
    if not isinstance(events, FrozenEvents):
        return {"date": [e.time.label for e in events], "title": [e.title for e in events],
                "place": [e.place.name for e in events], "type": [e.event_type for e in events],
                "source": [e.source.publisher for e in events], "quote": [e.source.quote for e in events]}
    names, labels = events.places.column("name").to_pylist(), {}
    day = date.fromisoformat

    def label(span: tuple) -> str:
        text = labels.get(span)
        if text is None:
            text = labels[span] = span_label(day(span[0]), day(span[1]), span[2], span[3])
        return text

    rows: dict[str, list] = {"date": [], "title": [], "place": [], "type": [], "source": [], "quote": []}
    for ev in events.batches(_LISTED_COLUMNS):
        rows["date"] += map(label, zip(*(ev.column(name).to_pylist() for name in _LISTED_COLUMNS[:4])))
        rows["title"] += ev.column("title").to_pylist()
        rows["place"] += map(names.__getitem__, ev.column("place").to_pylist())
        rows["type"] += _shared(ev.column("event_type"))
        rows["source"] += _shared(ev.column("source_publisher"))
        rows["quote"] += ev.column("quote").to_pylist()
    return rows


def _shared(column: pa.Array) -> list[str]:
    """The texts of a column of few distinct values, each distinct one a single object."""
    encoded = pc.dictionary_encode(column)
    return list(map(encoded.dictionary.to_pylist().__getitem__, encoded.indices.to_pylist()))


def _days(iso: pa.ChunkedArray) -> pa.ChunkedArray:
    """YYYY-MM-DD texts as days since 1970-01-01 (table.day_number)."""
    return iso.cast(pa.date32()).cast(pa.int32())


def check_id(snapshot_id: object) -> str:
    """The id without surrounding spaces, or ValidationError naming the field 'snapshot' and what to do."""
    text = snapshot_id.strip() if isinstance(snapshot_id, str) else snapshot_id
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        shown = text if not isinstance(text, str) or len(text) <= _SHOWN else text[:_SHOWN] + "…"
        raise ValidationError(
            "snapshot", shown,
            f"a snapshot id is {ID_LENGTH} letters, digits, '-' or '_'; copy the whole link again, "
            "or pick the snapshot on the Snapshots page")
    return text


def _title(title: str) -> str:
    if not isinstance(title, str):
        raise ValidationError("title", title, "must be text")
    clean = " ".join("".join(" " if is_hidden_control(ch) else ch for ch in title).split())
    if len(clean) > MAX_TITLE:
        raise ValidationError("title", clean[:_SHOWN] + "…",
                              f"a snapshot title has at most {MAX_TITLE} characters (got {len(clean)}); shorten it")
    return clean


def _default_title(scene: Scene, events: FrozenEvents) -> str:
    text = describe(scene.state, len(events), events.date_bounds())
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 1].rstrip() + "…"


def _thumbnail(data: bytes | None) -> bytes | None:
    if data is None:
        return None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError("thumbnail", type(data).__name__, "must be PNG bytes or None")
    data = bytes(data)
    if not data.startswith(PNG_SIGNATURE):
        raise ValidationError("thumbnail", data[:8], "must be a PNG image (it does not start like one)")
    if len(data) > MAX_THUMBNAIL_BYTES:
        raise ValidationError("thumbnail", f"{len(data):,} bytes",
                              f"a thumbnail has at most {MAX_THUMBNAIL_BYTES:,} bytes; make the image smaller")
    return data
