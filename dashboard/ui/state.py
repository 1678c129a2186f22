"""The one ViewState of a page run: read from the URL, shown by widgets, written back to the URL.

The URL query string is the source of truth. Widgets have keys named after ViewState fields; before they
are drawn their values are set from the state, and their on_change callbacks write the new state back to
`st.query_params`, so a copied link always reopens exactly what is on screen.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import settings
from dashboard.analysis.launch import LaunchArea
from dashboard.errors import NotFoundError
from dashboard.geodesy import InRange
from dashboard.gazetteer import BuildProgress, Gazetteer
from dashboard.ingest import is_url, open_gazetteer, open_store, store_location
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.story import Story, load_stories
from dashboard.mapview import Basemap, safe
from dashboard.model import Catalogue, Event
from dashboard.store import EventStore, Listed, SourceGroup
from dashboard.rings import Ring, resolve_ring, ring_cost
from dashboard.rings import event_reach as measure_reach
from dashboard.scene import event_filter, layer_rings_of, load_basemap, resolve_bearings, resolve_launches, resolve_rings
from dashboard.share import (DRAWN_TERRITORY, BearingSpec, Decoded, LaunchSpec, RingSpec, SiteLayer, ViewState,
                             from_params, to_params)
from dashboard.query import Facets
from dashboard.table import EventTable, StoredEvents, select
from dashboard.table import facets as table_facets

T = TypeVar("T")

# Session-state keys that are not ViewState fields live here, in one place.
LAST_STATE = "_last_state"          # the state last written, restored when a page switch drops the URL
DRAWING_SEEN = "_drawing_seen"      # the drawn shape already turned into an area filter
CLICKED = "_clicked_point"          # the last point clicked on the map, offered as a ring origin
SERVED_FROM = "_served_from"        # (the view Python last set, the map's view request seen then): map_page
VIEW_BOUNDS = "vb"                  # URL key the map writes (with c and z) as the user pans; not a filter


# -- shared read-only things ----------------------------------------------------------------------

@st.cache_resource(show_spinner="Reading the 235,000 GeoNames places (first start only, a few seconds)…")
def gazetteer() -> Gazetteer:
    # On a fresh data folder the place-name index is built in another process; the map needs only its
    # places (seconds), a name lookup waits for the names and says so (_tell_waiting).
    gaz = open_gazetteer(background=True)
    gaz.on_wait = _tell_waiting
    return gaz


_run = threading.local()  # Streamlit runs each script run in a thread of its own: one toast per run


def _tell_waiting(progress: BuildProgress) -> None:
    """While a name lookup of this page run waits for the index: one toast, updated as it goes."""
    if get_script_run_ctx() is None:
        return
    toast = getattr(_run, "toast", None)
    if toast is None:
        _run.toast = st.toast(progress.words, icon=":material/hourglass_top:")
    else:
        toast.toast(progress.words, icon=":material/hourglass_top:")


def index_progress() -> BuildProgress | None:
    """How far the first start's place-name index is; None when it is complete."""
    return gazetteer().progress()


def catalogue() -> Catalogue:
    """The catalogue, with the deployments imported since it was last read (their folder's state keys it)."""
    return _catalogue(_deployments_version())


@st.cache_resource(max_entries=4)
def _catalogue(version: tuple) -> Catalogue:  # noqa: ARG001 (the cache key)
    return load_catalogue()


def _deployments_version() -> tuple:
    folder = settings.deployments_dir()
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.json")))
    except OSError:
        return ()


@st.cache_resource
def stories() -> list[Story]:
    return load_stories(settings.story_dir(), gazetteer())


@st.cache_resource
def basemap() -> Basemap:
    # The map in the app fetches the basemap tiles it needs from static/basemap; exports embed them.
    return replace(load_basemap(gazetteer()), served=True)


@st.cache_resource(show_spinner="Loading events…", max_entries=2)
def _loaded(store_path: str, mtime_ns: int) -> EventTable:
    # A resource, not cache_data: 100k rows would be pickled on every rerun. Keyed on the store's location
    # (a file path or a PostGIS URL) and its version (the file's modification time, or the PostGIS store's
    # change counter), so an import invalidates it. Only columns: whole Event objects are read from the
    # store when a page needs them (StoredEvents), so 100k events load in about a second, not ten.
    table = EventTable.from_store(store_path)
    table.id  # built once here (60 MB at 1M): every session's scene then points at these strings, not its own copy
    return table


def _store_path() -> Path | str:
    """Where the store is (store_location: a GeoPackage path, or the store_url); a new file is made now."""
    location = store_location()
    if not is_url(location) and not location.exists():
        with open_store(location, gazetteer=gazetteer()):
            pass  # create and seed it once
    return location


def _version(location: Path | str) -> int:
    """What changes when the store's events do: the file's mtime, or PostGIS's change counter (one query;
    opening a new PostGIS store makes and seeds it)."""
    if not is_url(location):
        return os.stat(location).st_mtime_ns
    with open_store(location, gazetteer=gazetteer()) as store:
        return store.change_counter()


def _table() -> EventTable:
    path = _store_path()
    return _loaded(str(path), _version(path))


def _read(read: Callable[[EventStore], T]) -> T:
    with open_store(_store_path(), gazetteer=gazetteer()) as store:
        return read(store)


def events_of(ids: np.ndarray) -> StoredEvents:
    """These events, read from the store (one query) only if the page iterates them; GeoJSON and CSV
    downloads read their flat rows instead (no Event built per row)."""
    return StoredEvents(ids, lambda wanted: _read(lambda store: store.events_by_id(wanted)), _record_rows)


def _record_rows(ids: list[str]) -> Iterator[tuple]:
    with open_store(_store_path(), gazetteer=gazetteer()) as store:
        yield from store.record_rows(ids)


def event_by_id(event_id: str) -> Event | None:
    try:
        return _read(lambda store: store.get_event(event_id))
    except NotFoundError:
        return None


def listing(ids: np.ndarray) -> list[Listed]:
    """The table rows of these events (no Event objects: the Events page lists 100k this way)."""
    return _read(lambda store: store.listing(ids.tolist()))


PER_SOURCE = 20    # events listed under each source on the Sources page; the count says how many cite it
MAX_SOURCES = 200  # sources listed, the most cited first; the page says how many more there are


@st.cache_resource(max_entries=2)
def _source_groups(store_path: str, mtime_ns: int) -> tuple[list[SourceGroup], int]:
    with open_store(_located(store_path), gazetteer=gazetteer()) as store:  # the store this key names
        return store.source_groups(PER_SOURCE, MAX_SOURCES), store.count_sources()


def source_groups() -> tuple[list[SourceGroup], int]:
    """The most cited sources with their first events, and how many sources there are in all."""
    path = _store_path()
    return _source_groups(str(path), _version(path))


def _located(location: str) -> Path | str:
    """A cache key's location back as what open_store takes."""
    return location if is_url(location) else Path(location)


@st.cache_data(show_spinner="Computing the geodesic ring…", max_entries=64)
def ring_for(origin: str, km: float | None, system: str, munition: str, reach: bool,
             min_km: float | None = None) -> Ring:
    return resolve_ring(origin, gazetteer(), catalogue(), km=km, system=system, munition=munition, reach=reach,
                        min_km=min_km)


# Each table's reach per ring, kept with the table itself: a filter change only picks rows, and distances
# can never be looked up in another version of the store's table. Weak keys: gone with the table.
_reaches: weakref.WeakKeyDictionary[EventTable, OrderedDict] = weakref.WeakKeyDictionary()
_reaches_lock = threading.Lock()
REACHES_PER_TABLE = 8  # rings kept per table (about 17 MB each at 1M events), the least recently used go


_measuring: dict[tuple, threading.Lock] = {}  # (table id, ring key) -> held while one session measures it


def event_reach(ring: Ring, table: EventTable) -> InRange:
    """Inside, distance and bearing of every event of this table for this ring (measured once per table).

    Measured by one session at a time: the others wait for its result instead of measuring the same
    ring again at once (at 1M events each measurement takes seconds, and every filter change of every
    session that shows the ring asked for it while the first was under way)."""
    key = (ring.origin.key, ring.kind, ring.radius_km, ring.label)
    with _reaches_lock:
        kept = _reaches.setdefault(table, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
        measuring = _measuring.setdefault((id(table), key), threading.Lock())
    with measuring:  # outside _reaches_lock: other tables and rings are not held up
        with _reaches_lock:
            if key in kept:  # measured by the session this one waited for
                kept.move_to_end(key)
                return kept[key]
        try:
            reach = measure_reach(ring, table)
            with _reaches_lock:
                kept[key] = reach
                while len(kept) > REACHES_PER_TABLE:
                    kept.popitem(last=False)
        finally:
            with _reaches_lock:
                _measuring.pop((id(table), key), None)
    return reach


@st.cache_data(max_entries=256)
def cost_of(origin: str, km: float | None, system: str, munition: str, reach: bool) -> int:
    """rings.ring_cost, cached: a filter change must not measure Russia's outline again."""
    return ring_cost(origin, gazetteer(), catalogue(), km=km, system=system, munition=munition, reach=reach)


def rings_of(state: ViewState) -> tuple[list[Ring], list[str]]:
    return resolve_rings(state, gazetteer(), catalogue(),
                         lambda spec: ring_for(spec.origin, spec.km, spec.system, spec.munition, spec.reach,
                                               spec.min_km),
                         lambda spec: cost_of(spec.origin, spec.km, spec.system, spec.munition, spec.reach),
                         lambda layer: site_layer_rings(layer, _site_table_version(layer.table)))


# -- site tables (ingest.sites): stored files, rings cached by the file's state -------------------------

def site_tables() -> tuple[str, ...]:
    """The names of the stored site tables (settings.sites_dir), read each run: a new import shows at once."""
    from dashboard.ingest.sites import site_tables as stored

    return stored(settings.sites_dir())


def _site_table_version(name: str) -> tuple:
    try:
        found = os.stat(settings.sites_dir() / f"{name}.geojson")
    except (OSError, ValueError):
        return ()
    return (found.st_mtime_ns, found.st_size)


@st.cache_data(show_spinner="Computing the sites' rings…", max_entries=32)
def site_layer_rings(layer: SiteLayer, version: tuple) -> list[Ring]:  # noqa: ARG001 (version: the cache key)
    """A stored table's rings (one per site), recomputed when its file changes (a re-import)."""
    return layer_rings_of(layer, catalogue())


@st.cache_data(max_entries=32)
def site_table_systems(name: str, version: tuple) -> tuple[str, ...]:  # noqa: ARG001 (version: the cache key)
    """The catalogue ids the sites of a stored table name, for its system filter."""
    from dashboard.ingest.sites import load_sites

    return load_sites(settings.sites_dir(), name).systems()


def site_table_version(name: str) -> tuple:
    return _site_table_version(name)


@st.cache_data(show_spinner="Computing the launch area…", max_entries=32)
def launch_for(spec: LaunchSpec, area: tuple) -> LaunchArea:
    """scene.resolve_launches for one spec, cached; `area` (the drawn area) is in the key: it may be the territory."""
    found, problems = resolve_launches(ViewState(area=area, launches=(spec,)), gazetteer(), catalogue())
    if problems:
        raise LaunchProblem(problems[0])
    return found[0]


class LaunchProblem(NotFoundError):
    """A launch spec that cannot be built, as the sentence resolve_launches wrote for it."""


def launches_of(state: ViewState) -> tuple[list[LaunchArea], list[str]]:
    areas, problems = [], []
    for spec in state.launches:
        try:
            areas.append(launch_for(spec, state.area if spec.territory == DRAWN_TERRITORY else ()))
        except LaunchProblem as exc:
            problems.append(str(exc))
    return areas, problems


def add_launch(spec: LaunchSpec) -> None:
    _add("launches", spec)


def remove_launch(index: int) -> None:
    _remove("launches", index)


# -- the state ------------------------------------------------------------------------------------

def _url_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys() if k != VIEW_BOUNDS}


def current() -> Decoded:
    """The ViewState in the URL (or the last one, when a page switch dropped the URL)."""
    params = _url_params()
    if not params and LAST_STATE in st.session_state:
        return Decoded(st.session_state[LAST_STATE], ())
    return from_params(params, known_systems={s.id for s in catalogue().systems}, known_sites=site_tables())


def commit(state: ViewState) -> None:
    """Write the state to the URL (only when it changed, so the browser history stays clean)."""
    st.session_state[LAST_STATE] = state
    wanted = to_params(state)
    have = _url_params()
    if have != {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}:
        bounds = st.query_params.get(VIEW_BOUNDS)
        st.query_params.from_dict(wanted | ({VIEW_BOUNDS: bounds} if bounds else {}))


def update(**changes: object) -> None:
    """Change some fields of the state in the URL (for callbacks)."""
    commit(current().state.with_(**changes))


def md(text: str) -> str:
    """Text from data or the URL, escaped so Markdown shows it as typed (see mapview.safe.markdown)."""
    return safe.markdown(text)


def show_problems(decoded: Decoded) -> None:
    if decoded.problems:
        st.warning("This link had fields Reachmap could not use; their defaults are shown instead: "
                   + md(" ".join(decoded.problems)))


def selected(state: ViewState) -> tuple[StoredEvents, EventTable, np.ndarray, list[str]]:
    """The events the state selects (vectorised over the columnar table), the table, their rows, problems."""
    table, rows, problems = selected_rows(state)
    return events_of(table.id_at(rows)), table, rows, problems


def selected_rows(state: ViewState) -> tuple[EventTable, np.ndarray, list[str]]:
    """The table, the rows the state selects and the problems, without the events' ids (`selected`
    gathers them: 0.05 s at 3M selected events)."""
    flt, problems = event_filter(state, gazetteer())
    table = _table()
    return table, select(table, flt), problems


@st.cache_resource(max_entries=2)
def _facets(store_path: str, mtime_ns: int) -> Facets:
    return table_facets(_loaded(store_path, mtime_ns))


def facets() -> Facets:
    """Types, actors, admin regions, countries and the date span present in the store (cached per file)."""
    path = _store_path()
    return _facets(str(path), _version(path))


def date_bounds() -> tuple[date, date]:
    """The first start and last end of the stored events (the story's day for an empty store)."""
    found = facets()
    return found.first or date(2022, 6, 25), found.last or date(2022, 6, 25)


def _add(field: str, spec) -> None:
    """The spec appended to the view's tuple `field` (rings, bearings, launches), unless it is there already."""
    state = current().state
    if spec not in getattr(state, field):
        commit(state.with_(**{field: getattr(state, field) + (spec,)}))


def _remove(field: str, index: int) -> None:
    state = current().state
    kept = getattr(state, field)
    commit(state.with_(**{field: kept[:index] + kept[index + 1:]}))


def add_ring(spec: RingSpec) -> None:
    _add("rings", spec)


def remove_ring(index: int) -> None:
    _remove("rings", index)


def bearings_of(state: ViewState) -> tuple[list, list[str]]:
    """The view's lines of bearing (scene.resolve_bearings), with a sentence for each that cannot be drawn."""
    return resolve_bearings(state, gazetteer())


def add_bearing(spec: BearingSpec) -> None:
    _add("bearings", spec)


def remove_bearing(index: int) -> None:
    _remove("bearings", index)
