"""Playback in the running app: play the story's June, the timeline marks the frame, a paused frame goes
into the URL, and its permalink reopens that frame."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import Page

JUNE = "/?v=1&from=2022-06-15&to=2022-06-30&reach=iskander-m@BY~2022-06-25.."
FRAME_BAND = ("() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot &&"
              " e.shadowRoot.querySelector('.rm-timeline rect.frame'));"
              " const f = h && h.shadowRoot.querySelector('rect.frame');"
              " return f ? [f.getAttribute('visibility'), parseFloat(f.getAttribute('x')) + parseFloat(f.getAttribute('width'))]"
              " : null; }")  # visibility, right edge


def _playback(page: Page) -> dict:
    return page.page.evaluate("() => JSON.parse(JSON.stringify(window.reachmapPlayback))")


def test_play_pause_and_the_permalink_of_the_paused_frame(browser, app_url):
    page = Page(browser, 1280, 1400)
    try:
        page.open(app_url + JUNE).wait_for_map()
        page.page.wait_for_function("() => window.reachmapPlayback && window.reachmapPlayback.frames === 16")
        assert _playback(page)["k"] == -1  # every selected event until the user plays
        page.map_frame.locator(".rm-play-toggle").click()
        page.page.wait_for_function("() => window.reachmapPlayback.k >= 2")
        page.map_frame.locator(".rm-play-toggle").click()  # pause
        page.page.wait_for_function("() => !window.reachmapPlayback.playing && location.search.includes('play=')")
        paused = _playback(page)
        query = parse_qs(urlparse(page.page.url).query)
        assert query["play"] == [paused["to"]] and "window" not in query  # 7 days is the default
        page.page.get_by_text("Drag across the bars").wait_for()
        page.page.wait_for_function(f"() => ({FRAME_BAND})() && ({FRAME_BAND})()[0] === 'visible'")
        before = page.page.evaluate(FRAME_BAND)[1]
        page.map_frame.locator(".rm-play-next").click()
        page.page.wait_for_function(f"() => ({FRAME_BAND})()[1] > {before}")  # the band follows the frame
        assert not paused["rings"][0] or paused["to"] >= "2022-06-25"
        url = page.page.url
    finally:
        page.close()
    again = Page(browser, 1280, 1000)
    try:  # the permalink reopens the frame, paused
        again.open(url).wait_for_map()
        again.page.wait_for_function("() => window.reachmapPlayback && window.reachmapPlayback.k >= 0")
        reopened = _playback(again)
        assert reopened["to"] == parse_qs(urlparse(url).query)["play"][0] and not reopened["playing"]
        assert reopened["rings"] == [reopened["to"] >= "2022-06-25"]  # the reach holds from 25 June
    finally:
        again.close()
