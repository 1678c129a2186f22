"""An event's recorded changes on the Events page: its history with "Restore this version", deleting it (after
a confirmation, reversibly), and the deleted events with Restore."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.errors import ConflictError, DashboardError
from dashboard.ingest import open_store
from dashboard.store.base import Change
from dashboard.ui import editor
from dashboard.ui import state as S

CONFIRM = "_confirm_delete_event"  # the id whose deletion awaits its second click
DONE = "_changes_done"             # the sentence to show after a delete or restore, and its rerun
SHOWN_DELETED = 100                # deletions listed, newest first


def _store():
    return open_store(gazetteer=S.gazetteer())


def _done(words: str) -> None:
    st.session_state[DONE] = words
    st.rerun()


def show_done() -> None:
    words = st.session_state.pop(DONE, None)
    if words:
        st.success(S.md(words), icon=":material/check_circle:")


def _by(change: Change) -> str:
    return f"{change.user or 'someone unnamed'} at {change.at:%Y-%m-%d %H:%M} UTC"


def delete_control(opened: editor.Opened, user: str) -> None:
    """Delete the event being edited: asks first; the deletion is a version, undone from Deleted events."""
    event = opened.event
    if event is None:
        return
    if st.session_state.get(CONFIRM) != event.id:
        if st.button("Delete this event", icon=":material/delete:", key="delete_event"):
            st.session_state[CONFIRM] = event.id
            st.rerun()
        return
    st.warning(S.md(f"Delete “{event.title}”? It leaves the map and the exports; “Deleted events” below can "
                    "restore it."))
    yes, no = st.columns(2)
    if no.button("Keep it", key="keep_event"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()
    if yes.button("Yes, delete", type="primary", key="yes_delete_event"):
        st.session_state.pop(CONFIRM, None)
        try:
            with _store() as store:
                version = store.delete_event(event.id, user, opened.version)  # type: ignore[arg-type]
        except ConflictError as exc:
            by, when = editor.last_change(event.id)
            st.error(S.md(f"Not deleted: someone changed this event (version {exc.current_version}, by "
                          f"{by or 'someone unnamed'}{f' at {when:%Y-%m-%d %H:%M} UTC' if when else ''}) since "
                          "you opened it. Look at their version before deleting it."))
            return
        except DashboardError as exc:
            st.error(S.md(str(exc)))
            return
        editor.close(editor.EDIT)
        _done(f"Deleted “{event.title}” (version {version}). Restore it from “Deleted events” below.")


def history(event_id: str, user: str) -> None:
    """Every recorded change of the event, newest first, with what changed; any earlier version restorable.

    Restoring expects the newest version this list shows (read now, so it may be newer than the version the
    editor was opened at): a change made after the list was read is a conflict, not overwritten."""
    try:
        with _store() as store:
            changes = store.history(event_id)
    except DashboardError as exc:
        st.caption(S.md(f"No history: {exc}"))
        return
    current = changes[-1].version if changes and changes[-1].after is not None else None
    with st.expander(f"History: {len(changes)} change{'s' if len(changes) != 1 else ''}", expanded=True):
        for change in reversed(changes):
            with st.container(border=True, key=f"change_{change.version}"):
                st.markdown(S.md(f"Version {change.version} · {change.action} · by {_by(change)} · "
                                 f"{change.origin}"))
                table = changed_fields(change)
                if len(table):
                    st.dataframe(table, hide_index=True, width="stretch", key=f"changed_{change.version}")
                if change.after is not None and change.version != current:
                    if st.button(f"Restore version {change.version}", key=f"restore_{change.version}",
                                 icon=":material/history:"):
                        _restore(event_id, change.version, user, current, change.after.title)


def changed_fields(change: Change) -> pd.DataFrame:
    """The fields a change changed, before → after (every field of a creation; none of a deletion)."""
    before, after = editor.fields(change.before), editor.fields(change.after)
    names = list(after or before)
    rows = [(name, before.get(name, ""), after.get(name, "")) for name in names
            if before.get(name, "") != after.get(name, "")]
    if change.after is None:
        rows = []
    return pd.DataFrame(rows, columns=["field", "before", "after"])


def _restore(event_id: str, version: int, user: str, current: int | None, title: str) -> None:
    try:
        with _store() as store:
            new = store.restore(event_id, version, user, current)
    except ConflictError as exc:
        st.error(S.md(f"Not restored: the event changed meanwhile (it is at version {exc.current_version} now). "
                      "Its history above is reloaded; choose again."))
        editor.close(editor.EDIT)
        return
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    with _store() as store:
        editor.load(editor.EDIT, store.get_event(event_id), new)
    _done(f"Restored “{title}” as it was at version {version}: now version {new}.")


def deleted(user: str) -> None:
    """The events deleted and not restored, newest deletion first, each with Restore."""
    try:
        with _store() as store:
            gone = store.deleted(SHOWN_DELETED)
    except DashboardError as exc:
        st.caption(S.md(f"Deleted events cannot be listed: {exc}"))
        return
    with st.expander(f"Deleted events ({len(gone)}{'+' if len(gone) == SHOWN_DELETED else ''})"):
        if not gone:
            st.caption("None: a deleted event is listed here until it is restored.")
        for change in gone:
            title = change.before.title if change.before is not None else change.event_id
            left, right = st.columns([4, 1])
            left.markdown(S.md(f"{title} — deleted by {_by(change)} ({change.origin})"))
            if right.button("Restore", key=f"undelete_{change.event_id}", icon=":material/restore_from_trash:"):
                _restore(change.event_id, change.version - 1, user, None, title)
