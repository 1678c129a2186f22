"""A first page: the stored events of the seed story with their sources (the map comes next)."""

from __future__ import annotations

import streamlit as st

from dashboard.errors import DashboardError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest import open_gazetteer, open_store


@st.cache_resource
def _gazetteer() -> Gazetteer:
    return open_gazetteer()


def render() -> None:
    st.title("Reachmap")
    st.caption("Places and events of news reports, with geodesic range rings. The map view is being built.")
    try:
        with open_store(gazetteer=_gazetteer()) as store:
            events = store.events()
    except DashboardError as exc:
        st.error(str(exc))
        return
    st.dataframe(
        [{"date": e.time.label, "title": e.title, "place": e.place.name, "type": e.event_type,
          "source": e.source.publisher, "quote": e.source.quote, "link": e.source.url} for e in events],
        column_config={"link": st.column_config.LinkColumn("link")},
        hide_index=True, use_container_width=True,
    )
