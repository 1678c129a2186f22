"""Events as aligned columns, and filters applied to them with array operations (no Python loop per event).

`EventTable` holds what filtering and mapping need — ids, titles, types, days, lon/lat, countries, admin
regions, actors and the searchable text — as numpy arrays (text as one pyarrow array), read from the
GeoPackage with one SQL query that GDAL returns as Arrow columns. `select(table, flt)` returns the row
indices of the events that pass a filter, in the table's order; `query.refine` filters Event lists through
it, and tests/test_table.py checks both against a plain per-event reading of every filter.

Low-cardinality columns are categorical: a code per row into a tuple of distinct values. A filter on them
is decided once per distinct value and then looked up for every row with one array index — the Python work
grows with the number of distinct types, country sets, admin regions, actor combinations and non-point
places, never with the number of events.

pyarrow is a dependency of Streamlit; its `match_substring` scans the text column in C, and dictionary
encoding turns the store's text columns into category codes without a Python loop.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard.errors import StoreError
from dashboard.geodesy import in_range
from dashboard.model import FEATURE_KINDS, Event, Place
from dashboard.store import versions
from dashboard.store.geopackage import check_is_ours

if TYPE_CHECKING:  # query may import this module (select_events on a table) without a cycle
    from dashboard.query import EventFilter, Facets

EPOCH = date(1970, 1, 1)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}  # GeoPackage blob header, by envelope flag

# One query: every column a filter or the map needs.
# julianday('YYYY-MM-DD') - 2440587.5 is the exact day number since 1970-01-01.
_SQL = """
SELECT e.event_id, e.title, e.event_type,
       CAST(julianday(e.t_start) - 2440587.5 AS INTEGER), CAST(julianday(e.t_end) - 2440587.5 AS INTEGER),
       e.countries, e.lon, e.lat, e.actors, COALESCE(p.admin1, ''), e.place_key,
       e.title || char(10) || e.description || char(10) || e.quote, e.source_publisher
FROM events e LEFT JOIN places p ON p.key = e.place_key
"""
# No ORDER BY: sorting the narrow (t_start, event_id) key in arrow afterwards is ~3x faster than letting
# SQLite sort the wide rows; both compare event_id as UTF-8 bytes, so the order is the store's.
_PLACES_SQL = "SELECT key, geom, pin_lon, kind FROM places"
# Places that locate an event only coarsely: area and distance filters leave their events out by default.
COARSE_KINDS = frozenset({"country", "admin region", *FEATURE_KINDS})


# The query's columns, named; from_events builds the same columns from Event objects.
_COLUMNS = ("id", "title", "type", "t_start", "t_end", "countries", "lon", "lat", "actors", "admin", "place",
            "text", "publisher")
_TYPES = {"t_start": pa.int32(), "t_end": pa.int32(), "lon": pa.float64(), "lat": pa.float64(),
          "text": pa.large_string()} | {name: pa.string() for name in ("id", "title", "type", "countries",
                                                                         "actors", "admin", "place", "publisher")}

_ROW_COLUMNS = ("id", "title", "type_code", "t_start", "t_end", "lon", "lat", "country_code", "admin_code",
                "actor_code", "place_code", "publisher_code")


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the unit of `EventTable.t_start` / `t_end`)."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass(frozen=True, eq=False)
class EventTable:
    """Aligned, read-only columns of events; row i of every array is the same event."""

    id: np.ndarray            # object: event ids
    title: np.ndarray         # object: titles
    type_code: np.ndarray     # int32 codes into `types`
    types: tuple[str, ...]
    t_start: np.ndarray       # int32 days since 1970-01-01
    t_end: np.ndarray         # int32, inclusive
    lon: np.ndarray           # float64: where the event is pinned (Place.lonlat)
    lat: np.ndarray           # float64
    country_code: np.ndarray  # int32 codes into `country_sets`
    country_sets: tuple[tuple[str, ...], ...]  # the countries each place belongs to (a border: both)
    admin_code: np.ndarray    # int32 codes into `admins`
    admins: tuple[str, ...]   # admin1 names as written
    actor_code: np.ndarray    # int32 codes into `actor_sets`
    actor_sets: tuple[tuple[str, ...], ...]
    place_code: np.ndarray    # int32 codes into `place_shapes`
    place_shapes: tuple[BaseGeometry | None, ...]  # None: the place is the point (lon, lat) itself
    place_coarse: np.ndarray  # bool per place code: located only by a country or region (COARSE_KINDS)
    text: pa.ChunkedArray     # casefolded "title\ndescription\nquote", what the text filter searches
    publisher_code: np.ndarray  # int32 codes into `publishers`: who published each event's source
    publishers: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.id)

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def from_store_path(cls, path: Path | str) -> EventTable:
        """Read every event of a Reachmap GeoPackage, read-only, ordered like `GeoPackageStore.events()`.

        GDAL (pyogrio) runs the query and hands the columns over as Arrow, in C: 1M events load in about
        11 s instead of the 12+ s that Python row tuples from sqlite3 took. The table is then kept next to
        the store (`_cache_files`, Arrow IPC, memory-mapped when read) until the store changes: a server
        start on an unchanged 1M-event store reads it back in about 0.3 s.
        """
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"No store at {path}: open it once with the app or `python -m dashboard` to create it.")
        check_is_ours(path)  # a foreign or damaged file gets the store's own sentence
        key = _cache_key(path)
        cached = _read_cache(path, key) if key is not None else None
        if cached is not None:
            return cached
        import pyogrio  # GDAL: imported when a table is read, not by everything that imports this module

        try:
            _, data = pyogrio.read_arrow(path, sql=_SQL, read_geometry=False)
            columns = dict(zip(_COLUMNS, data.columns))
            del data  # the columns alone hold the buffers now: _from_arrow lets each go when done
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                places = conn.execute(_PLACES_SQL).fetchall()
                shapes = _place_shapes([row[:3] for row in places])
                coarse = {row[0]: row[3] in COARSE_KINDS for row in places}
            finally:
                conn.close()
        except (sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.GeometryError, pyogrio.errors.FieldError) as exc:
            reason = str(exc).rsplit("): ", 1)[-1]  # GDAL quotes the whole query before SQLite's reason
            raise StoreError(f"Cannot read the events of the store {path} ({reason}); is it a Reachmap store?") from exc
        table = _from_arrow(columns, shapes.get, coarse.get, sort=True)
        if key is not None:
            _write_cache(path, key, table)
        return table

    def take(self, rows: np.ndarray) -> EventTable:
        """A table of these rows, in this order (categories are kept as they are)."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = {name: getattr(self, name)[rows] for name in _ROW_COLUMNS}
        for arr in columns.values():
            arr.setflags(write=False)
        return replace(self, **columns, text=self.text.take(pa.array(rows)))

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> EventTable:
        """The same table from model objects, in their order (tests, small data, snapshots, `query.refine`)."""
        columns: dict[str, list] = {name: [] for name in _COLUMNS}
        shapes: dict[str, BaseGeometry | None] = {}
        coarse: dict[str, bool] = {}
        for e in events:
            place = e.place
            lon, lat = place.lonlat
            shapes.setdefault(place.key, _shape_of(place))
            coarse.setdefault(place.key, place.kind in COARSE_KINDS)
            for name, value in zip(_COLUMNS, (
                    e.id, e.title, e.event_type, day_number(e.time.start), day_number(e.time.end),
                    "," + ",".join(place.countries) + ",", lon, lat, json.dumps(list(e.actors)),
                    place.admin1, place.key, f"{e.title}\n{e.description}\n{e.source.quote}",
                    e.source.publisher)):
                columns[name].append(value)
        arrays = {name: pa.chunked_array([pa.array(values, _TYPES[name])]) for name, values in columns.items()}
        return _from_arrow(arrays, shapes.get, coarse.get, sort=False)


class StoredEvents(Sequence[Event]):
    """The events of some rows of a table, read from the store only when something needs them whole.

    `len()` and truth cost nothing, so a page can count 100k events, map them from the table and never
    build one Event object; iterating or indexing reads them all, once, with `load(ids)`. Exports that
    only write fields read `rows()` instead, when the caller passes `rows(ids)`.
    """

    def __init__(self, ids: np.ndarray, load: Callable[[list[str]], list[Event]],
                 rows: Callable[[list[str]], Iterator[tuple]] | None = None) -> None:
        self.ids = ids
        self._load = load
        self._rows = rows
        self._events: tuple[Event, ...] | None = None

    def rows(self) -> Iterator[tuple] | None:
        """The events as the store's flat record rows (`GeoPackageStore.record_rows`), in order, read in
        batches without building an Event each; None when the caller gave no way to read them."""
        if self._rows is None:
            return None
        return self._rows(self.ids.tolist())

    def with_columns(self, columns: Callable[[np.ndarray], Iterator[pa.Table]]) -> StoredEvents:
        """The same events, also able to give their fields as Arrow columns (`columns()`), read with
        `columns(ids)` (GeoPackageStore.record_tables): exports encode those whole, in C."""
        twin = StoredEvents(self.ids, self._load, self._rows)
        twin._columns = columns  # type: ignore[attr-defined]
        return twin

    def columns(self) -> Iterator[pa.Table] | None:
        """The events as Arrow tables of the store's record columns, in order, a batch at a time; None
        when no way to read them was given (`with_columns`)."""
        read = getattr(self, "_columns", None)
        return None if read is None else read(self.ids)  # the ids as they are: 1M of them are no list

    def __len__(self) -> int:
        return len(self.ids)

    def _all(self) -> tuple[Event, ...]:
        if self._events is None:
            self._events = tuple(self._load(self.ids.tolist())) if len(self.ids) else ()
        return self._events

    def __getitem__(self, index):  # type: ignore[override]
        return self._all()[index]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and tuple(self) == tuple(other)

    def __hash__(self) -> int:  # equal to an equal tuple's hash, as __eq__ requires (reads the events)
        return hash(self._all())

    def __repr__(self) -> str:
        return f"StoredEvents({len(self)} events, {'read' if self._events is not None else 'not read yet'})"


# -------------------------------------------------------------------------------------------- select

def select(table: EventTable, flt: EventFilter) -> np.ndarray:
    """Row indices (ascending int64) of the events that pass every filter (`query.refine` uses this too)."""
    n = len(table)
    keep = np.ones(n, dtype=bool)
    if flt.start is not None:
        keep &= table.t_end >= day_number(flt.start)
    if flt.end is not None:
        keep &= table.t_start <= day_number(flt.end)
    if flt.countries:
        wanted = set(flt.countries)
        keep &= _lookup(table.country_code, [bool(wanted.intersection(s)) for s in table.country_sets])
    if flt.admins:
        wanted = {a.casefold() for a in flt.admins}
        keep &= _lookup(table.admin_code, [a.casefold() in wanted for a in table.admins])
    if flt.types:
        keep &= _lookup(table.type_code, [t in flt.types for t in table.types])
    if flt.actors:
        wanted = set(flt.actors)
        keep &= _lookup(table.actor_code, [bool(wanted.intersection(s)) for s in table.actor_sets])
    rows = np.flatnonzero(keep)
    needle = flt.text.strip().casefold()
    if needle and len(rows):
        if len(rows) > n // 2:
            rows = rows[_matches(table.text, needle)[rows]]
        else:  # scan only the rows still in play
            rows = rows[_matches(table.text.take(pa.array(rows)), needle)]
    spatial = flt.area is not None or (flt.near is not None and flt.near_km is not None)
    if spatial and not flt.coarse and len(rows) and len(table.place_coarse):
        rows = rows[~table.place_coarse[table.place_code[rows]]]  # by their own location only
    if flt.area is not None and len(rows):
        rows = rows[_in_area(table, rows, flt.area)]
    if flt.near is not None and flt.near_km is not None and len(rows):
        rows = rows[in_range(flt.near.geometry, flt.near_km, table.lon[rows], table.lat[rows]).inside]
    return rows.astype(np.int64, copy=False)


def _matches(text: pa.ChunkedArray, needle: str) -> np.ndarray:
    return pc.match_substring(text, needle).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _lookup(codes: np.ndarray, per_value: Sequence[bool]) -> np.ndarray:
    """Row mask from a decision per distinct value: one array index, whatever the number of rows."""
    return np.asarray(per_value, dtype=bool)[codes] if len(per_value) else np.zeros(len(codes), dtype=bool)


def _in_area(table: EventTable, rows: np.ndarray, area: BaseGeometry) -> np.ndarray:
    """The pin lies inside the area, or the place's own geometry touches it.

    For a point place the pin is the geometry, and both tests together are `intersects_xy`.
    """
    lon, lat = table.lon[rows], table.lat[rows]
    shapes = np.array([s for s in table.place_shapes if s is not None], dtype=object)
    if not len(shapes):
        return shapely.intersects_xy(area, lon, lat)
    which = np.fromiter((s is not None for s in table.place_shapes), bool, len(table.place_shapes))
    touches = np.zeros(len(table.place_shapes), dtype=bool)
    touches[which] = shapely.intersects(area, shapes)
    codes = table.place_code[rows]
    return np.where(which[codes], shapely.contains_xy(area, lon, lat) | touches[codes],
                    shapely.intersects_xy(area, lon, lat))


# ------------------------------------------------------------------------------- facets and timeline

def facets(table: EventTable, rows: np.ndarray | None = None) -> Facets:
    """The types, actors, admin regions, countries and date span of these rows (all rows by default)."""
    from dashboard.query import Facets

    rows = np.arange(len(table)) if rows is None else rows

    def present(codes: np.ndarray, size: int) -> np.ndarray:
        return np.flatnonzero(np.bincount(codes[rows], minlength=size)) if len(rows) else np.empty(0, int)

    return Facets(
        types=tuple(sorted(table.types[i] for i in present(table.type_code, len(table.types)))),
        actors=tuple(sorted({a for i in present(table.actor_code, len(table.actor_sets))
                             for a in table.actor_sets[i]})),
        admins=tuple(sorted({table.admins[i] for i in present(table.admin_code, len(table.admins))
                             if table.admins[i]})),
        countries=tuple(sorted({c for i in present(table.country_code, len(table.country_sets))
                                for c in table.country_sets[i]})),
        first=day_of(table.t_start[rows].min()) if len(rows) else None,
        last=day_of(table.t_end[rows].max()) if len(rows) else None,
    )


def timeline(table: EventTable, rows: np.ndarray, bucket: str = "month",
             first: date | None = None) -> list[tuple[date, str, int]]:
    """Events per day, week (from Monday) or month, counted at each event's start day: sorted
    (bucket start, type, count). `first`: an event that started before it (a long span overlapping a date
    filter) is counted at `first`, so the chart stays within the filter's window."""
    if bucket not in ("day", "week", "month"):
        raise ValueError(f"bucket must be day, week or month, not {bucket!r}")
    if not len(rows):
        return []
    start_days = table.t_start[rows]
    if first is not None:
        start_days = np.maximum(start_days, day_number(first))
    days = start_days.astype("datetime64[D]")
    if bucket == "week":  # 1970-01-01 was a Thursday: Monday is 3 days before
        starts = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    elif bucket == "month":
        starts = days.astype("datetime64[M]").astype("datetime64[D]")
    else:
        starts = days
    keys = starts.astype(np.int64) * len(table.types) + table.type_code[rows]
    uniq, counts = np.unique(keys, return_counts=True)
    out = [(day_of(k // len(table.types)), table.types[k % len(table.types)], int(c))
           for k, c in zip(uniq.tolist(), counts.tolist())]
    return sorted(out)


def timeline_window(table: EventTable, rows: np.ndarray, start: date | None, end: date | None) -> tuple[date, date] | None:
    """The days the timeline shows: the date filter's window, its open sides closed by the selected events'
    first start and last end; None when nothing is selected."""
    bounds = date_bounds(table, rows)
    if bounds is None:
        return None
    lo, hi = start or bounds[0], end or bounds[1]
    return (lo, hi) if lo <= hi else (hi, lo)


def timeline_bucket(lo: date, hi: date) -> str:
    """A bin that gives a readable number of bars over the window: day up to 2 months, week up to 1½ years."""
    days = (hi - lo).days + 1
    return "day" if days <= 62 else "week" if days <= 550 else "month"


# ----------------------------------------------------------------------------------------- building

def _from_arrow(columns: dict[str, pa.ChunkedArray], shape_of, coarse_of, *, sort: bool) -> EventTable:
    """The table from the query's columns, all in C: categories by dictionary encoding, text casefolded,
    rows sorted by (start day, id) when `sort`.

    `columns` is used up: each column is replaced as soon as its successor exists, so at 1M events there is
    never a second copy of every column at once (that was a third of the peak memory).
    """
    for name in _COLUMNS:  # an empty result comes with text types
        columns[name] = columns[name].cast(_TYPES[name])
    rows = len(columns["id"])
    if sort and rows:
        order = pc.sort_indices(pa.table({"t_start": columns["t_start"], "id": columns["id"]}),
                                sort_keys=[("t_start", "ascending"), ("id", "ascending")])
        if not np.array_equal(order.to_numpy(), np.arange(rows)):
            for name in _COLUMNS:
                columns[name] = columns[name].take(order)

    def objects(name: str) -> np.ndarray:
        return _objects(columns.pop(name))

    def numbers(name: str, dtype) -> np.ndarray:
        return columns.pop(name).to_numpy().astype(dtype, copy=False)

    def categories(name: str) -> tuple[np.ndarray, tuple]:
        column = columns.pop(name)
        encoded = pc.dictionary_encode(column.combine_chunks() if column.num_chunks > 1 else
                                       (column.chunk(0) if column.num_chunks else pa.array([], column.type)))
        return encoded.indices.to_numpy().astype(np.int32, copy=False), tuple(encoded.dictionary.to_pylist())

    type_code, types = categories("type")
    country_code, countries = categories("countries")
    admin_code, admins = categories("admin")
    actor_code, actors = categories("actors")
    place_code, places = categories("place")
    publisher_code, publishers = categories("publisher")
    table = EventTable(
        id=objects("id"), title=objects("title"), type_code=type_code, types=types,
        t_start=numbers("t_start", np.int32), t_end=numbers("t_end", np.int32),
        lon=numbers("lon", np.float64), lat=numbers("lat", np.float64),
        country_code=country_code, country_sets=tuple(_country_set(c) for c in countries),
        admin_code=admin_code, admins=admins,
        actor_code=actor_code, actor_sets=tuple(_actor_set(a) for a in actors),
        place_code=place_code, place_shapes=tuple(shape_of(k) for k in places),
        place_coarse=np.fromiter((bool(coarse_of(k)) for k in places), bool, len(places)),
        text=_folded_column(columns.pop("text")), publisher_code=publisher_code, publishers=publishers,
    )
    for name in _ROW_COLUMNS:
        getattr(table, name).setflags(write=False)
    return table


def _objects(column: pa.ChunkedArray) -> np.ndarray:
    """A text column as a numpy array of str objects (what `EventTable.id` and `title` hold)."""
    arr = np.empty(len(column), dtype=object)
    arr[:] = column.to_numpy(zero_copy_only=False)
    return arr


def _folded_column(texts: pa.ChunkedArray) -> pa.ChunkedArray:
    """The text column casefolded, a chunk at a time, each original chunk let go once folded."""
    chunks = list(texts.chunks)
    del texts
    out = []
    while chunks:
        out.append(_folded(chunks.pop(0)))
    return pa.chunked_array(out, pa.large_string())


def _folded(texts: pa.Array) -> pa.Array:
    """The texts casefolded: ASCII rows lowered in C (for ASCII, casefold is lower), only the others
    casefolded one by one in Python."""
    is_ascii = pc.string_is_ascii(texts)
    low = pc.ascii_lower(texts)
    if is_ascii.false_count:
        others = pc.invert(is_ascii)
        folded = pa.array([t.casefold() for t in pc.filter(texts, others).to_pylist()], texts.type)
        low = pc.replace_with_mask(low, others, folded)
    return low


def _country_set(value: str | tuple) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    return tuple(c for c in value.split(",") if c)  # ',BY,UA,' as the store writes it


def _actor_set(value: str | tuple) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    return tuple(json.loads(value)) if value else ()


def _shape_of(place: Place) -> BaseGeometry | None:
    """None when the place is exactly the point its events are pinned at; its geometry otherwise."""
    geom = place.geometry
    return None if geom.geom_type == "Point" and place.pin is None else geom


# -- the table kept next to the store ------------------------------------------------------------

_CACHE_VERSION = "1"  # bump when EventTable's columns or _from_arrow's rules change


def _cache_files(path: Path) -> tuple[Path, Path]:
    """The row columns and the place columns of a store's table, beside the store."""
    return path.with_name(path.name + ".table.arrow"), path.with_name(path.name + ".places.arrow")


def _cache_key(path: Path) -> str | None:
    """What the kept table must have been read from: the store file's version (store.versions: SQLite's
    change counter, the file's size and mtime) and this module's table version. None when a write-ahead
    log is in use, where the counter does not move."""
    version = versions.file_version(path)
    return None if version is None else f"v{_CACHE_VERSION}:{version}:{pa.__version__}"


def _key_holds(path: Path, kept: str, key: str) -> bool:
    """Whether a table kept under `kept` is the store's table at `key`: the same key, or only writes that
    left the events alone (snapshots) since."""
    if kept == key:
        return True
    kept_v, _, kept_rest = kept.partition(":")
    key_v, _, key_rest = key.partition(":")
    kept_file, _, kept_pa = kept_rest.rpartition(":")
    key_file, _, key_pa = key_rest.rpartition(":")
    return (kept_v, kept_pa) == (key_v, key_pa) and versions.events_unchanged(path, kept_file, key_file)


def _write_cache(path: Path, key: str, table: EventTable) -> None:
    """Keep `table` beside the store; a folder that cannot be written to only means no cache."""
    import os
    import tempfile

    meta = {b"reachmap": key.encode(), b"categories": json.dumps({
        "types": table.types, "admins": table.admins, "publishers": table.publishers,
        "country_sets": table.country_sets, "actor_sets": table.actor_sets}).encode()}
    rows = pa.table({name: pa.array(getattr(table, name), pa.string() if name in ("id", "title") else None)
                     for name in _ROW_COLUMNS} | {"text": table.text}).replace_schema_metadata(meta)
    shapes = [None if g is None else shapely.to_wkb(g) for g in table.place_shapes]
    places = pa.table({"shape": pa.array(shapes, pa.binary()), "coarse": pa.array(table.place_coarse)}
                      ).replace_schema_metadata({b"reachmap": key.encode()})
    written = []
    try:
        for target, data in zip(_cache_files(path), (rows, places)):
            fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
            os.close(fd)
            written.append(tmp)
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, data.schema) as writer:
                writer.write_table(data)
        for tmp, target in zip(written, _cache_files(path)):
            os.replace(tmp, target)
    except OSError:
        for tmp in written:
            Path(tmp).unlink(missing_ok=True)


def _read_cache(path: Path, key: str) -> EventTable | None:
    """The table kept beside the store, if it was read from the store as it is now; else None."""
    rows_file, places_file = _cache_files(path)
    try:
        rows = pa.ipc.open_file(pa.memory_map(str(rows_file))).read_all()
        places = pa.ipc.open_file(pa.memory_map(str(places_file))).read_all()
        kept = rows.schema.metadata.get(b"reachmap")
        if kept is None or places.schema.metadata.get(b"reachmap") != kept or \
                not _key_holds(path, kept.decode(), key):
            return None
        cats = json.loads(rows.schema.metadata[b"categories"])
    except (OSError, pa.ArrowInvalid, AttributeError, KeyError, ValueError):
        return None  # none kept yet, another version's, or damaged: read the store

    def objects(name: str) -> np.ndarray:
        return _objects(rows.column(name))

    def numbers(name: str, dtype) -> np.ndarray:
        column = rows.column(name)  # one chunk, mapped from the file: no copy
        return (column.chunk(0).to_numpy() if column.num_chunks == 1 else column.to_numpy()).astype(dtype, copy=False)

    shapes = shapely.from_wkb(places.column("shape").to_numpy(zero_copy_only=False))
    table = EventTable(
        id=objects("id"), title=objects("title"), type_code=numbers("type_code", np.int32),
        types=tuple(cats["types"]), t_start=numbers("t_start", np.int32), t_end=numbers("t_end", np.int32),
        lon=numbers("lon", np.float64), lat=numbers("lat", np.float64),
        country_code=numbers("country_code", np.int32),
        country_sets=tuple(tuple(c) for c in cats["country_sets"]),
        admin_code=numbers("admin_code", np.int32), admins=tuple(cats["admins"]),
        actor_code=numbers("actor_code", np.int32), actor_sets=tuple(tuple(a) for a in cats["actor_sets"]),
        place_code=numbers("place_code", np.int32), place_shapes=tuple(shapes.tolist()),
        place_coarse=places.column("coarse").to_numpy(zero_copy_only=False).astype(bool),
        text=rows.column("text"), publisher_code=numbers("publisher_code", np.int32),
        publishers=tuple(cats["publishers"]))
    for name in _ROW_COLUMNS:
        getattr(table, name).setflags(write=False)
    return table


def _place_shapes(rows: list[tuple]) -> dict[str, BaseGeometry | None]:
    """Place key → geometry for places that are not simply their pin point (areas, lines, pinned points)."""
    keys, wkbs, pinned = [], [], []
    for key, blob, pin_lon in rows:
        if blob[:2] != b"GP":
            raise StoreError(f"The place {key!r} has a geometry that is not a GeoPackage blob.")
        keys.append(key)
        wkbs.append(blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]:])
        pinned.append(pin_lon is not None)
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object)) if wkbs else np.empty(0, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0 if len(geoms) else np.empty(0, bool)
    return {k: (None if pt and not pin else g) for k, g, pt, pin in zip(keys, geoms, is_point, pinned)}


def date_bounds(table: EventTable, rows: np.ndarray) -> tuple[date, date] | None:
    """First start and last end day of these rows, or None when there are none."""
    return (day_of(table.t_start[rows].min()), day_of(table.t_end[rows].max())) if len(rows) else None


def publishers_of(table: EventTable, rows: np.ndarray) -> set[str]:
    """Who published the sources of these rows."""
    return {table.publishers[c] for c in np.unique(table.publisher_code[rows]).tolist()}


def type_counts(table: EventTable, rows: np.ndarray) -> Counter:
    """How many of these rows have each event type."""
    counts = np.bincount(table.type_code[rows], minlength=len(table.types))
    return Counter({t: int(c) for t, c in zip(table.types, counts) if c})
