"""Shared snapshots: a view frozen with the events it showed, under an unguessable id, opened read-only.

A permalink (`?v=1&…`) shows whatever the store holds today; a snapshot (`?snapshot=<id>`) shows what was
on screen when it was made, however the data changed since. The rings are not frozen: they are computed
again from the frozen query, the catalogue and the gazetteer, which change only with Reachmap itself.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
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
from dashboard.store.base import memory_trimmer
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
        events = store.frozen_events(scene.events.ids)  # a numpy array: made a list a batch at a time
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
        # Its map table holds no search text (330 MB at 1M events): a snapshot's events are never filtered again.
        return Scene(state, events, tuple(rings), tuple(problems), frozen_table(events, searchable=False),
                     np.arange(len(events)), bearings=bearings, launches=launches)
    return Scene(state, events, tuple(rings), tuple(problems), bearings=bearings, launches=launches)


def frozen_table(frozen: FrozenEvents, searchable: bool = True) -> EventTable:
    """The EventTable of frozen columns, in their order, built in Arrow as `EventTable.from_events` would
    build it from the Event objects (the same columns: the text a filter searches, the pins, the places),
    a batch of events at a time: only the columns it needs are decompressed, and never all at once.
    `searchable=False`: without the text (EventTable.searchable), whose columns are then not read."""
    places = frozen.places
    countries, shapes, coarse = _place_columns(places)
    admins, place_keys = places.column("admin1"), places.column("key")
    release = memory_trimmer()  # mimalloc keeps what Arrow freed: 200 MB at 1M places
    release()

    def columns(ev: pa.RecordBatch) -> dict[str, pa.Array | pa.ChunkedArray]:
        at = ev.column("place")
        text = (pc.binary_join_element_wise(ev.column("title"), ev.column("description"), ev.column("quote"), "\n")
                if searchable else None)
        return {
            "id": ev.column("id"), "title": ev.column("title"), "type": ev.column("event_type"),
            "t_start": _days(ev.column("t_start")), "t_end": _days(ev.column("t_end")),
            "countries": countries.take(at), "lon": ev.column("lon"), "lat": ev.column("lat"),
            "actors": ev.column("actors"), "admin": admins.take(at), "place": place_keys.take(at),
            "publisher": ev.column("source_publisher"), **({"text": text} if searchable else {}),
        }

    wanted = _TABLE_COLUMNS if searchable else tuple(c for c in _TABLE_COLUMNS if c not in ("description", "quote"))
    table = EventTable.from_column_batches(_released(map(columns, frozen.batches(wanted)), release), shapes,
                                           coarse, searchable=searchable)
    release()
    return table


def _released(batches: Iterator[dict], release: Callable[[], object]) -> Iterator[dict]:
    """The batches, `release` (store.base.memory_trimmer) giving back to the system what each one freed once
    the next is asked for: mimalloc kept 220 MB of the decompressed and joined columns of 1M frozen events."""
    for batch in batches:
        yield batch
        del batch
        release()


def _place_columns(places: pa.Table) -> tuple[pa.Array, dict[str, object], set[str]]:
    """What the frozen places give a table (as `EventTable.from_events` takes them from Place objects): the
    country list of each (",UA," — a border belongs to both its countries, Place.countries), the shape of each
    place that is not exactly the point its events are pinned at (table._shape_of), and the coarse ones.

    In columns: a place that is a bare point (21 bytes of ISO WKB, no pin) is told from its bytes and never
    becomes a geometry, and only borders are read in Python: 1M frozen villages made 1M Python keys, kinds,
    country lists and points (300 MB) to find none."""
    from dashboard.table import COARSE_KINDS  # the table's own rules

    keys, kinds, wkb, country, pin = (places.column(name).combine_chunks()
                                      for name in ("key", "kind", "wkb", "country", "pin_lon"))
    country = pc.fill_null(country, "")
    countries = pc.if_else(pc.equal(country, ""), ",,", pc.binary_join_element_wise(",", country, ",", ""))
    border = pc.and_(pc.equal(kinds, "border"), pc.starts_with(keys, "border:"))
    if pc.any(border).as_py():
        rows = pc.indices_nonzero(border).to_pylist()
        joined = [("," + ",".join(key.removeprefix("border:").split("-")) + ",")
                  for key in keys.take(pa.array(rows, pa.int64())).to_pylist()]
        countries = pc.replace_with_mask(countries, border, pa.array(joined, pa.string()))
    bare = pc.and_(pc.and_(pc.equal(pc.binary_length(wkb), 21),
                           pc.equal(pc.binary_slice(wkb, 0, 5), pa.scalar(_POINT_WKB, pa.binary()))),
                   pc.invert(pin.is_valid()))
    first = np.ones(len(keys), bool)
    if len(pc.unique(keys)) != len(keys):  # the same key with other content: its first row counts
        first[:] = False
        first[_first_rows(keys.to_pylist())] = True
    wanted = pc.indices_nonzero(pc.and_(pa.array(first), pc.invert(bare))).to_numpy()
    geometries = shapely.from_wkb(wkb.take(pa.array(wanted)).to_numpy(zero_copy_only=False)) if len(wanted) else ()
    shapes: dict[str, object] = {}
    for key, geometry, pinned in zip(keys.take(pa.array(wanted)).to_pylist(), geometries,
                                     pin.take(pa.array(wanted)).is_valid().to_pylist()):
        if geometry.geom_type != "Point" or pinned:  # a point in other bytes (big-endian, with z) is bare too
            shapes[key] = geometry
    coarse = set(keys.filter(pc.is_in(kinds, pa.array(sorted(COARSE_KINDS), pa.string()))).to_pylist())
    return countries, shapes, coarse


def _first_rows(keys: list[str]) -> list[int]:
    """The first row of each distinct key."""
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        first.setdefault(key, row)
    return list(first.values())


_POINT_WKB = b"\x01\x01\x00\x00\x00"  # ISO WKB, little-endian, of a 2D point: 21 bytes with its two numbers


_TABLE_COLUMNS = ("id", "title", "event_type", "t_start", "t_end", "lon", "lat", "actors", "place", "description",
                  "quote", "source_publisher")
_LISTED_COLUMNS = ("t_start", "t_end", "t_precision", "t_text", "title", "place", "event_type", "source_publisher",
                   "quote")


def listing(events: Sequence[Event]) -> pa.Table:
    """The table a snapshot's page shows: date, title, place, type, source and quote of each event (text
    columns, in this order), read from the frozen columns (no Event built for 100k rows) or from the events
    themselves.

    Frozen columns are read a batch at a time and stay Arrow (st.dataframe shows a table of them as it is):
    1M rows of Python texts took 420 MB, and pandas copied them again to show them. Each distinct date is
    written in words once."""
    if not isinstance(events, FrozenEvents):
        return pa.table({name: pa.array(values, pa.string()) for name, values in (
            ("date", [e.time.label for e in events]), ("title", [e.title for e in events]),
            ("place", [e.place.name for e in events]), ("type", [e.event_type for e in events]),
            ("source", [e.source.publisher for e in events]), ("quote", [e.source.quote for e in events]))})
    names, labels = events.places.column("name").combine_chunks(), {}
    day = date.fromisoformat

    def label(span: str) -> str:
        text = labels.get(span)
        if text is None:  # start|end|precision|text: the first three never hold a '|'
            start, end, precision, words = span.split("|", 3)
            text = labels[span] = span_label(day(start), day(end), precision, words)
        return text

    parts: dict[str, list[pa.Array]] = {name: [] for name in _LISTED}
    for ev in events.batches(_LISTED_COLUMNS):
        spans = pc.dictionary_encode(pc.binary_join_element_wise(*(ev.column(n) for n in _LISTED_COLUMNS[:4]), "|"))
        parts["date"].append(pa.array(map(label, spans.dictionary.to_pylist()), pa.string()).take(spans.indices))
        parts["title"].append(ev.column("title"))
        parts["place"].append(names.take(ev.column("place")))
        parts["type"].append(ev.column("event_type"))
        parts["source"].append(ev.column("source_publisher"))
        parts["quote"].append(ev.column("quote"))
    return pa.table({name: pa.chunked_array(chunks, pa.string()) for name, chunks in parts.items()})


_LISTED = ("date", "title", "place", "type", "source", "quote")


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
