"""Snapshot records and the frozen form of their events: columns that give back every field exactly.

The events of a snapshot are copied, not referenced, so a snapshot never changes when the data does.
Format 2 (written since issue 15) is a JSON envelope around two Arrow IPC streams, zstd-compressed and
base64-encoded so that the column stays text (GDAL and QGIS read the snapshots layer as attributes):

    {"v": 2, "events": "<base64 Arrow IPC>", "places": "<base64 Arrow IPC>"}

    events: id, title, event_type, description, actors (JSON list), t_start, t_end (YYYY-MM-DD), t_precision,
            t_text, t_note, source_title, source_publisher, source_url, source_published (YYYY-MM-DD or null),
            quote, attributes (JSON list of [name, value]), place (row of places), lon, lat (the map's pin)
    places: key, name, kind, wkb (ISO WKB, little-endian), country, admin1, geonameid, population,
            pin_lon, pin_lat

100,000 ACLED events take 16 MB and about a second to freeze, where format 1 (one JSON object per event
and per place) took 138 MB and half a minute; a snapshot opens as columns (`FrozenEvents`), and an Event
object is built for each frozen event only when something iterates them. The events stream is written a
batch at a time (`FrozenWriter`: a store freezes 1M events without holding them as one table) and, once
read back, kept compressed: a map or a list decompresses the few columns it shows, a batch at a time
(1M ACLED events are 160 MB compressed, 1.1 GB as a table, half of it their attributes). Geometry is
WKB: bit-exact for every coordinate, where GeoJSON text would round. Places are written once however many
events share them: a country outline can be 100 KB. Format 1 is still read:

    {"v": 1,
     "places": [{"key": …, "name": …, "kind": …, "wkb": "0101…", "country": …, "admin1": …,
                 "geonameid": …, "population": …, "pin": [lon, lat] | null}, …],
     "events": [{"id": …, "title": …, "event_type": …, "description": …, "actors": […],
                 "time": {"start": "YYYY-MM-DD", "end": …, "precision": …, "text": …, "note": …},
                 "source": {"title": …, "publisher": …, "url": …, "published": "YYYY-MM-DD" | null, "quote": …},
                 "attributes": [[name, value], …],
                 "place": <index into places>}, …]}

"attributes" came later within format 1: frozen events without it read back with no attributes.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from dashboard.errors import StoreError, ValidationError
from dashboard.model import Event, Place, Source, TimeSpan, are_text_pairs

FORMAT_VERSION = 2

_TEXT = pa.string()
EVENT_SCHEMA = pa.schema([
    ("id", _TEXT), ("title", _TEXT), ("event_type", _TEXT), ("description", _TEXT), ("actors", _TEXT),
    ("t_start", _TEXT), ("t_end", _TEXT), ("t_precision", _TEXT), ("t_text", _TEXT), ("t_note", _TEXT),
    ("source_title", _TEXT), ("source_publisher", _TEXT), ("source_url", _TEXT), ("source_published", _TEXT),
    ("quote", _TEXT), ("attributes", _TEXT), ("place", pa.int32()), ("lon", pa.float64()), ("lat", pa.float64()),
])
PLACE_SCHEMA = pa.schema([
    ("key", _TEXT), ("name", _TEXT), ("kind", _TEXT), ("wkb", pa.binary()), ("country", _TEXT), ("admin1", _TEXT),
    ("geonameid", pa.int64()), ("population", pa.int64()), ("pin_lon", pa.float64()), ("pin_lat", pa.float64()),
])
_NULLABLE = frozenset({"source_published", "geonameid", "population", "pin_lon", "pin_lat"})
FROZEN_BATCH = 50_000  # rows per batch of the events stream a store writes, and of the columns read back
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


@dataclass(frozen=True)
class Snapshot:
    """A view frozen under an id: its query string and a copy of the events it showed."""

    id: str
    title: str
    created_at: datetime          # timezone-aware; kept in UTC
    query: str                    # share.to_query(state), read back with share.from_query
    events: Sequence[Event]       # a tuple of Event, or FrozenEvents (as read back from a store)
    thumbnail: bytes | None = None  # PNG
    owner: str = ""               # who may list and delete it on a shared server ('' on a single-user one)

    def __post_init__(self) -> None:
        if not isinstance(self.owner, str):
            raise ValidationError("snapshot.owner", self.owner, "must be text ('' for nobody in particular)")
        for name in ("id", "title", "query"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValidationError(f"snapshot.{name}", getattr(self, name), "must be a non-empty text")
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise ValidationError("snapshot.created_at", self.created_at,
                                  "must be a timezone-aware datetime, e.g. datetime.now(timezone.utc)")
        object.__setattr__(self, "created_at", self.created_at.astimezone(timezone.utc))
        if not isinstance(self.events, FrozenEvents) and (
                not isinstance(self.events, tuple) or not all(isinstance(e, Event) for e in self.events)):
            raise ValidationError("snapshot.events", type(self.events).__name__,
                                  "must be a tuple of Event or FrozenEvents")
        if self.thumbnail is not None and not isinstance(self.thumbnail, bytes):
            raise ValidationError("snapshot.thumbnail", type(self.thumbnail).__name__, "must be bytes or None")


@dataclass(frozen=True)
class SnapshotInfo:
    """One line of the list of snapshots: what a page shows without reading the frozen events."""

    id: str
    title: str
    created_at: datetime
    thumbnail: bytes | None
    event_count: int
    owner: str = ""


# ---------------------------------------------------------------------------------------------- columns

class FrozenEvents(Sequence[Event]):
    """Frozen events as two tables, `events` (EVENT_SCHEMA) and `places` (PLACE_SCHEMA).

    `len()` costs nothing, and a map or a list of 100k frozen events reads the columns (`batches`); iterating
    or indexing builds every Event (and Place) once, equal field by field to what was frozen. StoreError when
    the tables are not these columns, or when the events they hold do not pass the model's checks.
    Read from a store (`streamed`), the events stay a compressed Arrow IPC stream until something asks for
    `events` whole: 1M of them are 160 MB so, where the table is 1.1 GB.
    """

    def __init__(self, events: pa.Table, places: pa.Table, built: tuple[Event, ...] | None = None) -> None:
        self._events: pa.Table | None = _conform(events, EVENT_SCHEMA)
        self._stream: pa.Buffer | None = None
        self._rows = self._events.num_rows
        self.places = _conform(places, PLACE_SCHEMA)
        index = self._events.column("place")
        _check_places(pc.min(index).as_py() if len(index) else None, pc.max(index).as_py() if len(index) else None,
                      len(self.places))
        self._built = built

    @classmethod
    def streamed(cls, stream: pa.Buffer, places: pa.Table, rows: int | None = None) -> FrozenEvents:
        """The events of this Arrow IPC stream (format 2's events) with these places, kept as the stream.

        `rows`: the number of events, from a FrozenWriter that wrote the stream; None (a stream read back
        from a store) reads it through once, a batch at a time, with the checks `__init__` makes of a table.
        A stream of other column types is read whole and made these columns, as `__init__` would."""
        low = high = None  # a FrozenWriter numbered the places itself
        if rows is None:
            reader = pa.ipc.open_stream(stream)
            if not reader.schema.equals(EVENT_SCHEMA):
                return cls(reader.read_all(), places)
            rows, low, high = _checked_batches(reader)
            pa.default_memory_pool().release_unused()  # each batch decompressed and let go: 150 MB at 1M events
        frozen = cls.__new__(cls)
        frozen._events, frozen._stream, frozen._rows, frozen._built = None, stream, rows, None
        frozen.places = _conform(places, PLACE_SCHEMA)
        _check_places(low, high, len(frozen.places))
        return frozen

    @property
    def events(self) -> pa.Table:
        """Every column of every event (decompressed, and then kept, when the events are a stream)."""
        if self._events is None:
            try:
                self._events = _conform(pa.ipc.open_stream(self._stream).read_all(), EVENT_SCHEMA)
            except (pa.ArrowException, OSError) as exc:
                raise _damaged(exc) from exc
        return self._events

    def batches(self, names: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """These columns of the events, in this order, a batch of up to FROZEN_BATCH rows at a time: a stream
        decompresses only these columns (a map and a list need neither the attributes nor the notes)."""
        if self._events is not None:
            yield from self._events.select(list(names)).to_batches(max_chunksize=FROZEN_BATCH)
            return
        options = pa.ipc.IpcReadOptions(included_fields=sorted(EVENT_SCHEMA.get_field_index(n) for n in names))
        try:
            for batch in pa.ipc.open_stream(self._stream, options=options):
                yield batch.select(list(names))
        except (pa.ArrowException, OSError) as exc:  # OSError: Arrow's 'Invalid IPC stream'
            raise _damaged(exc) from exc

    def stream(self) -> pa.Buffer:
        """The events as format 2's Arrow IPC stream (zstd): the one read back, or this table's."""
        return self._stream if self._stream is not None else _stream_of(self._events)

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> FrozenEvents:
        """The columns of these Event objects, in their order; a place is written once per distinct content
        (the same key with other content stays apart)."""
        events = tuple(events)
        columns: dict[str, list] = {name: [] for name in EVENT_SCHEMA.names}
        places: list[tuple] = []
        by_content: dict[tuple, int] = {}
        by_object: dict[int, tuple[int, tuple[float, float]]] = {}  # most events share their Place object
        for e in events:
            seen = by_object.get(id(e.place))
            if seen is None:
                row = _place_row(e.place)
                at = by_content.setdefault(row, len(places))
                if at == len(places):
                    places.append(row)
                seen = by_object[id(e.place)] = (at, e.place.lonlat)
            time, src = e.time, e.source
            for name, value in zip(EVENT_SCHEMA.names, (
                    e.id, e.title, e.event_type, e.description, json.dumps(list(e.actors), ensure_ascii=False),
                    time.start.isoformat(), time.end.isoformat(), time.precision, time.text, time.note,
                    src.title, src.publisher, src.url, src.published.isoformat() if src.published else None,
                    src.quote, json.dumps([list(pair) for pair in e.attributes], ensure_ascii=False),
                    seen[0], *seen[1])):
                columns[name].append(value)
        try:
            table = pa.table({name: pa.array(values, EVENT_SCHEMA.field(name).type)
                              for name, values in columns.items()}, schema=EVENT_SCHEMA)
            place_table = pa.table({name: pa.array(values, PLACE_SCHEMA.field(name).type) for name, values in
                                    zip(PLACE_SCHEMA.names, zip(*places) if places else [()] * len(PLACE_SCHEMA))},
                                   schema=PLACE_SCHEMA)
        except (pa.ArrowException, UnicodeError, TypeError, OverflowError) as exc:
            raise ValidationError("snapshot.events", type(exc).__name__,
                                  f"cannot be frozen ({exc}); a text with a lone surrogate or a place number "
                                  "that is not a whole number cannot be kept") from None
        return cls(table, place_table, built=events)

    def date_bounds(self) -> tuple[date, date] | None:
        """The first start and last end of the frozen events (ISO text sorts as the dates do)."""
        if not len(self):
            return None
        starts, ends = zip(*((pc.min(b.column(0)).as_py(), pc.max(b.column(1)).as_py())
                             for b in self.batches(("t_start", "t_end")) if b.num_rows))
        return date.fromisoformat(min(starts)), date.fromisoformat(max(ends))

    def __len__(self) -> int:
        return self._rows

    def _all(self) -> tuple[Event, ...]:
        if self._built is None:
            try:
                self._built = _build(self.events, self.places)
            except (ValueError, KeyError, TypeError, IndexError, shapely.errors.GEOSException) as exc:
                raise _damaged(exc) from exc
        return self._built

    def __getitem__(self, index):  # type: ignore[override]
        return self._all()[index]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenEvents) and self.places.equals(other.places) and self.events.equals(other.events):
            return True  # the same columns: the same events, without building them
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and tuple(self) == tuple(other)

    def __hash__(self) -> int:  # equal to an equal tuple's hash, as __eq__ requires (builds the events)
        return hash(self._all())

    def __repr__(self) -> str:
        return f"FrozenEvents({len(self)} events, {len(self.places)} places)"


def _place_row(place: Place) -> tuple:
    pin = place.pin
    return (place.key, place.name, place.kind, shapely.to_wkb(place.geometry, byte_order=1, flavor="iso"),
            place.country, place.admin1, place.geonameid, place.population,
            pin[0] if pin is not None else None, pin[1] if pin is not None else None)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table as exactly these columns and types; StoreError when it is not made of them."""
    if not isinstance(table, pa.Table) or set(table.schema.names) != set(schema.names):
        got = table.schema.names if isinstance(table, pa.Table) else type(table).__name__
        raise StoreError(f"The frozen events cannot be read (columns {got}, expected {schema.names}); "
                         "the snapshot is damaged.")
    if table.schema.names != schema.names or not table.schema.equals(schema):
        try:
            table = table.select(schema.names).cast(schema)
        except (pa.ArrowException, ValueError) as exc:
            raise _damaged(exc) from exc
    for name in schema.names:
        if name not in _NULLABLE and table.column(name).null_count:
            raise StoreError(f"The frozen events cannot be read (column {name} has empty values); "
                             "the snapshot is damaged.")
    return table


def _checked_batches(reader: pa.RecordBatchReader) -> tuple[int, int | None, int | None]:
    """A stream of EVENT_SCHEMA read through a batch at a time, with `_conform`'s check of the empty values:
    its number of rows and the smallest and largest place index (None without rows)."""
    nulls = dict.fromkeys(EVENT_SCHEMA.names, 0)
    rows, lows, highs = 0, [], []
    for batch in reader:
        for name, column in zip(EVENT_SCHEMA.names, batch.columns):
            nulls[name] += column.null_count
        if batch.num_rows:
            rows += batch.num_rows
            bounds = pc.min_max(batch.column("place"))
            lows.append(bounds["min"].as_py())
            highs.append(bounds["max"].as_py())
    for name, count in nulls.items():
        if name not in _NULLABLE and count:
            raise StoreError(f"The frozen events cannot be read (column {name} has empty values); "
                             "the snapshot is damaged.")
    return rows, min(lows, default=None), max(highs, default=None)


def _check_places(low: int | None, high: int | None, places: int) -> None:
    """StoreError unless every place index (from `low` to `high`; None: no index) is a row of the places."""
    if low is not None and (low < 0 or high >= places):
        raise StoreError("The frozen events cannot be read (a place index is not in the list of places); "
                         "the snapshot is damaged.")


class FrozenWriter:
    """Frozen events written a batch at a time into format 2's events stream (zstd), each place numbered as
    its key first appears: a store freezes 1M events this way holding one batch and the compressed stream,
    not the 1.1 GB table (nor Python objects per event)."""

    def __init__(self) -> None:
        self._sink = pa.BufferOutputStream()
        self._writer = pa.ipc.new_stream(self._sink, EVENT_SCHEMA, options=_WRITE_OPTIONS)
        self.place_keys = pa.array([], pa.string())  # in order of first appearance: row i is place i
        self.rows = 0

    def add(self, columns: Mapping[str, pa.Array | pa.ChunkedArray], place_keys: pa.Array) -> None:
        """One batch: EVENT_SCHEMA's columns but `place` (by name, any text or number types that cast to
        the schema's), and the key of each event's place."""
        place_keys = place_keys.cast(pa.string())
        index = pc.index_in(place_keys, value_set=self.place_keys)
        if index.null_count:
            new = pc.unique(place_keys.filter(pc.is_null(index)))
            known = len(self.place_keys)
            self.place_keys = pa.concat_arrays([self.place_keys, new])
            index = pc.coalesce(index, pc.add(pc.index_in(place_keys, value_set=new), pa.scalar(known, pa.int32())))
        arrays = [index.cast(pa.int32()) if name == "place" else columns[name].cast(field.type)
                  for name, field in zip(EVENT_SCHEMA.names, EVENT_SCHEMA)]
        self._writer.write_table(pa.table(arrays, schema=EVENT_SCHEMA))
        self.rows += len(place_keys)

    def finish(self, places: pa.Table, store: object) -> FrozenEvents:
        """The frozen events, with `places` (PLACE_SCHEMA's columns, a row per place key, in any order)
        put in the order of `place_keys`; StoreError naming `store` when a place is missing."""
        self._writer.close()
        at = pc.index_in(self.place_keys, value_set=places.column("key"))
        if at.null_count:
            raise StoreError(f"The store {store} lacks a place its events name; it is damaged.")
        # Taken even when in order already: the take makes the one batch (and layout) the stream has always had.
        return FrozenEvents.streamed(self._sink.getvalue(), places.take(at), rows=self.rows)


def _build(events: pa.Table, places: pa.Table) -> tuple[Event, ...]:
    p = places.to_pydict()
    geometries = shapely.from_wkb(np.asarray(p["wkb"], dtype=object)) if p["wkb"] else ()
    built = [Place(key=key, name=name, kind=kind, geometry=geometry, country=country, admin1=admin1,
                   geonameid=geonameid, population=population, pin=(lon, lat) if lon is not None else None)
             for key, name, kind, geometry, country, admin1, geonameid, population, lon, lat in zip(
                 p["key"], p["name"], p["kind"], geometries, p["country"], p["admin1"], p["geonameid"],
                 p["population"], p["pin_lon"], p["pin_lat"])]
    day = date.fromisoformat
    e = events.to_pydict()
    return tuple(
        Event(id=id_, title=title, event_type=event_type, description=description, actors=tuple(json.loads(actors)),
              time=TimeSpan(day(start), day(end), precision, text, note),
              source=Source(s_title, s_publisher, s_url, day(published) if published else None, quote),
              place=built[place], attributes=_pairs(json.loads(attributes)))
        for id_, title, event_type, description, actors, start, end, precision, text, note, s_title, s_publisher,
        s_url, published, quote, attributes, place, _lon, _lat in zip(*(e[name] for name in EVENT_SCHEMA.names)))


def _pairs(stored: list) -> tuple[tuple[str, str], ...]:
    """Attributes as (name, value) text pairs, as the store reads them (GeoPackageStore's _pairs): as written,
    or each part made text (a store written by other software may hold numbers)."""
    pairs = tuple(map(tuple, stored))
    return pairs if are_text_pairs(pairs) else tuple((str(k), str(v)) for k, v in stored)


def _damaged(exc: BaseException) -> StoreError:
    return StoreError(f"The frozen events cannot be read ({exc}); the snapshot is damaged.")


# ---------------------------------------------------------------------------------------------- text

def frozen_text(events: Sequence[Event]) -> str:
    """The events as frozen text (format 2, see the module doc); `read_frozen` gives them back equal.

    Written as json.dumps(…, separators=(",", ":")) writes it; a store that can write a value in parts
    takes `frozen_pieces` instead, and never holds the text whole."""
    return frozen_bytes(events).decode("ascii")


def frozen_bytes(events: Sequence[Event]) -> bytearray:
    """frozen_text as its ASCII bytes, filled in place: one copy of the text, where base64 of the whole
    stream, then joining, then decoding made three (640 MB at 1M events)."""
    length, pieces = frozen_pieces(events)
    text, at = bytearray(length), 0
    for piece in pieces:
        text[at:at + len(piece)] = piece
        at += len(piece)
    return text


def frozen_pieces(events: Sequence[Event]) -> tuple[int, Iterator[bytes]]:
    """frozen_text's length in bytes and its ASCII bytes, a piece of at most about 4 MB at a time.

    The events are made columns (and checked: ValidationError) before this returns, so a store can call it
    before its transaction; the pieces are base64 of the streams a part at a time, each part a multiple of
    three bytes, so that they join up as one encoding of the whole stream would."""
    frozen = events if isinstance(events, FrozenEvents) else FrozenEvents.from_events(events)
    streams = frozen.stream(), _stream_of(frozen.places)
    length = len(_HEAD) + len(_MIDDLE) + len(_TAIL) + sum(4 * -(-s.size // 3) for s in streams)

    def pieces() -> Iterator[bytes]:
        yield _HEAD
        for stream, after in zip(streams, (_MIDDLE, _TAIL)):
            view = memoryview(stream)
            for at in range(0, len(view), _PIECE):
                yield binascii.b2a_base64(view[at:at + _PIECE], newline=False)
            yield after

    return length, pieces()


_HEAD, _MIDDLE, _TAIL = b'{"v":%d,"events":"' % FORMAT_VERSION, b'","places":"', b'"}'
_PIECE = 3 << 20  # stream bytes encoded at a time: a multiple of 3 (base64 pads only the last piece)


def _stream_of(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)  # batch by batch as read: combining them first copied 1 GB at 1M events
    return sink.getvalue()


def _base64(data: pa.Buffer) -> bytes:
    return binascii.b2a_base64(memoryview(data), newline=False)


def _ipc(table: pa.Table) -> str:
    """The table as format 2 keeps it: a zstd Arrow IPC stream, base64 text."""
    return _base64(_stream_of(table)).decode("ascii")


# Format 2 as frozen_text writes it, read without parsing JSON (json.loads would copy its 200 MB at 1M
# events); any other layout of the same JSON is read through json.loads.
_ENVELOPE = rb'\{"v":2,"events":"([A-Za-z0-9+/=]*)","places":"([A-Za-z0-9+/=]*)"\}'
_ENVELOPES = {bytes: re.compile(_ENVELOPE), str: re.compile(_ENVELOPE.decode("ascii"))}


def _from_base64(text: str | bytes | memoryview) -> pa.Buffer:
    return pa.py_buffer(binascii.a2b_base64(text, strict_mode=True))


def read_frozen(text: str | bytes) -> FrozenEvents:
    """The events of `frozen_text` (or of format 1), as text or its UTF-8 bytes (a store may hand over the
    bytes: no 200 MB str made of them); StoreError (one sentence) if the text is not that.

    Format 2 is checked as columns here, and its events against the model when they are first iterated."""
    try:
        match = _ENVELOPES[type(text)].fullmatch(text) if type(text) in _ENVELOPES else None
        if match is not None:
            view = memoryview(text) if isinstance(text, bytes) else text  # bytes: decoded without a copy
            events, places = (_from_base64(view[slice(*match.span(i))]) for i in (1, 2))
            del view
            return FrozenEvents.streamed(events, pa.ipc.open_stream(places).read_all())
        data = json.loads(text)
        version = data["v"]
        if version == FORMAT_VERSION:
            return FrozenEvents.streamed(_from_base64(data["events"]),
                                         pa.ipc.open_stream(_from_base64(data["places"])).read_all())
        if version == 1:
            places = [_place_from_dict(p) for p in data["places"]]
            return FrozenEvents.from_events(_event_from_dict(e, places) for e in data["events"])
    except (ValueError, KeyError, TypeError, IndexError, OSError, binascii.Error, pa.ArrowException,
            shapely.errors.GEOSException) as exc:
        # ValueError covers bad JSON, bad dates and the model's ValidationError; OSError Arrow's "Invalid IPC
        # stream" for a stream that does not begin as one.
        raise _damaged(exc) from exc
    raise StoreError(f"The frozen events have format version {version!r}, which this Reachmap does not "
                     f"read (it reads 1 and {FORMAT_VERSION}); upgrade Reachmap.")


def read_frozen_file(file: BinaryIO, size: int) -> FrozenEvents:
    """read_frozen of a text of `size` bytes read from `file` (read, seek: a store's blob), a piece at a time:
    format 2 as frozen_text writes it is decoded as it is read, so only its events' stream is held (160 MB
    at 1M events), never the text (213 MB, and a copy of it for each layer that handed it over). Any other
    text is read whole and given to read_frozen, which says what is wrong with it."""
    streams = _decoded(file, size)
    if streams is None:
        file.seek(0)
        return read_frozen(file.read(size))
    try:
        return FrozenEvents.streamed(streams[0], pa.ipc.open_stream(streams[1]).read_all())
    except (ValueError, KeyError, TypeError, IndexError, OSError, pa.ArrowException) as exc:  # as read_frozen
        raise _damaged(exc) from exc


def _decoded(file: BinaryIO, size: int) -> tuple[pa.Buffer, pa.Buffer] | None:
    """The events' and places' streams of a text laid out as frozen_text writes it, decoded piece by piece
    (as `_ENVELOPE` and a2b_base64 of each whole part would read them); None for any other text."""
    if size < len(_HEAD) + len(_MIDDLE) + len(_TAIL) or file.read(len(_HEAD)) != _HEAD:
        return None
    left = size - len(_HEAD)
    events = pa.allocate_buffer(left // 4 * 3)  # room for the most it can be: the pages not written stay free
    view, at = memoryview(events).cast("B"), 0
    while True:
        piece = file.read(min(_PIECE // 3 * 4, left))  # a multiple of 4 characters: whole groups of 3 bytes
        left -= len(piece)
        end = piece.find(b'"')
        part = piece if end < 0 else piece[:end]
        if not piece or (end < 0 and b"=" in part):  # no end, or padding before the end: not one encoding
            return None
        try:
            data = binascii.a2b_base64(part, strict_mode=True)
        except binascii.Error:
            return None
        view[at:at + len(data)] = data
        at += len(data)
        if end >= 0:
            break
    del view
    rest = piece[end:] + file.read(left)  # the places, read whole: they grow with the distinct places (701k at 1M events)
    places = rest[len(_MIDDLE):-len(_TAIL)]
    if not rest.startswith(_MIDDLE) or not rest.endswith(_TAIL) or len(rest) < len(_MIDDLE) + len(_TAIL) or (
            not _BASE64.fullmatch(places)):
        return None
    try:
        return events.slice(0, at), _from_base64(places)
    except binascii.Error:
        return None


_BASE64 = re.compile(rb"[A-Za-z0-9+/=]*")


# ---------------------------------------------------------------------------------------------- format 1

def _place_from_dict(raw: dict[str, Any]) -> Place:
    pin = raw["pin"]
    return Place(
        key=raw["key"], name=raw["name"], kind=raw["kind"], geometry=shapely.from_wkb(raw["wkb"]),
        country=raw["country"], admin1=raw["admin1"], geonameid=raw["geonameid"],
        population=raw["population"], pin=(pin[0], pin[1]) if pin is not None else None,
    )


def _event_from_dict(raw: dict[str, Any], places: list[Place]) -> Event:
    time, src = raw["time"], raw["source"]
    if not isinstance(raw["place"], int) or raw["place"] < 0:  # -1 would quietly pick the last place
        raise IndexError(f"place index {raw['place']!r} is not in the list of places")
    return Event(
        id=raw["id"], title=raw["title"], event_type=raw["event_type"], description=raw["description"],
        actors=tuple(raw["actors"]),
        time=TimeSpan(date.fromisoformat(time["start"]), date.fromisoformat(time["end"]), time["precision"],
                      time["text"], time["note"]),
        source=Source(src["title"], src["publisher"], src["url"],
                      date.fromisoformat(src["published"]) if src["published"] is not None else None, src["quote"]),
        place=places[raw["place"]],
        attributes=tuple((k, v) for k, v in raw.get("attributes", ())),
    )
