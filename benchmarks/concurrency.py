"""Many people at once: N browser sessions on one `streamlit run app.py`, each using the map (issue 11, item 8).

    python -m benchmarks.concurrency                      # 1 session alone (the baseline), then 20 at once
    python -m benchmarks.concurrency --sessions 1,5,20    # other counts; --help for the rest
    python -m benchmarks.concurrency --url http://127.0.0.1:8501   # an app already running (no server log)

The server starts on a free 127.0.0.1 port with a fresh data folder and store (seeded with the story on first
use); the gazetteer index is reused from `--gazetteer-index` when given, else built on the first request.
A warm-up session first opens the map once: that is the cold start, reported on its own. Then, for each
count N, N browser contexts of one headless Chromium start together, and each session

1. opens QUERY and waits until the map is painted in the page (its event markers drawn),
2. changes a filter (adds Ukraine to the sidebar's Countries) and waits until the heading has changed and a new map is
   painted with exactly as many events as the heading names,
3. makes a snapshot ("Share snapshot" → a title → "Freeze and get the link") and waits for its link,
4. opens that link and waits until the page shows the frozen title and its map is painted.

Every wait is on a condition, bounded by `--step-timeout`; a step that times out is an error of that session.
The browsers run on the same machine as the server, so the wall times include their work; the CPU seconds
of the server (with the Chromium it starts for thumbnails), of the benchmark's browsers and of the whole
machine (other work included: see the load average printed first) tell the parts apart.
Errors counted per session: Streamlit exception boxes on the page, console errors, page errors; and, for the
whole run, server log lines with a Traceback. Everything goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.scale.in_app import stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
QUERY = "/?v=1&near=Chernihiv:100"
COUNTRY = "Ukraine"  # added to the sidebar's Countries filter
SCREENSHOTS: Path | None = None  # a folder for a screenshot of each failed session (--screenshots)

# The newest map's event count, once its Leaflet map has drawn markers (null until then).
MAP_COUNT = """() => { try {
  const d = [...document.querySelectorAll('.rm-map-box')].pop();
  if (!d || !d.querySelector('.leaflet-container')) return null;
  const els = d.querySelectorAll('.rm-event');
  if (!els.length && !d.querySelector('path.leaflet-interactive')) return null;
  return [...els].reduce((n, e) => n + parseInt(e.dataset.count || '1'), 0);
} catch (e) { return null; } }"""
# The count the heading (the summary under the title) names, e.g. "8 events between …".
HEADING_COUNT = """() => { const h = document.querySelector('h3'); if (!h) return null;
  const m = /^([\\d,]+) events?/.exec(h.innerText); return m ? parseInt(m[1].replace(/,/g, '')) : null; }"""
IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"
# The filter change is drawn: the heading changed, the rerun is over and the map shows the heading's count
# (streamlit-folium keeps the map as it is when its HTML did not change, e.g. the same events).
NEW_MAP = """(before) => { const h = document.querySelector('h3'); if (!h || h.innerText === before) return false;
  if (document.querySelector('[data-testid=stStatusWidget]')) return false;
  const m = (%s)(), n = (%s)(); return m !== null && m === n; }""" % (MAP_COUNT, HEADING_COUNT)


@dataclass
class Session:
    """What one browser session saw: seconds per step (None when the step did not finish) and errors."""

    index: int
    first_map_s: float | None = None
    filter_s: float | None = None
    snapshot_s: float | None = None
    reopen_s: float | None = None
    counts: tuple[int | None, int | None] = (None, None)
    link: str = ""
    title: str = ""
    exception_boxes: int = 0
    console_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.exception_boxes + len(self.console_errors) + len(self.failures)


# -- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What-if variants of the snapshot thumbnail, patched into the server at start (sitecustomize), to measure a
# proposed change before it is made: "off" saves every snapshot without one; "one" draws one thumbnail at a
# time and saves a snapshot without one while another is being drawn.
THUMBNAIL_PATCH = {
    "off": """
import dashboard.export as e
from dashboard.errors import DashboardError
def to_png(*a, **k):
    raise DashboardError("thumbnails are off in this benchmark run")
e.to_png = to_png
""",
    "one": """
import threading
import dashboard.export as e
from dashboard.errors import DashboardError
_busy, _draw = threading.Semaphore(1), e.to_png
def to_png(*a, **k):
    if not _busy.acquire(blocking=False):
        raise DashboardError("another thumbnail is being drawn")
    try:
        return _draw(*a, **k)
    finally:
        _busy.release()
e.to_png = to_png
""",
}


@contextmanager
def serve(data_dir: Path, gazetteer_index: Path | None = None, timeout_s: float = 120.0,
          thumbnails: str = "on") -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`streamlit run app.py` with a fresh data folder and store on a free loopback port; its log file."""
    port = free_port()
    env = os.environ | {"REACHMAP_DATA_DIR": str(data_dir), "REACHMAP_STORE_PATH": str(data_dir / "store.gpkg")}
    if gazetteer_index:
        env["REACHMAP_GAZETTEER_INDEX"] = str(gazetteer_index)
    if thumbnails != "on":
        patch = data_dir / "patch"
        patch.mkdir()
        (patch / "sitecustomize.py").write_text(THUMBNAIL_PATCH[thumbnails])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(patch), env.get("PYTHONPATH")) if p)
    log = data_dir / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout_s, lambda: log.read_text()[-2000:])
        yield url, proc, log
    finally:
        stop(proc)


def tracebacks(log: Path | None) -> list[str]:
    """The server log's Traceback blocks, each cut to its last line (the exception)."""
    if log is None or not log.exists():
        return []
    lines, found = log.read_text(errors="replace").splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((l for l in lines[i + 1:] if l and not l.startswith((" ", "\t"))), line)
            found.append(tail)
    return found


def machine_busy_s() -> float:
    """CPU seconds all cores have been busy since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children (the Playwright driver and the Chromium it ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds of this process and of its children it has waited for (Chromium for PNGs), 0 if gone."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


# -- one session ----------------------------------------------------------------------------------

async def _exception_boxes(page) -> int:
    return await page.locator("[data-testid='stException']").count()


STEPS = ("map", "filter", "snapshot", "reopen")


async def run_session(browser, url: str, s: Session, step_timeout_s: float, query: str = QUERY,
                      steps: int = len(STEPS)) -> Session:
    """One person: first map, a filter change, a snapshot, the snapshot reopened (see the module docstring).

    Fills `s` as it goes, so a session cancelled at a deadline keeps what it did. `steps` stops after that
    many steps (1: the first map only). Exception boxes are counted on each page before it is left.
    """
    index = s.index
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(step_timeout_s * 1000)
    page.on("console", lambda m: s.console_errors.append(m.text[:200]) if m.type == "error" else None)
    page.on("pageerror", lambda e: s.console_errors.append(f"pageerror: {str(e)[:200]}"))
    step = "first map"
    try:
        started = time.perf_counter()
        await page.goto(url + query)
        await page.wait_for_function(MAP_COUNT, polling=100)
        s.first_map_s = time.perf_counter() - started
        before = await page.evaluate(MAP_COUNT)

        if steps >= 2:
            step = "filter change"
            heading = await page.locator("h3").first.inner_text()
            started = time.perf_counter()
            await page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
            await page.keyboard.type(COUNTRY)
            await page.keyboard.press("Enter")
            await page.wait_for_function(NEW_MAP, arg=heading, polling=100)
            s.filter_s = time.perf_counter() - started
            s.counts = (before, await page.evaluate(MAP_COUNT))
            await page.keyboard.press("Escape")

        if steps >= 3:
            step = "snapshot"
            title = s.title
            await page.wait_for_function(IDLE, polling=100)
            started = time.perf_counter()
            await page.get_by_role("button", name="Share snapshot").click()
            box = page.get_by_label("Title", exact=True)
            await box.fill(title)
            await page.get_by_role("button", name="Freeze and get the link").click()
            code = page.locator("[data-testid='stCode']").filter(has_text="?snapshot=")
            await code.first.wait_for()
            s.link = (await code.first.inner_text()).strip()
            s.snapshot_s = time.perf_counter() - started

        if steps >= 4:
            step = "snapshot reopened"
            s.exception_boxes += await _exception_boxes(page)
            started = time.perf_counter()
            await page.goto(s.link)
            await page.wait_for_function("(t) => { const h = document.querySelector('h1');"
                                         " return h && h.innerText.trim() === t; }", arg=title, polling=100)
            await page.wait_for_function(MAP_COUNT, polling=100)
            s.reopen_s = time.perf_counter() - started
    except Exception as exc:  # a timeout or a vanished element: this session's error, the run goes on
        s.failures.append(f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        if SCREENSHOTS:
            await page.screenshot(path=str(SCREENSHOTS / f"session-{index}-failed.png"))
    finally:
        try:
            s.exception_boxes += await asyncio.shield(_exception_boxes(page))
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            s.failures.append(f"page unreadable at the end: {type(exc).__name__}")
        await asyncio.shield(context.close())
    return s


async def run_sessions(url: str, n: int, step_timeout_s: float, chromium: str = CHROMIUM,
                       query: str = QUERY, steps: int = len(STEPS), deadline_s: float | None = None,
                       label: str = "Bench session") -> tuple[list[Session], float]:
    """N sessions started together in one Chromium (a context each); their results and the wall time.

    With `deadline_s`, sessions still running then are stopped where they are (not an error).
    """
    from playwright.async_api import async_playwright

    sessions = [Session(i, title=f"{label} {i}") for i in range(n)]  # snapshot titles
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            started = time.perf_counter()
            tasks = [asyncio.create_task(run_session(browser, url, s, step_timeout_s, query, steps))
                     for s in sessions]
            _, pending = await asyncio.wait(tasks, timeout=deadline_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            return sessions, time.perf_counter() - started
        finally:
            await browser.close()


# -- the report -----------------------------------------------------------------------------------

def _stats(values: list[float | None]) -> str:
    done = sorted(v for v in values if v is not None)
    missing = len(values) - len(done)
    if not done:
        return f"none of {len(values)} finished"
    text = (f"{done[0]:.2f} s" if len(done) == 1 else
            f"median {statistics.median(done):.2f} s, worst {done[-1]:.2f} s")
    return text + (f" ({missing} of {len(values)} did not finish)" if missing else "")


@dataclass
class Run:
    """N sessions at once: each one's results, the wall time, new server tracebacks, CPU seconds used."""

    n: int
    sessions: list[Session]
    wall_s: float
    tracebacks: list[str]
    machine_cpu_s: float
    server_cpu_s: float
    browser_cpu_s: float


def table(runs: list[Run]) -> list[str]:
    """One markdown row per session count: every step's median and worst, errors, wall time, CPU."""
    lines = ["| sessions at once | first map | filter change | snapshot | snapshot reopened | errors on pages |"
             " server tracebacks | wall s | CPU s: server / browsers / whole machine |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ss = r.sessions
        lines.append(f"| {r.n} | {_stats([s.first_map_s for s in ss])} | {_stats([s.filter_s for s in ss])}"
                     f" | {_stats([s.snapshot_s for s in ss])} | {_stats([s.reopen_s for s in ss])}"
                     f" | {sum(s.errors for s in ss)} | {len(r.tracebacks)} | {r.wall_s:.1f} |"
                     f" {r.server_cpu_s:.0f} / {r.browser_cpu_s:.0f} / {r.machine_cpu_s:.0f} |")
    return lines


def detail(sessions: list[Session]) -> list[str]:
    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f}"

    lines = ["| # | first map s | filter change s | snapshot s | reopened s | events (before → after) | errors |",
             "|---|---|---|---|---|---|---|"]
    for s in sessions:
        why = "; ".join(s.failures + [f"{s.exception_boxes} exception boxes"] * bool(s.exception_boxes)
                        + s.console_errors[:2])
        lines.append(f"| {s.index} | {f(s.first_map_s)} | {f(s.filter_s)} | {f(s.snapshot_s)} | {f(s.reopen_s)}"
                     f" | {s.counts[0]} → {s.counts[1]} | {s.errors}{' — ' + why if why else ''} |")
    return lines


def machine() -> str:
    cores = os.cpu_count()
    try:
        version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except OSError:
        version = "Chromium ?"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{platform.processor() or platform.machine()}, {cores} cores, load average {load}, "
            f"Python {platform.python_version()}, {version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,20", help="session counts to run, in order (default %(default)s)")
    parser.add_argument("--url", help="an app already running (else one is started with a fresh store)")
    parser.add_argument("--gazetteer-index", type=Path,
                        help="reuse this gazetteer index (else the fresh data folder builds its own)")
    parser.add_argument("--step-timeout", type=float, default=240.0, help="seconds per step (default %(default)s)")
    parser.add_argument("--query", default=QUERY, help="the page each session opens (default %(default)s)")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--details", action="store_true", help="also print one row per session")
    parser.add_argument("--screenshots", type=Path, help="save a screenshot of each failed session here")
    parser.add_argument("--steps", type=int, default=len(STEPS), choices=range(1, len(STEPS) + 1),
                        help="stop each session after this many steps of " + ", ".join(STEPS) + " (default all)")
    parser.add_argument("--server-pid", type=int, help="with --url: the server's pid, to count its CPU time")
    parser.add_argument("--thumbnails", choices=("on", "off", "one"), default="on",
                        help="snapshot thumbnails as the app draws them (on), none (off), or one at a time, "
                             "skipped while another is drawn (one): a what-if patched into the server")
    args = parser.parse_args(argv)
    global SCREENSHOTS
    SCREENSHOTS = args.screenshots
    counts = [int(n) for n in args.sessions.split(",")]

    def measure(url: str, log: Path | None, pid: int | None) -> list[Run]:
        started = time.perf_counter()
        warm, _ = asyncio.run(run_sessions(url, 1, args.step_timeout, args.chromium, args.query))
        print(f"cold start (first session after the server started): first map {warm[0].first_map_s or 0:.2f} s, "
              f"whole session {time.perf_counter() - started:.1f} s, errors {warm[0].errors}"
              + (f" ({'; '.join(warm[0].failures)})" if warm[0].failures else ""), flush=True)
        runs = []
        for n in counts:
            seen, machine0, server0, browser0 = (len(tracebacks(log)), machine_busy_s(), process_cpu_s(pid),
                                                 children_cpu_s())
            sessions, wall = asyncio.run(run_sessions(url, n, args.step_timeout, args.chromium, args.query,
                                                      args.steps))
            runs.append(Run(n, sessions, wall, tracebacks(log)[seen:], machine_busy_s() - machine0,
                            process_cpu_s(pid) - server0, children_cpu_s() - browser0))
            print(table(runs[-1:])[-1], flush=True)
            if args.details or any(s.errors for s in sessions):
                print("\n".join(detail(sessions)), flush=True)
            for tb in runs[-1].tracebacks[:5]:
                print("server traceback:", tb)
        return runs

    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {machine()}; page {args.query}; "
          f"thumbnails {args.thumbnails}", flush=True)
    if args.url:
        runs = measure(args.url, None, args.server_pid)
    else:
        with tempfile.TemporaryDirectory(prefix="reachmap-concurrency-") as tmp:
            with serve(Path(tmp), args.gazetteer_index, thumbnails=args.thumbnails) as (url, proc, log):
                runs = measure(url, log, proc.pid)
                kept = ROOT / "data" / "concurrency-server.log"
                kept.parent.mkdir(exist_ok=True)
                shutil.copyfile(log, kept)
                print(f"server log: {kept}")
    print()
    print("\n".join(table(runs)))
    return 0 if all(not s.errors and not r.tracebacks for r in runs for s in r.sessions) else 1


if __name__ == "__main__":
    sys.exit(main())
