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
object is built for each frozen event only when something iterates them. Geometry is WKB: bit-exact for
every coordinate, where GeoJSON text would round. Places are written once however many events share them:
a country outline can be 100 KB. Format 1 is still read:

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

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

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

    `len()` costs nothing, and a map or a list of 100k frozen events reads the columns; iterating or
    indexing builds every Event (and Place) once, equal field by field to what was frozen. StoreError when
    the tables are not these columns, or when the events they hold do not pass the model's checks.
    """

    def __init__(self, events: pa.Table, places: pa.Table, built: tuple[Event, ...] | None = None) -> None:
        self.events = _conform(events, EVENT_SCHEMA)
        self.places = _conform(places, PLACE_SCHEMA)
        index = self.events.column("place")
        if len(index) and (pc.min(index).as_py() < 0 or pc.max(index).as_py() >= len(self.places)):
            raise StoreError("The frozen events cannot be read (a place index is not in the list of places); "
                             "the snapshot is damaged.")
        self._built = built

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
        return (date.fromisoformat(pc.min(self.events.column("t_start")).as_py()),
                date.fromisoformat(pc.max(self.events.column("t_end")).as_py()))

    def __len__(self) -> int:
        return self.events.num_rows

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
        if isinstance(other, FrozenEvents) and self.events.equals(other.events) and self.places.equals(other.places):
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
    """The events as frozen text (format 2, see the module doc); `read_frozen` gives them back equal."""
    frozen = events if isinstance(events, FrozenEvents) else FrozenEvents.from_events(events)
    return json.dumps({"v": FORMAT_VERSION, "events": _ipc(frozen.events), "places": _ipc(frozen.places)},
                      separators=(",", ":"))


def _ipc(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)  # batch by batch as read: combining them first copied 1 GB at 1M events
    return base64.b64encode(memoryview(sink.getvalue())).decode("ascii")


def _from_ipc(text: str) -> pa.Table:
    return pa.ipc.open_stream(base64.b64decode(text, validate=True)).read_all()


def read_frozen(text: str) -> FrozenEvents:
    """The events of `frozen_text` (or of format 1); StoreError (one sentence) if the text is not that.

    Format 2 is checked as columns here, and its events against the model when they are first iterated."""
    try:
        data = json.loads(text)
        version = data["v"]
        if version == FORMAT_VERSION:
            return FrozenEvents(_from_ipc(data["events"]), _from_ipc(data["places"]))
        if version == 1:
            places = [_place_from_dict(p) for p in data["places"]]
            return FrozenEvents.from_events(_event_from_dict(e, places) for e in data["events"])
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, pa.ArrowException,
            shapely.errors.GEOSException) as exc:
        # ValueError covers bad JSON, bad dates and the model's ValidationError.
        raise _damaged(exc) from exc
    raise StoreError(f"The frozen events have format version {version!r}, which this Reachmap does not "
                     f"read (it reads 1 and {FORMAT_VERSION}); upgrade Reachmap.")


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
