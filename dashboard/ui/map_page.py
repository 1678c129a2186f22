"""The Map page: summary, rings panel, the map, what lies in range, and the timeline."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.mapview import DEFAULT_CENTRE, DEFAULT_ZOOM, bulk_layer, grid, type_colour
from dashboard.mapview.assets import use_bundle
from dashboard.mapview.bulk import BULK_THRESHOLD, clicked_event_id
from dashboard.scene import Scene, scene_map, scene_play, validity
from dashboard.table import EventTable, day_of
from dashboard.table import timeline as table_timeline
from dashboard.table import timeline_bucket, timeline_window as table_window
from dashboard.rings import InRangeRow, Ring, fit_view, in_range_rows, munition_of, resolve_bearing
from dashboard.share import (DRAWN_TERRITORY, EARLIEST, LATEST, MAX_BEARING_KM, MAX_KM, BearingSpec, LaunchSpec,
                             RingSpec, ViewState, to_query)
from dashboard.share import SiteLayer
from dashboard.ui import sidebar, snapshots_page
from dashboard.ui.map_component import map_in_page
from dashboard.ui.timeline import timeline_chart
from dashboard.ui import state as S

MAX_IN_RANGE = 20_000  # events listed per ring in the in-range table (the nearest); the count says how many

QUICK_RINGS = (
    ("Iskander-M from Minsk", RingSpec("Minsk", system="iskander-m")),
    ("Iskander-M reach from Belarus", RingSpec("BY", system="iskander-m", reach=True)),
    ("Iskander-M reach from the Belarus–Ukraine border", RingSpec("BY-UA", system="iskander-m", reach=True)),
)


def render() -> None:
    snapshot_id = st.query_params.get(snapshots_page.SNAPSHOT_PARAM)
    if snapshot_id is not None:
        snapshots_page.render_snapshot(snapshot_id)
        return
    with st.sidebar:  # above the filters: the rings are one click away and never push the map down
        _rings_panel(S.current().state)
    scene = sidebar.open_page(None, with_rings=True)
    if any(r.layer for r in scene.rings):  # what lies in range of the site rings: the table below and exports
        scene = _with_site_reach(scene)
    st.html(_MAP_FIRST_CSS)
    _map(scene)
    if S.index_progress() is not None:
        _index_progress()
    # The link, then two menus: their widgets are drawn only when opened, so a browser's first visit does
    # not load their code before the map can appear (benchmarks/map_page.py).
    link, download, share = st.columns([7, 2, 2])
    with link:
        _copy_link()
    with download:
        with st.popover("Download", icon=":material/download:", width="stretch"):
            _downloads(scene)
    with share:
        snapshots_page.share_control(scene)
    _in_range([r for r in scene.rings if not r.layer], (scene.table, scene.rows))
    _in_range_of_sites(scene)
    _could_reach(scene)
    _timeline(scene)


@st.fragment(run_every=1.0)
def _index_progress() -> None:
    """The first start's place-name index, as it builds; gone (one full rerun) once it is complete."""
    progress = S.index_progress()
    if progress is None:
        st.rerun()  # a full run no longer calls this fragment, which stops its polling
    if progress.step == "failed":
        st.error(S.md(progress.words))
        return
    st.caption(S.md(f"{progress.words}. Place search, reading articles and import by place name wait for "
                    "it; the map works now."))


# -- rings ----------------------------------------------------------------------------------------

# The map is the product: at 1280×720 it must fill most of the first screen. Streamlit's main column keeps
# 6rem above and 5rem beside its content (room for its toolbar); the Map page keeps only what it needs.
_MAP_FIRST_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.2rem; padding-left: 1.5rem; padding-right: 1.5rem;
                                       padding-bottom: 2rem; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.15rem; padding: 0.1rem 0 0.2rem; }
</style>"""


def deployment_rings(catalogue) -> list[tuple[str, RingSpec]]:
    """A button's words and ring for each deployment the stories declare: the system's reach (or ring) from
    its origin, holding over the declared days ("Iskander-M systems in Belarus, from 25 Jun 2022 (approximate)")."""
    out = []
    for d in catalogue.deployments:
        spec = RingSpec(d.origin, system=d.system, reach=d.reach, since=d.valid.start, until=d.valid.end)
        out.append((f"{d.title or spec.label}, {d.valid.label}", spec))
    return out


def _rings_panel(view: ViewState) -> None:
    st.header("Range rings")
    catalogue = S.catalogue()  # once: it looks at the imported deployments' folder
    for label, spec in QUICK_RINGS + tuple(deployment_rings(catalogue)):
        if st.button(label, disabled=spec in view.rings, width="stretch"):
            _add_ring_in_view(spec)
            st.rerun()
    with st.popover("Custom ring", icon=":material/add_circle:", width="stretch"):
        _ring_form()
    _site_tables(view)
    for i, spec in enumerate(view.rings):
        left, right = st.columns([3, 2], vertical_alignment="center")
        valid = validity(spec, catalogue)
        if valid is not None and not valid.overlaps(view.start, view.end):
            # Listed, greyed, with its days: a dated ring the view's dates miss is not drawn.
            undated = replace(spec, since=None, until=None).label
            left.caption(S.md(f"{i + 1}. {undated}: not drawn, it holds {valid.label}, outside the dates shown."))
        else:
            left.markdown(f"**{i + 1}.** {S.md(spec.label)}")
        if right.button("Remove", key=f"remove_ring_{i}", type="tertiary", icon=":material/close:"):
            S.remove_ring(i)
            st.rerun()
    _bearings_panel(view)
    _launch_panel(view)


def _bearings_panel(view: ViewState) -> None:
    """Lines of bearing: a form to add one (from a place, a point or the point clicked on the map) and the list."""
    with st.popover("Line of bearing", icon=":material/north_east:", width="stretch"):
        with st.form("new_bearing", border=False):
            origin_text = st.text_input("From (place or lat,lon)", value="Desna",
                                        help="A place name from the gazetteer or a point such as 51.3,30.8")
            clicked_origin = st.checkbox("From the point clicked on the map instead")
            left, right = st.columns(2)
            degrees = left.number_input("Bearing °", min_value=0.0, max_value=359.99, value=315.0, step=5.0,
                                        help="Initial bearing, degrees clockwise from true north (315 = north-west)")
            km = right.number_input("Length km", min_value=0.01, max_value=MAX_BEARING_KM, value=200.0, step=10.0)
            name = st.text_input("Name (optional)", max_chars=80, placeholder="e.g. reported launch direction")
            if st.form_submit_button("Add line"):
                origin = origin_text.strip()
                if clicked_origin:
                    clicked = st.session_state.get(S.CLICKED)
                    if not clicked:
                        st.warning("Click a point on the map first (with the measure tool off), then add the line.")
                        return
                    origin = f"{clicked[1]:.4f},{clicked[0]:.4f}"
                try:  # the origin must be found and be a point; BearingSpec refuses what a link cannot spell
                    spec = BearingSpec(origin, degrees, km, name)
                    line = resolve_bearing(spec.origin, spec.bearing, spec.km, S.gazetteer(), spec.name)
                except DashboardError as exc:
                    st.warning(f"That line cannot be drawn: {exc}")
                    return
                S.add_bearing(spec)
                lons, lats = zip(*line.path)
                (lat, lon), zoom = fit_view((min(lons), min(lats), max(lons), max(lats)), *MAP_SIZE_PX)
                S.update(center=(lat, (lon + 180.0) % 360.0 - 180.0), zoom=zoom)  # the path's lons are unrolled
                st.rerun()
    _removable(view.bearings, "↗ ", "remove_bearing", S.remove_bearing)


def _removable(specs, mark: str, key: str, remove) -> None:
    """Each spec's label, numbered after `mark`, with a Remove button calling remove(i) (key: key_i)."""
    for i, spec in enumerate(specs):
        left, right = st.columns([3, 2], vertical_alignment="center")
        left.markdown(f"**{mark}{i + 1}.** {S.md(spec.label)}")
        if right.button("Remove", key=f"{key}_{i}", type="tertiary", icon=":material/close:"):
            remove(i)
            st.rerun()


SITES_TOGGLE = "sites_on_"       # + a table's name: its toggle in the rings panel
SITES_SYSTEMS = "sites_systems_"  # + a table's name: its system filter


def _site_tables(view: ViewState) -> None:
    """Each stored site table as a toggle (its layer of rings, sites=NAME), with a filter by system when on."""
    tables = S.site_tables()
    if not tables:
        return
    st.markdown("**Rings from site tables**")
    on = {layer.table: layer for layer in view.sites}
    for name in tables:
        key = SITES_TOGGLE + name
        if st.session_state.get(key) != (name in on):
            st.session_state[key] = name in on
        st.toggle(name, key=key, on_change=_set_sites, args=(name,),
                  help=f"a ring for every site of the table {name} (the link's sites={name})")
        if name not in on:
            continue
        try:
            systems = S.site_table_systems(name, S.site_table_version(name))
        except DashboardError as exc:
            st.caption(S.md(str(exc)))
            continue
        key = SITES_SYSTEMS + name
        wanted = [s for s in on[name].systems if s in systems]
        if st.session_state.get(key) != wanted:
            st.session_state[key] = wanted
        st.multiselect(f"Systems of {name}", systems, key=key, on_change=_set_sites, args=(name,),
                       placeholder="All systems", label_visibility="collapsed")


def _set_sites(name: str) -> None:
    """Write a table's toggle and system filter into the link (sites=NAME or NAME:SYSTEM,…)."""
    state = S.current().state
    kept = [layer for layer in state.sites if layer.table != name]
    if st.session_state.get(SITES_TOGGLE + name):
        chosen = tuple(st.session_state.get(SITES_SYSTEMS + name) or ())
        previous = next((layer for layer in state.sites if layer.table == name), None)
        at = state.sites.index(previous) if previous is not None else len(kept)
        kept.insert(at, SiteLayer(name, chosen if previous is not None else ()))
    S.commit(state.with_(sites=tuple(kept)))


def _ring_form() -> None:
    systems = {s.id: s for s in S.catalogue().systems if s.munitions}
    with st.form("new_ring", border=False):
        origin_kind = st.radio("Origin", ("Place", "Country territory", "Border", "Point clicked on the map"))
        origin_text = st.text_input("Place, country code, border (e.g. BY-UA)", value="Minsk",
                                    help="A place name from the gazetteer, an ISO country code like BY, "
                                         "or two codes like BY-UA for their shared border")
        choice = st.selectbox("System and munition", ["(type a radius)"] + munition_choices(systems.values()),
                              format_func=lambda v: v if v.startswith("(") else _munition_label(systems, v))
        name = st.text_input("Name (optional)", max_chars=80, placeholder="e.g. S-300 from Belgorod, 150 km",
                             help="Your name for the ring: it labels the ring on the map, in the legend, the link "
                                  "and every export")
        km = st.number_input("Radius km", min_value=0.0, max_value=MAX_KM, value=0.0, step=10.0,
                             help="Used when no system is chosen; a system's ring uses its declared range")
        low = st.number_input("Minimum km", min_value=0.0, max_value=MAX_KM, value=0.0, step=10.0, key="ring_min_km",
                              help="Optional, with a typed radius: nothing closer is in range (the ring is a donut)")
        first, last = st.columns(2)
        since = first.date_input("Holds from", value=None, min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD",
                                 help="Optional: the first day the system is (reported) at the origin. Outside its "
                                      "days the ring is listed but not drawn")
        until = last.date_input("until", value=None, min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD",
                                help="Optional: the last day; empty for open-ended")
        if st.form_submit_button("Add ring"):
            origin = origin_text.strip()
            if origin_kind == "Point clicked on the map":
                clicked = st.session_state.get(S.CLICKED)
                if not clicked:
                    st.warning("Click a point on the map first, then add the ring.")
                    return
                origin = f"{clicked[1]:.4f},{clicked[0]:.4f}"
            system, _, munition = choice.partition(":") if not choice.startswith("(") else ("", "", "")
            if not system and km <= 0:
                st.warning("Choose a system or type a radius greater than 0 km.")
                return
            if since is not None and until is not None and until < since:
                st.warning(f"The last day ({until.isoformat()}) is before the first ({since.isoformat()}); "
                           "swap them or leave one empty.")
                return
            try:  # an origin with '|' or '~' has no spelling in a link: RingSpec says so
                spec = RingSpec(origin, km=None if system else km, system=system, munition=munition,
                                reach=origin_kind in ("Country territory", "Border"), name=name, since=since,
                                until=until, min_km=low if low and not system else None)
                _add_ring_in_view(spec)
            except DashboardError as exc:
                st.warning(f"That ring cannot be drawn: {exc}")
                return
            st.rerun()


MAP_KEY = "map"  # the map component's key: its state (the view it asks for) is read before it is drawn
EDIT_HREF = "events?edit="  # an event popup's Edit link, relative: the Events page of this app (events_page)
MAP_SIZE_PX = (1200, 620)  # the map's height as map_in_page draws it below; its width on a usual screen


def _add_ring_in_view(spec: RingSpec) -> None:
    """Add the ring and move the map so that the whole ring or envelope is in view."""
    ring = S.ring_for(spec.origin, spec.km, spec.system, spec.munition, spec.reach, spec.min_km)  # raises what it cannot draw
    centre, zoom = fit_view(ring.geometry.bounds, *MAP_SIZE_PX)
    S.add_ring(spec)
    S.update(center=centre, zoom=zoom)


# -- launch areas ---------------------------------------------------------------------------------

TARGET_KINDS = ("Place or lat,lon", "Point clicked on the map", "A selected event")
MAX_TARGET_EVENTS = 300  # events offered as targets: the first of the selection with a point of their own


def _launch_panel(view: ViewState) -> None:
    """From where could it have been launched: a small form, then the launch areas, each removable."""
    with st.popover("Launch area", icon=":material/my_location:", width="stretch",
                    help="The part of a territory from which a system could reach a target"):
        _launch_form(view)
    _removable(view.launches, "L", "remove_launch", S.remove_launch)


def _launch_form(view: ViewState) -> None:
    systems = {s.id: s for s in S.catalogue().systems if s.munitions}
    with st.form("new_launch", border=False):
        kind = st.radio("Target", TARGET_KINDS, key="launch_target_kind")
        target_text = st.text_input("Target place or lat,lon", value="Desna", key="launch_target")
        targets = _target_events(view)
        event = st.selectbox("Event", list(targets), key="launch_event",
                             help="With “A selected event”: its own location is the target")
        territory = st.text_input("From (country code, or 'area' for the drawn area)", value="BY",
                                  key="launch_territory")
        choice = st.selectbox("System and munition", ["(type a range)"] + munition_choices(systems.values()),
                              format_func=lambda v: v if v.startswith("(") else _munition_label(systems, v),
                              key="launch_system")
        km = st.number_input("Range km", min_value=0.0, max_value=MAX_KM, value=0.0, step=10.0, key="launch_km",
                             help="Used when no system is chosen")
        low = st.number_input("Minimum km", min_value=0.0, max_value=MAX_KM, value=0.0, step=10.0,
                              key="launch_min_km", help="Optional, with a typed range")
        if not st.form_submit_button("Find launch area"):
            return
    target = target_text.strip()
    if kind == TARGET_KINDS[1]:
        clicked = st.session_state.get(S.CLICKED)
        if not clicked:
            st.warning("Click a point on the map first, then find the launch area.")
            return
        target = f"{clicked[1]:.4f},{clicked[0]:.4f}"
    elif kind == TARGET_KINDS[2]:
        if not event:
            st.warning("No selected event has a point of its own; pick a place or a point instead.")
            return
        target = targets[event]
    system, _, munition = choice.partition(":") if not choice.startswith("(") else ("", "", "")
    if not system and km <= 0:
        st.warning("Choose a system or type a range greater than 0 km.")
        return
    try:  # a target with '/' or '|' has no spelling in a link: LaunchSpec says so
        spec = LaunchSpec(target, territory.strip() or "BY", km=None if system else km, system=system,
                          munition=munition, min_km=low if low and not system else None)
        area = S.launch_for(spec, view.area if spec.territory == DRAWN_TERRITORY else ())
    except DashboardError as exc:
        st.warning(f"That launch area cannot be found: {S.md(str(exc))}")
        return
    S.add_launch(spec)
    if not area.empty:
        centre, zoom = fit_view(area.geometry.bounds, *MAP_SIZE_PX)
        S.update(center=centre, zoom=zoom)
    st.rerun()


def _target_events(view: ViewState) -> dict[str, str]:
    """'title · date' → "lat,lon" of the first selected events located by a point (not by a country)."""
    table, rows, _ = S.selected_rows(view)
    if len(table.place_coarse):  # looked at a growing head of the selection, not all of it (3M rows: 0.1 s)
        head = MAX_TARGET_EVENTS
        while True:
            fine = rows[:head][~table.place_coarse[table.place_code[rows[:head]]]]
            if len(fine) >= MAX_TARGET_EVENTS or head >= len(rows):
                break
            head *= 8
        rows = fine
    rows = rows[:MAX_TARGET_EVENTS]
    return {f"{title} · {day_of(int(t))}": f"{lat:.5f},{lon:.5f}" for title, t, lat, lon in zip(
        table.title_at(rows).tolist(), table.t_start[rows].tolist(), table.lat[rows].tolist(), table.lon[rows].tolist())}


def _could_reach(scene: Scene) -> None:
    """The in-range table's counterpart: for each launch area, what could reach its target from its territory."""
    if not scene.launches:
        return
    st.subheader("Launch areas")
    for area in scene.launches:
        st.markdown(S.md(area.sentence() + "."))
        if area.listing is None:
            continue
        st.caption(S.md(area.listing.sentence(12) + "."))
        rows = [{"system": r.system, "munition": r.munition, "range_km": r.range_km, "min_km": r.min_km or None,
                 "verdict": r.verdict} for r in area.listing.rows]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=220,
                     column_config={"range_km": st.column_config.NumberColumn("range km", format="%.0f"),
                                    "min_km": st.column_config.NumberColumn("minimum km", format="%.0f")})


def munition_choices(systems) -> list[str]:
    """Every catalogue entry as SYSTEM:KIND, or SYSTEM:KIND~N where a system has several of one kind."""
    out = []
    for s in systems:
        kinds = [m.kind for m in s.munitions]
        for i, m in enumerate(s.munitions):
            same = kinds.count(m.kind)
            out.append(f"{s.id}:{m.kind}" + (f"~{kinds[:i + 1].count(m.kind)}" if same > 1 else ""))
    return out


def _munition_label(systems: dict, value: str) -> str:
    system_id, _, munition = value.partition(":")
    m = munition_of(systems[system_id], munition)
    return f"{systems[system_id].name} — {m.name}, {m.range_km:,.0f} km"


# -- the map --------------------------------------------------------------------------------------

@st.fragment
def _map(scene: Scene) -> None:
    """The map; a fragment, so that the clustered layer's request for a new view reruns only this."""
    view = scene.state
    layer = None
    if scene.table is not None and len(scene.events) > BULK_THRESHOLD and "events" in view.layers:
        # Thousands of events: the map itself stays the same across filter changes and only the
        # clustered events layer is swapped in, and the map in the page is not rebuilt.
        m = scene_map(scene, S.basemap(), with_events=False)
        served = _served_view(view) if len(scene.rows) > settings.map_served_above() else None
        layer = bulk_layer(scene.table, scene.rows, served, play=scene_play(scene))
    else:
        m = scene_map(scene, S.basemap(), edit_href=EDIT_HREF)
    out = map_in_page(use_bundle(m), key=MAP_KEY, height=620, center=view.center, zoom=view.zoom, layer=layer)
    _use_drawing(out.get("last_active_drawing"))
    _clicked_event(scene, clicked_event_id(out.get("last_object_clicked_tooltip")))
    clicked = out.get("last_clicked")
    if clicked:
        st.session_state[S.CLICKED] = (clicked["lng"], clicked["lat"])
        st.caption(f"Clicked point {clicked['lat']:.4f}, {clicked['lng']:.4f} — usable as a ring origin.")


def _served_view(view: ViewState) -> grid.View:
    """The view to cluster on the server for: the one the map last asked for, unless Python has set a new
    centre or zoom since (a ring was added, a permalink opened), which the map is about to move to."""
    asked = (st.session_state.get(MAP_KEY) or {}).get("map_view")  # the component's state, by its key
    mine = (view.center, view.zoom)
    seen = st.session_state.get(S.SERVED_FROM)
    if seen is None or seen[0] != mine:
        st.session_state[S.SERVED_FROM] = (mine, asked)
    elif asked is not None and asked != seen[1]:
        try:
            zoom = min(max(int(asked["zoom"]), 0), 20)
            west, south, east, north = (float(asked[k]) for k in ("west", "south", "east", "north"))
        except (KeyError, TypeError, ValueError):
            pass  # not a view: cluster for Python's own
        else:
            if -540 <= west < east <= 540 and -90 <= south < north <= 90:
                return grid.View(zoom, west, south, east, north)
    lon, lat = DEFAULT_CENTRE if view.center is None else view.center[::-1]
    return grid.view_around(lat, lon, view.zoom or DEFAULT_ZOOM, *MAP_SIZE_PX)


def _clicked_event(scene: Scene, event_id: str | None) -> None:
    """A point of the clustered layer was clicked: show that event in full (popups there load on demand)."""
    if not event_id:
        return
    # The map keeps returning the last click: show it only while that event is still selected.
    where = scene.table.rows_of(event_id)
    at = np.searchsorted(scene.rows, where[0]) if len(where) else len(scene.rows)
    if at >= len(scene.rows) or scene.rows[at] != where[0]:
        return
    event = S.event_by_id(event_id)  # read on demand: the clustered layer ships no popups
    if event is None:
        return
    with st.container(border=True):
        st.markdown(f"**{S.md(event.title)}** · {S.md(event.time.label)} · {S.md(event.place.name)} · "
                    f"{S.md(event.event_type)}")
        if event.source.quote:
            st.caption(S.md(f"“{event.source.quote}”"))
        source = f"Source: {event.source.publisher}" + (f" — {event.source.url}" if event.source.url else "")
        st.caption(S.md(source))
        from dashboard.ui.pages import pages  # here: pages imports this module's page lazily, not at import

        st.page_link(pages()["events"], label="Edit this event", query_params={"edit": event.id},
                     icon=":material/edit:")


def _use_drawing(drawing: dict | None) -> None:
    """A new shape drawn on the map becomes the area filter (once: the map keeps returning it)."""
    if not drawing:
        return
    marker = json.dumps(drawing, sort_keys=True)
    if st.session_state.get(S.DRAWING_SEEN) == marker:
        return
    st.session_state[S.DRAWING_SEEN] = marker
    geometry = drawing.get("geometry") or {}
    if geometry.get("type") != "Polygon":
        return
    ring = [(round(float(x), 5), round(float(y), 5)) for x, y in geometry["coordinates"][0]][:-1]
    if len(ring) >= 3:
        S.update(area=tuple(ring))
        st.rerun()


def _copy_link() -> None:
    # Reads the live address bar (which the map keeps up to date as it pans), not Python's copy of it.
    st.iframe("""
      <div style="font:13px system-ui,sans-serif;display:flex;gap:6px;align-items:center">
        <input id="l" readonly style="flex:1;padding:4px 6px;border:1px solid #ccc;border-radius:4px">
        <button id="b" style="padding:4px 10px">Copy link</button></div>
      <script>
        const input = document.getElementById("l"), button = document.getElementById("b");
        function live() { try { return window.parent.location.href; } catch (e) { return ""; } }
        input.value = live();
        // The map rewrites the address bar as the user pans, zooms or picks layers: follow it.
        setInterval(() => { if (document.activeElement !== input && input.value !== live()) input.value = live(); }, 400);
        button.onclick = async () => {
          input.value = live(); input.select();
          try { await navigator.clipboard.writeText(input.value); }
          catch (e) { document.execCommand("copy"); }
          button.textContent = "Copied"; setTimeout(() => button.textContent = "Copy link", 1500);
        };
      </script>""", height=42)


# -- exports --------------------------------------------------------------------------------------

PREPARED = "_prepared_export"  # (format, query, bytes) of the last PNG/HTML made for download


def _downloads(scene: Scene) -> None:
    """Hand the map to someone: data formats at once; PNG, HTML and the animations prepared with a progress bar."""
    from dashboard import export

    st.caption("What the map shows now, with every event's source and quote. The animations play the "
               "selection frame by frame with the play control's window and step (7 days and 1 day unless a "
               "frame is paused).")
    cols = st.columns(3) + st.columns(2) + st.columns(3)
    for col, fmt in zip(cols, ("geojson", "kml", "csv")):
        mime, _ = export.FORMATS[fmt]
        col.download_button(f"{fmt.upper()}", lambda fmt=fmt: export.export(scene, None, fmt),
                            file_name=export.filename(scene, fmt), mime=mime, key=f"download_{fmt}",
                            icon=":material/download:", on_click="ignore", width="stretch")
    query = to_query(scene.state)
    for col, fmt in zip(cols[3:], ("png", "html", "mp4", "webm", "gif")):
        prepared = st.session_state.get(PREPARED)
        if prepared and prepared[:2] == (fmt, query):
            col.download_button(f"Save {fmt.upper()}", prepared[2], file_name=export.filename(scene, fmt),
                                mime=export.FORMATS[fmt][0], key=f"download_{fmt}", type="primary",
                                icon=":material/download:", width="stretch")
        elif col.button(f"Prepare {fmt.upper()}", key=f"prepare_{fmt}", width="stretch"):
            bar = st.progress(0.0, text=f"Preparing the {fmt.upper()}…")
            try:
                data = export.export(scene, S.basemap(), fmt, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
            except DashboardError as exc:
                bar.empty()
                st.error(S.md(str(exc)))
                return
            st.session_state[PREPARED] = (fmt, query, data)
            st.rerun()


# -- in range -------------------------------------------------------------------------------------

def _in_range(rings: list[Ring], events: tuple[EventTable, np.ndarray]) -> None:
    if not rings:
        return
    st.subheader("In range")
    min_pop = st.number_input("Cities of at least (people)", min_value=0, value=100_000, step=50_000,
                              key="min_population")
    table_, selected = events
    rows: list[InRangeRow] = []
    for ring in rings:
        # Every stored event's distance is kept per ring and store: a filter change only picks rows.
        reach = S.event_reach(ring, table_)
        rows += in_range_rows(ring, S.gazetteer(), (table_, selected, reach), int(min_pop),
                              max_events=MAX_IN_RANGE)
        inside = int(np.count_nonzero(reach.inside[selected]))
        if inside > MAX_IN_RANGE:
            st.caption(S.md(f"{ring.label}: {inside:,} of the selected events are in range; the table lists "
                            f"the {MAX_IN_RANGE:,} nearest. Narrow the filters to list the others."))
    columns = ["ring", "name", "kind", "country", "distance_km", "bearing_deg", "lat", "lon"]
    if any(ring.valid is not None for ring in rings):  # dated rings: from when (until when) each is in range
        columns[4:4] = ["since", "until"]
    table = pd.DataFrame([r.__dict__ for r in rows], columns=columns)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"distance_km": st.column_config.NumberColumn("distance km", format="%.1f"),
                                "bearing_deg": st.column_config.NumberColumn("bearing °", format="%.1f"),
                                "since": st.column_config.TextColumn("in range from"),
                                "until": st.column_config.TextColumn("until")})
    for ring in rings:
        if ring.source:
            st.caption(S.md(f"{ring.label}: range as declared in “{ring.source.title}” ({ring.source.publisher})."))
        if ring.valid is not None and ring.valid.source is not None:
            quote = ring.valid.source.quote
            quote = quote if quote.startswith(("“", '"')) else f"“{quote}”"
            st.caption(S.md(f"{ring.label}: holds {ring.valid.label} as dated by “{ring.valid.source.title}” "
                            f"({ring.valid.source.publisher}): {quote}"))
    st.download_button("Download in-range table (CSV)", lambda: _csv(table), file_name="reachmap-in-range.csv",
                       mime="text/csv", on_click="ignore")


def _with_site_reach(scene: Scene) -> Scene:
    from dashboard.scene import with_site_reach

    table_, selected = scene.table, scene.rows
    events = (lambda ring: (table_, selected, S.event_reach(ring, table_))) if table_ is not None else None
    if table_ is not None and len(scene.rings) > S.REACHES_PER_TABLE:
        # More rings than the per-store cache keeps: each rerun would evict and measure the whole store again,
        # so measure the selected rows only (about 0.3 s per 100,000 events and site here).
        events = (table_, selected)
    return with_site_reach(scene, S.gazetteer(), int(st.session_state.get("min_population", 100_000)), events)


def _in_range_of_sites(scene: Scene) -> None:
    """Which places and events lie within any site's ring, and of which sites (scene.site_reach)."""
    rings = [r for r in scene.rings if r.layer]
    if not rings:
        return
    st.subheader("In range of the sites")
    if not any(not r.layer for r in scene.rings):  # else the In range table above has the field
        st.number_input("Cities of at least (people)", min_value=0, value=100_000, step=50_000, key="min_population")
    table = pd.DataFrame([{"name": r.name, "kind": r.kind, "country": r.country, "sites": "; ".join(r.sites),
                           "nearest_site": r.nearest_site, "nearest_km": r.nearest_km, "lat": r.lat, "lon": r.lon}
                          for r in scene.site_reach],
                         columns=["name", "kind", "country", "sites", "nearest_site", "nearest_km", "lat", "lon"])
    st.caption(S.md(f"{len(table):,} places and events within the rings of {len(rings)} sites "
                    f"({', '.join(layer.label for layer in scene.state.sites)})."))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"nearest_km": st.column_config.NumberColumn("nearest km", format="%.1f"),
                                "nearest_site": st.column_config.TextColumn("nearest site"),
                                "sites": st.column_config.TextColumn("in range of")})
    if any(r.min_km for r in rings):
        st.caption("A place closer to a site than its minimum range is not counted in that site's range (the "
                   "hole in its ring on the map).")
    with st.expander("Who places each site there"):
        for ring in rings:
            src = ring.site.source
            quote = src.quote if src.quote.startswith(("“", '"')) else f"“{src.quote}”"
            st.caption(S.md(f"{ring.label}: “{src.title}” ({src.publisher}): {quote} Located: {ring.site.located}."))
    st.download_button("Download the sites' in-range table (CSV)", lambda: _csv(table),
                       file_name="reachmap-in-range-of-sites.csv", mime="text/csv", on_click="ignore",
                       key="download_site_reach")


def _csv(table: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    # Cells that a spreadsheet would run as a formula are prefixed, so a place name cannot execute.
    safe = table.map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


# -- timeline -------------------------------------------------------------------------------------

TIMELINE_SPANS = 300  # events longer than one bar drawn as spans above the bars: the longest this many


def _timeline(scene: Scene) -> None:
    st.subheader("Timeline")
    if not scene.events:
        st.caption("No events match the filters.")
        return
    view, table, rows = scene.state, scene.table, scene.rows
    lo, hi = table_window(table, rows, view.start, view.end)
    auto = timeline_bucket(lo, hi)
    picked_bin = st.segmented_control("Per", ("auto", "day", "week", "month"), default="auto",
                                      key="timeline_bucket", format_func=lambda b: f"auto ({auto})" if b == "auto" else b)
    bucket = auto if picked_bin in (None, "auto") else picked_bin
    bars = table_timeline(table, rows, bucket, first=lo)
    types = sorted({t for _, t, _ in bars})
    spans = _long_spans(table, rows, bucket, lo, hi)
    span = timeline_chart(bars, spans, types, [type_colour(t) for t in types], (lo, hi), bucket)
    if span:
        S.update(start=span[0], end=span[1])
        st.rerun()
    st.caption("Drag across the bars to set the date filter.")


def _long_spans(table: EventTable, rows: np.ndarray, bucket: str, lo: date,
                hi: date) -> list[tuple[date, date, str, str, date, date]]:
    """Events that last longer than one bar, clipped to the window: the longest TIMELINE_SPANS of them, as
    (from, to (exclusive), type, title, start, end)."""
    length = {"day": 1, "week": 7, "month": 31}[bucket]
    dur = table.t_end[rows] - table.t_start[rows] + 1
    long_rows = rows[dur > length]
    if not len(long_rows):
        return []
    long_rows = long_rows[np.argsort(-(table.t_end[long_rows] - table.t_start[long_rows]), kind="stable")][:TIMELINE_SPANS]
    out = []
    for r, title in zip(long_rows.tolist(), table.title_at(long_rows).tolist()):
        start, end = day_of(int(table.t_start[r])), day_of(int(table.t_end[r]))
        out.append((max(start, lo), min(end, hi) + timedelta(days=1), table.types[table.type_code[r]],
                    str(title), start, end))
    return out
