"""Snapshots: freeze the current view, open one read-only, list and delete them."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.ingest import open_store, store_location
from dashboard.mapview import safe
from dashboard.mapview.assets import use_bundle
from dashboard.scene import Scene, scene_map
from dashboard.share import to_query
from dashboard.snapshot import MAX_TITLE, attach_thumbnail, freeze, frozen_scene, listing, open_snapshot
from dashboard.ui import state as S
from dashboard.ui import who

SNAPSHOT_PARAM = "snapshot"
CONFIRM_DELETE = "_confirm_delete"  # the id whose deletion awaits a second click
THUMB_SIZE = (480, 300)


def share_control(scene: Scene) -> None:
    """'Share snapshot': a title, a button, and the link to the frozen copy."""
    with st.popover("Share snapshot", icon=":material/photo_camera:", width="stretch"):
        st.caption("Freezes this view and the events it shows; the link opens it read-only, "
                   "unchanged even after the data changes.")
        title = st.text_input("Title", max_chars=MAX_TITLE, key="snapshot_title",
                              placeholder="e.g. Iskander-M reach, 25 June 2022")
        if st.button("Freeze and get the link", type="primary"):
            with st.spinner("Freezing the view…"):
                with open_store(gazetteer=S.gazetteer()) as store:
                    snapshot_id = freeze(store, scene, title, None, owner() or "")
            _draw_later(snapshot_id, scene)
            st.success("Snapshot saved. Its link:")
            st.code(_link(snapshot_id), language=None)
            st.page_link(_page("snapshots"), label="All snapshots")


def _link(snapshot_id: str) -> str:
    """The full address of a snapshot, from the address this page was opened at."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{SNAPSHOT_PARAM}={snapshot_id}"


# Thumbnails are drawn after freezing, one at a time, by one worker: each takes a Chromium for seconds, and
# with 20 people freezing at once they took 44 of the server's 70 CPU-seconds and every session waited.
_PICTURES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reachmap-thumbnail")
_WAITING = threading.BoundedSemaphore(8)  # at most this many pictures queued; later snapshots get none
_log = logging.getLogger(__name__)


def _draw_later(snapshot_id: str, scene: Scene) -> bool:
    """Queue the snapshot's picture; False when the queue is full (a snapshot works without one)."""
    if not _WAITING.acquire(blocking=False):
        return False
    basemap, gazetteer, store_path = S.basemap(), S.gazetteer(), store_location()
    try:
        future = _PICTURES.submit(_draw, snapshot_id, scene, basemap, gazetteer, store_path)
    except RuntimeError:  # the server is shutting down
        _WAITING.release()
        return False
    future.add_done_callback(_report)
    return True


def _draw(snapshot_id: str, scene: Scene, basemap, gazetteer, store_path) -> None:
    try:
        from dashboard.export import to_png

        png = to_png(scene, basemap, width=THUMB_SIZE[0], height=THUMB_SIZE[1], thumbnail=True)
        with open_store(store_path, gazetteer=gazetteer) as store:
            attach_thumbnail(store, snapshot_id, png)
    except DashboardError as exc:  # no Chromium, or the store is busy: the snapshot stays without a picture
        _log.warning("Snapshot %s has no thumbnail: %s", snapshot_id, exc)
    finally:
        _WAITING.release()


def _report(future) -> None:
    if future.exception() is not None:
        _log.error("Drawing a snapshot thumbnail failed", exc_info=future.exception())


def render_snapshot(snapshot_id: str) -> None:
    """The read-only view a snapshot link opens: frozen events, rings rebuilt from the frozen query."""
    try:
        with open_store(gazetteer=S.gazetteer()) as store:
            snapshot, view = open_snapshot(store, snapshot_id)
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    scene = frozen_scene(snapshot, view, S.gazetteer(), S.catalogue())
    st.title(safe.markdown(snapshot.title, one_line=True))
    st.info(f"Read-only snapshot made {snapshot.created_at:%Y-%m-%d %H:%M} UTC with "
            f"{len(snapshot.events)} events. It does not change when the data does.", icon=":material/lock:")
    st.link_button("Open the live view of this link", to_query(view))
    for problem in scene.problems:
        st.warning(S.md(problem))
    from dashboard.ui.map_component import map_in_page

    map_in_page(use_bundle(scene_map(scene, S.basemap(), interactive=False)), key="snapshot_map", height=620,
                report=False)
    st.dataframe(listing(scene.events), hide_index=True, width="stretch")  # from columns: 100k rows in a second


def owner() -> str | None:
    """Who this request is on a shared server (the login proxy's header, '' when it names nobody);
    None on a single-user instance, where every snapshot is the user's."""
    return who.proxy_login()


def render() -> None:
    st.title("Snapshots")
    user = owner()
    if user == "":
        st.warning(S.md(f"This server is shared (setting user_header) but the request carries no "
                        f"{settings.get('user_header')} header naming you, so no snapshot is listed. Open "
                        "Reachmap through the login in front of it; snapshot links still open for anyone."))
        return
    with open_store(gazetteer=S.gazetteer()) as store:
        infos = store.snapshots(user)
    if user is not None:
        st.caption(S.md(f"Your snapshots ({user}). Anyone with a snapshot's link can open it; only you list "
                        "and delete it."))
    if not infos:
        st.caption("No snapshots yet: use “Share snapshot” above the map.")
    for info in infos:
        with st.container(border=True):
            left, right = st.columns([1, 3])
            if info.thumbnail:
                left.image(info.thumbnail, width="stretch")
            right.markdown(f"**{S.md(info.title)}**")
            right.caption(f"{info.created_at:%Y-%m-%d %H:%M} UTC · {info.event_count} events")
            right.page_link(_page("map"), label="Open", query_params={SNAPSHOT_PARAM: info.id},
                            icon=":material/open_in_new:")
            _delete_button(right, info.id, info.title)


def _delete_button(col, snapshot_id: str, title: str) -> None:
    if st.session_state.get(CONFIRM_DELETE) == snapshot_id:
        col.warning(S.md(f"Delete “{title}”? Its link will stop working."))
        yes, no = col.columns(2)
        if yes.button("Yes, delete", key=f"yes_{snapshot_id}", type="primary"):
            with open_store(gazetteer=S.gazetteer()) as store:
                store.delete_snapshot(snapshot_id, owner())
            st.session_state.pop(CONFIRM_DELETE, None)
            st.rerun()
        if no.button("Keep it", key=f"no_{snapshot_id}"):
            st.session_state.pop(CONFIRM_DELETE, None)
            st.rerun()
    elif col.button("Delete", key=f"delete_{snapshot_id}", icon=":material/delete:"):
        st.session_state[CONFIRM_DELETE] = snapshot_id
        st.rerun()


def _page(name: str):
    from dashboard.ui.pages import pages

    return pages()[name]
