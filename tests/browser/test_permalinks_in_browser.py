"""The nastiest fuzzed permalinks opened in Chromium on the running app: a sentence naming the field, never a crash.

Before issue 11, 8 of 126 fuzzed links showed a Streamlit exception box instead (a date far from today
reached the date slider and raised StreamlitJSNumberBoundsError; a start beyond the data raised "value is
greater than the max_value"). Each link here must leave the page working: no exception box, the warning
that names what was ignored, and the page drawn to its end (the timeline, after the map).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'

# (query, what a warning on the page must name; "" when the link is valid and must simply be shown)
LINKS = [
    ("from=0001-01-01", "from=0001-01-01"),
    ("from=2022-06-01&to=9999-12-31", "to=9999-12-31"),
    ("from=2099-01-01", ""),  # valid, after all the data: the slider must still reach it
    ("to=1900-01-01", ""),
    ("ring=19999.9@0,0&reach=19999@RU", "ring=19999.9@0,0"),
    ("near=Chernihiv:nan", "near=Chernihiv:nan"),
    ("near=Chernihiv:0.001&c=89,0&z=nan", "near=Chernihiv:0.001"),
    ("reach=1@RU", "reach of 1 km from RU"),  # refused by the vertex budget, in a sentence
    ("ring=10000@AQ&z=1", ""),                # 10,000 km from Antarctica: drawn in about 2 s
    ("q=" + quote("${alert(1)}{{7*7}}\x00\u202e" + "x" * 300) + "&z=99", "z=99"),
    ("country=" + ",".join(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLM"), "country codes after"),
    ("&".join(f"type=t{i}" for i in range(500)) + "&area=0 0;1 1;nan nan", "area=0 0;1 1;nan nan"),
    ("&".join(f"ring=bad{i}" for i in range(300)), "more fields that could not be used"),
]


def _done(page) -> None:
    """Wait until the page ran to its end (the timeline comes after the map) or showed an exception."""
    page.page.locator(f'{EXCEPTION}, h3:has-text("Timeline")').first.wait_for()


@pytest.mark.parametrize("query, named", LINKS, ids=[q[:40] for q, _ in LINKS])
def test_a_hostile_permalink_shows_a_sentence_not_an_exception(page, app_url, query, named):
    page.open(f"{app_url}/?v=1&{query}")
    _done(page)
    assert page.page.locator(EXCEPTION).count() == 0, page.page.locator(EXCEPTION).first.inner_text()
    if named:
        page.page.locator(ALERT, has_text=named).first.wait_for()
    page.wait_for_map()  # the map drew too; and the reruns it causes raised nothing either
    assert page.page.locator(EXCEPTION).count() == 0, page.page.locator(EXCEPTION).first.inner_text()
    assert page.external_requests() == []
