"""The playback as MP4, WebM and GIF: drawn by the real Chromium, encoded, decoded again and checked."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from dashboard import export, settings
from dashboard.errors import DashboardError, ValidationError
from dashboard.ingest import open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.scene import build_scene, load_basemap
from dashboard.share import from_query

JUNE = "?v=1&from=2022-06-01&to=2022-06-30&reach=iskander-m@BY~2022-06-25.."


def _frames_mp4(data: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(data)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def test_the_cli_writes_an_mp4_of_june_2022_a_frame_a_day_and_the_reach_appears_on_the_25th(
        chromium_path, store_path, tmp_path):
    out = tmp_path / "june.mp4"
    env = {**os.environ, "REACHMAP_STORE_PATH": str(store_path)}
    done = subprocess.run([sys.executable, "-m", "dashboard", "export", JUNE, "--format", "mp4", "-o", str(out),
                           "--step", "1d", "--window", "7d", "--fps", "4"], cwd=settings.PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    import av

    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 1280, 720)
        assert float(stream.average_rate) == 4
    frames = _frames_mp4(out.read_bytes())
    assert len(frames) == 30  # 1 to 30 June
    # the reach from Belarus appears from 25 June (frame 24) and five events with it: much more changes
    # between the 24th and the 25th than between two quiet days (only the label and the strip's cursor)
    assert _diff(frames[23], frames[24]) > 4 * _diff(frames[3], frames[4])
    assert _diff(frames[3], frames[4]) > 0  # the frame's days are burnt in: no two frames are the same


@pytest.fixture
def june_scene(store_path, gazetteer):
    catalogue = load_catalogue()
    with open_store(gazetteer=gazetteer) as store:
        return build_scene(from_query(JUNE + "&play=2022-06-25&window=all&step=7d").state, store.events(),
                           gazetteer, catalogue), load_basemap(gazetteer)


def test_webm_and_gif_take_the_links_window_and_step(chromium_path, june_scene):
    scene, basemap = june_scene
    webm = export.export(scene, basemap, "webm", width=640, height=360, fps=2)
    frames = _frames_mp4(webm)
    assert len(frames) == 6 and frames[0].shape == (360, 640, 3)  # 1, 8, 15, 22, 29 and 30 June
    from PIL import Image

    gif = Image.open(io.BytesIO(export.export(scene, basemap, "gif", width=640, height=360, fps=2)))
    assert gif.n_frames == 6 and gif.size == (640, 360) and gif.info["duration"] == 500


@pytest.mark.parametrize("kw, words", [
    ({"width": 641, "height": 360}, "even"), ({"fps": 0}, "frames a second"), ({"fps": 31}, "frames a second"),
    ({"width": 100}, "pixels"),
])
def test_bad_animation_settings_are_one_sentence(june_scene, kw, words):
    scene, basemap = june_scene
    with pytest.raises(ValidationError, match=words):
        export.export(scene, basemap, "mp4", **kw)


def test_too_many_frames_is_refused_with_what_to_do(chromium_path, store_path, gazetteer):
    with open_store(gazetteer=gazetteer) as store:  # the whole story: 1992 to 2022, a frame a day
        scene = build_scene(from_query("?v=1").state, store.events(), gazetteer, load_catalogue())
    with pytest.raises(DashboardError, match="longer step"):
        export.export(scene, load_basemap(gazetteer), "gif")


def test_chromium_plays_the_mp4_and_the_webm(browser, june_scene):
    import base64

    scene, basemap = june_scene
    page = browser.new_page()
    try:
        for fmt, mime in (("mp4", "video/mp4"), ("webm", "video/webm")):
            data = base64.b64encode(export.export(scene, basemap, fmt, width=640, height=360, fps=2)).decode()
            page.set_content(f'<video id="v" muted src="data:{mime};base64,{data}"></video>')
            got = page.evaluate("""() => new Promise(done => { const v = document.getElementById('v');
                v.onloadeddata = () => done({w: v.videoWidth, h: v.videoHeight, s: v.duration});
                v.onerror = () => done({error: v.error && v.error.code}); v.load(); })""")
            assert got == {"w": 640, "h": 360, "s": 3.0}, (fmt, got)  # 6 frames at 2 a second
    finally:
        page.close()
