"""The playback as a video or GIF: every frame drawn by headless Chromium, encoded with FFmpeg (PyAV) or Pillow.

The page is the exported map page (export.page, picture mode): title box, legend, scale bar and credits on
it, and the play control's label naming each frame's days and events. Chromium opens it offline exactly as
for a PNG (export.png: no file, no host, no request but data: and blob:), then the control shows each
frame in turn (mapview/playback.py, paused quality: supercluster's clusters) and each is captured.

MP4 is H.264 (libx264, yuv420p: plays in browsers, VLC and editors), WebM is VP9, GIF is Pillow's, with a
palette per frame. PyAV's wheels carry FFmpeg's libraries: nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib
import io
import queue
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from dashboard.errors import DashboardError, ValidationError
from dashboard.export.page import map_page
from dashboard.export.words import selection_days
from dashboard.export.png import (_PAINTED_JS, RENDER_TIMEOUT_MS, _chromium, _draws_something, _size,
                                  chromium_failed, offline_tab, screenshot, show_page)
from dashboard.mapview import Basemap
from dashboard.scene import Scene
from dashboard.share import Frame

Progress = Callable[[float, str], None]

FORMATS: tuple[str, ...] = ("mp4", "webm", "gif")
MAX_FRAMES = 1_000
MIN_FPS, MAX_FPS = 1, 30
DEFAULT_SIZE = (1280, 720)
_CODECS = {"mp4": ("mp4", "libx264", {"crf": "23", "preset": "veryfast", "movflags": "+faststart"}),
           "webm": ("webm", "libvpx-vp9", {"crf": "33", "b:v": "0", "deadline": "realtime", "cpu-used": "8",
                                           "row-mt": "1"})}
_FRAMES_JS = "() => window.reachmapPlayback ? window.reachmapPlayback.frames : -1"
_SHOW_JS = "(k) => { window.reachmapPlayback.show(k, false); return window.reachmapPlayback.to; }"


def frame_plan(scene: Scene) -> Frame:
    """The first frame: the paused frame's window and step (else a 7-day window moving a day at a time) on the
    first day of the date filter, or of the selection. The frames run from it to the last day."""
    play, days = scene.state.play, selection_days(scene)
    first = scene.state.start or (days[0] if days else date(2000, 1, 1))
    return Frame(first, play.window if play else 7, play.step if play else 1)


def to_animation(scene: Scene, basemap: Basemap, fmt: str, *, width: int | None = None, height: int | None = None,
                 fps: int = 4, title: str | None = None, progress: Progress | None = None) -> bytes:
    """The playback of the scene's selection as `fmt` (mp4, webm or gif), one frame per step, `fps` a second."""
    if fmt not in FORMATS:
        raise ValidationError("format", fmt, f"must be one of {', '.join(FORMATS)}")
    say = progress or (lambda fraction, message: None)
    width, height = _size(width or DEFAULT_SIZE[0], "width"), _size(height or DEFAULT_SIZE[1], "height")
    if fmt in _CODECS and (width % 2 or height % 2):
        raise ValidationError("size", f"{width}×{height}", f"must be even for {fmt} (H.264 and VP9 halve colour)")
    if isinstance(fps, bool) or not isinstance(fps, int) or not MIN_FPS <= fps <= MAX_FPS:
        raise ValidationError("fps", fps, f"must be a whole number of frames a second from {MIN_FPS} to {MAX_FPS}")
    if not len(scene.events):
        raise DashboardError("Nothing to animate: no event matches the filters; widen them and try again.")
    executable = _chromium()
    for module, pip in (("playwright.sync_api", "playwright"), ("av", "av") if fmt in _CODECS else ("PIL", "pillow")):
        try:
            importlib.import_module(module)
        except ImportError:
            raise DashboardError(f"{fmt.upper()} export needs the {pip} package: pip install {pip}.") from None
    plan = frame_plan(scene)
    say(0.02, "Building the map")
    # Paused on its first frame: the picture's play control shows each frame's days and events.
    page = map_page(replace(scene, state=scene.state.with_(play=plan)), basemap, title, picture=True,
                    size=(width, height))
    want_vectors = _draws_something(scene, basemap)
    told: queue.SimpleQueue[tuple[float, str]] = queue.SimpleQueue()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reachmap-animation") as pool:
        # Playwright's sync API refuses a thread where an asyncio loop runs (Streamlit's): its own thread.
        done = pool.submit(_record, page, executable, width, height, want_vectors, fmt, fps,
                           lambda fraction, message: told.put((fraction, message)))
        while not (done.done() and told.empty()):
            try:
                fraction, message = told.get(timeout=0.05)
            except queue.Empty:
                continue
            say(fraction, message)
        data = done.result()
    say(1.0, "Done")
    return data


def _record(page: str, executable: str, width: int, height: int, want_vectors: bool, fmt: str, fps: int,
            say: Progress) -> bytes:
    from playwright.sync_api import Error as PlaywrightError

    try:
        say(0.05, "Starting the browser")
        with offline_tab(executable, width, height) as (context, tab):  # as a PNG: no file, no host
            show_page(tab, page, want_vectors)
            tab.wait_for_function("() => !!window.reachmapPlayback", timeout=RENDER_TIMEOUT_MS, polling="raf")
            count = tab.evaluate(_FRAMES_JS)
            if count <= 0:
                raise DashboardError("Nothing to animate: the selection has no dated events to play.")
            if count > MAX_FRAMES:
                raise ValidationError("frames", count, f"more than {MAX_FRAMES:,} frames: narrow the dates or "
                                      "take a longer step (step=7d, --step 7d)")

            def frames() -> Iterator[np.ndarray]:
                for k in range(count):
                    tab.evaluate(_SHOW_JS, k)
                    tab.evaluate(_PAINTED_JS)
                    shot = screenshot(context, tab)
                    say(0.1 + 0.85 * (k + 1) / count, f"Frame {k + 1} of {count}")
                    yield _rgb(shot)

            return _encode(frames(), fmt, fps, width, height)
    except PlaywrightError as exc:
        raise chromium_failed(exc, "the animation") from None


def _rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def _encode(frames: Iterator[np.ndarray], fmt: str, fps: int, width: int, height: int) -> bytes:
    out = io.BytesIO()
    if fmt == "gif":
        from PIL import Image

        images = [Image.fromarray(f).quantize(colors=255, method=Image.Quantize.MEDIANCUT) for f in frames]
        images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps),
                       loop=0, disposal=1)
        return out.getvalue()
    import av

    container_format, codec, options = _CODECS[fmt]
    # A file, not memory: MP4's "faststart" (the index first, so a browser plays while it downloads) rewrites it.
    with tempfile.TemporaryDirectory(prefix="reachmap-video-") as folder:
        path = Path(folder) / f"frames.{fmt}"
        with av.open(str(path), "w", format=container_format,
                     options={"movflags": options["movflags"]} if "movflags" in options else {}) as container:
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {k: v for k, v in options.items() if k != "movflags"}
            for image in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()
