"""The filter sidebar: every widget shows a ViewState field and writes it back to the URL when changed."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.errors import DashboardError
from dashboard.gazetteer import normalize
from dashboard.geoparse.regions import place_label
from dashboard.rings import resolve_origin
from dashboard.scene import Scene
from dashboard.share import EARLIEST, LATEST, MAX_KM, MIN_KM, ViewState, describe
from dashboard.ui import state as S

def open_page(title: str | None, with_rings: bool = False) -> Scene:
    """The common top of a filtered page: the state from the URL, the sidebar, the title (None: none, the
    summary heads the page), warnings, summary."""
    decoded = S.current()
    view = decoded.state
    S.commit(view)
    render(view)
    if title:
        st.title(title)
    S.show_problems(decoded)
    events, table, rows, problems = S.selected(view)
    rings, ring_problems = S.rings_of(view) if with_rings else ([], [])
    bearings, bearing_problems = S.bearings_of(view) if with_rings else ([], [])
    launches, launch_problems = S.launches_of(view) if with_rings else ([], [])
    for problem in problems + ring_problems + bearing_problems + launch_problems:
        st.warning(S.md(problem))
    st.subheader(S.md(describe(view, len(events), S.date_bounds())))
    return Scene(view, events, tuple(rings), (), table, rows, bearings=tuple(bearings), launches=tuple(launches))


PRESETS = ("All dates", "Story day", "Last 7 days of data", "Last 30 days of data")


def _bind(key: str, value: object) -> None:
    """Show `value` in the widget `key` (set before the widget is drawn, as Streamlit requires)."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value


def render(view: ViewState) -> None:
    found = S.facets()
    first, last = S.date_bounds()
    with st.sidebar:
        st.header("Filters")
        _dates(view, first, last)
        _places(view, found)
        _what(view, found)
        if st.button("Clear all filters", width="stretch"):
            S.commit(ViewState(rings=view.rings, center=view.center, zoom=view.zoom, base=view.base,
                               layers=view.layers, bearings=view.bearings, launches=view.launches))
            st.rerun()


def _clamp(day: date) -> date:
    return min(max(day, EARLIEST), LATEST)


def date_span(view: ViewState, first: date, last: date) -> tuple[date, date, date, date]:
    """What the date widgets show: (start, end) and the slider's ends (lo, hi), all within EARLIEST-LATEST.

    from_query keeps a link's dates within those bounds; stored data may lie outside them, a one-sided
    filter may lie beyond the data, and the slider needs lo < hi: each case is met here, not by an error.
    """
    first, last = _clamp(first), _clamp(last)
    start = view.start if view.start is not None else first
    end = view.end if view.end is not None else last
    if view.start is None and start > end:
        start = end
    if view.end is None and end < start:
        end = start
    start, end = _clamp(start), _clamp(end)
    lo, hi = min(first, start), max(last, end)
    if lo == hi:  # one day of data: the slider still needs two ends
        lo, hi = (lo, lo + timedelta(days=1)) if lo < LATEST else (lo - timedelta(days=1), hi)
    return start, end, lo, hi


def _dates(view: ViewState, first: date, last: date) -> None:
    start, end, lo, hi = date_span(view, first, last)
    first, last = _clamp(first), _clamp(last)
    _bind("dates", (start, end))
    _bind("start", start)
    _bind("end", end)
    st.slider("Dates", min_value=lo, max_value=hi, key="dates", format="D MMM YYYY",
              on_change=lambda: _set_dates(*st.session_state["dates"], first, last))
    # Typed dates in a menu: its calendar widgets are drawn when it opens, so a first visit does not load
    # their code (the largest of the sidebar's) before the map appears (benchmarks/map_page.py).
    with st.popover("Type the dates", icon=":material/calendar_month:", width="stretch"):
        st.date_input("From", key="start", min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD",
                      on_change=lambda: _set_dates(st.session_state["start"], end, first, last))
        st.date_input("To", key="end", min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD",
                      on_change=lambda: _set_dates(start, st.session_state["end"], first, last))
    story_day = S.stories()[0].date if S.stories() else last
    presets = {
        "All dates": (None, None),
        "Story day": (story_day, story_day),
        "Last 7 days of data": (last - timedelta(days=6), last),
        "Last 30 days of data": (last - timedelta(days=29), last),
    }
    # A callback, not `if choice: … st.rerun()`: the pill stayed selected in the browser, so every later
    # rerun applied the preset again and its st.rerun() swallowed the next click ("Clear all filters",
    # "Freeze and get the link") — the preset is applied once, and the pill cleared, when it is picked.
    st.pills("Presets", PRESETS, key="date_preset", label_visibility="collapsed", on_change=_apply_preset,
             args=(presets,))


def _apply_preset(presets: dict[str, tuple[date | None, date | None]]) -> None:
    choice = st.session_state.get("date_preset")
    st.session_state["date_preset"] = None
    if choice in presets:
        S.update(start=presets[choice][0], end=presets[choice][1])


def _set_dates(start: date | None, end: date | None, first: date, last: date) -> None:
    if start and end and end < start:
        start, end = end, start
    # An end of the data's span is "no bound": the link stays short and newer data is not cut off.
    S.update(start=None if start == first else start, end=None if end == last else end)


def _places(view: ViewState, found) -> None:
    gaz = S.gazetteer()
    options = list(dict.fromkeys(found.countries + view.countries))
    names = {}
    for code in options:
        try:
            names[code] = gaz.country(code).name
        except DashboardError:
            names[code] = code
    _bind("countries", list(view.countries))
    st.multiselect("Countries", options, key="countries", format_func=lambda c: f"{names.get(c, c)} ({c})",
                   on_change=lambda: S.update(countries=tuple(st.session_state["countries"])))
    _bind("admins", list(view.admins))
    st.multiselect("Admin regions", list(dict.fromkeys(found.admins + view.admins)), key="admins",
                   on_change=lambda: S.update(admins=tuple(st.session_state["admins"])))
    left, right = st.columns([3, 2])
    _bind("near", view.near)
    _bind("near_km", min(max(float(view.near_km or 100.0), MIN_KM), MAX_KM))  # from_query keeps it in bounds
    left.text_input("Within … of a place", key="near", placeholder="e.g. Chernihiv",
                    on_change=_set_near)
    right.number_input("km", key="near_km", min_value=MIN_KM, max_value=MAX_KM, step=10.0, format="%.2f",
                       on_change=_set_near)
    if view.near:
        _namesakes(view.near, gaz)
        try:
            place = resolve_origin(view.near, gaz)
            lon, lat = place.lonlat
            st.caption(S.md(f"→ {place_label(place)} ({lat:.3f}, {lon:.3f})"))
        except DashboardError as exc:
            st.caption("⚠ " + S.md(str(exc)))
    if view.area:
        st.caption(f"Area filter: a shape of {len(view.area)} corners drawn on the map.")
        if st.button("Remove area filter"):
            S.update(area=())
            st.rerun()
    bounds = st.query_params.get(S.VIEW_BOUNDS)
    if bounds and st.button("Filter to the map view", help="Keep only events inside the area the map shows now"):
        try:
            w, s, e, n = (float(x) for x in bounds.split(","))
        except ValueError:
            st.warning(S.md(f"The map view {bounds!r} could not be read; pan the map and try again."))
        else:
            S.update(area=((w, s), (e, s), (e, n), (w, n)))
            st.rerun()
    _bind("coarse", view.coarse)
    st.checkbox("Include events located only by country or region", key="coarse",
                on_change=lambda: S.update(coarse=bool(st.session_state["coarse"])),
                help="An event placed only in a country or region (say, “Belarus”) has no point of its own: by "
                     "default the area, distance and map-view filters leave it out. Ticked, it is taken when its "
                     "country's or region's outline crosses the drawn area, or its pin lies within the distance.")


def _namesakes(text: str, gaz) -> None:
    """Several places answer to the typed name (there are many Desnas): offer them with region and country."""
    found = [c for c in gaz.search(text, limit=12) if normalize(c.name) == normalize(text)
             or normalize(c.matched) == normalize(text)]
    if len(found) < 2:
        return
    where: dict[str, str] = {}  # what the user reads -> the coordinates the near field takes
    for c in found:
        label = place_label(c.to_place(gaz))
        where[label if label not in where else f"{label} ({c.lat:.3f}, {c.lon:.3f})"] = f"{c.lat:.4f},{c.lon:.4f}"
    st.session_state["_near_namesakes"] = where
    st.selectbox(f"{len(where)} places are called {text}: which one?", list(where), index=None,
                 key="near_namesake", on_change=_pick_namesake, placeholder=f"Now: the best known, {next(iter(where))}")


def _pick_namesake() -> None:
    choice = st.session_state.get("near_namesake")
    if choice:  # its coordinates are the near field's value from now on
        st.session_state["near_namesake"] = None
        S.update(near=st.session_state["_near_namesakes"][choice], near_km=float(st.session_state["near_km"]))


def _set_near() -> None:
    text = st.session_state["near"].strip()
    S.update(near=text, near_km=float(st.session_state["near_km"]) if text else None)


def _what(view: ViewState, found) -> None:
    _bind("types", list(view.types))
    st.multiselect("Event types", list(dict.fromkeys(found.types + view.types)), key="types",
                   on_change=lambda: S.update(types=tuple(st.session_state["types"])))
    _bind("actors", list(view.actors))
    st.multiselect("Actors", list(dict.fromkeys(found.actors + view.actors)), key="actors",
                   on_change=lambda: S.update(actors=tuple(st.session_state["actors"])))
    _bind("text", view.text)
    st.text_input("Text in title, description or quote", key="text",
                  on_change=lambda: S.update(text=st.session_state["text"].strip()))
