"""Which version of a store file is on disk, and which of its writes left the events and places alone.

Whatever is kept beside a store (the columnar table of `dashboard.table`) is valid for one version of the
file. SQLite bumps the file's change counter on every committed write in rollback-journal mode, so the
counter, size and mtime name a version. A snapshot saved, renamed or deleted is such a write too, yet it
changes no event: without knowing that, sharing one snapshot made the next map read 1M events again
(13 s, 2.2 GB). So the store notes each of its writes that touched only snapshots as a step from one
version to the next, in `<store>.quiet.json` beside it; `events_unchanged` follows those steps. The note is
a cache of facts, never required: a missing or unreadable file only means reading the store again.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

QUIET_STEPS_KEPT = 64


def file_version(path: Path) -> str | None:
    """The file's version: change counter, size, mtime. None under a write-ahead log, where the counter
    does not move."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        return None
    with open(path, "rb") as f:
        header = f.read(100)
    stat = path.stat()
    return f"{int.from_bytes(header[24:28], 'big')}:{stat.st_size}:{stat.st_mtime_ns}"


def quiet_file(path: Path) -> Path:
    return path.with_name(path.name + ".quiet.json")


def note_quiet_write(path: Path, before: str | None, after: str | None) -> None:
    """One committed write that touched no event or place took the file from `before` to `after`.

    Noted only if nothing else committed in between (the counter moved by exactly one): `before` is read
    inside the write's transaction, `after` just after its commit, when another writer may already have
    committed."""
    if before is None or after is None or int(after.split(":")[0]) != int(before.split(":")[0]) + 1:
        return
    steps = _steps(path)[-(QUIET_STEPS_KEPT - 1):] + [[before, after]]
    target = quiet_file(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(steps, f)
        os.replace(tmp, target)
    except OSError:  # a folder that cannot be written to: no note, the next map reads the store
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def events_unchanged(path: Path, since: str, now: str) -> bool:
    """Whether the events and places of the file at version `now` are those it had at version `since`."""
    if since == now:
        return True
    after = dict((a, b) for a, b in _steps(path))
    seen = {since}
    step = since
    while step in after:
        step = after[step]
        if step == now:
            return True
        if step in seen:
            return False
        seen.add(step)
    return False


def _steps(path: Path) -> list[list[str]]:
    try:
        steps = json.loads(quiet_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(steps, list):
        return []
    return [s for s in steps if isinstance(s, list) and len(s) == 2 and all(isinstance(k, str) for k in s)]
