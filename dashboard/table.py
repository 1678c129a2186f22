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
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard import settings
from dashboard.errors import StoreError
from dashboard.geodesy import in_range
from dashboard.model import FEATURE_KINDS, Event, Place
from dashboard.store import versions
from dashboard.store.base import memory_trimmer
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
# The places that are not a bare point (the store writes a point as a 61-byte blob: little-endian, an xy
# envelope, WKB type 1 at byte 42) and the coarse ones: at 3M events there may be 3M villages, all bare points.
_PLACES_SQL = """
SELECT key, geom, pin_lon, kind FROM places
WHERE pin_lon IS NOT NULL OR kind IN ({kinds})
   OR NOT (length(geom) = 61 AND substr(geom, 4, 1) = x'03' AND substr(geom, 42, 4) = x'01000000')
"""
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
_NUMBER_COLUMNS = _ROW_COLUMNS[2:]  # the numpy ones; ids and titles stay Arrow (`EventTable.ids`)


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the unit of `EventTable.t_start` / `t_end`)."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass(frozen=True, eq=False)
class EventTable:
    """Aligned, read-only columns of events; row i of every array is the same event.

    Ids and titles stay Arrow text (`ids`, `titles`: mapped from the kept file, no Python object per event);
    `id` and `title` are them as numpy arrays of str, built once on first use (170 MB at 1M events: the app
    builds them, to index them at every rerun; an export reads only the selection's, `id_at`)."""

    ids: pa.ChunkedArray      # event ids
    titles: pa.ChunkedArray   # titles
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
    # False: built without `text` (all ""), for a table no text filter reads (an opened snapshot's map,
    # never filtered again: 330 MB less at 1M events); `select` refuses a text filter on it.
    searchable: bool = True

    def __len__(self) -> int:
        return len(self.t_start)

    @cached_property
    def id(self) -> np.ndarray:
        """Every event id, as a read-only numpy array of str (built on first use)."""
        return _read_only(_objects(self.ids))

    @cached_property
    def title(self) -> np.ndarray:
        """Every title, as a read-only numpy array of str (built on first use)."""
        return _read_only(_objects(self.titles))

    def id_at(self, rows: np.ndarray) -> np.ndarray:
        """The ids of these rows as str objects; only those are built unless `id` already is."""
        return _as_objects(self.selected_ids(rows))

    def title_at(self, rows: np.ndarray) -> np.ndarray:
        """The titles of these rows as str objects; only those are built unless `title` already is."""
        return _as_objects(self._held("title", self.titles, rows))

    def selected_ids(self, rows: np.ndarray) -> np.ndarray | pa.ChunkedArray:
        """The ids of these rows as the table holds them: str objects once `id` is built (the app), else
        Arrow text, which `StoredEvents` turns into objects only if asked (an export of 1M events: none)."""
        return self._held("id", self.ids, rows)

    def _held(self, name: str, column: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray | pa.ChunkedArray:
        built = self.__dict__.get(name)  # the cached_property's value, once built
        return built[rows] if built is not None else _take(column, np.asarray(rows, dtype=np.int64))

    def rows_of(self, event_id: str) -> np.ndarray:
        """The rows (at most one in a store) whose id is this one."""
        built = self.__dict__.get("id")
        if built is not None:
            return np.flatnonzero(built == event_id)
        return np.flatnonzero(pc.equal(self.ids, event_id).to_numpy(zero_copy_only=False))

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def from_store_path(cls, path: Path | str) -> EventTable:
        """Read every event of a Reachmap GeoPackage, read-only, ordered like `GeoPackageStore.events()`.

        GDAL (pyogrio) runs the query and hands the columns over as Arrow, in C, a batch at a time, each
        batch made compact as it arrives (`_Gathered`). The table is then kept next to the store
        (`_cache_files`, Arrow IPC, written sorted a slice at a time and memory-mapped when read) until the
        store changes: a server start on an unchanged 1M-event store reads it back in about 0.3 s.
        """
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"No store at {path}: open it once with the app or `python -m dashboard` to create it.")
        check_is_ours(path)  # a foreign or damaged file gets the store's own sentence
        key = _cache_key(path)
        cached = _read_cache(path, key) if key is not None else None
        if cached is not None:
            return cached
        gathered = _gather_store(path)
        if key is not None and _write_cache(path, key, gathered):
            del gathered  # the kept file holds it now, sorted: read it back mapped, not a second copy
            pa.default_memory_pool().release_unused()  # what it held, back to the system before the read
            table = _read_cache(path, key)
            if table is not None:
                return table
            gathered = _gather_store(path)  # replaced meanwhile: read the store again
        return gathered.table()

    @classmethod
    def from_store(cls, location: Path | str) -> EventTable:
        """The table of the store at `location`: a GeoPackage path, or a postgresql:// URL (PostGIS)."""
        if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
            return cls.from_postgis(location)
        return cls.from_store_path(location)

    @classmethod
    def from_postgis(cls, url: str) -> EventTable:
        """Every event of a PostGIS store, ordered like `events()`, read as Arrow end to end (ADBC: the server's
        binary COPY into Arrow batches in C), and kept under <data_dir>/postgis-cache/ as for a GeoPackage,
        keyed by the store's id and change counter: a restart on an unchanged store maps the kept files."""
        from dashboard.store.postgis import PostGISStore

        with PostGISStore.open(url) as store:
            files = settings.data_dir() / "postgis-cache" / store.store_id
            for _ in range(3):  # a write committed while reading: read again (the counter names one version)
                counter = store.change_counter()
                key = f"v{_CACHE_VERSION}:pg{counter}:{pa.__version__}"
                cached = _read_cache(files, key)
                if cached is not None:
                    return cached
                gathered = _gather_postgis(store, url)
                if store.change_counter() == counter:
                    break
            else:
                return gathered.table()  # the store keeps changing: this reading, not kept
        try:
            files.parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a data folder that cannot be written to: the table is not kept
            return gathered.table()
        if _write_cache(files, key, gathered):
            table = _read_cache(files, key)
            if table is not None:
                return table
        return gathered.table()

    def take(self, rows: np.ndarray) -> EventTable:
        """A table of these rows, in this order (categories are kept as they are)."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = {name: getattr(self, name)[rows] for name in _NUMBER_COLUMNS}
        for arr in columns.values():
            arr.setflags(write=False)
        return replace(self, **columns, ids=_take(self.ids, rows), titles=_take(self.titles, rows),
                       text=_take(self.text, rows))

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
        return cls.from_columns({name: pa.array(values, _TYPES[name]) for name, values in columns.items()}, shapes,
                                {key for key, is_coarse in coarse.items() if is_coarse})

    @classmethod
    def from_columns(cls, columns: dict[str, pa.Array | pa.ChunkedArray], shapes: dict[str, BaseGeometry | None],
                     coarse: set[str]) -> EventTable:
        """The table of columns named and typed as the store's query gives them (`_COLUMNS`), in their order.
        `shapes`: place key -> geometry, None or absent for a place that is its events' pin point; `coarse`:
        the keys of places in COARSE_KINDS. (Frozen snapshots are built this way.)"""
        return cls.from_column_batches([columns], shapes, coarse)

    @classmethod
    def from_column_batches(cls, batches: Iterable[dict[str, pa.Array | pa.ChunkedArray]],
                            shapes: dict[str, BaseGeometry | None], coarse: set[str], *,
                            searchable: bool = True) -> EventTable:
        """`from_columns` of the rows of these batches, one after another, each made compact as it comes (as
        a store is read): 1M frozen events open without their whole text held twice.

        `searchable=False`: the batches need no "text" and the table holds none (EventTable.searchable)."""
        gathered = _Gathered()
        for columns in batches:
            if not searchable:
                columns = {**columns, "text": pa.nulls(len(columns["id"]), pa.large_string()).fill_null("")}
            gathered.add([column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
                          for column in (columns[name] for name in _COLUMNS)])
        table = gathered.finish(shapes, coarse, sort=False).table()
        return table if searchable else replace(table, searchable=False)


class StoredEvents(Sequence[Event]):
    """The events of some rows of a table, read from the store only when something needs them whole.

    `len()` and truth cost nothing, so a page can count 100k events, map them from the table and never
    build one Event object; iterating or indexing reads them all, once, with `load(ids)`. Exports that
    only write fields read `rows()` instead, when the caller passes `rows(ids)`.
    """

    def __init__(self, ids: np.ndarray | pa.ChunkedArray, load: Callable[[list[str]], list[Event]],
                 rows: Callable[[list[str]], Iterator[tuple]] | None = None) -> None:
        self._ids = ids  # a numpy array of str, or Arrow text (EventTable.selected_ids): objects when asked
        self._load = load
        self._rows = rows
        self._events: tuple[Event, ...] | None = None

    def rows(self) -> Iterator[tuple] | None:
        """The events as the store's flat record rows (`GeoPackageStore.record_rows`), in order, read in
        batches without building an Event each; None when the caller gave no way to read them."""
        if self._rows is None:
            return None
        return self._rows(self.ids.tolist())

    @property
    def ids(self) -> np.ndarray:
        """The events' ids, as a numpy array of str (built from Arrow text on first use)."""
        self._ids = _as_objects(self._ids)
        return self._ids

    def with_columns(self, columns: Callable[[np.ndarray], Iterator[pa.Table]]) -> StoredEvents:
        """The same events, also able to give their fields as Arrow columns (`columns()`), read with
        `columns(ids)` (GeoPackageStore.record_tables): exports encode those whole, in C."""
        twin = StoredEvents(self._ids, self._load, self._rows)
        twin._columns = columns  # type: ignore[attr-defined]
        return twin

    def columns(self) -> Iterator[pa.Table] | None:
        """The events as Arrow tables of the store's record columns, in order, a batch at a time; None
        when no way to read them was given (`with_columns`)."""
        read = getattr(self, "_columns", None)
        return None if read is None else read(self._ids)  # as they are: 1M ids are no list, nor 1M objects

    def __len__(self) -> int:
        return len(self._ids)

    def _all(self) -> tuple[Event, ...]:
        if self._events is None:
            self._events = tuple(self._load(self.ids.tolist())) if len(self) else ()
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
    if needle and not table.searchable:
        raise ValueError("this table was built without its text (EventTable.searchable); a text filter needs it")
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
    lo, hi = int(start_days.min()), int(start_days.max())
    n_types = len(table.types)
    if hi - lo > TIMELINE_MAX_DAYS:  # centuries apart: sort the keys instead of a slot per day
        keys = _bucket_start(start_days, bucket).astype(np.int64) * n_types + table.type_code[rows]
        uniq, counts = np.unique(keys, return_counts=True)
        return sorted((day_of(k // n_types), table.types[k % n_types], int(c))
                      for k, c in zip(uniq.tolist(), counts.tolist()))
    # Each day of the window mapped to its bucket once, then the events counted by (bucket, type) in one
    # bincount: sorting 3M keys (np.unique) took 0.1 s per rerun of the app's timeline.
    starts, bucket_of_day = np.unique(_bucket_start(np.arange(lo, hi + 1), bucket), return_inverse=True)
    keys = bucket_of_day[start_days - lo] * n_types + table.type_code[rows]
    counts = np.bincount(keys, minlength=len(starts) * n_types)
    found = np.flatnonzero(counts)
    return sorted((day_of(int(starts[k // n_types])), table.types[k % n_types], int(counts[k]))
                  for k in found.tolist())


TIMELINE_MAX_DAYS = 1_000_000  # a window of more days than this is counted by sorting (timeline)


def _bucket_start(days: np.ndarray, bucket: str) -> np.ndarray:
    """The day number (days since 1970-01-01) each day's bucket starts on: itself, its Monday, its month's 1st."""
    d = np.asarray(days).astype("datetime64[D]")
    if bucket == "week":  # 1970-01-01 was a Thursday: Monday is 3 days before
        d = d - ((d.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    elif bucket == "month":
        d = d.astype("datetime64[M]").astype("datetime64[D]")
    return d.astype(np.int64)


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

_NUMBERS = {"t_start": np.int32, "t_end": np.int32, "lon": np.float64, "lat": np.float64}
_CATEGORIES = {"type": "type_code", "countries": "country_code", "admin": "admin_code", "actors": "actor_code",
               "place": "place_code", "publisher": "publisher_code"}  # query column -> EventTable codes
_BATCH_ROWS = 131_072  # rows GDAL hands over at a time when a table is built from the store
_SLICE_ROWS = 262_144  # rows of the kept file written at a time


class _Gathered:
    """The query's columns gathered a batch at a time, each batch made compact as it arrives: numbers as
    numpy, categories dictionary-encoded, the text casefolded (the raw batch let go). Reading the whole
    query result at once peaked at 6.5 GB at 3M events; this way the build peaks at 2.4 GB.

    `finish` sorts the rows by (start day, id) — as an order to apply, the text columns are not copied —
    and numbers the categories in their order of first appearance in the sorted rows (as one
    dictionary encoding of the sorted columns would).
    """

    def __init__(self) -> None:
        self.rows = 0
        self.order: np.ndarray | None = None  # the sorted order of the gathered rows; None: as gathered
        self.numbers: dict[str, np.ndarray] = {}
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, tuple] = {}
        self.place_shapes: tuple[BaseGeometry | None, ...] = ()
        self.place_coarse = np.zeros(0, bool)
        self.strings: dict[str, pa.ChunkedArray] = {}  # id, title, text: Arrow, in the gathered order
        self._parts: dict[str, list] = {name: [] for name in _COLUMNS}

    def add(self, batch: Sequence[pa.Array]) -> None:
        """One batch of the query's columns, in `_COLUMNS` order."""
        # What is kept is copied out of the batch: GDAL frees a batch's memory, its raw text included, only
        # once no column of it is referenced (the C data interface releases the batch whole).
        for name, column in zip(_COLUMNS, batch):
            column = column.cast(_TYPES[name])  # an empty result comes with text types
            if name in _NUMBERS:
                column = np.array(column.to_numpy(), dtype=_NUMBERS[name])
            elif name in _CATEGORIES:
                column = pc.dictionary_encode(column)
            elif name == "text":
                column = _folded(column)
            else:
                column = pa.concat_arrays([column])  # a copy
            self._parts[name].append(column)
        self.rows += len(batch[0])

    def finish(self, shapes: dict[str, BaseGeometry | None], coarse: set[str], *, sort: bool) -> _Gathered:
        """The gathered rows sorted when `sort`; `shapes` and `coarse`: what `_place_columns` needs."""
        parts = self._parts
        for name, dtype in _NUMBERS.items():
            self.numbers[name] = np.concatenate(parts.pop(name)) if parts[name] else np.empty(0, dtype)
        self.strings = {name: pa.chunked_array(parts.pop(name), _TYPES[name]) for name in ("id", "title", "text")}
        if sort and self.rows:
            keys = pa.table({"t_start": self.numbers["t_start"], "id": self.strings["id"]})
            order = pc.sort_indices(keys, sort_keys=[("t_start", "ascending"), ("id", "ascending")])
            order = order.to_numpy().astype(np.int64)
            if not np.array_equal(order, np.arange(self.rows)):
                self.order = order
                self.numbers = {name: values[order] for name, values in self.numbers.items()}
        keys = {}
        for name in _CATEGORIES:
            self.codes[name], keys[name] = self._category(parts.pop(name))
        # Place keys stay Arrow: at 3M events there may be 3M of them, and only their shapes are kept.
        self.place_shapes, self.place_coarse = _place_columns(keys.pop("place"), shapes, coarse)
        self.values = {name: tuple(values.to_pylist()) for name, values in keys.items()}
        return self

    def _category(self, chunks: list[pa.DictionaryArray]) -> tuple[np.ndarray, pa.Array]:
        if not chunks:
            return np.empty(0, np.int32), pa.array([], pa.string())
        unified = pa.chunked_array(chunks).unify_dictionaries()
        dictionary = unified.chunk(0).dictionary
        codes = np.concatenate([c.indices.to_numpy() for c in unified.chunks]).astype(np.int32, copy=False)
        if self.order is not None:
            codes = codes[self.order]
        # Renumber in order of first appearance: the first row of each code, then the codes by it.
        first = np.full(len(dictionary), len(codes), dtype=np.int64)
        np.minimum.at(first, codes, np.arange(len(codes)))
        seen = np.argsort(first, kind="stable")[:int((first < len(codes)).sum())]
        renumber = np.empty(len(dictionary), np.int32)
        renumber[seen] = np.arange(len(seen), dtype=np.int32)
        return renumber[codes], dictionary.take(pa.array(seen))

    def sorted_strings(self, name: str, lo: int = 0, hi: int | None = None) -> pa.ChunkedArray:
        """A text column's rows lo:hi of the sorted order."""
        hi = self.rows if hi is None else hi
        column = self.strings[name]
        if self.order is None:
            return column.slice(lo, hi - lo)
        return _take(column, self.order[lo:hi])

    def table(self) -> EventTable:
        """The EventTable in memory (no kept file: from events, or a folder that cannot be written)."""
        table = EventTable(
            ids=self.sorted_strings("id"), titles=self.sorted_strings("title"),
            type_code=self.codes["type"], types=self.values["type"],
            t_start=self.numbers["t_start"], t_end=self.numbers["t_end"],
            lon=self.numbers["lon"], lat=self.numbers["lat"],
            country_code=self.codes["countries"],
            country_sets=tuple(_country_set(c) for c in self.values["countries"]),
            admin_code=self.codes["admin"], admins=self.values["admin"],
            actor_code=self.codes["actors"], actor_sets=tuple(_actor_set(a) for a in self.values["actors"]),
            place_code=self.codes["place"], place_shapes=self.place_shapes, place_coarse=self.place_coarse,
            text=self.sorted_strings("text"), publisher_code=self.codes["publisher"],
            publishers=self.values["publisher"],
        )
        for name in _NUMBER_COLUMNS:
            getattr(table, name).setflags(write=False)
        return table


def _take(column: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """column.take(rows), taken chunk by chunk: Arrow's own take joins every chunk of a text column into
    one copy first (the whole text of 3M events, once per slice of the kept file)."""
    rows = np.asarray(rows, dtype=np.int64)
    if column.num_chunks <= 1:
        return column.take(pa.array(rows))
    ends = np.cumsum([len(chunk) for chunk in column.chunks])
    if len(rows) < 2 or bool((rows[1:] > rows[:-1]).all()):  # ascending (a selection): no reordering, and
        bounds = np.searchsorted(rows, np.concatenate(([0], ends)))  # a chunk taken whole is not copied
        parts = []
        for c, chunk in enumerate(column.chunks):
            lo, hi = bounds[c], bounds[c + 1]
            if hi - lo == len(chunk):
                parts.append(chunk)
            elif hi > lo:
                parts.append(chunk.take(pa.array(rows[lo:hi] - (ends[c] - len(chunk)))))
        return pa.chunked_array(parts, column.type)
    chunk_of = np.searchsorted(ends, rows, side="right")
    by_chunk = np.argsort(chunk_of, kind="stable")
    sorted_rows, sorted_chunks = rows[by_chunk], chunk_of[by_chunk]
    bounds = np.searchsorted(sorted_chunks, np.arange(column.num_chunks + 1))
    starts = ends - [len(chunk) for chunk in column.chunks]
    parts = [column.chunk(c).take(pa.array(sorted_rows[bounds[c]:bounds[c + 1]] - starts[c]))
             for c in range(column.num_chunks) if bounds[c + 1] > bounds[c]]
    back = np.empty(len(rows), np.int64)
    back[by_chunk] = np.arange(len(rows))
    return pa.chunked_array([pa.concat_arrays(parts).take(pa.array(back))] if parts else [], column.type)


def _place_columns(keys: pa.Array, shapes: dict[str, BaseGeometry | None],
                   coarse: set[str]) -> tuple[tuple[BaseGeometry | None, ...], np.ndarray]:
    """Per place code (`keys`): its shape and whether it is coarse (COARSE_KINDS). `shapes` and `coarse`
    need to name only the places that are not bare points and the coarse ones: any other place is its
    own pin point (shape None), not coarse."""

    place_shapes: list[BaseGeometry | None] = [None] * len(keys)
    listed = [(key, geom) for key, geom in shapes.items() if geom is not None]
    if listed:
        at = pc.index_in(pa.array([key for key, _ in listed], pa.string()), value_set=keys)
        for i, (_, geom) in zip(at.to_pylist(), listed):
            if i is not None:  # a place no event cites
                place_shapes[i] = geom
    place_coarse = np.zeros(len(keys), bool)
    if coarse:
        place_coarse[pc.index_in(pa.array(sorted(coarse), pa.string()), value_set=keys).drop_null().to_numpy()] = True
    return tuple(place_shapes), place_coarse


def _gather_store(path: Path) -> _Gathered:
    """The store's events gathered and sorted, with their places' shapes and coarseness."""
    import pyogrio  # GDAL: imported when a table is read, not by everything that imports this module

    gathered = _Gathered()
    trim = memory_trimmer()
    try:
        with pyogrio.open_arrow(path, sql=_SQL, read_geometry=False, batch_size=_BATCH_ROWS,
                                use_pyarrow=True) as (_, reader):
            for batch in reader:
                gathered.add(batch.columns)
                del batch
                trim()
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            kinds = sorted(COARSE_KINDS)
            places = conn.execute(_PLACES_SQL.format(kinds=",".join("?" * len(kinds))), kinds).fetchall()
            shapes = _place_shapes([row[:3] for row in places])
            coarse = {row[0] for row in places if row[3] in COARSE_KINDS}
        finally:
            conn.close()
    except (sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.GeometryError, pyogrio.errors.FieldError) as exc:
        reason = str(exc).rsplit("): ", 1)[-1]  # GDAL quotes the whole query before SQLite's reason
        raise StoreError(f"Cannot read the events of the store {path} ({reason}); is it a Reachmap store?") from exc
    return gathered.finish(shapes, coarse, sort=True)


_PG_SQL = """
SELECT e.event_id, e.title, e.event_type, e.t_start - DATE '1970-01-01', e.t_end - DATE '1970-01-01',
       e.countries, e.lon, e.lat, e.actors, COALESCE(p.admin1, ''), e.place_key,
       e.title || chr(10) || e.description || chr(10) || e.quote, e.source_publisher
FROM events e LEFT JOIN places p ON p.key = e.place_key
"""  # _SQL for PostgreSQL: the same columns in the same order (sorted after, in Arrow, as from the GeoPackage)
_PG_PLACES_SQL = ("SELECT key, ST_AsBinary(geom), pin_lon, kind FROM places "
                  "WHERE pin_lon IS NOT NULL OR kind = ANY(%s) OR GeometryType(geom) <> 'POINT'")


def _gather_postgis(store, url: str) -> _Gathered:
    """A PostGIS store's events gathered and sorted, with their places' shapes and coarseness."""
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as adbc

    gathered = _Gathered()
    try:
        with adbc.connect(url) as conn, conn.cursor() as cur:
            cur.execute(_PG_SQL)
            for batch in cur.fetch_record_batch():
                gathered.add(batch.columns)
    except adbc_driver_manager.Error as exc:
        raise StoreError(f"Cannot read the events of the store {store.location} ({str(exc).splitlines()[0]}).") from exc
    rows = store._rows(_PG_PLACES_SQL, (sorted(COARSE_KINDS),))
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else []
    shapes = {r[0]: (None if g.geom_type == "Point" and r[2] is None else g) for r, g in zip(rows, geoms)}
    coarse = {r[0] for r in rows if r[3] in COARSE_KINDS}
    return gathered.finish(shapes, coarse, sort=True)


def _objects(column: pa.ChunkedArray) -> np.ndarray:
    """A text column as a numpy array of str objects (what `EventTable.id` and `title` hold).

    Arrow turns text into numpy through pandas: where pandas is loaded (the app) that is the faster way
    (0.09 s per 1M texts), but a process that has not loaded it (`python -m dashboard export … --format csv`)
    would pay 0.4 s to import it, so there the texts go through Python's list (0.17 s per 1M).
    """
    arr = np.empty(len(column), dtype=object)
    arr[:] = column.to_numpy(zero_copy_only=False) if "pandas" in sys.modules else column.to_pylist()
    return arr


def _as_objects(texts: np.ndarray | pa.ChunkedArray) -> np.ndarray:
    """Texts as a numpy array of str: as they are if they already are one, else built from Arrow."""
    return texts if isinstance(texts, np.ndarray) else _objects(texts)


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
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

_CACHE_VERSION = "2"  # bump when EventTable's columns, the kept files or the building rules change
_TEXTS = ("id", "title", "text")  # the kept columns written a slice at a time (`_cache_files`)


def _cache_files(path: Path) -> tuple[Path, Path, Path]:
    """The kept table's files beside the store: the numbers and codes of the rows (one record batch, so that
    every column maps without a copy), their texts (written a slice at a time) and the places' columns."""
    return tuple(path.with_name(f"{path.name}.{part}.arrow") for part in ("table", "text", "places"))


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


def _write_cache(path: Path, key: str, gathered: _Gathered) -> bool:
    """Keep the gathered table beside the store, sorted, its texts a slice of rows at a time (the sorted
    text is never whole in memory); False when the folder cannot be written to (then none is kept)."""
    import os
    import tempfile

    keyed = {b"reachmap": key.encode()}
    codes = {field: gathered.codes[name] for name, field in _CATEGORIES.items()}
    numbers = pa.table({name: codes.get(name, gathered.numbers.get(name)) for name in _ROW_COLUMNS
                        if name not in _TEXTS}).replace_schema_metadata(keyed | {b"categories": json.dumps({
                            "types": gathered.values["type"], "admins": gathered.values["admin"],
                            "publishers": gathered.values["publisher"],
                            "country_sets": [_country_set(c) for c in gathered.values["countries"]],
                            "actor_sets": [_actor_set(a) for a in gathered.values["actors"]]}).encode()})
    texts = pa.schema([(name, _TYPES[name]) for name in _TEXTS], metadata=keyed)
    shapes = [None if g is None else shapely.to_wkb(g) for g in gathered.place_shapes]
    places = pa.table({"shape": pa.array(shapes, pa.binary()), "coarse": pa.array(gathered.place_coarse)}
                      ).replace_schema_metadata(keyed)

    def text_slices():
        if not gathered.rows:
            yield texts.empty_table()
        for lo in range(0, gathered.rows, _SLICE_ROWS):
            hi = min(lo + _SLICE_ROWS, gathered.rows)
            yield pa.table({name: gathered.sorted_strings(name, lo, hi) for name in _TEXTS}, schema=texts)

    written = []
    try:
        for target, schema, tables in zip(_cache_files(path), (numbers.schema, texts, places.schema),
                                          ([numbers], text_slices(), [places])):
            fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
            os.close(fd)
            written.append(tmp)
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                for table in tables:
                    writer.write_table(table)
        for tmp, target in zip(written, _cache_files(path)):
            os.replace(tmp, target)
    except OSError:
        for tmp in written:
            Path(tmp).unlink(missing_ok=True)
        return False
    return True


def _read_cache(path: Path, key: str) -> EventTable | None:
    """The table kept beside the store, if it was read from the store as it is now; else None."""
    try:
        rows, texts, places = (pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in _cache_files(path))
        kept = rows.schema.metadata.get(b"reachmap")
        if kept is None or {t.schema.metadata.get(b"reachmap") for t in (texts, places)} != {kept} or \
                not _key_holds(path, kept.decode(), key):
            return None
        cats = json.loads(rows.schema.metadata[b"categories"])
    except (OSError, pa.ArrowInvalid, AttributeError, KeyError, ValueError):
        return None  # none kept yet, another version's, or damaged: read the store

    def numbers(name: str, dtype) -> np.ndarray:
        column = rows.column(name)  # one chunk, mapped from the file: no copy
        return (column.chunk(0).to_numpy() if column.num_chunks == 1 else column.to_numpy()).astype(dtype, copy=False)

    shapes = shapely.from_wkb(np.array(places.column("shape").to_pylist(), dtype=object))  # not via pandas
    table = EventTable(
        ids=texts.column("id"), titles=texts.column("title"), type_code=numbers("type_code", np.int32),
        types=tuple(cats["types"]), t_start=numbers("t_start", np.int32), t_end=numbers("t_end", np.int32),
        lon=numbers("lon", np.float64), lat=numbers("lat", np.float64),
        country_code=numbers("country_code", np.int32),
        country_sets=tuple(tuple(c) for c in cats["country_sets"]),
        admin_code=numbers("admin_code", np.int32), admins=tuple(cats["admins"]),
        actor_code=numbers("actor_code", np.int32), actor_sets=tuple(tuple(a) for a in cats["actor_sets"]),
        place_code=numbers("place_code", np.int32), place_shapes=tuple(shapes.tolist()),
        place_coarse=places.column("coarse").to_numpy(zero_copy_only=False).astype(bool),
        text=texts.column("text"), publisher_code=numbers("publisher_code", np.int32),
        publishers=tuple(cats["publishers"]))
    for name in _NUMBER_COLUMNS:
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
