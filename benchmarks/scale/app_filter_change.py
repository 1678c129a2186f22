"""Time a filter change in the running app, from the click to the new clustered map being drawn.

The harness in run.py times pages outside Streamlit; this adds what the app itself costs (script rerun,
sidebar, tables, map remount). Start the app on a store with many events, then point this at it:

    REACHMAP_STORE_PATH=/path/to/big.gpkg streamlit run app.py --server.port 8599 &
    python benchmarks/scale/app_filter_change.py http://localhost:8599

It opens `?v=1&country=UA`, then adds Belarus and Russia in the Countries box, printing how long each
change took to show. Uses the system Chromium; waits for conditions, never sleeps.
"""

from __future__ import annotations

import sys
import time

from playwright.sync_api import sync_playwright

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
COUNT = ("() => { try { const f = [...document.querySelectorAll('iframe')]"
         ".filter(i => i.title.includes('st_folium')).pop();"
         " const b = f.contentWindow.reachmapBulk; return b && b.drawn ? b.count : null; } catch (e) { return null; } }")


def main(base_url: str) -> int:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(180_000)
        started = time.perf_counter()
        page.goto(f"{base_url}/?v=1&country=UA")
        page.wait_for_function(COUNT)
        print(f"first map: {page.evaluate(COUNT):,} events clustered after {time.perf_counter() - started:.2f} s")
        for name in ("Belarus", "Russia"):
            before = page.evaluate(COUNT)
            page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
            page.keyboard.type(name)
            started = time.perf_counter()
            page.keyboard.press("Enter")
            page.wait_for_function(f"() => {{ const c = ({COUNT})(); return c !== null && c !== {before}; }}")
            print(f"+ {name}: {page.evaluate(COUNT):,} events, visible after {time.perf_counter() - started:.2f} s")
            page.keyboard.press("Escape")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8501"))
