"""An import killed with SIGKILL at any point leaves a store that is intact and holds the old events or the new.

A child process imports a 4,000-row ACLED export into a copy of a store that holds 4 events; it is killed
while reading, before the write, at four points inside the write transaction (up to 3,000 rows inserted), right
after the commit, and after seeded random delays. Then: `PRAGMA integrity_check` is ok, the event count is
4 or 4,004 (never in between, and exactly 4 when killed inside the transaction), and the store opens with
GeoPackageStore.
"""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.ingest.importer import import_file
from dashboard.store import GeoPackageStore

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
ROWS = 4_000
OLD = 4  # the events of acled_current.csv
ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys, time
from pathlib import Path
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.importer import import_file
from dashboard.store import GeoPackageStore

store_path, csv_path, prefix, fraction = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
gazetteer = Gazetteer.open()

def progress(f, message):
    if prefix != "-" and message.startswith(prefix) and f >= fraction:
        print("KILL-ME", f, message, flush=True)
        time.sleep(120)

with GeoPackageStore.open(Path(store_path)) as store:
    print("OPEN", flush=True)
    report = import_file(Path(csv_path), store, gazetteer, progress=progress)
    print("DONE", report.added, flush=True)
    if prefix == "after":
        time.sleep(120)
"""


def acled_export(path: Path) -> Path:
    rng = random.Random(42)
    lines = ["event_id_cnty,event_date,time_precision,event_type,sub_event_type,iso,country,admin1,location,"
             "latitude,longitude,geo_precision,source,notes,fatalities"]
    for n in range(ROWS):
        lines.append(f"CRASH{n},2022-06-{rng.randint(1, 30):02d},1,Explosions/Remote violence,Air/drone strike,804,"
                     f"Ukraine,Chernihiv,Village {n % 50},{50 + rng.random():.4f},{30 + rng.random():.4f},1,"
                     f"Suspilne,\"On that day, a strike hit Village {n % 50}. No casualties.\",0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory, gazetteer):
    folder = tmp_path_factory.mktemp("crash")
    store_path = folder / "template.gpkg"
    with GeoPackageStore.open(store_path) as store:
        import_file(DATA / "acled_current.csv", store, gazetteer)
        assert store.count() == OLD
    return store_path, acled_export(folder / "big.csv")


def _wait_for(proc: subprocess.Popen, word: str, timeout: float) -> str:
    """The child's first output line starting with `word` (read from the pipe's descriptor, unbuffered)."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    pending = b""
    while time.monotonic() < deadline:
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.startswith(word.encode()):
                return line.decode()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        pending += chunk
    proc.kill()
    raise AssertionError(f"the child never printed {word!r}: {proc.stderr.read()[-2000:]}")


def _start(store_path: Path, csv_path: Path, prefix: str, fraction: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(store_path), str(csv_path), prefix, str(fraction)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)


def _check(store_path: Path, allowed: set[int]) -> int:
    with sqlite3.connect(store_path) as conn:  # the first reader rolls a hot journal back
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        raw = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert raw in allowed, raw
    with GeoPackageStore.open(store_path) as store:
        assert store.count() == raw
        assert store.get_event("acled:UKR98765").title.startswith("Air/drone strike in Desna")
        if raw > OLD:
            assert store.get_event(f"acled:CRASH{ROWS - 1}").place.name == f"Village {(ROWS - 1) % 50}"
    return raw


def _kill_when(proc: subprocess.Popen, signal_line: str, delay_s: float = 0.0) -> None:
    """SIGKILL the import once it prints `signal_line` (and `delay_s` later); never leave it running."""
    try:
        _wait_for(proc, signal_line, timeout=120)
        time.sleep(delay_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("prefix, fraction, expected", [
    ("Reading", 0.0, {OLD}),                      # before the file is read
    ("Checked", 0.0, {OLD}),                      # checked, nothing written yet
    ("Writing", 0.4, {OLD}),                      # inside the write transaction, before the first batch
    ("Writing", 0.6, {OLD}),                      # inside it, 1,000 rows inserted (batches of 1,000)
    ("Writing", 0.8, {OLD}),                      # inside it, 2,000 rows inserted
    ("Writing", 1.0, {OLD}),                      # inside it, 3,000 rows inserted, the last batch pending
    ("Stored", 1.0, {OLD + ROWS}),                # just after the commit
    ("after", 0.0, {OLD + ROWS}),                 # after import_file returned
])
def test_a_killed_import_leaves_the_old_store_or_the_new_one(tmp_path, template, prefix, fraction, expected):
    source, csv_path = template
    store_path = tmp_path / "store.gpkg"
    shutil.copy(source, store_path)
    proc = _start(store_path, csv_path, prefix if prefix != "after" else "-", fraction)
    _kill_when(proc, "DONE" if prefix == "after" else "KILL-ME")
    assert proc.returncode == -signal.SIGKILL
    if prefix == "Writing" and fraction > 0.5:
        assert Path(str(store_path) + "-journal").exists()  # killed inside the transaction: a hot journal
    assert _check(store_path, expected) in expected


def test_imports_killed_after_seeded_random_delays_leave_the_old_or_the_new_store(tmp_path, template):
    source, csv_path = template
    rng = random.Random(42)
    seen = set()
    for attempt in range(4):
        store_path = tmp_path / f"store{attempt}.gpkg"
        shutil.copy(source, store_path)
        proc = _start(store_path, csv_path, "-", 0.0)
        _kill_when(proc, "OPEN", rng.uniform(0.0, 2.5))
        seen.add(_check(store_path, {OLD, OLD + ROWS}))
    assert seen <= {OLD, OLD + ROWS}
