"""The Events page: the selected events as a sortable table; choosing a row focuses the map on it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.mapview import safe
from dashboard.ui import sidebar
from dashboard.ui import state as S
from dashboard.ui.pages import pages

FOCUS_ZOOM = 9
MAX_LISTED = 20_000  # rows the events table shows at most


def render() -> None:
    scene = sidebar.open_page("Events")
    view = scene.state
    # Newest first, and at most MAX_LISTED of them: a browser table of 800,000 rows took 30 s and 1.5 GB
    # of server memory to send, and nobody reads it; the map's CSV download holds every selected event.
    rows = scene.rows[::-1][:MAX_LISTED]
    if len(scene.rows) > MAX_LISTED:
        st.info(f"Listing the {MAX_LISTED:,} most recent of the {len(scene.rows):,} selected events. Narrow the "
                "dates or places to list the others; the map page's CSV download holds all of them.")
    # Columns straight from the store (no Event objects): 20,000 rows are read in a fraction of a second.
    listed = S.listing(scene.table.id[rows])
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
    st.caption("Newest first; click a column header to sort, select a row to show that event on the map.")
    rows = picked.selection.rows if picked else []
    if rows:
        lon, lat = listed[rows[0]].lon, listed[rows[0]].lat
        S.commit(view.with_(center=(round(lat, 4), round(lon, 4)), zoom=FOCUS_ZOOM))
        st.switch_page(pages()["map"])
