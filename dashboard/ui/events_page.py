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
    view = scene.state
    # Columns straight from the store (no Event objects), so 100k selected events list in about a second.
    listed = S.listing(scene.table.id[scene.rows])
    table = pd.DataFrame({
        "start": [r.start for r in listed], "date": [r.label for r in listed], "title": [r.title for r in listed],
        "place": [r.place for r in listed], "type": [r.event_type for r in listed],
        "source": [r.publisher for r in listed], "quote": [r.quote for r in listed],
        "link": [r.url or None for r in listed],
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
    st.caption("Click a column header to sort; select a row to show that event on the map.")
    rows = picked.selection.rows if picked else []
    if rows:
        lon, lat = listed[rows[0]].lon, listed[rows[0]].lat
        S.commit(view.with_(center=(round(lat, 4), round(lon, 4)), zoom=FOCUS_ZOOM))
        st.switch_page(pages()["map"])
