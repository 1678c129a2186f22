"""The Map page's popups link each event's editor (events?edit=<id>); exports and snapshots have no such link."""

from __future__ import annotations

import html
import re

import pytest

from dashboard.mapview import Basemap, MapView, build_map
from dashboard.mapview.marks import popup_html
from tests.conftest import make_event
from tests.security.payloads import PAYLOADS

EDIT_LINK = re.compile(r'<a class="rm-edit" href="([^"]*)">Edit</a>')


def test_each_event_of_a_popup_links_its_own_editor():
    here = [make_event("desna-missile-strike-2022-06-25"), make_event("article:0123abcd", title="Second")]
    found = EDIT_LINK.findall(popup_html(here, "events?edit="))
    assert found == ["events?edit=desna-missile-strike-2022-06-25", "events?edit=article%3A0123abcd"]


def test_without_an_editor_address_a_popup_has_no_edit_link():
    assert 'class="rm-edit"' not in popup_html([make_event()])
    m = build_map([make_event(), make_event("e2")], [], Basemap())  # an export's map
    assert 'class=\\"rm-edit\\"' not in m.get_root().render() and "edit=e2" not in m.get_root().render()


def test_the_map_given_an_editor_address_carries_the_links():
    m = build_map([make_event(), make_event("e2")], [], Basemap(), MapView(edit_href="events?edit="))
    page = m.get_root().render()  # popups are JSON strings in the page's script
    assert 'class=\\"rm-edit\\" href=\\"events?edit=e2\\"' in page


@pytest.mark.parametrize("payload", PAYLOADS[:40])
def test_a_hostile_event_id_stays_one_inert_link_address(payload):
    found = EDIT_LINK.findall(popup_html([make_event(payload)], "events?edit="))
    assert len(found) == 1  # no attribute or tag broke out of the href
    address = html.unescape(found[0])
    assert address.startswith("events?edit=") and not re.search(r"[<>\"'{}$`\s\\]", address)
