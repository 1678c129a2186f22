"""The Events page: the selected events as a sortable table; choosing a row (or a map popup's Edit link)
opens its editor, with its history, Delete and "Show on the map"; below, a form to add an event and the
deleted events to restore."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import settings
from dashboard.errors import NotFoundError, ValidationError
from dashboard.ingest import open_store
from dashboard.mapview import safe
from dashboard.model import has_hidden_control
from dashboard.ui import changes, editor, sidebar, who
from dashboard.ui import state as S
from dashboard.ui.pages import pages

FOCUS_ZOOM = 9
MAX_LISTED = 20_000  # rows the events table shows at most
EDIT_PARAM = "edit"  # ?edit=<event id>: the Map page's popups open an event's editor with it
MAX_ID = 200         # characters of an event id in that link
PICKED = "_events_picked"  # the table row last picked, so a kept selection does not reopen a closed editor


def render() -> None:
    wanted = _edit_param()  # before the page writes the view's own link, which holds no `edit`
    scene = sidebar.open_page("Events")
    user = _who()
    editor.show_saved()
    changes.show_done()
    view = scene.state
    # Newest first, and at most MAX_LISTED of them: a browser table of 800,000 rows took 30 s and 1.5 GB
    # of server memory to send, and nobody reads it; the map's CSV download holds every selected event.
    rows = scene.rows[::-1][:MAX_LISTED]
    if len(scene.rows) > MAX_LISTED:
        st.info(f"Listing the {MAX_LISTED:,} most recent of the {len(scene.rows):,} selected events. Narrow the "
                "dates or places to list the others; the map page's CSV download holds all of them.")
    # Columns straight from the store (no Event objects): 20,000 rows are read in a fraction of a second.
    listed = S.listing(scene.table.id_at(rows))
    table = pd.DataFrame({
        "start": [r.start for r in listed], "date": [r.label for r in listed], "title": [r.title for r in listed],
        "place": [r.place for r in listed], "type": [r.event_type for r in listed],
        "source": [r.publisher for r in listed], "quote": [r.quote for r in listed],
        "link": [safe.http_url(r.url) for r in listed],
    }, columns=["start", "date", "title", "place", "type", "source", "quote", "link"])
    picked = st.dataframe(
        table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key="events_table",
        column_config={
            "start": st.column_config.DateColumn("sort by date", format="YYYY-MM-DD"),
            "link": st.column_config.LinkColumn("link", display_text="open"),
            "quote": st.column_config.TextColumn("quote", width="large"),
        },
    )
    st.caption("Newest first; click a column header to sort, select a row to edit that event or show it on the "
               "map.")
    rows = picked.selection.rows if picked else []
    row = listed[rows[0]].id if rows else None
    if row != st.session_state.get(PICKED):  # a new pick opens it; a pick kept across reruns does not
        st.session_state[PICKED] = row
        wanted = wanted or row
    if wanted:
        _open(wanted)
    _editing(view, user)
    with st.expander("Add an event", icon=":material/add:"):
        editor.form(editor.NEW, S.facets().types, user)
    changes.deleted(user)


def _who() -> str:
    """The name edits are recorded under, shown on the page; a shared server whose request names nobody says so."""
    user = who.editor_name()
    if who.proxy_login() == "":
        st.warning(S.md(f"This server is shared (setting user_header) but the request carries no "
                        f"{settings.get('user_header')} header naming you: your edits are recorded as "
                        f"{user or 'nobody'}. Open Reachmap through the login in front of it."))
    st.caption(S.md(f"You edit as {user or 'someone unnamed (set the user setting, REACHMAP_USER)'}."))
    return user


def _edit_param() -> str | None:
    """The event id of an ?edit= link, checked as a permalink's fields are (one sentence when it is broken)."""
    values = st.query_params.get_all(EDIT_PARAM)
    if not values:
        return None
    del st.query_params[EDIT_PARAM]
    try:
        return check_event_id(values[-1])
    except ValidationError as exc:
        st.warning(S.md(f"This link asks to edit an event, but its id {exc.reason}; choose the event in the "
                        "table below instead."))
        return None


def check_event_id(value: object) -> str:
    """An event id from a link: text of 1 to MAX_ID characters without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(EDIT_PARAM, value, "is empty")
    if len(value) > MAX_ID:
        raise ValidationError(EDIT_PARAM, value[:40], f"is longer than {MAX_ID} characters")
    if has_hidden_control(value):
        raise ValidationError(EDIT_PARAM, value[:40], "holds control characters")
    return value.strip()


def _open(event_id: str) -> None:
    """Open the Edit form on the stored event and its current version (one sentence if there is none)."""
    now = editor.opened(editor.EDIT)
    if now is not None and now.event is not None and now.event.id == event_id:
        return
    try:
        with open_store(gazetteer=S.gazetteer()) as store:
            event = store.get_event(event_id)
            version = store.version(event_id)
    except NotFoundError:
        shown = event_id if len(event_id) <= 60 else event_id[:59] + "…"
        st.warning(S.md(f"No stored event has the id “{shown}”: it may have been deleted (see Deleted events "
                        "below) or the link is mistyped."))
        return
    editor.load(editor.EDIT, event, version)


def _editing(view, user: str) -> None:
    at = editor.opened(editor.EDIT)
    if at is None or at.event is None:
        return
    event = at.event
    with st.container(border=True, key="editor"):
        top, show, shut = st.columns([6, 2, 1])
        top.subheader(S.md(f"Edit “{event.title}”"), anchor=False)
        top.caption(S.md(f"Version {at.version} · id {event.id}"))
        if show.button("Show on the map", icon=":material/map:"):
            lon, lat = event.place.lonlat
            S.commit(view.with_(center=(round(lat, 4), round(lon, 4)), zoom=FOCUS_ZOOM))
            st.switch_page(pages()["map"])
        if shut.button("Close", key="close_editor"):
            editor.close(editor.EDIT)
            st.rerun()
        editor.form(editor.EDIT, S.facets().types, user)
        changes.delete_control(at, user)
        changes.history(event.id, user)
