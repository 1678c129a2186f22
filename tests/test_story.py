"""The seed story is complete, every event keeps its source and quote, and places agree with GeoNames."""

from __future__ import annotations

import json

import pytest

from dashboard.errors import DashboardError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest import open_store
from dashboard.ingest.story import load_story
from dashboard.settings import story_dir

STORY = story_dir() / "iskander-belarus-2022.json"


@pytest.fixture(scope="module")
def story(gazetteer):
    return load_story(STORY, gazetteer)


def test_every_place_of_the_article_is_there(story):
    by_name = {p.name: p for p in story.places}
    for name in ("Desna", "Chernihiv", "Chernihiv Oblast", "Saint Petersburg", "Minsk", "Moscow", "Belarus",
                 "Ukraine", "Russia", "Poland", "Lithuania", "Belarus–Ukraine border"):
        assert name in by_name, name
    assert by_name["Desna"].geonameid == 710071 and by_name["Desna"].admin1 == "Chernihiv Oblast"
    assert by_name["Belarus"].geometry.geom_type in ("Polygon", "MultiPolygon")
    border = by_name["Belarus–Ukraine border"]
    assert border.kind == "border" and "LineString" in border.geometry.geom_type


@pytest.mark.parametrize("words", [
    ("St. Petersburg",), ("Iskander",), ("Desna",), ("Su-25",), ("nuclear-capable", "flights"),
    ("Poland", "Lithuania"), ("invade",), ("election",), ("sanctions", "Lukashenko"), ("sanctions", "Russia"),
])
def test_every_event_of_the_article_is_there(story, words):
    def text(e):
        return f"{e.title} {e.description}".lower()
    assert any(all(w.lower() in text(e) for w in words) for e in story.events), words


def test_every_event_keeps_its_source_and_quote(story):
    for event in story.events:
        assert event.source.url.startswith("https://"), event.id
        assert event.source.publisher and event.source.title
        assert len(event.source.quote) > 20, event.id


def test_the_key_dates(story):
    by_id = {e.id: e for e in story.events}
    talks = by_id["putin-lukashenko-talks-st-petersburg-2022-06-25"]
    assert (talks.time.start.isoformat(), talks.time.precision) == ("2022-06-25", "day")
    handover = by_id["iskander-m-transfer-to-belarus"]
    assert handover.time.precision == "span" and handover.time.text == "in the coming months"
    assert handover.time.note  # the chosen span is stated
    strike = by_id["desna-missile-strike-2022-06-25"]
    assert strike.place.geonameid == 710071


def test_the_story_resolves_desna_to_the_chernihiv_village_not_the_kyiv_district(story):
    own = Gazetteer.open()  # not the session's: its story places would change what later tests resolve
    own.add_places(story.places)
    assert own.resolve("Desna").geonameid == 710071


def test_a_story_that_moves_a_geonames_place_is_refused(tmp_path, gazetteer):
    data = json.loads(STORY.read_text(encoding="utf-8"))
    data["places"]["desna"]["lat"] = 49.28  # the Vinnytsia-region Desna's latitude
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DashboardError, match="710071"):
        load_story(bad, gazetteer)


def test_a_new_store_is_seeded_with_the_story(store_location, gazetteer):
    with open_store(gazetteer=gazetteer) as store:
        assert store.count() == len(json.loads(STORY.read_text(encoding="utf-8"))["events"])
        assert store.origins() == ["story:iskander-belarus-2022"]
        assert store.get_event("desna-missile-strike-2022-06-25").source.quote
    with open_store(gazetteer=gazetteer) as store:  # reopening does not seed twice
        assert store.count() == 13
