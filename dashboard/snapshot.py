"""Shared snapshots: a view frozen with the events it showed, under an unguessable id, opened read-only.

A permalink (`?v=1&…`) shows whatever the store holds today; a snapshot (`?snapshot=<id>`) shows what was
on screen when it was made, however the data changed since. The rings are not frozen: they are computed
again from the frozen query, the catalogue and the gazetteer, which change only with Reachmap itself.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from dashboard.errors import ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.model import Catalogue, is_hidden_control
from dashboard.scene import Scene, resolve_rings
from dashboard.share import ViewState, describe, from_query, to_query
from dashboard.store import EventStore
from dashboard.store.snapshots import Snapshot

ID_BYTES = 18                # 144 random bits
ID_LENGTH = 24               # token_urlsafe: 4 characters per 3 bytes, no padding
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}", re.ASCII)   # use with fullmatch
MAX_TITLE = 120              # characters
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHOWN = 40                  # characters of a bad id quoted back in a message


def new_id() -> str:
    """A fresh snapshot id: 144 bits from `secrets`, 24 URL-safe characters."""
    return secrets.token_urlsafe(ID_BYTES)


def freeze(store: EventStore, scene: Scene, title: str, thumbnail: bytes | None = None, owner: str = "") -> str:
    """Keep the scene's query and a copy of its events as a new snapshot; return its id.

    A blank title becomes a description of the selection ('13 events between 20 Feb and 30 Jun 2022 in UA').
    Raises ValidationError (nothing written) for a title over MAX_TITLE characters or a thumbnail that is not
    a PNG of at most MAX_THUMBNAIL_BYTES. `owner` (a shared server's user name) alone may list and delete it.
    """
    snapshot = Snapshot(
        id=new_id(), title=_title(title, scene), created_at=datetime.now(timezone.utc),
        query=to_query(scene.state), events=tuple(scene.events), thumbnail=_thumbnail(thumbnail), owner=owner,
    )
    store.put_snapshot(snapshot)
    return snapshot.id


def attach_thumbnail(store: EventStore, snapshot_id: str, thumbnail: bytes) -> bool:
    """Give a frozen snapshot its PNG (drawn after freezing, so freezing never waits for Chromium)."""
    return store.set_snapshot_thumbnail(check_id(snapshot_id), _thumbnail(thumbnail))


def open_snapshot(store: EventStore, snapshot_id: str) -> tuple[Snapshot, ViewState]:
    """The snapshot and its view; ValidationError for a malformed id, NotFoundError for an unknown one."""
    snapshot_id = check_id(snapshot_id)
    snapshot = store.get_snapshot(snapshot_id)
    # We wrote the query with to_query, so from_query has nothing to report; should a later version
    # tighten a bound, the field falls back to its default rather than the snapshot failing to open.
    return snapshot, from_query(snapshot.query).state


def frozen_scene(snapshot: Snapshot, state: ViewState, gazetteer: Gazetteer, catalogue: Catalogue) -> Scene:
    """The scene of an opened snapshot: its frozen events as they are (not filtered again), rings rebuilt."""
    rings, problems = resolve_rings(state, gazetteer, catalogue)
    return Scene(state, snapshot.events, tuple(rings), tuple(problems))


def check_id(snapshot_id: object) -> str:
    """The id without surrounding spaces, or ValidationError naming the field 'snapshot' and what to do."""
    text = snapshot_id.strip() if isinstance(snapshot_id, str) else snapshot_id
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        shown = text if not isinstance(text, str) or len(text) <= _SHOWN else text[:_SHOWN] + "…"
        raise ValidationError(
            "snapshot", shown,
            f"a snapshot id is {ID_LENGTH} letters, digits, '-' or '_'; copy the whole link again, "
            "or pick the snapshot on the Snapshots page")
    return text


def _title(title: str, scene: Scene) -> str:
    if not isinstance(title, str):
        raise ValidationError("title", title, "must be text")
    clean = " ".join("".join(" " if is_hidden_control(ch) else ch for ch in title).split())
    if len(clean) > MAX_TITLE:
        raise ValidationError("title", clean[:_SHOWN] + "…",
                              f"a snapshot title has at most {MAX_TITLE} characters (got {len(clean)}); shorten it")
    return clean or _default_title(scene)


def _default_title(scene: Scene) -> str:
    events = scene.events
    bounds = (min(e.time.start for e in events), max(e.time.end for e in events)) if events else None
    text = describe(scene.state, len(events), bounds)
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 1].rstrip() + "…"


def _thumbnail(data: bytes | None) -> bytes | None:
    if data is None:
        return None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError("thumbnail", type(data).__name__, "must be PNG bytes or None")
    data = bytes(data)
    if not data.startswith(PNG_SIGNATURE):
        raise ValidationError("thumbnail", data[:8], "must be a PNG image (it does not start like one)")
    if len(data) > MAX_THUMBNAIL_BYTES:
        raise ValidationError("thumbnail", f"{len(data):,} bytes",
                              f"a thumbnail has at most {MAX_THUMBNAIL_BYTES:,} bytes; make the image smaller")
    return data
