"""The running app at scale: `streamlit run app.py` on a big store, timed in headless Chromium.

The harness (run.py) times pages outside Streamlit; this adds what the app itself costs — the script rerun,
the sidebar, the tables, the component round trip and the layer swap — and the app process's memory.

    python -m benchmarks.scale.in_app --store data/bench/synthetic-100000-v1.gpkg   # starts its own server
    python -m benchmarks.scale.in_app --url http://localhost:8599                  # an app already running

Measured: the first map after the server starts (imports, store load, caches: once per server), the first
map in a new browser session, then, `--repeats` times in a fresh session, adding Belarus and then Russia to
the Countries filter — from the key press to the new clustered layer drawn — and the same again with the
story's reach ring on (Iskander-M from the Belarus–Ukraine border; the in-range table below the map then
lists every selected event inside it, after the map is drawn); zooming from the whole selection to Kyiv
at zoom 9 until the events layer is drawn for it (above map_served_above events a round trip to the
server, which clusters the new view); the Events page with Ukraine selected (it
lists the newest 20,000 at most); and the server's peak resident memory (VmHWM). Nothing sleeps: every
wait is on a condition.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from dashboard.ui.events_page import MAX_LISTED

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
FIRST = "/?v=1&country=UA"
WITH_REACH = FIRST + "&reach=iskander-m@BY-UA"  # the story's ring: Iskander-M reach from the BY–UA border
COUNT = "() => { const b = window.reachmapBulk; return b && b.drawn ? b.count : null; }"
CHANGES = ("Belarus", "Russia")


@contextmanager
def serve(store: Path, timeout_s: float = 120.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on this store, on a free port; stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"REACHMAP_STORE_PATH": str(store)}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout_s, lambda: proc.stderr.read() if proc.poll() is not None else "timeout")
        yield url, proc
    finally:
        stop(proc)


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float, why) -> None:
    """Poll the server's health endpoint until it answers (a condition, not a fixed sleep); RuntimeError
    with `why()` if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start: {why()}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _first_map(browser: Browser, url: str, query: str = FIRST) -> tuple[float, int, object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(300_000)
    started = time.perf_counter()
    page.goto(url + query)
    page.wait_for_function(COUNT)
    return time.perf_counter() - started, page.evaluate(COUNT), page


def _change(page, name: str) -> tuple[float, int]:
    before = page.evaluate(COUNT)
    page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
    page.keyboard.type(name)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {{ const c = ({COUNT})(); return c !== null && c !== {before}; }}")
    seconds = time.perf_counter() - started
    page.keyboard.press("Escape")
    return seconds, page.evaluate(COUNT)


def _zoom_in(page, zoom: int = 9, at: tuple[float, float] = (50.45, 30.52)) -> tuple[float, bool]:
    """Zoom to Kyiv at `zoom`: seconds until the events layer is drawn for it, and whether the server
    clustered it (served mode: a round trip to the server; else the browser's own index redraws). Timed in
    the page (performance.now() from setView to the frame after the drawing): after a fragment rerun the
    page's main thread stays busy with Streamlit's own rendering for a few hundred ms, which delays
    Playwright's polling but not the map."""
    served = page.evaluate("() => !!(window.reachmapBulk && window.reachmapBulk.served)")
    page.evaluate(f"""() => {{ window.__rmMoved = null; const map = window.reachmapMap;
        map.once('moveend', () => requestAnimationFrame(() => requestAnimationFrame(() => {{
            window.__rmMoved = performance.now(); }})));
        window.__rmZoomFrom = performance.now(); map.setView([{at[0]}, {at[1]}], {zoom}); }}""")
    if served:
        page.wait_for_function(f"() => {{ const b = window.reachmapBulk; "
                               f"return b && b.drawn && b.served && b.served.zoom === {zoom}; }}")
        ms = page.evaluate("() => window.reachmapBulk.paintedAt - window.__rmZoomFrom")
    else:
        page.wait_for_function("() => window.__rmMoved !== null")
        ms = page.evaluate("() => window.__rmMoved - window.__rmZoomFrom")
    return ms / 1000.0, served


def _events_page(browser: Browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(300_000)
    started = time.perf_counter()
    page.goto(url + "/events" + FIRST[1:])
    page.wait_for_selector("[data-testid='stDataFrame']")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    seconds = time.perf_counter() - started
    context.close()
    return seconds


def measure(browser: Browser, url: str, repeats: int = 3, pid: int | None = None) -> dict:
    """Every timing of the module docstring, against the app at `url` (fresh if pid is given)."""
    result: dict = {"repeats": repeats}
    first_s, count, page = _first_map(browser, url)
    page.context.close()
    result["first_map_s" if pid is not None else "first_map_warm_s"] = first_s
    result["n_first"] = count
    warm: list[float] = []
    zooms: list[float] = []
    for key, query in (("changes", FIRST), ("changes_with_reach", WITH_REACH)):
        # With the reach ring on, the in-range table below the map lists every selected event inside it.
        drawn, counts = {n: [] for n in CHANGES}, {}
        for _ in range(repeats):
            seconds, _, page = _first_map(browser, url, query)
            if query == FIRST:
                warm.append(seconds)
            for name in CHANGES:
                seconds, counts[name] = _change(page, name)
                drawn[name].append(seconds)
            if query == FIRST:
                seconds, result["zoom_served"] = _zoom_in(page)
                zooms.append(seconds)
            page.context.close()
        result[key] = [{"add": n, "n": counts[n], "seconds": drawn[n]} for n in CHANGES]
    result["first_map_warm"] = warm
    result["zoom_in"] = zooms
    result["events_page_s"] = _events_page(browser, url)
    if pid is not None:
        result["server_peak_rss_mb"] = peak_rss_mb(pid)
    return result


def run(store: Path, repeats: int = 3, browser: Browser | None = None) -> dict:
    """Start the app on `store`, measure it, stop it."""
    with serve(store) as (url, proc):
        if browser is not None:
            return measure(browser, url, repeats, proc.pid)
        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                return measure(own, url, repeats, proc.pid)
            finally:
                own.close()


def summary(r: dict) -> list[str]:
    """The measurements as markdown lines."""
    def span(values: list[float]) -> str:
        return (f"{statistics.median(values):.2f} s (median of {len(values)}, {min(values):.2f}–{max(values):.2f})"
                if len(values) > 1 else f"{values[0]:.2f} s")

    lines = ["| in the running app | result |", "|---|---|"]
    if "first_map_s" in r:
        lines.append(f"| first map after the server starts ({r['n_first']:,} events) | {r['first_map_s']:.2f} s |")
    lines.append(f"| first map in a new browser session | {span(r['first_map_warm'])} |")
    for change in r["changes"]:
        lines.append(f"| filter change: add {change['add']} → {change['n']:,} events, until drawn | "
                     f"{span(change['seconds'])} |")
    for change in r.get("changes_with_reach", []):
        lines.append(f"| the same with the Iskander-M reach from the BY–UA border on: add {change['add']} | "
                     f"{span(change['seconds'])} |")
    if r.get("zoom_in"):
        how = "the server clusters the new view" if r.get("zoom_served") else "the browser re-clusters"
        lines.append(f"| zoom from the whole selection to Kyiv at zoom 9, until drawn ({how}) | {span(r['zoom_in'])} |")
    listed = min(r["n_first"], MAX_LISTED)
    lines.append(f"| Events page, {r['n_first']:,} events selected, {listed:,} listed | {r['events_page_s']:.2f} s |")
    if r.get("server_peak_rss_mb"):
        lines.append(f"| server process, peak resident memory | {r['server_peak_rss_mb']:,.0f} MB |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", type=Path, help="start the app on this store (and stop it afterwards)")
    where.add_argument("--url", help="measure an app already running here")
    parser.add_argument("--repeats", type=int, default=3, help="sessions of filter changes (default %(default)s)")
    args = parser.parse_args(argv)
    if args.store:
        result = run(args.store, args.repeats)
    else:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            result = measure(browser, args.url.rstrip("/"), args.repeats)
            browser.close()
    print("\n".join(summary(result)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
