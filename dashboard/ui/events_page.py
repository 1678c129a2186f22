"""The Events page: the selected events as a sortable table; choosing a row focuses the map on it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.ui import sidebar
from dashboard.ui import state as S
from dashboard.ui.pages import pages

FOCUS_ZOOM = 9


def render() -> None:
    scene = sidebar.open_page("Events")
    view, events = scene.state, list(scene.events)
    table = pd.DataFrame([{
        "start": e.time.start, "date": e.time.label, "title": e.title, "place": e.place.name,
        "type": e.event_type, "source": e.source.publisher, "quote": e.source.quote, "link": e.source.url or None,
    } for e in events], columns=["start", "date", "title", "place", "type", "source", "quote", "link"])
    picked = st.dataframe(
        table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key="events_table",
        column_config={
            "start": st.column_config.DateColumn("sort by date", format="YYYY-MM-DD"),
            "link": st.column_config.LinkColumn("link", display_text="open"),
            "quote": st.column_config.TextColumn("quote", width="large"),
        },
    )
    st.caption("Click a column header to sort; select a row to show that event on the map.")
    rows = picked.selection.rows if picked else []
    if rows:
        lon, lat = events[rows[0]].place.lonlat
        S.commit(view.with_(center=(round(lat, 4), round(lon, 4)), zoom=FOCUS_ZOOM))
        st.switch_page(pages()["map"])
