"""Writing an export where the user said: a new file, or in place of an existing regular file, nothing else.

`python -m dashboard export … -o PATH` may run as root, on a path typed from a permalink's instructions or
a script. So it writes to a temporary file in the target's folder and renames it over the target only when
the target is absent or a regular file:

- A FIFO, a device node, a socket, a folder or a symbolic link at PATH is refused with one sentence; it is
  neither replaced nor opened (writing into a FIFO would block, into a device would write to the device).
- A symbolic link is refused at the last component only. The folders on the way are the user's own naming
  (`~/exports` may well be a link to a shared disk), so they are resolved as the system resolves them;
  the folder is then held open, and the temporary file and the rename both happen relative to it, so a
  folder swapped mid-way cannot send the file elsewhere.
- The replaced file keeps its permission bits (a 0600 file stays 0600; set-id bits are dropped) and, when
  running as root, its owner. A new file gets 0666 less the umask, like any file a program creates.
- A failed export leaves no temporary file and leaves the target as it was. A hard-linked target is
  replaced by the new file: the other names keep the old content, which is what a rename means.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dashboard.errors import DashboardError

_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFDIR: "a folder", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}
_MAX_NAME = 200  # of the target's name kept in the temporary file's name (NAME_MAX is 255 bytes)


@dataclass(frozen=True)
class Existing:
    """What the export will replace: a regular file's permission bits and owner."""

    mode: int
    uid: int
    gid: int


def check_target(path: Path | str) -> Existing | None:
    """None for a new file, the file's mode and owner for a regular file, DashboardError for anything else.

    Call it before the export's work starts, so a bad `-o` is refused at once; `write_file` checks again.
    """
    path = Path(path)
    folder = _open_folder(path)
    try:
        return _existing(path, folder)
    finally:
        os.close(folder)


def write_file(path: Path | str, data: bytes) -> None:
    """`data` as the file at `path`, written whole or not at all (see the module docstring)."""
    with open_file(path) as f:
        f.write(data)


@contextmanager
def open_file(path: Path | str) -> Iterator[BinaryIO]:
    """A binary file to stream an export into: it becomes the file at `path` when the block ends without an
    error, and is removed when it raises, so `path` is written whole or not at all (see the module docstring).

    The export is written as it is made (100,000 events are never one string in memory) into a temporary
    file in the target's folder; every check of `write_file` holds.
    """
    path = Path(path)
    folder = _open_folder(path)
    tmp = None
    try:
        existing = _existing(path, folder)
        name = f".{path.name[:_MAX_NAME]}.{secrets.token_hex(6)}.part"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
        tmp = name
        with os.fdopen(fd, "wb") as f:
            yield _WritingBack(f)
            f.flush()
            os.fchmod(f.fileno(), existing.mode if existing else 0o666 & ~_umask())
            if existing and os.geteuid() == 0 and (existing.uid, existing.gid) != (os.geteuid(), os.getegid()):
                os.fchown(f.fileno(), existing.uid, existing.gid)
            os.fsync(f.fileno())
        _existing(path, folder)  # once more, just before the rename: it may have changed while we wrote
        os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)  # never follows a link at the target
        tmp = None
        os.fsync(folder)
    except OSError as exc:
        raise DashboardError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    finally:
        if tmp is not None:
            os.unlink(tmp, dir_fd=folder)
        os.close(folder)


_WRITE_BACK = 16 << 20  # bytes: how much is written before the system is asked to start putting it on disk


class _WritingBack(io.BufferedIOBase):
    """The temporary file, which has the system start writing what it holds to disk every _WRITE_BACK bytes
    while the export goes on making the rest, and forget those pages once written (nothing reads them).

    Without it a 360 MB KML sat in memory until the final fsync, which then waited for all of it. Linux's
    POSIX_FADV_DONTNEED starts writing dirty pages without waiting for them; the fsync after the last
    write still waits for whatever is left, so the renamed file is whole on disk.
    """

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file
        self._done = 0  # bytes handed to the system so far
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        count = self._file.write(data)
        self._written += count
        if self._written - self._done >= _WRITE_BACK and hasattr(os, "posix_fadvise"):
            self._file.flush()
            os.posix_fadvise(self._file.fileno(), self._done, self._written - self._done, os.POSIX_FADV_DONTNEED)
            self._done = self._written
        return count

    def flush(self) -> None:
        if not self._file.closed:  # also called when this wrapper is let go, after the file was closed
            self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()


def _open_folder(path: Path) -> int:
    if path.name in ("", ".", ".."):
        raise DashboardError(f"Cannot write {path}: it is a folder; name a file in it, e.g. {path / 'map.html'}.")
    parent = path.parent
    try:
        return os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise DashboardError(f"Cannot write {path}: the folder {parent} does not exist.") from None
    except NotADirectoryError:
        raise DashboardError(f"Cannot write {path}: {parent} is not a folder.") from None
    except OSError as exc:
        raise DashboardError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _existing(path: Path, folder: int) -> Existing | None:
    try:
        st = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(st.st_mode):
        return Existing(stat.S_IMODE(st.st_mode) & 0o777, st.st_uid, st.st_gid)
    kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
    if stat.S_ISLNK(st.st_mode):
        raise DashboardError(f"Cannot write {path}: it is a symbolic link, and an export never writes through "
                             "one; name the file it points to, or a new file.")
    raise DashboardError(f"Cannot write {path}: it is {kind}, not a regular file; name a new file or an existing "
                         "regular one.")


def _umask() -> int:
    mask = os.umask(0o022)  # there is no call that only reads it
    os.umask(mask)
    return mask
