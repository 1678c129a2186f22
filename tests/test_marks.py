"""The map's own marks: event markers and popups, shared places, colours, the legend (mapview.marks)."""

from __future__ import annotations

from dashboard.mapview import type_colour
from tests.conftest import make_event
from tests.test_mapview import MINSK, html_of, popups_of


def test_several_events_at_one_point_share_one_marker_listing_them_all():
    events = [make_event("a", title="First"), make_event("b", title="Second"), make_event("c", place=MINSK)]
    html = html_of(events)
    assert html.count("data-count=") == 2
    assert 'data-count=\\"2\\"' in html and "First" in html and "Second" in html


def test_markers_are_coloured_by_type_with_a_legend():
    html = html_of([make_event(event_type="missile strike"), make_event("d", event_type="diplomacy", place=MINSK)])
    assert type_colour("missile strike") in html and type_colour("diplomacy") in html
    assert 'class="rm-legend"' in html and "missile strike</div>" in html


def test_imported_precision_and_casualties_show_in_the_popup_escaped():
    event = make_event(attributes=(("geo_precision", "2"), ("fatalities", "<3>"), ("internal", "hidden")))
    popup = "".join(popups_of(html_of([event])))
    assert "geo_precision: 2" in popup and "fatalities: &lt;3&gt;" in popup and "internal" not in popup
