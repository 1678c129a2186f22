"""The app's pages in one place, for st.navigation and for st.switch_page."""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from dashboard.errors import DashboardError


def _guarded(render: Callable[[], None]) -> Callable[[], None]:
    """A page that meets an error Reachmap can explain shows that sentence instead of a traceback."""

    @functools.wraps(render)
    def page() -> None:
        try:
            render()
        except DashboardError as exc:
            from dashboard.ui.state import md

            st.error(md(str(exc)))

    return page


def pages() -> dict[str, st.Page]:
    from dashboard.ui import article_page, events_page, import_page, map_page, snapshots_page, sources_page

    return {
        "map": st.Page(_guarded(map_page.render), title="Map", icon=":material/map:", url_path="map",
                       default=True),
        "events": st.Page(_guarded(events_page.render), title="Events", icon=":material/table_rows:",
                          url_path="events"),
        "sources": st.Page(_guarded(sources_page.render), title="Sources", icon=":material/menu_book:",
                           url_path="sources"),
        "import": st.Page(_guarded(import_page.render), title="Import", icon=":material/upload_file:",
                          url_path="import"),
        "article": st.Page(_guarded(article_page.render), title="Article", icon=":material/article:",
                           url_path="article"),
        "snapshots": st.Page(_guarded(snapshots_page.render), title="Snapshots", icon=":material/photo_library:",
                             url_path="snapshots"),
    }
