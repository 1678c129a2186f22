"""How long one frame of the playback takes to draw in Chromium, at 100,000 events (issue 16: ≤ 100 ms).

    python benchmarks/playback.py                      # 100,000 events, 60 frames per mode
    python benchmarks/playback.py --events 300000 --frames 30
    python benchmarks/playback.py --animation          # the story's 60-frame MP4, WebM and GIF at 1280×720

Builds the map page of N synthetic ACLED-like events (benchmarks/scale/synth.py: 2022–2024, clustered
around the cities of UA, BY and western RU) with the play control, as an exported HTML file (basemap
embedded), opens it in the system's headless Chromium at 1280×720 and, in the page, times each frame from
`reachmapPlayback.show(k, live)` until two animation frames later (the canvas drawn and composited):

- playing, 7-day window, step 1 day (`live`: re-clustered for the zoom shown only, as while playing);
- playing, cumulative (the frame holds every event up to its day: up to all N);
- paused frames, 7-day window (clustered for every zoom, as after pause or scrub);
- baseline, same run: re-clustering every event for every zoom per frame, what the layer does for a new
  selection (`setDays(null)`).

Prints median, 95th percentile and worst per mode. Absolute figures are for this machine only.

`--animation`: `python -m dashboard export` of the story from 2 May to 30 June 2022 (60 frames, a 7-day
window, a day a step, the Iskander-M reach from Belarus appearing on 25 June) as MP4, WebM and GIF at
1280×720, each in a fresh process on a new store: wall and CPU seconds, file size (issue 16: ≤ 60 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.scale.synth import events as synthetic  # noqa: E402
from dashboard import settings  # noqa: E402
from dashboard.gazetteer import Gazetteer  # noqa: E402
from dashboard.mapview import Basemap, MapView, Play, build_map  # noqa: E402
from dashboard.mapview.assets import inline  # noqa: E402
from dashboard.table import EventTable  # noqa: E402

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TARGET_MS = 100

FRAMES_JS = """async ([frames, live, stride, baseline]) => {
  const p = window.reachmapPlayback, out = [];
  const raf = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  for (let i = 0; i < frames; i++) {
    const k = Math.min(i * stride, p.frames - 1), t0 = performance.now();
    if (baseline) { p.stop(); } else { window.reachmapPlayback.show(k, live); }
    await raf();
    out.push(performance.now() - t0);
  }
  return out;
}"""


def page(n: int, out: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    table = EventTable.from_events(list(synthetic(n, Gazetteer.open())))
    m = build_map([], [], Basemap(served=False), MapView(centre=(31.0, 49.0), zoom=6), draw=False, sync_url=False,
                  bulk=(table, np.arange(len(table.id))), play=Play())
    out.write_text(inline(m.get_root().render()), encoding="utf-8")  # one file, as an HTML export is
    return len(table.id), time.perf_counter() - t0


def run(n: int, frames: int, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "playback.html"
        count, built = page(n, file)
        print(f"{count:,} events; page built in {built:.1f} s ({file.stat().st_size / 1e6:.1f} MB)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1280, "height": 720})
            tab.goto(file.as_uri())
            tab.wait_for_function("() => window.reachmapBulk && window.reachmapPlayback && "
                                  "window.reachmapPlayback.frames > 0", timeout=120_000)
            total = tab.evaluate("() => window.reachmapPlayback.frames")
            print(f"{total} frames of 1 day over the selection; Chromium {browser.version}, 1280×720")
            modes = [("playing, 7-day window", 7, True, False), ("playing, cumulative", 0, True, False),
                     ("paused, 7-day window", 7, False, False), ("baseline: every event re-clustered", 7, False, True)]
            print(f"\n| mode | frames | median ms | p95 ms | worst ms | events in a frame | target ≤ {TARGET_MS} ms |")
            print("|---|---:|---:|---:|---:|---:|---|")
            for name, window, live, baseline in modes:
                tab.evaluate("(w) => { const s = document.querySelector('.rm-play-window');"
                             " s.value = String(w); s.dispatchEvent(new Event('change')); }", window)
                stride = max(1, total // frames)
                times = tab.evaluate(FRAMES_JS, [frames, live, stride, baseline])
                shown = tab.evaluate("() => window.reachmapPlayback.shown")
                times.sort()
                p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                verdict = "met" if p95 <= TARGET_MS else "missed"
                print(f"| {name} | {len(times)} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} | "
                      f"{shown if shown is not None else count:,} (last) | {'–' if baseline else verdict} |")
            browser.close()


ANIMATION_QUERY = "?v=1&from=2022-05-02&to=2022-06-30&reach=iskander-m@BY~2022-06-25.."


def animations() -> None:
    import os
    import resource
    import subprocess

    print(f"`python -m dashboard export \"{ANIMATION_QUERY}\" --format F -o FILE` (60 frames, 1280×720, 4 fps)\n")
    print("| format | wall s | CPU s | file KB | target ≤ 60 s |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REACHMAP_STORE_PATH": str(Path(tmp) / "store.gpkg")}
        subprocess.run([sys.executable, "-m", "dashboard", "events"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # the store seeded with the story, outside the timing
        for fmt in ("mp4", "webm", "gif"):
            out = Path(tmp) / f"story.{fmt}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dashboard", "export", ANIMATION_QUERY, "--format", fmt, "-o",
                            str(out)], env=env, cwd=ROOT, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            print(f"| {fmt} | {wall:.1f} | {cpu:.1f} | {out.stat().st_size / 1e3:,.0f} | "
                  f"{'met' if wall <= 60 else 'missed'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=60, help="frames timed per mode (spread over the span)")
    parser.add_argument("--animation", action="store_true", help="time the story's 60-frame animation export")
    args = parser.parse_args()
    if args.animation:
        animations()
    else:
        run(args.events, args.frames, settings.get("chromium_path"))


if __name__ == "__main__":
    main()
