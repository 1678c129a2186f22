"""The article geoparser (issue 6): places with their disambiguation rules, dates, systems, events, bad input."""

from __future__ import annotations

import math
import sys
from datetime import date
from pathlib import Path

import pytest

from dashboard.errors import ValidationError
from dashboard.geoparse import Geoparse, Geoparser
from dashboard.ingest.catalogue import load_catalogue

PUBLISHED = date(2022, 6, 25)  # a Saturday: the day of the seed story

# The seed story's sentences, as its sources wrote them (geodata/stories/iskander-belarus-2022.json).
SEED_ARTICLE = (
    "Ukraine reported a massive missile strike on the village of Desna in the Chernihiv region, launched from "
    "the territory of Belarus, on Saturday. \"In the coming months, we will supply Belarus with Iskander-M "
    "tactical missile systems which, as it is known, can use both ballistic and cruise missiles,\" TASS quoted "
    "Putin as saying to Lukashenko on Saturday during a televised meeting in St Petersburg. The systems have a "
    "range of up to 500 km. At a meeting with Putin in St Petersburg, Belarus President Alexander Lukashenko "
    "expressed concern about the \"aggressive\" policies of its neighbours Lithuania and Poland. Lithuania's "
    "state railways have banned the transit of sanctioned Russian goods to and from the exclave of Kaliningrad. "
    "Russia launched its February 24 invasion in part from Belarusian territory, which borders Ukraine to the "
    "north, across the Belarus-Ukraine border. Sunday demonstrations in the capital of Minsk have repeatedly "
    "brought out crowds of more than 100,000. Russia's invasion triggered a barrage of Western sanctions "
    "against Moscow."
)


@pytest.fixture(scope="module")
def parser(gazetteer) -> Geoparser:
    return Geoparser(gazetteer, load_catalogue())


def places(parser: Geoparser, text: str, published: date | None = PUBLISHED) -> dict[str, str]:
    """Mention text → key, for compact assertions (a repeated mention keeps its first key)."""
    found: dict[str, str] = {}
    for p in parser.parse(text, published).places:
        found.setdefault(p.mention, p.key)
    return found


# ------------------------------------------------------------------------------------- the seed story

def test_seed_story_places_all_found_and_resolved(parser):
    found = places(parser, SEED_ARTICLE)
    assert found["Desna"] == "geonames:710071"
    assert found["Chernihiv region"] == "admin1:UA.02"
    assert found["St Petersburg"] == "geonames:498817"
    assert found["Minsk"] == "geonames:625144"
    assert found["Moscow"] == "geonames:524901"
    assert found["Kaliningrad"] == "geonames:554234"
    assert found["Belarus-Ukraine border"] == "border:BY-UA"
    for name, iso2 in [("Ukraine", "UA"), ("Belarus", "BY"), ("Lithuania", "LT"), ("Poland", "PL"),
                       ("Russia", "RU")]:
        assert found[name] == f"country:{iso2}"
    assert not {"Putin", "Lukashenko", "Alexander Lukashenko", "TASS", "Russian", "Belarusian",
                "Iskander-M", "Western"} & set(found)


def test_brief_sentence_resolves_desna(parser):
    text = ("a massive missile strike on the village of Desna in the Chernihiv region, launched from the "
            "territory of Belarus")
    result = parser.parse(text, PUBLISHED)
    desna = result.places[0]
    assert (desna.mention, desna.geonameid, desna.kind, desna.iso2) == ("Desna", 710071, "village", "UA")
    assert desna.confidence >= 0.8
    assert 13546519 in {c.geonameid for c in desna.alternatives}  # Kyiv's Desna is offered as a runner-up
    assert text[desna.start:desna.end] == "Desna"


def test_story_places_take_over_when_added(parser, gazetteer):
    from dashboard.ingest import open_gazetteer

    with_story = Geoparser(open_gazetteer(), load_catalogue())
    result = with_story.parse("A missile strike on the village of Desna in the Chernihiv region.", PUBLISHED)
    assert [p.key for p in result.places] == ["geonames:710071", "geonames:710734"]  # the story's own oblast


# ------------------------------------------------------------------------- disambiguation, one by one

@pytest.mark.parametrize("text, mention, key", [
    # an admin region named with the name
    ("Shells hit the village of Desna in the Chernihiv region.", "Desna", "geonames:710071"),
    ("Shells hit the village of Desna in the Vinnytsia region.", "Desna", "geonames:690896"),
    ("In the Kharkiv region, artillery hit Zolochiv.", "Zolochiv", "geonames:686895"),
    # a country named with it
    ("The parcel reached Konotop, Poland, on Monday.", "Konotop", "geonames:3095307"),
    # a place named with it / near the text's other places
    ("Shelling hit Zolochiv, north of Kharkiv.", "Zolochiv", "geonames:686895"),
    ("Shelling hit Zolochiv, east of Lviv.", "Zolochiv", "geonames:686896"),
    ("Russian troops shelled Sloviansk and Kramatorsk.", "Sloviansk", "geonames:693468"),
    ("Debris fell in the Desnyanskyi district of Kyiv.", "Desnyanskyi district", "geonames:13546519"),
    ("Debris fell in Chernihiv's Desnyanskyi district.", "Desnyanskyi district", "geonames:13608465"),
    # the article's main country (here given by demonyms)
    ("Belarusian troops gathered near Brest.", "Brest", "geonames:629634"),
    ("French sailors returned to Brest.", "Brest", "geonames:3030300"),
    ("Ukrainian officials said a missile hit the port of Odessa.", "Odessa", "geonames:698740"),
    # population as the prior when nothing else speaks
    ("Lyman was quiet.", "Lyman", "geonames:704204"),
    # metonymy: the capital, for its government
    ("Moscow said the talks had failed.", "Moscow", "geonames:524901"),
    ("Warsaw accused Minsk of flying migrants to the border.", "Minsk", "geonames:625144"),
    # spelling variants and transliterations
    ("Explosions were heard in Kiev.", "Kiev", "geonames:703448"),
    ("The bridge near Chernigov was blown up.", "Chernigov", "geonames:710735"),
    ("Shelling continued in Kharkov.", "Kharkov", "geonames:706483"),
    ("Troops moved to Mińsk Mazowiecki, east of Warsaw.", "Mińsk Mazowiecki", "geonames:764679"),
    # a city and its region
    ("Kharkiv was shelled again.", "Kharkiv", "geonames:706483"),
    ("The Kharkiv region was shelled again.", "Kharkiv region", "admin1:UA.07"),
    ("Troops left the Kyiv region.", "Kyiv region", "admin1:UA.13"),
    ("Russia moved Iskanders to the Kaliningrad region.", "Kaliningrad region", "admin1:RU.23"),
    ("Troops were seen in Crimea.", "Crimea", "admin1:UA.11"),
    # borders, from the pair given or from the context
    ("Ukrainian guards patrolled the Belarus border.", "Belarus border", "border:BY-UA"),
    ("Migrants camped at the Polish-Belarusian border.", "Polish-Belarusian border", "border:BY-PL"),
    ("Polish soldiers were sent to the border with Belarus.", "border with Belarus", "border:BY-PL"),
])
def test_disambiguation_rule(parser, text, mention, key):
    assert places(parser, text).get(mention) == key


def test_regions_listed_before_a_plural_keyword(parser):
    found = places(parser, "The Kharkiv, Sumy and Chernihiv regions reported shelling.")
    assert found == {"Kharkiv": "admin1:UA.07", "Sumy": "admin1:UA.21", "Chernihiv regions": "admin1:UA.02"}


def test_two_names_in_one_list_are_two_places(parser):
    # GeoNames lists "Ivanivka" as a former name of Bilozerka; in "X and Y" they must differ.
    found = places(parser, "In the Kherson region, Russian shells hit Ivanivka and Bilozerka.")
    assert found["Ivanivka"] != found["Bilozerka"]


# ------------------------------------------------------------------------------------------ negatives

def test_seas_peninsulas_regions_and_continents_are_places_of_their_own_kind(parser):
    """Issue 14: they were never found. Now from geodata/features.geojson, by name, never instead of a town."""
    found = {p.mention: (p.kind, p.key) for p in parser.parse(
        "Missiles were fired from the Sea of Azov and the Black Sea at the Crimean Peninsula. The Baltic states "
        "and Eastern Europe are worried, officials in Europe said. Kaliningrad was quiet.", PUBLISHED).places}
    assert found["Sea of Azov"] == ("physical", "feature:sea-of-azov")
    assert found["Black Sea"] == ("physical", "feature:black-sea")
    assert found["Crimean Peninsula"] == ("physical", "feature:crimean-peninsula")
    assert found["Baltic states"] == ("region", "feature:baltic-states")
    assert found["Eastern Europe"] == ("region", "feature:eastern-europe")
    assert found["Europe"] == ("continent", "feature:europe")
    assert found["Kaliningrad"] == ("city", "geonames:554234")  # NE also labels a lagoon so: the city wins


@pytest.mark.parametrize("text", [
    "Russian, Polish and Belarusian officials met.",
    "Ukrainian intelligence said the columns were moving.",
    "Radio Lublin reported the crash.",
    "The Armed Forces of Ukraine did not comment.",
    "The State Border Guard Service of Ukraine said so.",
    "The EU, NATO, the UN and the G7 condemned it.",
    "Putin, Lukashenko and Zelensky spoke by phone.",
    "President Joe Biden called Governor Vitaliy Kim.",
    "Police said it happened in May or June, on a Sunday.",
    "The Kakhovka dam on the Dnipro was destroyed.",
    "The Kremlin and the Pentagon declined to comment.",
])
def test_not_places(parser, text):
    assert places(parser, text) == {}


def test_demonym_is_a_clue_not_a_place(parser):
    result = parser.parse("Polish troops arrived.", PUBLISHED)
    assert result.places == ()


# ---------------------------------------------------------------------------------------------- dates

@pytest.mark.parametrize("phrase, start, end, precision", [
    ("on Saturday", "2022-06-25", "2022-06-25", "day"),
    ("on Friday", "2022-06-24", "2022-06-24", "day"),
    ("June 25", "2022-06-25", "2022-06-25", "day"),
    ("25 June", "2022-06-25", "2022-06-25", "day"),
    ("Aug. 9, 2020", "2020-08-09", "2020-08-09", "day"),
    ("in late February", "2022-02-20", "2022-02-28", "approximate"),
    ("in early March", "2022-03-01", "2022-03-10", "approximate"),
    ("since August 2020", "2020-08-01", "2022-06-25", "span"),
    ("in the coming months", "2022-06-25", "2022-12-25", "span"),
    ("last week", "2022-06-13", "2022-06-19", "week"),
    ("yesterday", "2022-06-24", "2022-06-24", "day"),
    ("in June", "2022-06-01", "2022-06-30", "month"),
    ("in 2014", "2014-01-01", "2014-12-31", "year"),
    ("two days ago", "2022-06-23", "2022-06-23", "day"),
])
def test_date_rule(parser, phrase, start, end, precision):
    result = parser.parse(f"Something happened {phrase}.", PUBLISHED)
    assert len(result.dates) == 1
    d = result.dates[0]
    assert (d.text.removeprefix("in ").removeprefix("on ") in phrase, d.span.start.isoformat(),
            d.span.end.isoformat(), d.span.precision) == (True, start, end, precision)


def test_vague_dates_say_how_they_were_read(parser):
    span = parser.parse("It will happen in the coming months.", PUBLISHED).dates[0].span
    assert span.text == "in the coming months" and "six months" in span.note


def test_relative_dates_need_a_publication_date(parser):
    result = parser.parse("It happened on Saturday, 25 June 2022.", None)
    assert [d.text for d in result.dates] == ["25 June 2022"]


# -------------------------------------------------------------------------------------------- systems

def test_system_and_its_range(parser):
    result = parser.parse("Russia will hand Belarus Iskander-M systems with a range of up to 500 km.", PUBLISHED)
    assert [(s.text, s.system_id, s.range_km) for s in result.systems] == [("Iskander-M", "iskander-m", 500.0)]
    assert result.systems[0].range_text == "range of up to 500 km"
    assert result.rings == (("iskander-m", 500.0),)


def test_range_in_the_next_sentence_and_systems_without_a_catalogue_entry(parser):
    text = ("Russia will supply Belarus with Iskander-M systems. The systems have a range of up to 500 km. "
            "Kh-22 missiles have a range of 600 km; Tornado-S and Su-25 were also named, 30 km from the border.")
    found = [(s.text, s.system_id, s.range_km) for s in parser.parse(text, PUBLISHED).systems]
    assert found == [("Iskander-M", "iskander-m", 500.0), ("Kh-22", "", 600.0), ("Tornado-S", "", None),
                     ("Su-25", "su-25", None)]  # Kh-22 and Tornado-S have no cited entry in the catalogue (yet)


def test_systems_the_catalogue_now_holds_are_linked_to_their_entries(parser):
    text = "Kinzhal missiles have a range of 2,000 km; Kalibr was also named."
    found = [(s.text, s.system_id, s.range_km) for s in parser.parse(text, PUBLISHED).systems]
    assert found == [("Kinzhal", "kinzhal", 2000.0), ("Kalibr", "kalibr", None)]


# --------------------------------------------------------------------------------------------- events

def test_candidate_events_from_the_seed_sentences(parser):
    events = parser.parse(SEED_ARTICLE, PUBLISHED).events
    strike = events[0]
    assert strike.event_type == "missile strike"
    assert strike.places[0].geonameid == 710071
    assert strike.time.start == strike.time.end == PUBLISHED
    assert strike.sentence.startswith("Ukraine reported a massive missile strike")
    transfer = next(e for e in events if e.event_type == "arms transfer")
    assert transfer.places[0].key == "country:BY"
    assert [s.system_id for s in transfer.systems] == ["iskander-m"]
    assert transfer.time.precision == "span"
    assert {e.event_type for e in events} >= {"missile strike", "arms transfer", "sanctions", "protest"}


# ---------------------------------------------------------------------------------------- JSON shape

def test_to_json_shape(parser):
    out = parser.parse(SEED_ARTICLE, PUBLISHED).to_json()
    assert set(out) == {"places", "dates", "systems", "events"}
    town = next(p for p in out["places"] if p["mention"] == "Desna")
    assert town == {"mention": "Desna", "start": town["start"], "end": town["end"], "name": "Desna",
                    "kind": "village", "geonameid": 710071, "lat": 50.92744, "lon": 30.76678,
                    "confidence": town["confidence"], "key": "geonames:710071"}
    country = next(p for p in out["places"] if p["kind"] == "country")
    assert "iso2" in country and "geonameid" not in country
    assert set(out["dates"][0]) == {"text", "start", "end", "time"}
    assert set(out["dates"][0]["time"]) == {"start", "end", "precision", "label", "note"}
    assert set(out["systems"][0]) == {"text", "start", "end", "system_id", "range_km", "range_text"}
    assert set(out["events"][0]) == {"title", "event_type", "quote", "start", "end", "places", "time", "systems"}
    import json
    json.dumps(out)  # plain JSON, nothing left to convert


def test_place_for_gives_model_places(parser):
    result = parser.parse("A strike on the village of Desna in the Chernihiv region, near the Belarus border.",
                          PUBLISHED)
    kinds = [parser.place_for(p).kind for p in result.places]
    assert kinds == ["village", "admin region", "border"]


# ------------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("MZ\x00\x00\x90\x00binary", "binary"),
    (b"PK\x03\x04\x00\x00zip", "binary"),
    ("\x01\x02\x03\x04\x05\x06\x07\x08" * 100, "binary"),
    ("word " * 1_000_000, "longer than 1 MB"),
])
def test_bad_input_is_refused_with_one_clear_sentence(parser, text, words):
    with pytest.raises(ValidationError) as err:
        parser.parse(text, PUBLISHED)
    message = str(err.value)
    assert words in message and message.count(".") <= 2 and len(message) < 200


def test_eval_set_gold_ids_exist_in_the_gazetteer(gazetteer):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from geoparse_benchmark import check_gold, load_passages

    passages = load_passages()
    assert len(passages) >= 20
    assert sum(1 for p in passages for g in p.gold if g.kind != "ignore") >= 150
    assert check_gold(passages, gazetteer) == []


def test_geoparse_is_plain_data(parser):
    result = parser.parse("Kyiv.", PUBLISHED)
    assert isinstance(result, Geoparse)
    hash(result.places)  # frozen, tuple fields: safe as a cache value


# ------------------------------------------------------------------------------- relative locations

def test_n_km_direction_of_a_place_is_a_point_by_the_direct_geodesic_problem(parser):
    """Issue 14: '30 km north of Chernihiv' is where analysts meet places; offline, on the ellipsoid."""
    from pyproj import Geod

    result = parser.parse("Shelling hit a village 30 km north of Chernihiv. Another strike landed about 20 "
                          "miles south-east of Kharkiv. Troops massed 40 km west of Ukraine.", PUBLISHED)
    points = {m.mention: m for m in result.places if m.kind == "point"}
    assert set(points) == {"30 km north of Chernihiv", "about 20 miles south-east of Kharkiv"}  # not from a country
    chernihiv = next(m for m in result.places if m.key == "geonames:710735")
    north = points["30 km north of Chernihiv"]
    az, _, metres = Geod(ellps="WGS84").inv(chernihiv.lon, chernihiv.lat, north.lon, north.lat)
    assert metres == pytest.approx(30_000, abs=1) and az == pytest.approx(0, abs=1e-6)
    assert north.uncertainty_km == pytest.approx(30 * math.radians(22.5) + 3, abs=0.01)  # the sector, rounding
    assert north.to_json()["uncertainty_km"] == pytest.approx(14.8, abs=0.05)
    kharkiv = points["about 20 miles south-east of Kharkiv"]
    base = next(m for m in result.places if m.mention == "Kharkiv")
    az, _, metres = Geod(ellps="WGS84").inv(base.lon, base.lat, kharkiv.lon, kharkiv.lat)
    assert metres == pytest.approx(20 * 1609.344, abs=1) and az == pytest.approx(135, abs=1e-6)
    place = parser.place_for(north)
    assert place.kind == "point" and place.lonlat == pytest.approx((north.lon, north.lat))


def test_a_border_with_a_country_names_the_country_and_regions_of_a_country_are_the_country(parser):
    """Issue 14: 'the border with Belarus' yields Belarus (the border beside it when its other side is
    known, never instead); 'regions of Russia' is Russia, not the village Russia in Ohio."""
    found = {(m.mention, m.key) for m in parser.parse(
        "Troops gathered near the border with Belarus. Drones struck several regions of Russia overnight.",
        PUBLISHED).places}
    assert ("Belarus", "country:BY") in found and ("Russia", "country:RU") in found
    assert not any(key.startswith("geonames:") for _, key in found)
    found = {(m.mention, m.key) for m in parser.parse(
        "Russian troops massed near the border with Ukraine in the Bryansk region.", PUBLISHED).places}
    assert {("border with Ukraine", "border:RU-UA"), ("Ukraine", "country:UA")} <= found


def test_a_suggested_ring_starts_where_the_text_puts_the_launcher_or_nowhere(parser):
    """Issue 14: all three suggested rings started 'from Ukraine' although the text put the S-300s near
    Belgorod and the Iskander-M in Belarus; when the text does not say, there is no origin."""
    from dashboard.geoparse.origins import launch_origin

    text = ("Russian forces shelled Kharkiv overnight with S-300 missiles launched from near Belgorod, "
            "officials in Ukraine said. Iskander-M systems in Belarus can reach Kyiv. "
            "The Kinzhal, with a range of 2,000 km, was also used against Ukraine.")
    result = parser.parse(text, PUBLISHED)
    by_text = {s.text: s for s in result.systems}
    assert launch_origin(text, by_text["S-300"], result.places).name == "Belgorod"
    assert launch_origin(text, by_text["Iskander-M"], result.places).key == "country:BY"
    assert launch_origin(text, by_text["Kinzhal"], result.places) is None  # "against Ukraine" is the target


def test_events_come_from_what_happened_and_shelling_is_not_a_missile_strike(parser):
    """Issue 14: 'has a range of 150 km and can hit Kharkiv' became a missile strike on Kharkiv Oblast, and
    shelling was typed missile strike."""
    events = parser.parse("The S-300 has a range of 150 km and can hit Kharkiv from Belgorod. Russian artillery "
                          "shelled Lysychansk on Monday. Russian forces shelled Kharkiv with S-300 missiles.",
                          PUBLISHED).events
    assert [(e.event_type, e.title) for e in events] == [
        ("shelling", "Shelling of Lysychansk"), ("missile strike", "Missile strike on Kharkiv (S-300)")]


def _mention(parser: Geoparser, text: str, surface: str):
    return next(m for m in parser.parse(text, PUBLISHED).places if m.mention == surface)


@pytest.mark.parametrize("text", [
    "Russian forces shelled the village of Dubovoye in the Belgorod region on Monday.",
    "Ukrainian drones hit Dubovoye, Belgorod Oblast.",
])
def test_a_name_the_gazetteer_lacks_in_the_region_the_text_gives_is_placed_at_that_region(parser, text):
    """cities500 has no Dubovoye in Belgorod Oblast, only villages in Ukraine about 400 km off: the text's
    region is the answer, flagged, with the namesakes one click away and a note saying what to add."""
    m = _mention(parser, text, "Dubovoye")
    assert (m.key, m.kind, m.iso2) == ("admin1:RU.09", "admin region", "RU")
    assert m.confidence < 0.7 and m.alternatives and all(c.country == "UA" for c in m.alternatives)
    assert "no place called Dubovoye in Belgorod Oblast" in m.note and "gazetteer add" in m.note
    assert m.to_json()["note"] == m.note
    place = parser.place_for(m)
    assert place.kind == "admin region" and place.country == "RU"


def test_a_region_elsewhere_in_the_sentence_does_not_move_a_city_or_a_capital(parser):
    found = places(parser, "Drones from the Hrodna region flew towards Lublin and Vilnius, officials said.")
    assert found["Lublin"] == "geonames:765876" and found["Vilnius"] == "geonames:593116"


@pytest.mark.parametrize("text, admin1", [
    ("Olenivka, a village in Crimea, was hit by drones.", "11"),       # GeoNames spells it Olenevka
    ("Olenivka in Crimea was hit by drones.", "11"),
    ("Dozens of prisoners of war were killed at Olenivka in the Donetsk region.", "05"),
])
def test_which_olenivka_comes_from_the_context_across_romanisations(parser, text, admin1):
    m = _mention(parser, text, "Olenivka")
    assert (m.iso2, m.kind) == ("UA", "village")
    assert parser.gazetteer.lookup(m.name, limit=20) and \
        next(c for c in parser.gazetteer.lookup(m.name, limit=20) if c.key == m.key).admin1 == admin1
