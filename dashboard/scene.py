"""What a ViewState shows: the selected events and the resolved rings, the same for the UI, the CLI and exports."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

import shapely
from shapely.geometry import Polygon

from dashboard import geodesy
from dashboard.analysis.launch import LaunchArea, reachers, resolve_launch
from dashboard.errors import DashboardError
from dashboard.gazetteer import Gazetteer
from dashboard.model import Catalogue, Event, Validity
from dashboard.query import EventFilter, refine
from dashboard.model import Place
from dashboard.rings import BearingLine, Ring, resolve_bearing, resolve_origin, resolve_ring, ring_cost
from dashboard.share import DRAWN_TERRITORY, LaunchSpec, RingSpec, SiteLayer, ViewState
from dashboard.table import EventTable, StoredEvents, select

if TYPE_CHECKING:  # the map (folium) is imported where a map is built: text exports never load it
    from dashboard.mapview import Basemap

STORY_BORDER = ("BY", "UA")
# Ring vertices one view may compute (each envelope may take geodesy.MAX_REACH_VERTICES): about 6-8 s in
# all, so that a link of twelve continent-sized envelopes is answered with sentences, not minutes of work.
MAX_VIEW_VERTICES = 5_000_000


@dataclass(frozen=True)
class Scene:
    """Everything one view puts on screen, with the sentences explaining what could not be shown."""

    state: ViewState
    events: Sequence[Event]  # a tuple, or StoredEvents (read from the store only when iterated)
    rings: tuple[Ring, ...]
    problems: tuple[str, ...]
    # The same events as rows of a columnar table, when the caller has one (the app, for large data):
    # above BULK_THRESHOLD the map draws them from it as one clustered layer.
    table: EventTable | None = field(default=None, compare=False)
    rows: np.ndarray | None = field(default=None, compare=False)
    # Dated rings whose days miss the view's dates: listed with their days, not drawn, not measured. Every
    # scene sorts its rings so (the map, the in-range table and every export draw `rings` only).
    dormant: tuple[Ring, ...] = ()
    # What lies within any site's ring (sites=…), and of which sites (rings.LayerRow): see with_site_reach.
    site_reach: tuple = field(default=(), compare=False)
    bearings: tuple[BearingLine, ...] = ()  # lines of bearing (share.BearingSpec), drawn and exported with the rings
    launches: tuple[LaunchArea, ...] = ()  # launch areas (analysis.launch), empty ones included: an answer too

    def __post_init__(self) -> None:
        every = tuple(self.rings) + tuple(self.dormant)
        start, end = self.state.start, self.state.end
        object.__setattr__(self, "rings", tuple(r for r in every if r.holds(start, end)))
        object.__setattr__(self, "dormant", tuple(r for r in every if not r.holds(start, end)))


def names_places(state: ViewState) -> bool:
    """Whether the state has something to look up in the gazetteer: a ring, a line of bearing, a site table, a
    launch area or a distance filter."""
    return bool(state.rings) or bool(state.bearings) or bool(state.near and state.near_km) or bool(state.sites) \
        or bool(state.launches)


def event_filter(state: ViewState, gazetteer: Gazetteer) -> tuple[EventFilter, list[str]]:
    """The state's filters with places resolved through the gazetteer; unresolvable ones reported."""
    problems: list[str] = []
    near = None
    if state.near and state.near_km:
        try:
            near = resolve_origin(state.near, gazetteer)
        except DashboardError as exc:
            problems.append(f"The distance filter is off: {exc}")
    area = shapely.make_valid(Polygon(state.area)) if len(state.area) >= 3 else None
    flt = EventFilter(state.start, state.end, state.countries, near, state.near_km if near else None,
                      state.admins, area, state.types, state.actors, state.text, state.coarse)
    return flt, problems


def resolve_rings(state: ViewState, gazetteer: Gazetteer, catalogue: Catalogue,
                  build: Callable[[RingSpec], Ring] | None = None,
                  cost: Callable[[RingSpec], int] | None = None,
                  sites: Callable[[SiteLayer], list[Ring]] | None = None) -> tuple[list[Ring], list[str]]:
    """The state's rings as polygons; a ring that cannot be built, or past the view's budget, is reported.

    `build` turns one RingSpec into a Ring and `cost` gives its rings.ring_cost; the UI passes cached ones.
    Each ring's cost is known before it is computed, so the budget (MAX_VIEW_VERTICES) refuses work instead
    of cutting it off.
    """
    def direct(spec: RingSpec) -> Ring:
        return resolve_ring(spec.origin, gazetteer, catalogue, km=spec.km, system=spec.system,
                            munition=spec.munition, reach=spec.reach, min_km=spec.min_km)

    def direct_cost(spec: RingSpec) -> int:
        return ring_cost(spec.origin, gazetteer, catalogue, km=spec.km, system=spec.system,
                         munition=spec.munition, reach=spec.reach)

    rings, problems, spent = [], [], 0
    built: dict[RingSpec, Ring] = {}
    for spec in state.rings:
        try:
            if spec not in built:  # the same ring twice in a link is computed once
                vertices = (cost or direct_cost)(spec)
                if spent + vertices > MAX_VIEW_VERTICES:
                    problems.append(f"Ring “{spec.label}” left out: the rings before it already take "
                                    f"{spent / 1e6:.1f} of the {MAX_VIEW_VERTICES / 1e6:.0f} million vertices "
                                    "one view may compute; remove a ring or choose smaller ones.")
                    continue
                built[spec] = (build or direct)(spec)
                if spec.name:  # the user's own name labels it on the map, in the legend and every export
                    built[spec] = replace(built[spec], label=spec.name)
                if spec.dated:  # its days follow its label, unless the user named it
                    valid = validity(spec, catalogue)
                    label = built[spec].label if spec.name else f"{built[spec].label}, {valid.label}"
                    built[spec] = replace(built[spec], valid=valid, label=label)
                spent += vertices
            rings.append(built[spec])
        except DashboardError as exc:
            problems.append(f"Ring “{spec.label}” left out: {_sentence(str(exc))}")
    for layer in state.sites:  # a ring per site of each stored table (ingest.sites), after the link's own
        try:
            layer_rings = (sites or (lambda x: layer_rings_of(x, catalogue)))(layer)
        except DashboardError as exc:
            problems.append(f"The {layer.label} left out: {_sentence(str(exc))}")
            continue
        vertices = sum(geodesy.ring_vertex_count(r.radius_km) for r in layer_rings)
        if spent + vertices > MAX_VIEW_VERTICES:
            problems.append(f"The {layer.label} left out: its {len(layer_rings)} rings would pass the "
                            f"{MAX_VIEW_VERTICES / 1e6:.0f} million vertices one view may compute.")
            continue
        if not layer_rings:
            problems.append(f"The {layer.label} shows nothing: no site of the table is of these systems.")
        spent += vertices
        rings.extend(layer_rings)
    return rings, problems


SITE_REACH_POPULATION = 100_000  # cities listed in range of a site layer in exports, as the app's default
SITE_REACH_EVENTS = 20_000  # events listed per site ring (the nearest), as the app's in-range table


def with_site_reach(scene: Scene, gazetteer: Gazetteer, min_population: int = SITE_REACH_POPULATION,
                    events=None) -> Scene:
    """The scene with what lies in range of its site rings (capitals, cities, its events) and of which sites.

    `events` as rings.layer_in_range takes them; by default the scene's table rows, else its events."""
    from dashboard.rings import layer_in_range

    site_layer = [r for r in scene.rings if r.layer]
    if not site_layer:
        return scene
    if events is None:
        events = (scene.table, scene.rows) if scene.table is not None and scene.rows is not None \
            else list(scene.events)
    rows = layer_in_range(site_layer, gazetteer, events, min_population, max_events=SITE_REACH_EVENTS)
    return replace(scene, site_reach=tuple(rows))


def layer_rings_of(layer: SiteLayer, catalogue: Catalogue, folder=None) -> list[Ring]:
    """The rings of a stored site table (settings.sites_dir, or `folder`), only the sites of its systems when
    the link names some; DashboardError naming the stored tables when there is none of that name."""
    from dashboard import settings
    from dashboard.ingest.sites import load_sites
    from dashboard.rings import site_rings

    table = load_sites(folder or settings.sites_dir(), layer.table)
    return site_rings(table.name, table.sites, catalogue, layer.systems)


def resolve_bearings(state: ViewState, gazetteer: Gazetteer) -> tuple[list[BearingLine], list[str]]:
    """The state's lines of bearing; one whose origin cannot be found or used is reported and left out."""
    lines, problems = [], []
    for spec in state.bearings:
        try:
            lines.append(resolve_bearing(spec.origin, spec.bearing, spec.km, gazetteer, spec.name))
        except DashboardError as exc:
            problems.append(f"Line of bearing “{spec.label}” left out: {_sentence(str(exc))}")
    return lines, problems


def resolve_launches(state: ViewState, gazetteer: Gazetteer, catalogue: Catalogue,
                     build: Callable[[LaunchSpec], LaunchArea] | None = None) -> tuple[list[LaunchArea], list[str]]:
    """The state's launch areas; one that cannot be built is one sentence, as for rings. `build` (the UI
    passes a cached one) turns a LaunchSpec into a LaunchArea; territory "area" is the view's drawn area."""
    def direct(spec: LaunchSpec) -> LaunchArea:
        territory: str | Place = spec.territory
        if spec.territory == DRAWN_TERRITORY:
            if len(state.area) < 3:
                raise DashboardError("its territory is the drawn area, and this view has none; draw one on "
                                     "the map or name a country such as BY")
            territory = Place("drawn:area", "the drawn area", "region", shapely.make_valid(Polygon(state.area)))
        area = resolve_launch(spec.target, territory, gazetteer, catalogue, km=spec.km, min_km=spec.min_km,
                              system=spec.system, munition=spec.munition, label=spec.name)
        return replace(area, listing=reachers(area.target, area.territory, catalogue, area.part_extents))

    areas, problems = [], []
    for spec in state.launches:
        try:
            areas.append((build or direct)(spec))
        except DashboardError as exc:
            problems.append(f"Launch area “{spec.label}” left out: {_sentence(str(exc))}")
    return areas, problems


def validity(spec: RingSpec, catalogue: Catalogue) -> Validity | None:
    """The days a ring holds: a deployment the catalogue declares for exactly this system, origin and span
    (its source, quote and "approximate" come with it), else the link's days as they are."""
    if not spec.dated:
        return None
    declared = catalogue.deployment(spec.system, spec.origin, spec.since, spec.until) if spec.system else None
    return declared.valid if declared is not None else Validity(spec.since, spec.until)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def build_scene(state: ViewState, events: list[Event], gazetteer: Gazetteer, catalogue: Catalogue) -> Scene:
    flt, problems = event_filter(state, gazetteer)
    rings, ring_problems = resolve_rings(state, gazetteer, catalogue)
    bearings, bearing_problems = resolve_bearings(state, gazetteer)
    launches, launch_problems = resolve_launches(state, gazetteer, catalogue)
    return Scene(state, tuple(refine(events, flt)), tuple(rings),
                 tuple(problems + ring_problems + bearing_problems + launch_problems),
                 bearings=tuple(bearings), launches=tuple(launches))


def table_scene(state: ViewState, table: EventTable, load: Callable[[list[str]], list[Event]],
                gazetteer: Gazetteer | None, catalogue: Catalogue,
                rows: Callable[[list[str]], Iterator[tuple]] | None = None) -> Scene:
    """The scene of a store read as columns, as the app reads it: the rows `table.select` picks, and the
    events themselves read with `load(ids)` only if something iterates them. A map of thousands, a summary
    and the credits come from the columns; KML reads the events, in one query, and GeoJSON and CSV the store's
    flat rows (`rows(ids)`, GeoPackageStore.record_rows) when given. `gazetteer` may be None when the state
    has no ring and no distance filter: nothing is looked up then."""
    if gazetteer is None and names_places(state):
        raise ValueError("a view with rings or a distance filter needs the gazetteer")
    flt, problems = event_filter(state, gazetteer)  # type: ignore[arg-type]  (None: nothing to look up)
    rings, ring_problems = resolve_rings(state, gazetteer, catalogue)  # type: ignore[arg-type]
    bearings, bearing_problems = resolve_bearings(state, gazetteer)  # type: ignore[arg-type]
    launches, launch_problems = resolve_launches(state, gazetteer, catalogue)  # type: ignore[arg-type]
    picked = select(table, flt)
    return Scene(state, StoredEvents(table.selected_ids(picked), load, rows), tuple(rings),
                 tuple(problems + ring_problems + bearing_problems + launch_problems), table, picked,
                 bearings=tuple(bearings), launches=tuple(launches))


def load_basemap(gazetteer: Gazetteer) -> Basemap:
    """The bundled offline basemap (tiles in static/basemap, see mapview.basemap), the story's border and
    the labels of the places added to the gazetteer (`python -m dashboard gazetteer add`)."""
    from dashboard.gazetteer import added_places
    from dashboard.mapview import Basemap
    from dashboard.mapview.basemap import added_labels_js

    border = gazetteer.border(*STORY_BORDER)
    added = added_places(gazetteer.path)
    return Basemap(border.geometry, border.name, added=added_labels_js(added) if added else "")


def scene_play(scene: Scene):
    """The play control's settings for a scene's map (mapview.Play): its paused frame and date filter."""
    from dashboard.mapview import Play

    frame = scene.state.play
    return Play(None if frame is None else (frame.day, frame.window, frame.step), scene.state.start, scene.state.end)


def scene_map(scene: Scene, basemap: Basemap, *, interactive: bool = True, with_events: bool = True,
              playback: bool = True, edit_href: str = ""):
    """The folium map of a scene; `interactive=False` leaves out drawing tools and URL syncing (exports).
    `edit_href`: where event popups link an event's editor (the app's Map page; see mapview.MapView).

    `with_events=False` builds the map without its events (see mapview.bulk_layer). `playback=False`
    leaves out the play control (a thumbnail; a picture of no frame).
    """
    from dashboard.mapview import MapView, build_map
    from dashboard.mapview.bulk import BULK_THRESHOLD

    state = scene.state
    centre = (state.center[1], state.center[0]) if state.center else None
    borders = tuple((r.origin.name, r.origin.geometry) for r in scene.rings if r.origin.kind == "border")
    view = MapView(centre=centre, zoom=state.zoom, base=state.base, layers=state.layers, extra_borders=borders,
                   area=state.area, edit_href=edit_href)
    bulk = None
    if len(scene.events) > BULK_THRESHOLD:
        if scene.table is not None and scene.rows is not None:
            bulk = (scene.table, scene.rows)
        else:  # the CLI and snapshots hold events only
            bulk = (EventTable.from_events(scene.events), np.arange(len(scene.events)))
    # Passed as they are: build_map leaves them unread when it draws a bulk layer or no events at all.
    return build_map(scene.events, list(scene.rings), basemap, view, draw=interactive, sync_url=interactive,
                     bulk=bulk if with_events else None, with_events=with_events,
                     play=scene_play(scene) if playback else None, bearings=scene.bearings,
                     launches=scene.launches)
