"""Twenty people at once (issue 11, item 8): no errors on any page or in the server log, every snapshot reopens.

The sessions are those of benchmarks/concurrency.py (open the map, add a country, freeze a snapshot, reopen
it) on an app server of this test's own, whose log is read for tracebacks. The concurrent part is bounded:
sessions still busy at the deadline stop where they are (how fast they were is the benchmark's business,
not this test's). Then one more session goes through every step alone, and every snapshot in the store —
also those frozen by a session stopped before it saw the link — is opened and must show its frozen title.
"""

from __future__ import annotations

import asyncio

from dashboard.gazetteer import default_index_path
from dashboard.ingest import open_store

SESSIONS = 20
DEADLINE_S = 45.0                 # the concurrent part (the whole test takes about 2-3 minutes)
STEP_TIMEOUT_S = DEADLINE_S + 30  # longer than the deadline: only the deadline stops a slow session
REOPEN_TIMEOUT_S = 30.0


async def _titles_shown(chromium: str, links: dict[str, str]) -> dict[str, str]:
    """The h1 each snapshot link shows once its map is painted (or why it showed none), one after another."""
    from playwright.async_api import async_playwright

    from benchmarks.concurrency import ARGS, MAP_COUNT

    shown = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = await browser.new_page()
            page.set_default_timeout(REOPEN_TIMEOUT_S * 1000)
            for title, link in links.items():
                try:
                    await page.goto(link)
                    await page.wait_for_function(MAP_COUNT, polling=100)
                    shown[title] = (await page.locator("h1").first.inner_text()).strip()
                    if await page.locator("[data-testid='stException']").count():
                        shown[title] += " (and an exception box)"
                except Exception as exc:  # reported in the assertion, with the others
                    shown[title] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        finally:
            await browser.close()
    return shown


def _errors(sessions) -> dict[int, list[str]]:
    return {s.index: s.failures + s.console_errors + [f"{s.exception_boxes} exception boxes"] * bool(s.exception_boxes)
            for s in sessions if s.errors}


def test_twenty_sessions_at_once_see_no_error_and_every_snapshot_reopens(chromium_path, gazetteer, tmp_path):
    from benchmarks.concurrency import run_sessions, serve, tracebacks

    with serve(tmp_path, default_index_path()) as (url, _, log):
        warm, _ = asyncio.run(run_sessions(url, 1, STEP_TIMEOUT_S, chromium_path, steps=1))  # seeds the store
        crowd, _ = asyncio.run(run_sessions(url, SESSIONS, STEP_TIMEOUT_S, chromium_path, deadline_s=DEADLINE_S))
        after, _ = asyncio.run(run_sessions(url, 1, STEP_TIMEOUT_S, chromium_path, label="Alone afterwards"))
        with open_store(tmp_path / "store.gpkg", gazetteer=gazetteer) as store:
            frozen = {info.title: f"{url}/?snapshot={info.id}" for info in store.snapshots()}
        shown = asyncio.run(_titles_shown(chromium_path, frozen))
        server_errors = tracebacks(log)

    assert _errors(warm + crowd + after) == {}
    assert server_errors == []
    assert after[0].reopen_s is not None  # the lone session went through every step
    assert {s.title for s in crowd + after if s.link} <= set(frozen)
    assert {title: h1 for title, h1 in shown.items() if h1 != title} == {}
