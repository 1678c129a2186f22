"""The event editor: one form for a new or a stored event, checked as an import checks a row, saved with the
version it was opened at, so a save over someone else's newer version is a conflict shown, never an overwrite.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st

from dashboard.errors import ConflictError, DashboardError, NotFoundError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.geoparse.regions import place_label
from dashboard.ingest import open_store
from dashboard.ingest.limits import clean_text
from dashboard.ingest.rows import split_names
from dashboard.mapview import safe
from dashboard.model import PRECISIONS, Event, Place, Source, TimeSpan, check_lat, check_lon
from dashboard.ui import state as S

NEW, EDIT = "new_", "ed_"  # widget key prefixes of the two forms (Add event, Edit)
OPENED = "_editor_opened"      # prefix → Opened: the event and version each form was opened at
CONFLICT = "_editor_conflict"  # Conflict of the Edit form's last save, until the user chooses
SAVED = "_editor_saved"        # the sentence to show after a save and its rerun
PENDING = "_editor_pending"    # the forms whose widgets are to show what they were just opened at

KEEP, BY_NAME, BY_POINT = "keep", "name", "point"
DAY_MIN, DAY_MAX = date(1900, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Opened:
    """What a form was opened at: the stored event and its version (both None for a new event)."""

    event: Event | None = None
    version: int | None = None


@dataclass(frozen=True)
class Conflict:
    """A save refused because the event changed meanwhile: mine (as the form held it) and theirs."""

    mine: Event
    theirs: Event | None  # None: they deleted it
    version: int
    by: str
    at: datetime | None


# -- reading the form ---------------------------------------------------------------------------------------

def _text(values: Mapping[str, object], key: str) -> str:
    value = values.get(key)
    return clean_text(value).strip() if isinstance(value, str) else ""


def build_event(values: Mapping[str, object], opened: Opened, gazetteer: Gazetteer) -> Event:
    """The event the form's values describe (keys without their prefix); ValidationError naming the field.

    The model checks what it always checks (texts, dates, coordinates, URL scheme); the form adds what an
    import requires of a row: a place the gazetteer knows (or coordinates with their country), a source
    and the sentence quoted from it. Attributes (an import's extra columns) are kept as they were."""
    original = opened.event
    start, end = values.get("start"), values.get("end")
    precision = values.get("precision") or "day"
    phrase = _text(values, "phrase")
    note = ""
    if original is not None and (original.time.start, original.time.end, original.time.precision,
                                 original.time.text) == (start, end, precision, phrase):
        note = original.time.note  # how the source's words became these dates: still true
    time = TimeSpan(start, end, precision, phrase, note)  # type: ignore[arg-type]
    quote = _text(values, "quote")
    if not quote:
        raise ValidationError("source.quote", quote, "needs the sentence of the source the event rests on")
    url = _text(values, "url")
    if url and safe.http_url(url) is None:
        raise ValidationError("source.url", url, "must be an http(s) link without spaces, or empty")
    published = values.get("published")
    source = Source(_text(values, "source_title"), _text(values, "publisher"), url,
                    published if isinstance(published, date) else None, quote)
    return Event(
        id=original.id if original is not None else f"edit:{uuid.uuid4().hex[:16]}",
        title=_text(values, "title"), event_type=_text(values, "event_type"), time=time,
        place=_place(values, original, gazetteer), source=source, description=_text(values, "description"),
        actors=split_names(_text(values, "actors")),
        attributes=original.attributes if original is not None else ())


def _place(values: Mapping[str, object], original: Event | None, gazetteer: Gazetteer) -> Place:
    mode = values.get("place_mode")
    if mode == KEEP and original is not None:
        return original.place
    if mode == BY_POINT:
        lat = check_lat(values.get("lat"), "place.lat")  # type: ignore[arg-type]
        lon = check_lon(values.get("lon"), "place.lon")  # type: ignore[arg-type]
        country = _country(values, gazetteer)
        if not country:
            raise ValidationError("place.country", "", "coordinates need the country they lie in (UA, Belarus …)")
        name = _text(values, "point_name")
        return Place.at(f"edit:{name}@{lat:.5f},{lon:.5f}", name or f"{lat:.5f}, {lon:.5f}", "point", lon, lat,
                        country=country)
    name = _text(values, "place_name")
    if not name:
        raise ValidationError("place", "", "name the place (as the gazetteer knows it) or give coordinates")
    country = _country(values, gazetteer)
    try:
        return gazetteer.resolve(name, country=country or None)
    except NotFoundError:
        where = f" in {country}" if country else ""
        suggestions = gazetteer.suggest(name, country=country or None)
        hint = f"did you mean {', '.join(suggestions)}? " if suggestions else ""
        raise ValidationError("place", name, f"no place of that name{where} in the gazetteer; {hint}check the "
                              "spelling, or choose “Coordinates” and give its latitude, longitude and country"
                              ) from None


def _country(values: Mapping[str, object], gazetteer: Gazetteer) -> str:
    """The ISO2 code of the form's country (a code or a name, as an import's country column); '' if empty."""
    wanted = _text(values, "country")
    if not wanted:
        return ""
    found = gazetteer.lookup(wanted, kinds=("country",), limit=1)
    if not found:
        raise ValidationError("place.country", wanted, "unknown country: write an ISO code like UA or a name "
                              "like Ukraine")
    return found[0].country


LABELS = {  # the model's field names as the form labels them
    "event.title": "Title", "event.event_type": "Event type", "time.start": "Start", "time.end": "End",
    "time.precision": "Precision", "place": "Place", "place.lat": "Latitude", "place.lon": "Longitude",
    "place.country": "Country", "source.title": "Source title", "source.publisher": "Publisher",
    "source.url": "Source URL", "source.quote": "Quote",
}


def sentence(exc: ValidationError) -> str:
    """A refusal as one sentence naming the form's field, what came and why."""
    label = LABELS.get(exc.field, exc.field)
    value = exc.value if isinstance(exc.value, str) else "" if exc.value is None else str(exc.value)
    shown = f" “{value[:80]}{'…' if len(value) > 80 else ''}”" if value else ""
    return f"{label}{shown}: {exc.reason}."


# -- filling the form ---------------------------------------------------------------------------------------

def form_values(event: Event | None) -> dict[str, object]:
    """The form's values (keys without prefix) showing this event; a new event's defaults for None."""
    if event is None:
        return {"title": "", "description": "", "event_type": None, "actors": "", "start": None, "end": None,
                "precision": "day", "phrase": "", "place_mode": BY_NAME, "place_name": "", "country": "",
                "lat": None, "lon": None, "point_name": "", "source_title": "", "publisher": "", "url": "",
                "published": None, "quote": ""}
    src = event.source
    lon, lat = event.place.lonlat  # offered for "Coordinates": moving a point starts from where it is
    return {"title": event.title, "description": event.description, "event_type": event.event_type,
            "actors": "; ".join(event.actors), "start": event.time.start, "end": event.time.end,
            "precision": event.time.precision, "phrase": event.time.text, "place_mode": KEEP, "place_name": "",
            "country": event.place.country, "lat": round(lat, 5), "lon": round(lon, 5),
            "point_name": event.place.name if event.place.kind == "point" else "",
            "source_title": src.title, "publisher": src.publisher, "url": src.url, "published": src.published,
            "quote": src.quote}


def load(prefix: str, event: Event | None, version: int | None) -> None:
    """Open the form `prefix` at this event and version; its widgets show it from where the form is drawn next
    (Streamlit refuses a widget's value set after the widget, so a save or restore loads for the rerun)."""
    st.session_state.setdefault(OPENED, {})[prefix] = Opened(event, version)
    st.session_state.setdefault(PENDING, set()).add(prefix)
    if prefix == EDIT:
        st.session_state.pop(CONFLICT, None)


def _fill(prefix: str, event: Event | None) -> None:
    """Set the widgets of the form `prefix` to the event it was opened at, if `load` asked for it."""
    pending = st.session_state.get(PENDING, set())
    # Streamlit drops the values of widgets a run did not draw (another page was shown): refill those too.
    if prefix in pending or prefix + "title" not in st.session_state:
        pending.discard(prefix)
        for key, value in form_values(event).items():
            st.session_state[prefix + key] = value


def opened(prefix: str) -> Opened | None:
    return st.session_state.get(OPENED, {}).get(prefix)


def close(prefix: str) -> None:
    st.session_state.get(OPENED, {}).pop(prefix, None)
    if prefix == EDIT:
        st.session_state.pop(CONFLICT, None)


# -- the form -----------------------------------------------------------------------------------------------

def form(prefix: str, types: tuple[str, ...], user: str) -> None:
    """The form `prefix` as `load` filled it; a save writes the event with the version it was opened at."""
    at = opened(prefix)
    if at is None:
        load(prefix, None, None)
        at = Opened()
    event = at.event
    _fill(prefix, event)
    k = prefix.__add__
    with st.form(f"{prefix}form", border=True):
        st.text_input("Title", key=k("title"))
        left, right = st.columns(2)
        kinds = sorted(set(types) | ({st.session_state.get(k("event_type"))} - {None, ""}))
        left.selectbox("Event type", kinds, key=k("event_type"), accept_new_options=True,
                       placeholder="Choose or type a type")
        right.text_input("Actors", key=k("actors"), help="Names separated by “;”.")
        st.text_area("Description", key=k("description"), height=80)
        d1, d2, d3, d4 = st.columns([2, 2, 2, 3])
        d1.date_input("Start", key=k("start"), min_value=DAY_MIN, max_value=DAY_MAX, format="YYYY-MM-DD")
        d2.date_input("End", key=k("end"), min_value=DAY_MIN, max_value=DAY_MAX, format="YYYY-MM-DD")
        d3.selectbox("Precision", PRECISIONS, key=k("precision"),
                     help="How precisely the source dates it: an event “in late February” is a span of 20–28 "
                          "February with precision span (or approximate).")
        d4.text_input("Date as the source words it", key=k("phrase"), placeholder="e.g. in late February")
        modes = ([KEEP] if event is not None else []) + [BY_NAME, BY_POINT]
        # Radio options are Markdown (images and colours too): the place's name is data, escaped as such.
        names = {KEEP: f"Keep: {S.md(place_label(event.place))}" if event is not None else "",
                 BY_NAME: "Place name", BY_POINT: "Coordinates"}
        st.radio("Place", modes, key=k("place_mode"), format_func=names.get, horizontal=True)
        p1, p2, p3, p4 = st.columns([3, 2, 2, 2])
        p1.text_input("Place name", key=k("place_name"), help="Looked up in the gazetteer, as an import's "
                      "place column is (used when “Place name” is chosen).")
        p2.text_input("Country", key=k("country"), help="ISO code or name: narrows the place name; required "
                      "with coordinates.")
        p3.number_input("Latitude", key=k("lat"), min_value=-90.0, max_value=90.0, format="%.5f")
        p4.number_input("Longitude", key=k("lon"), min_value=-180.0, max_value=180.0, format="%.5f")
        st.text_input("Name of the point", key=k("point_name"), placeholder="optional, with coordinates")
        s1, s2 = st.columns(2)
        s1.text_input("Source title", key=k("source_title"))
        s2.text_input("Publisher", key=k("publisher"))
        s3, s4 = st.columns([3, 1])
        s3.text_input("Source URL", key=k("url"), placeholder="https://…")
        s4.date_input("Published", key=k("published"), min_value=DAY_MIN, max_value=DAY_MAX,
                      format="YYYY-MM-DD")
        st.text_area("Quote", key=k("quote"), height=80, help="The sentence of the source the event rests on.")
        if event is not None and event.attributes:
            st.caption(f"{len(event.attributes)} attributes from the import ({S.md(event.attributes[0][0])} …) "
                       "are kept as they are.")
        submitted = st.form_submit_button("Save changes" if event is not None else "Add event", type="primary")
    if prefix == EDIT:
        _conflict(user)
    if submitted:
        _save(prefix, at, user)


def _values(prefix: str) -> dict[str, object]:
    return {key: st.session_state.get(prefix + key) for key in form_values(None)}


def _save(prefix: str, at: Opened, user: str) -> None:
    try:
        event = build_event(_values(prefix), at, S.gazetteer())
    except ValidationError as exc:
        st.error(S.md(sentence(exc)), icon=":material/error:")
        return
    if at.event is not None and event == at.event:
        st.info("Nothing to save: the form shows the event as it was opened.")
        return
    write(prefix, event, at.version, user)


def write(prefix: str, event: Event, expected: int | None, user: str) -> None:
    """Save the event from version `expected`; a conflict is kept for the user to choose, nothing is written."""
    try:
        with open_store(gazetteer=S.gazetteer()) as store:
            version = store.save_event(event, user, expected)
    except ConflictError as exc:
        by, when = last_change(event.id)
        st.session_state[CONFLICT] = Conflict(event, exc.current, exc.current_version, by, when)  # type: ignore
        st.rerun()
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    if prefix == EDIT:
        load(EDIT, event, version)
    else:
        load(NEW, None, None)
    st.session_state[SAVED] = (f"Saved “{event.title}” as version {version}; the map shows it now.", event.id)
    st.rerun()


def last_change(event_id: str) -> tuple[str, datetime | None]:
    """Who made the event's latest change, and when (for the conflict's sentence)."""
    try:
        with open_store(gazetteer=S.gazetteer()) as store:
            changes = store.history(event_id)
    except DashboardError:
        return "", None
    return (changes[-1].user, changes[-1].at) if changes else ("", None)


def show_saved() -> str | None:
    """The sentence of the last save (once), and the id of the event it saved."""
    saved = st.session_state.pop(SAVED, None)
    if saved is None:
        return None
    st.success(S.md(saved[0]), icon=":material/check_circle:")
    return saved[1]


# -- conflicts ----------------------------------------------------------------------------------------------

def _conflict(user: str) -> None:
    found: Conflict | None = st.session_state.get(CONFLICT)
    at = opened(EDIT)
    if found is None or at is None or at.event is None or found.mine.id != at.event.id:
        return
    who = found.by or "someone unnamed"
    when = f" at {found.at:%Y-%m-%d %H:%M} UTC" if found.at else ""
    did = "deleted" if found.theirs is None else "saved"
    st.warning(S.md(f"Someone {did} this event (version {found.version}, by {who}{when}) while you edited it. "
                    "Nothing was written: your version is still in the form."), icon=":material/sync_problem:")
    st.dataframe(side_by_side(found.mine, found.theirs, found.version), hide_index=True, width="stretch",
                 key="conflict_table")
    left, right = st.columns(2)
    if found.theirs is not None:
        left.button("Load their version", on_click=load, args=(EDIT, found.theirs, found.version),
                    icon=":material/download:")
        if right.button(f"Save mine over their version {found.version}", type="primary"):
            write(EDIT, found.mine, found.version, user)
    else:
        left.caption("Restore it from “Deleted events” below to edit it again.")
        left.button("Discard my edit", on_click=close, args=(EDIT,))


def fields(event: Event | None) -> dict[str, str]:
    """An event's fields as a reader compares them (the same rows for the conflict and the history)."""
    if event is None:
        return {}
    src, place = event.source, event.place
    lon, lat = place.lonlat
    return {
        "title": event.title, "event type": event.event_type, "description": event.description,
        "actors": "; ".join(event.actors),
        "when": f"{event.time.start.isoformat()} – {event.time.end.isoformat()} ({event.time.precision})"
                + (f" “{event.time.text}”" if event.time.text else ""),
        "place": f"{place_label(place)} ({lat:.5f}, {lon:.5f})", "source title": src.title,
        "publisher": src.publisher, "url": src.url, "published": src.published.isoformat() if src.published else "",
        "quote": src.quote, "attributes": "; ".join(f"{k}={v}" for k, v in event.attributes),
    }


def side_by_side(mine: Event, theirs: Event | None, version: int) -> pd.DataFrame:
    a, b = fields(mine), fields(theirs)
    rows = [(name, "≠" if a.get(name, "") != b.get(name, "") else "", a.get(name, ""), b.get(name, ""))
            for name in a]
    return pd.DataFrame(rows, columns=["field", "differs", "yours (not saved)",
                                       f"theirs (version {version})" if theirs is not None else "theirs (deleted)"])
