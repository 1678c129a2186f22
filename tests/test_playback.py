"""Playback: the paused frame in the link, the control's days, and the frames drawn in a real Chromium."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from dashboard import export
from dashboard.errors import ValidationError
from dashboard.ingest import open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.mapview.playback import Timeline, epoch_day, frame_days
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import build_scene, load_basemap
from dashboard.table import EventTable
from dashboard.share import Frame, ViewState, from_query, to_query
from tests.conftest import CHROMIUM_ARGS

STORY_JUNE = "?v=1&from=2022-06-15&to=2022-06-30&reach=iskander-m@BY~2022-06-25.."


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


# -- the link -------------------------------------------------------------------------------------

@pytest.mark.parametrize("frame, written", [
    (Frame(date(2022, 6, 25)), "play=2022-06-25"),
    (Frame(date(2022, 6, 25), window=0, step=7), "play=2022-06-25&window=all&step=7d"),
    (Frame(date(2022, 6, 25), window=30), "play=2022-06-25&window=30d"),
])
def test_a_paused_frame_round_trips_through_the_link(frame, written):
    state = ViewState(start=date(2022, 6, 1), play=frame)
    assert to_query(state).endswith(written)
    decoded = from_query(to_query(state))
    assert decoded.state == state and not decoded.problems


@pytest.mark.parametrize("query, play, words", [
    ("play=2022-13-01", None, "not a date"),
    ("play=2022-06-25&window=0d", Frame(date(2022, 6, 25)), "window=0d"),
    ("play=2022-06-25&step=all", Frame(date(2022, 6, 25)), "step=all"),
    ("play=2022-06-25&window=9999d", Frame(date(2022, 6, 25)), "3660"),
    ("window=7d", None, "belongs to a playback frame"),
])
def test_a_broken_frame_is_one_sentence(query, play, words):
    decoded = from_query("?v=1&" + query)
    assert decoded.state.play == play
    (problem,) = decoded.problems
    assert words in problem


def test_a_frame_is_checked_when_made():
    with pytest.raises(ValidationError, match="window"):
        Frame(date(2022, 6, 25), window=-1)
    with pytest.raises(ValidationError, match="step"):
        Frame(date(2022, 6, 25), step=0)
    assert frame_days(date(2022, 6, 25), 7, date(2022, 6, 22)) == (date(2022, 6, 22), date(2022, 6, 25))
    assert frame_days(date(2022, 6, 25), 7, date(2022, 6, 1)) == (date(2022, 6, 19), date(2022, 6, 25))
    assert frame_days(date(2022, 6, 25), 0, date(2022, 6, 1)) == (date(2022, 6, 1), date(2022, 6, 25))


def test_only_the_apps_own_map_puts_a_paused_frame_into_the_url(gazetteer, catalogue):
    from dashboard.scene import scene_map

    scene = build_scene(ViewState(play=Frame(date(2022, 6, 25))), _many(3), gazetteer, catalogue)
    basemap = load_basemap(gazetteer)
    live = scene_map(scene, basemap).get_root().render()
    frozen = scene_map(scene, basemap, interactive=False).get_root().render()
    assert '"remember":true' in live and '"remember":false' in frozen


def test_the_strip_counts_events_per_day_from_the_first_day():
    days = np.array([epoch_day(date(2022, 6, d)) for d in (1, 15, 15, 20, 30)])
    line = Timeline.of_days(days, date(2022, 6, 15), date(2022, 6, 25))
    assert (line.first, line.last) == (epoch_day(date(2022, 6, 15)), epoch_day(date(2022, 6, 25)))
    assert line.counts[0] == 3 and line.counts[5] == 1 and sum(line.counts) == 4  # 1 Jun counts from 15 Jun
    assert Timeline.of_days(np.array([], dtype=np.int64)) is None


# -- in the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def story_page(store_path_module, gazetteer, catalogue):
    def page(query: str) -> str:
        with open_store(gazetteer=gazetteer) as store:
            scene = build_scene(from_query(query).state, store.events(), gazetteer, catalogue)
        return export.to_html(scene, load_basemap(gazetteer))
    return page


@pytest.fixture(scope="module")
def store_path_module(tmp_path_factory):
    """A store of the story of its own (conftest's store_path, for a module)."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("play") / "store.gpkg"
        mp.setenv("REACHMAP_STORE_PATH", str(path))
        yield path


def _open(browser, tmp_path, html: str):
    file = tmp_path / "page.html"
    file.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(file.as_uri())
    page.wait_for_function("() => window.reachmapPlayback && window.reachmapPlayback.frames > 0")
    return page, errors


def _state(page) -> dict:
    return page.evaluate("JSON.parse(JSON.stringify(window.reachmapPlayback))")


def test_the_story_plays_and_the_reach_from_belarus_appears_from_25_june(browser, story_page, tmp_path):
    page, errors = _open(browser, tmp_path, story_page(STORY_JUNE + "&play=2022-06-24"))
    page.wait_for_function("() => window.reachmapPlayback.k >= 0")
    s = _state(page)
    assert (s["from"], s["to"], s["frames"], s["rings"]) == ("2022-06-18", "2022-06-24", 16, [False])
    assert s["shown"] == 1  # the Kaliningrad transit ban (18 Jun); spans begun before 15 Jun count from 15 Jun
    # the markers gave way to the clustered copy of the same events, inside the same layer group
    assert page.locator(".rm-event").count() == 0
    page.click(".rm-play-next")
    s = _state(page)
    assert (s["to"], s["rings"]) == ("2022-06-25", [True]) and s["shown"] == 5  # the day of the story
    assert "19–25 Jun 2022 · 5 events" in page.inner_text(".rm-play-label")
    page.click(".rm-play-toggle")  # play to the end: the frames advance by themselves
    page.wait_for_function("() => window.reachmapPlayback.k === 15 && !window.reachmapPlayback.playing", timeout=30_000)
    assert _state(page)["to"] == "2022-06-30"
    page.click(".rm-play-stop")  # every selected event again, as markers
    page.wait_for_function("() => document.querySelectorAll('.rm-event').length > 0")
    assert _state(page)["k"] == -1 and not errors
    page.close()


def test_a_cumulative_frame_holds_every_event_begun_by_its_day(browser, story_page, tmp_path):
    page, errors = _open(browser, tmp_path, story_page(STORY_JUNE + "&play=2022-06-30&window=all"))
    page.wait_for_function("() => window.reachmapPlayback.k >= 0")
    s = _state(page)
    assert (s["from"], s["to"], s["shown"]) == ("2022-06-15", "2022-06-30", 9) and not errors
    page.close()


def _many(n: int) -> list[Event]:
    rng = np.random.default_rng(3)
    src = Source("Synthetic", "Test", "https://example.org/x", date(2023, 1, 1), "a quote")
    out = []
    for i in range(n):
        day = date(2022, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        place = Place.at(f"p{i}", f"Place {i}", "village", float(rng.uniform(24, 40)), float(rng.uniform(45, 55)),
                         country="UA")
        out.append(Event(f"e{i}", f"Event {i}", "battle", TimeSpan(day, day), place, src))
    return out


def test_each_frame_of_a_clustered_layer_holds_exactly_its_days_events(browser, gazetteer, catalogue, tmp_path):
    events = _many(6_000)  # above BULK_THRESHOLD: the clustered layer itself plays
    scene = build_scene(ViewState(play=Frame(date(2022, 3, 10), window=30)), events, gazetteer, catalogue)
    page, errors = _open(browser, tmp_path, export.to_html(scene, load_basemap(gazetteer)))
    page.wait_for_function("() => window.reachmapPlayback.k >= 0 && window.reachmapPlayback.shown > 0")
    starts = np.array([epoch_day(e.time.start) for e in events])
    first = starts.min()
    for k in (0, 40, 100, 200):
        page.evaluate(f"window.reachmapPlayback.show({k}, {json.dumps(k % 2 == 0)})")
        s = _state(page)
        day = first + k
        expected = int(np.count_nonzero((starts >= max(first, day - 29)) & (starts <= day)))
        assert s["shown"] == expected and s["to"] == str(np.datetime64(int(day), "D")), k
    assert not errors
    page.close()


def test_a_map_clustered_on_the_server_says_it_cannot_play_in_a_small_greyed_button(gazetteer):
    import folium

    from dashboard.mapview import SERVED_CANNOT_PLAY, Play, bulk_layer, grid

    table = EventTable.from_events(_many(300))
    group = bulk_layer(table, np.arange(300), grid.view_around(49.0, 31.0, 6, 1200, 620), play=Play())
    m = folium.Map(tiles=None)
    group.add_to(m)
    page = m.get_root().render()
    assert json.dumps(SERVED_CANNOT_PLAY)[1:-1] in page and "rm-play-off" in page


def test_a_site_s_dot_comes_and_goes_with_its_dated_ring(browser, story_page, tmp_path, monkeypatch, gazetteer):
    from dashboard.ingest.sites import save_sites
    from dashboard.model import Site, Source, Validity

    monkeypatch.setenv("REACHMAP_SITES_DIR", str(tmp_path / "sites"))
    source = Source("A report", "An agency", "https://example.org/r", date(2022, 6, 26), "The unit is at Minsk.")
    save_sites((Site("Minsk site", 27.56667, 53.9, "source coordinates", source, km=300.0,
                     valid=Validity(date(2022, 6, 25), None)),), tmp_path / "sites", "dated")
    page, errors = _open(browser, tmp_path, story_page("?v=1&from=2022-06-15&to=2022-06-30&sites=dated&play=2022-06-24"))
    page.wait_for_function("() => window.reachmapPlayback.k >= 0")
    dot = page.locator("path.rm-site-mark")
    assert _state(page)["rings"] == [False] and dot.count() == 1 and not dot.is_visible()
    page.click(".rm-play-next")  # 25 June: the site is reported there from that day
    assert _state(page)["rings"] == [True] and dot.is_visible()
    page.click(".rm-play-stop")
    assert dot.is_visible() and not errors
    page.close()
