"""`export -o PATH` writes a regular file or nothing: special files and links are refused, modes kept.

These run as root in CI, where nothing stops a careless writer from replacing a FIFO, a device node or a
symbolic link's target; so each case checks that the thing at PATH is still exactly what it was.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path

import pytest

from dashboard import cli
from dashboard.errors import DashboardError
from dashboard.export import output


@pytest.fixture(autouse=True)
def no_hang():
    """A writer that opened a FIFO would block for ever: fail after 60 s instead."""
    def hung(signum, frame):
        raise AssertionError("the write blocked: it opened the special file instead of refusing it")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "kept.txt").write_text("kept", encoding="utf-8")


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def _link_to_file(path: Path) -> None:
    (path.parent / "real.txt").write_text("the link's target", encoding="utf-8")
    path.symlink_to(path.parent / "real.txt")


def _dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "not-there.txt")


def _link_to_folder(path: Path) -> None:
    (path.parent / "elsewhere").mkdir()
    path.symlink_to(path.parent / "elsewhere")


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry of the folder (recursively, links not followed): kind, mode, link target, content."""
    seen = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        body = p.read_bytes() if stat.S_ISREG(st.st_mode) else None
        seen[str(p.relative_to(folder))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                                            os.readlink(p) if p.is_symlink() else None, body)
    return seen


SPECIAL = [
    pytest.param(_fifo, "named pipe", id="fifo"),
    pytest.param(_folder, "folder", id="folder"),
    pytest.param(_device, "character device", id="device"),
    pytest.param(_socket, "socket", id="socket"),
    pytest.param(_link_to_file, "symbolic link", id="symlink-to-file"),
    pytest.param(_dangling_link, "symbolic link", id="dangling-symlink"),
    pytest.param(_link_to_folder, "symbolic link", id="symlink-to-folder"),
]


@pytest.mark.parametrize("make, kind", SPECIAL)
def test_a_special_file_or_link_is_refused_and_left_as_it_was(tmp_path, make, kind):
    target = tmp_path / "out.csv"
    make(target)
    before = _snapshot(tmp_path)
    for attempt in (output.check_target, lambda p: output.write_file(p, b"new")):
        with pytest.raises(DashboardError, match=f"it is (a|an) {kind}") as caught:
            attempt(target)
        message = str(caught.value)
        assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message  # one sentence
    assert _snapshot(tmp_path) == before  # no temporary file either


def test_dev_null_itself_is_refused_not_replaced(monkeypatch):
    def must_not_rename(*args, **kwargs):
        raise AssertionError("write_file tried to rename a file over /dev/null")

    monkeypatch.setattr(output.os, "replace", must_not_rename)  # a regression must not harm the machine
    before = os.lstat("/dev/null")
    with pytest.raises(DashboardError, match="character device"):
        output.write_file("/dev/null", b"x")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert not [p for p in os.listdir("/dev") if p.startswith(".null.")]


def test_the_cli_refuses_a_fifo_in_one_line_with_exit_2_before_any_work(tmp_path, store_path, capsys, monkeypatch):
    fifo = tmp_path / "map.html"
    os.mkfifo(fifo)

    def no_scene(*args, **kwargs):
        raise AssertionError("the scene was built before -o was checked")

    monkeypatch.setattr("dashboard.scene.build_scene", no_scene)
    assert cli.main(["export", "?v=1", "--format", "html", "-o", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot write {fifo}: it is a named pipe (FIFO)") and err.count("\n") == 1
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o755])
def test_a_replaced_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "map.kml"
    target.write_bytes(b"old")
    target.chmod(mode)
    output.write_file(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["map.kml"]


def test_set_id_bits_are_not_kept(tmp_path):
    target = tmp_path / "x.csv"
    target.write_bytes(b"old")
    target.chmod(0o4755)
    output.write_file(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_a_new_file_gets_the_umask_and_an_owner_is_kept_as_root(tmp_path):
    old = os.umask(0o027)
    try:
        output.write_file(tmp_path / "new.csv", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    if os.geteuid() == 0:
        owned = tmp_path / "owned.csv"
        owned.write_bytes(b"old")
        os.chown(owned, 12345, 23456)
        output.write_file(owned, b"new")
        assert (owned.stat().st_uid, owned.stat().st_gid) == (12345, 23456)


def test_a_symlinked_parent_folder_is_followed_as_named(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "exports").symlink_to(real)  # e.g. ~/exports -> a shared disk
    output.write_file(tmp_path / "exports" / "map.csv", b"x")
    assert (real / "map.csv").read_bytes() == b"x" and (tmp_path / "exports").is_symlink()


@pytest.mark.parametrize("broken", ["write", "fsync", "replace"])
def test_a_failed_write_leaves_the_target_untouched_and_no_temporary_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "out.geojson"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if broken == "write":
        monkeypatch.setattr(output.os, "fdopen", lambda fd, mode: _Failing(fd))
    else:
        monkeypatch.setattr(output.os, broken, no_space)
    with pytest.raises(DashboardError, match="No space left on device"):
        output.write_file(target, b"new")
    assert target.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["out.geojson"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


class _Failing:
    """A file object whose write fails as on a full disk (and which closes its descriptor)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)

    def write(self, data: bytes) -> None:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("name, says", [(".", "it is a folder"), ("missing/x.csv", "does not exist"),
                                         ("file.txt/x.csv", "is not a folder")])
def test_paths_that_name_no_file_are_one_sentence(tmp_path, monkeypatch, name, says):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DashboardError, match=says):
        output.write_file(name, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_stdout_still_takes_text_formats(store_path, capsys):
    assert cli.main(["export", "?v=1&country=UA", "--format", "kml", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("<?xml")
