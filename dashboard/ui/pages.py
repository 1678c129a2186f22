"""The app's pages in one place, for st.navigation and for st.switch_page."""

from __future__ import annotations

import functools
import importlib
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


def _lazy(module: str) -> Callable[[], None]:
    """The `render` of a page module, imported when the page is first shown: a server's first map does not
    wait for the Article page's geoparser or the Import page's readers to import."""

    def render() -> None:
        importlib.import_module(f"dashboard.ui.{module}").render()

    render.__name__ = render.__qualname__ = module  # st.Page names a page's script after its callable
    return render


def pages() -> dict[str, st.Page]:
    return {
        "map": st.Page(_guarded(_lazy("map_page")), title="Map", icon=":material/map:", url_path="map",
                       default=True),
        "events": st.Page(_guarded(_lazy("events_page")), title="Events", icon=":material/table_rows:",
                          url_path="events"),
        "sources": st.Page(_guarded(_lazy("sources_page")), title="Sources", icon=":material/menu_book:",
                           url_path="sources"),
        "import": st.Page(_guarded(_lazy("import_page")), title="Import", icon=":material/upload_file:",
                          url_path="import"),
        "article": st.Page(_guarded(_lazy("article_page")), title="Article", icon=":material/article:",
                           url_path="article"),
        "snapshots": st.Page(_guarded(_lazy("snapshots_page")), title="Snapshots",
                             icon=":material/photo_library:", url_path="snapshots"),
    }
