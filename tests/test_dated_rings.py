"""Dated rings: a ring holds over the days a system is (reported to be) at its origin; outside them it is
listed with its days and not drawn. Deployments are the stories' data, with their source and quote."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

import pytest

from dashboard import export
from dashboard.errors import DashboardError, ValidationError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.story import load_deployments
from dashboard.model import Validity
from dashboard.rings import in_range_rows
from dashboard.scene import build_scene, load_basemap
from dashboard.settings import story_dir
from dashboard.share import RingSpec, ViewState, from_query, to_query
from tests.conftest import make_event

STORY = story_dir() / "iskander-belarus-2022.json"
HANDOVER = date(2022, 6, 25)
BELARUS = RingSpec("BY", system="iskander-m", reach=True, since=HANDOVER)  # the story's deployment


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


# -- the data -------------------------------------------------------------------------------------

def test_the_story_dates_the_iskander_reach_from_belarus_from_the_announcement_approximately(catalogue):
    (deployment,) = catalogue.deployments
    assert (deployment.system, deployment.origin, deployment.reach) == ("iskander-m", "BY", True)
    valid = deployment.valid
    assert (valid.start, valid.end, valid.approximate) == (HANDOVER, None, True)
    assert "In the coming months" in valid.source.quote and valid.source.url.startswith("https://")
    assert valid.label == "from 25 Jun 2022 (approximate)" and valid.note
    # the quote is the story's own words for the handover event
    story = json.loads(STORY.read_text(encoding="utf-8"))
    handover = next(e for e in story["events"] if e["id"] == "iskander-m-transfer-to-belarus")
    assert handover["quote"] == valid.source.quote


@pytest.mark.parametrize("change, words", [
    ({"system": "no-such-system"}, "no-such-system"),
    ({"quote": ""}, "quote"),
    ({"source": "nobody"}, "nobody"),
    ({"from": "2022-25-06"}, "YYYY-MM-DD"),
    ({"from": "2023-01-01", "until": "2022-01-01"}, "before"),
    ({"from": None, "until": None}, "first day"),
    ({"approximate": "yes"}, "true or false"),
])
def test_a_story_with_a_bad_deployment_is_refused_with_a_sentence(tmp_path, change, words):
    data = json.loads(STORY.read_text(encoding="utf-8"))
    data["deployments"][0].update(change)
    (tmp_path / "story.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises((DashboardError, ValidationError), match=words):
        load_catalogue(story_dir=tmp_path)


def test_deployments_are_read_without_a_gazetteer(tmp_path):
    assert load_deployments(tmp_path) == ()
    assert load_deployments(story_dir())[0].id == "iskander-m-belarus-2022"


def test_a_span_overlaps_by_days_and_open_ends():
    valid = Validity(date(2022, 6, 25), date(2022, 12, 31))
    assert valid.overlaps(date(2022, 6, 25), date(2022, 6, 25)) and valid.overlaps(None, None)
    assert valid.overlaps(date(2022, 12, 31), None) and valid.overlaps(None, date(2022, 6, 25))
    assert not valid.overlaps(date(2022, 6, 1), date(2022, 6, 24))
    assert not valid.overlaps(date(2023, 1, 1), None)
    assert Validity(None, date(2022, 1, 1)).label == "until 1 Jan 2022"


# -- the link -------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, written", [
    (BELARUS, "reach=iskander-m@BY~2022-06-25.."),
    (RingSpec("Minsk", km=300, until=date(2023, 1, 31)), "ring=300@Minsk~..2023-01-31"),
    (RingSpec("Minsk", system="iskander-m", munition="cruise~2", since=date(2022, 6, 25), until=date(2022, 12, 31),
              name="Cruise, second source"),
     "ring=iskander-m:cruise~2@Minsk~2022-06-25..2022-12-31%7CCruise,%20second%20source"),
])
def test_a_rings_days_round_trip_through_the_link(spec, written):
    state = ViewState(start=date(2022, 6, 1), rings=(spec,))
    query = to_query(state)
    assert written in query
    decoded = from_query(query)
    assert decoded.state == state and not decoded.problems


@pytest.mark.parametrize("value, words", [
    ("iskander-m@BY~2022-06-25", "~FROM..UNTIL"),
    ("iskander-m@BY~..", "~FROM..UNTIL"),
    ("iskander-m@BY~2022-02-30..", "~FROM..UNTIL"),
    ("iskander-m@BY~2023-01-01..2022-01-01", "last day is before the first"),
    ("iskander-m@BY~1800-01-01..", "days run from 1900-01-01"),
])
def test_a_broken_span_is_one_sentence_and_the_ring_stays_undated(value, words):
    decoded = from_query(f"?v=1&reach={value}")
    assert decoded.state.rings == (RingSpec("BY", system="iskander-m", reach=True),)
    (problem,) = decoded.problems
    assert words in problem and "drawn whatever the dates" in problem


def test_an_origin_cannot_hold_the_days_marker():
    with pytest.raises(ValidationError, match="'~'"):
        RingSpec("Minsk~x", km=10)
    with pytest.raises(ValidationError, match="before"):
        RingSpec("Minsk", km=10, since=date(2022, 2, 1), until=date(2022, 1, 1))


# -- the view -------------------------------------------------------------------------------------

def test_outside_its_days_a_ring_is_listed_not_drawn_and_inside_them_it_is(gazetteer, catalogue):
    minsk = RingSpec("Minsk", system="iskander-m")
    before = build_scene(ViewState(start=date(2022, 6, 1), end=date(2022, 6, 24), rings=(minsk, BELARUS)), [],
                         gazetteer, catalogue)
    assert [r.label for r in before.rings] == ["Iskander-M, 500 km from Minsk"]
    (dormant,) = before.dormant
    assert dormant.label == "Iskander-M, 500 km from Belarus, from 25 Jun 2022 (approximate)"
    assert dormant.valid == catalogue.deployments[0].valid  # the story's source and quote come with it
    for start, end in ((HANDOVER, HANDOVER), (None, None), (date(2023, 1, 1), None), (None, HANDOVER)):
        scene = build_scene(ViewState(start=start, end=end, rings=(minsk, BELARUS)), [], gazetteer, catalogue)
        assert len(scene.rings) == 2 and not scene.dormant, (start, end)
    # a scene copied with other dates sorts its rings again
    later = replace(before, state=before.state.with_(end=None))
    assert len(later.rings) == 2 and not later.dormant


def test_a_span_the_stories_do_not_declare_is_the_links_own(gazetteer, catalogue):
    spec = RingSpec("BY", system="iskander-m", reach=True, since=date(2022, 7, 1))
    (ring,) = build_scene(ViewState(rings=(spec,)), [], gazetteer, catalogue).rings
    assert ring.valid == Validity(date(2022, 7, 1), None) and not ring.valid.approximate
    named = build_scene(ViewState(rings=(replace(spec, name="Mine"),)), [], gazetteer, catalogue).rings[0]
    assert named.label == "Mine" and named.valid == ring.valid


def test_the_in_range_table_says_from_when(gazetteer, catalogue):
    scene = build_scene(ViewState(rings=(BELARUS, RingSpec("Minsk", km=300))), [make_event()], gazetteer, catalogue)
    belarus, minsk = sorted(scene.rings, key=lambda r: r.kind == "ring")
    rows = in_range_rows(belarus, gazetteer, scene.events, 500_000)
    kyiv = next(r for r in rows if r.name == "Kyiv")
    assert (kyiv.since, kyiv.until) == ("2022-06-25 (approximate)", "")
    assert any(r.kind == "event" and r.since == "2022-06-25 (approximate)" for r in rows)
    assert all((r.since, r.until) == ("", "") for r in in_range_rows(minsk, gazetteer, scene.events, 500_000))


# -- exports --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scenes(gazetteer, catalogue):
    rings = (RingSpec("Minsk", km=300), BELARUS)
    before = build_scene(ViewState(end=date(2022, 6, 24), rings=rings), [make_event(day=date(2022, 6, 20))],
                         gazetteer, catalogue)
    after = build_scene(ViewState(start=HANDOVER, rings=rings), [make_event()], gazetteer, catalogue)
    return before, after


def test_geojson_carries_a_rings_days_and_names_the_rings_not_drawn(scenes):
    before, after = scenes
    doc = json.loads(export.to_geojson(after))
    reach = next(f["properties"] for f in doc["features"] if f["properties"].get("kind") == "reach")
    assert (reach["valid_from"], reach["valid_until"], reach["valid_approximate"]) == ("2022-06-25", "", True)
    assert "In the coming months" in reach["valid_quote"] and reach["valid_source_url"].startswith("https://")
    plain = next(f["properties"] for f in doc["features"] if f["properties"].get("kind") == "ring")
    assert (plain["valid_from"], plain["valid_approximate"]) == ("", False)
    assert "rings_not_drawn" not in doc["reachmap"]
    doc = json.loads(export.to_geojson(before))
    assert [f["properties"].get("kind") for f in doc["features"]] == ["ring", None]
    (listed,) = doc["reachmap"]["rings_not_drawn"]
    assert listed["label"].endswith("from 25 Jun 2022 (approximate)") and listed["valid_from"] == "2022-06-25"


def test_kml_and_the_html_page_say_which_ring_is_not_drawn(scenes, gazetteer):
    before, after = scenes
    root = ET.fromstring(export.to_kml(before))
    ns = {"k": export.KML_NS}
    assert "Not drawn, outside these dates: Iskander-M, 500 km from Belarus" in root.find("k:Document/k:description", ns).text
    root = ET.fromstring(export.to_kml(after))
    rings = root.findall("k:Document/k:Folder/k:Placemark", ns)
    assert any("Holds: from 25 Jun 2022 (approximate)" in (p.find("k:description", ns).text or "") for p in rings)
    page = export.to_html(before, load_basemap(gazetteer))
    assert "Not drawn, outside these dates: Iskander-M, 500 km from Belarus, from 25 Jun 2022 (approximate)." in page
