"""ViewState ⇄ query string: canonical round trips, hostile input that never raises, plain-English descriptions."""

from __future__ import annotations

import doctest
import random
import string
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest

from dashboard import share
from dashboard.errors import ValidationError
from dashboard.share import (BASES, DEFAULT_LAYERS, LAYERS, LaunchSpec, RingSpec, ViewState, describe, from_params,
                             from_query, to_params, to_query)

SYSTEMS = {"iskander-m", "su-25"}
ISKANDER_MINSK = RingSpec("Minsk", system="iskander-m")
STORY = ViewState(start=date(2022, 6, 1), end=date(2022, 6, 30), countries=("UA", "BY"), near="Chernihiv", near_km=100,
                  rings=(ISKANDER_MINSK, RingSpec("BY", system="iskander-m", reach=True)), center=(52.1, 29.3), zoom=6)
TRIANGLE = ((30.1, 50.2), (31.0, 50.2), (31.0, 51.0))


# ------------------------------------------------------------------------------------------ round trips

ROUND_TRIPS = {
    "empty": ViewState(),
    "dates only": ViewState(start=date(2022, 6, 1), end=date(2022, 6, 30)),
    "open start": ViewState(end=date(2022, 2, 28)),
    "one day": ViewState(start=date(2022, 6, 25), end=date(2022, 6, 25)),
    "countries in the user's order": ViewState(countries=("UA", "BY", "RU")),
    "admins": ViewState(admins=("Chernihiv Oblast", "Kyiv Oblast")),
    "near": ViewState(near="Chernihiv", near_km=100),
    "near with a colon and decimals": ViewState(near="Gomel: railway station", near_km=12.5),
    "area": ViewState(area=TRIANGLE),
    "area at the edges": ViewState(area=((-180, -90), (180, 90), (0, 0), (-0.00001, 89.99999))),
    "types and actors": ViewState(types=("missile strike", "diplomacy"), actors=("Vladimir Putin", "Alexander Lukashenko")),
    "system ring": ViewState(rings=(ISKANDER_MINSK,)),
    "system and munition": ViewState(rings=(RingSpec("Minsk", system="iskander-m", munition="cruise"),)),
    "typed km around a point": ViewState(rings=(RingSpec("53.9,27.57", km=300),)),
    "fractional km": ViewState(rings=(RingSpec("Minsk", km=0.25), RingSpec("Kyiv", km=499.9))),
    "reach of a country": ViewState(rings=(RingSpec("BY", system="iskander-m", reach=True),)),
    "reach of a border by km": ViewState(rings=(RingSpec("BY-UA", km=500, reach=True),)),
    "origin with @ and comma": ViewState(rings=(RingSpec("Washington, D.C.@night", system="su-25"),)),
    "twelve rings": ViewState(rings=tuple(RingSpec(f"P{i}", km=10 * (i + 1)) for i in range(12))),
    "center and zoom": ViewState(center=(52.1, 29.3), zoom=6),
    "negative center, zoom 0": ViewState(center=(-33.8688, -151.2093), zoom=0),
    "base": ViewState(base="osm"),
    "satellite, zoom 18": ViewState(base="satellite", zoom=18),
    "layers subset": ViewState(layers=("events", "rings")),
    "no layers": ViewState(layers=()),
    "text with spaces": ViewState(text="iskander m missile"),
    "unicode": ViewState(text="Чернігів", near="Чернігів", near_km=50, admins=("Чернігівська область",)),
    "url metacharacters": ViewState(text="a&b=c#d%e+f?g/h;i:j@k,l", actors=("x&y=z",), types=("100%",)),
    "quotes and angle brackets": ViewState(text="<script>alert('1')</script> \"hi\""),
    "emoji": ViewState(text="🚀 launch"),
    "story": STORY,
    "ring with a minimum": ViewState(rings=(RingSpec("Minsk", km=500, min_km=50), RingSpec("BY", km=300, min_km=0.5, reach=True))),
    "launch by system": ViewState(launches=(LaunchSpec("Desna", "BY", system="iskander-m"),)),
    "launch by km, point target, named": ViewState(launches=(LaunchSpec("50.93,30.77", "BY", km=300, name="From Belarus"),)),
    "launch with a minimum and a munition": ViewState(launches=(
        LaunchSpec("Desna", "BY", km=300, min_km=50), LaunchSpec("Desna", "area", system="iskander-m", munition="cruise"))),
}


@pytest.mark.parametrize("state", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip(state):
    query = to_query(state)
    decoded = from_query(query, SYSTEMS)
    assert decoded.problems == ()
    assert decoded.state == state
    assert to_query(decoded.state) == query
    assert from_params(to_params(state), SYSTEMS).state == state


@pytest.mark.parametrize("state", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip_through_a_browser_url_as_streamlit_writes_it(state):
    # Streamlit escapes with quote_plus ('@' → %40, space → '+'); the URL may carry a path and a fragment.
    url = "http://localhost:8501/story?" + urlencode(to_params(state), doseq=True) + "#map"
    assert from_query(url, SYSTEMS) == share.Decoded(state, ())


@pytest.mark.parametrize("state, query", [
    (ViewState(), "?v=1"),
    (STORY, "?v=1&from=2022-06-01&to=2022-06-30&country=UA,BY&near=Chernihiv:100&ring=iskander-m@Minsk"
            "&reach=iskander-m@BY&c=52.1,29.3&z=6"),
    (ViewState(rings=(RingSpec("53.9,27.57", km=300), RingSpec("BY-UA", km=500, reach=True),
                      RingSpec("Minsk", system="iskander-m", munition="cruise"))),
     "?v=1&ring=300@53.9,27.57&ring=iskander-m:cruise@Minsk&reach=500@BY-UA"),
    (ViewState(area=TRIANGLE), "?v=1&area=30.1%2050.2;31%2050.2;31%2051"),
    (ViewState(admins=("Chernihiv Oblast",), types=("missile strike",), actors=("Vladimir Putin",), text="iskander"),
     "?v=1&admin=Chernihiv%20Oblast&type=missile%20strike&actor=Vladimir%20Putin&q=iskander"),
    (ViewState(text="a&b=c#d%e+f?g"), "?v=1&q=a%26b%3Dc%23d%25e%2Bf%3Fg"),
    (ViewState(base="osm", layers=("rings", "events")), "?v=1&base=osm&layers=events,rings"),
    (ViewState(layers=()), "?v=1&layers=none"),
    (ViewState(layers=tuple(reversed(LAYERS))), "?v=1"),
    (ViewState(text="Чернігів"), "?v=1&q=%D0%A7%D0%B5%D1%80%D0%BD%D1%96%D0%B3%D1%96%D0%B2"),
    (ViewState(rings=(RingSpec("Minsk", km=500, min_km=50),)), "?v=1&ring=50-500@Minsk"),
    (ViewState(launches=(LaunchSpec("Desna", "BY", system="iskander-m"), LaunchSpec("Desna", "BY", km=300, min_km=50))),
     "?v=1&launch=iskander-m@Desna/BY&launch=50-300@Desna/BY"),
    (ViewState(launches=(LaunchSpec("50.93,30.77", "BY", km=300, name="Mine"),)), "?v=1&launch=300@50.93,30.77/BY%7CMine"),
])
def test_query_strings_are_written_literally(state, query):
    assert to_query(state) == query


def test_params_keep_key_order_and_use_lists_for_repeatable_keys():
    state = ViewState(start=date(2022, 6, 1), countries=("UA",), admins=("A",), near="N", near_km=1, area=TRIANGLE,
                      types=("t",), actors=("a",), text="q", coarse=True, rings=(RingSpec("BY", km=5, reach=True), ISKANDER_MINSK),
                      launches=(LaunchSpec("Desna", "BY", km=300),),
                      center=(1, 2), zoom=3, base="osm", layers=("events",), end=date(2022, 6, 2),
                      play=share.Frame(date(2022, 6, 2), window=0, step=7), sites=(share.SiteLayer("t"),),
                      bearings=(share.BearingSpec("Desna", 315, 200),))
    params = to_params(state)
    assert list(params) == list(share.KEYS)
    assert params["ring"] == ["iskander-m@Minsk"] and params["reach"] == ["5@BY"] and params["admin"] == ["A"]
    assert params["country"] == "UA" and params["v"] == "1"


@pytest.mark.parametrize("given, expected", [
    (ViewState(countries=("ua", " by ", "UA")), ViewState(countries=("UA", "BY"))),
    (ViewState(center=(52.123456, 29.3)), ViewState(center=(52.1235, 29.3))),
    (ViewState(area=((30.1234567, 50.0),) * 3), ViewState(area=((30.12346, 50.0),) * 3)),
    (ViewState(layers=("Rings", "events", "rings")), ViewState(layers=("events", "rings"))),
    (ViewState(layers=list(LAYERS)), ViewState()),
    (ViewState(rings=(RingSpec("BY", km=5, reach=True), ISKANDER_MINSK)),
     ViewState(rings=(ISKANDER_MINSK, RingSpec("BY", km=5, reach=True)))),
    (ViewState(text="  a\x00b\nc\u202e  "), ViewState(text="ab c")),
    (ViewState(types=("x", " x ", "", "\x07")), ViewState(types=("x",))),
    (ViewState(near_km=100), ViewState()),
    (ViewState(zoom=6.0), ViewState(zoom=6)),
    (ViewState(start=datetime(2022, 6, 1, 12, 30)), ViewState(start=date(2022, 6, 1))),
    (ViewState(base=" OSM "), ViewState(base="osm")),
    (ViewState(rings=(RingSpec(" Minsk ", system="Iskander-M", munition="Cruise"),)),
     ViewState(rings=(RingSpec("Minsk", system="iskander-m", munition="cruise"),))),
    (ViewState(rings=(RingSpec("Minsk", km=300, system="iskander-m", munition="cruise"),)),  # a typed radius wins
     ViewState(rings=(RingSpec("Minsk", km=300),))),
])
def test_states_are_normalised_when_built(given, expected):
    assert given == expected
    assert given.with_() == given


def test_with_changes_one_field():
    assert STORY.with_(zoom=7).zoom == 7 and STORY.with_(zoom=7).with_(zoom=6) == STORY


@pytest.mark.parametrize("build, field", [
    (lambda: RingSpec("Minsk"), "ring"),
    (lambda: RingSpec("Minsk", munition="cruise"), "ring"),
    (lambda: RingSpec("Minsk", km="300"), "ring.km"),
    (lambda: RingSpec("Minsk", km=300, reach="yes"), "ring.reach"),
    (lambda: ViewState(countries="UA"), "countries"),
    (lambda: ViewState(start="2022-06-01"), "start"),
    (lambda: ViewState(center=(52.1,)), "center"),
    (lambda: ViewState(area=((1, 2, 3),)), "area"),
    (lambda: ViewState(rings=("iskander-m@Minsk",)), "rings"),
    (lambda: ViewState(text=None), "text"),
])
def test_what_has_no_spelling_is_refused_when_built(build, field):
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.field == field


@pytest.mark.parametrize("ring, label", [
    (RingSpec("Minsk", system="iskander-m", munition="cruise"), "iskander-m (cruise) from Minsk"),
    (RingSpec("Minsk", system="iskander-m"), "iskander-m from Minsk"),
    (RingSpec("53.9,27.57", km=300), "300 km from 53.9,27.57"),
    (RingSpec("BY", system="iskander-m", reach=True), "reach of iskander-m from BY"),
    (RingSpec("BY-UA", km=12.5, reach=True), "reach of 12.5 km from BY-UA"),
])
def test_ring_labels(ring, label):
    assert ring.label == label


# ------------------------------------------------------------------------------------------ hostile input

GOOD = "&country=UA&q=ok&z=5"          # appended to each bad query: these must survive
GOOD_STATE = ViewState(countries=("UA",), text="ok", zoom=5)
LONG = "x" * 10_000

# (query, the param the problem must name, the field that falls back, a fragment of the problem sentence)
BAD = [
    ("from=2022-13-01", "from=2022-13-01", {}, "not a date (write YYYY-MM-DD)"),
    ("from=yesterday&to=2022-06-30", "from=yesterday", {"end": date(2022, 6, 30)}, "not a date"),
    ("to=2022-02-30", "to=2022-02-30", {}, "not a date"),
    ("from=2022-06-30&to=2022-06-01", "from=2022-06-30 and to=2022-06-01", {}, "the end is before the start"),
    ("from=2022-06-01&from=2022-06-05", "from=2022-06-05", {"start": date(2022, 6, 5)}, "given 2 times"),
    ("z=99", "z=99", {}, "zoom must be a whole number from 0 to 18"),
    ("z=abc", "z=abc", {}, "zoom"),
    ("z=-1", "z=-1", {}, "zoom"),
    ("c=91,0", "c=91,0", {}, "latitude from -85.0511 to 85.0511 (where the map ends)"),
    ("c=89,0", "c=89,0", {}, "where the map ends"),
    ("c=nan,inf", "c=nan,inf", {}, "lat,lon"),
    ("c=52.1", "c=52.1", {}, "lat,lon"),
    ("near=Chernihiv:-5", "near=Chernihiv:-5", {}, "a number of km from 0.01 to 19,950"),
    ("near=Chernihiv:nan", "near=Chernihiv:nan", {}, "from 0.01 to 19,950"),
    ("near=Chernihiv:inf", "near=Chernihiv:inf", {}, "from 0.01 to 19,950"),
    ("near=Chernihiv:0.001", "near=Chernihiv:0.001", {}, "from 0.01 to 19,950"),
    ("near=Chernihiv:19951", "near=Chernihiv:19951", {}, "from 0.01 to 19,950"),
    ("near=Chernihiv:1e999", "near=Chernihiv:1e999", {}, "from 0.01 to 19,950"),
    ("near=:5", "near=:5", {}, "the place before ':'"),
    ("near=Chernihiv", "near=Chernihiv", {}, "write PLACE:KM"),
    ("ring=@Minsk", "ring=@Minsk", {}, "write SYSTEM@PLACE"),
    ("ring=iskander-m@", "ring=iskander-m@", {}, "write SYSTEM@PLACE"),
    ("ring=iskander-m", "ring=iskander-m", {}, "write SYSTEM@PLACE"),
    ("ring=-300@Minsk", "ring=-300@Minsk", {}, "a number of km from 0.01 to 19,950"),
    ("ring=1e309@Minsk", "ring=1e309@Minsk", {}, "from 0.01 to 19,950"),
    ("ring=inf@Minsk", "ring=inf@Minsk", {}, "from 0.01 to 19,950"),
    ("ring=nan@Minsk", "ring=nan@Minsk", {}, "from 0.01 to 19,950"),
    ("ring=1e-300@Minsk", "ring=1e-300@Minsk", {}, "from 0.01 to 19,950"),
    ("ring=19999.9@0,0", "ring=19999.9@0,0", {}, "from 0.01 to 19,950"),
    ("reach=19999@RU", "reach=19999@RU", {}, "from 0.01 to 19,950"),
    ("from=0001-01-01", "from=0001-01-01", {}, "dates run from 1900-01-01 to 2100-12-31"),
    ("to=9999-12-31", "to=9999-12-31", {}, "dates run from 1900-01-01 to 2100-12-31"),
    ("from=1899-12-31&to=2022-06-30", "from=1899-12-31", {"end": date(2022, 6, 30)}, "dates run from"),
    ("ring=300:cruise@Minsk", "ring=300:cruise@Minsk", {}, "takes no munition"),
    ("ring=500-50@Minsk", "ring=500-50@Minsk", {}, "less than the range"),
    ("ring=0-50@Minsk", "ring=0-50@Minsk", {}, "minimum range before '-'"),
    ("launch=300@Desna", "launch=300@Desna", {}, "SYSTEM@TARGET/TERRITORY"),
    ("launch=500-50@Desna/BY", "launch=500-50@Desna/BY", {}, "smaller minimum"),
    ("launch=300:cruise@Desna/BY", "launch=300:cruise@Desna/BY", {}, "takes no munition"),
    ("launch=nosuch@Desna/BY", "launch=nosuch@Desna/BY", {}, "unknown system nosuch"),
    ("launch=iskander-m:laser@Desna/BY", "launch=iskander-m:laser@Desna/BY", {}, "the munition must be"),
    ("launch=300@91,0/BY", "launch=300@91,0/BY", {}, "a point is lat,lon"),
    ("launch=300@a/b/BY", "launch=300@a/b/BY", {}, "without '/'"),
    ("launch=300@/BY", "launch=300@/BY", {}, "SYSTEM@TARGET/TERRITORY"),
    ("launch=300@Desna/BY&launch=bad", "launch=bad", {"launches": (LaunchSpec("Desna", "BY", km=300),)}, "for example"),
    ("&".join(f"launch={i + 1}@Desna/BY" for i in range(7)), "after the first 6",
     {"launches": tuple(LaunchSpec("Desna", "BY", km=i + 1) for i in range(6))}, "launch area(s)"),
    ("ring=nosuch@Minsk", "ring=nosuch@Minsk", {}, "unknown system nosuch; known systems: iskander-m and su-25"),
    ("ring=iskander-m:laser@Minsk", "ring=iskander-m:laser@Minsk", {}, "ballistic, cruise, aircraft"),
    ("ring=300@91,0", "ring=300@91,0", {}, "a point is lat,lon"),
    ("ring=i$kander@Minsk", "ring=i$kander@Minsk", {}, "a system id"),
    ("reach=500@" + LONG, "reach=500@xxxx", {}, "more than 100 characters"),
    ("ring=iskander-m@Minsk&ring=bad&reach=500@BY-UA", "ring=bad",
     {"rings": (ISKANDER_MINSK, RingSpec("BY-UA", km=500, reach=True))}, "write SYSTEM@PLACE"),
    ("&".join(f"ring={i + 1}@P{i}" for i in range(13)), "ring=13@P12",
     {"rings": tuple(RingSpec(f"P{i}", km=i + 1) for i in range(12))}, "after the first 12"),
    ("area=30 50;31 50", "area=30 50;31 50", {}, "3 to 200 points"),
    ("area=30 50;31 95;31 51", "area=30 50;31 95;31 51", {}, "point 2 (31 95)"),
    ("area=30 50;31 x;31 51", "area=30 50;31 x;31 51", {}, "point 2"),
    ("area=" + ";".join(["1 1"] * 201), "area=1 1;1 1", {}, "(got 201)"),
    ("base=moon", "base=moon", {}, "used vector"),
    ("layers=events,bogus", "bogus in layers=events,bogus", {"layers": ("events",)}, "or none"),
    ("layers=bogus", "layers=bogus", {}, "showing all layers"),
    ("v=2", "v=2", {}, "made by a newer Reachmap (v=2); read as v=1"),
    ("v=abc", "v=abc", {}, "read as v=1"),
    ("v=0", "v=0", {}, "read as v=1"),
    ("v=" + "9" * 5000, "v=999", {}, "newer Reachmap"),
    ("foo=1&bar=2&snapshot=abc&page=story", "Ignored unknown field(s): foo, bar.", {}, "unknown"),
    ("=1", "(a blank name)", {}, "unknown"),
    ("country=XYZ,UA,1", "country=XYZ,1", {}, "two-letter ISO code"),
    ("z=%ZZ", "z=%ZZ", {}, "zoom"),
    ("from=2022-06-%ZZ", "from=2022-06-%ZZ", {}, "not a date"),
    ("z=%FF", "z=\ufffd", {}, "zoom"),
    ("q=" + LONG, "q=xxxx", {}, "to its first 200 characters"),
    ("q=%3Cscript%3Ealert(1)%3C/script%3E%00", "q=<script>alert(1)</script>\\x00", {}, "Removed control characters"),
    ("admin=Chernihiv%00Oblast%1b%5b31m", "admin=Chernihiv\\x00Oblast\\x1b[31m", {}, "Removed control characters"),
    ("actor=" + "y" * 101, "actor=yyy", {}, "at most 100 characters"),
    ("&".join(f"type=t{i}" for i in range(25)), "5 type values after the first 20",
     {"types": tuple(f"t{i}" for i in range(20))}, "from type=t20"),
    ("ring=iskander-m@Min%0Ask", "ring=iskander-m@Min\\nsk", {}, "Removed control characters"),
    ("country=" + ",".join(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJ"), "10 country codes after",
     {"countries": tuple(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJ")[:250]}, "from country=ZA"),
]


@pytest.mark.parametrize("query, names, field_values, says", BAD, ids=[b[0][:40] for b in BAD])
def test_bad_input_is_reported_by_name_and_the_rest_survives(query, names, field_values, says):
    # The bad part comes first so that GOOD's z=5 is not overridden; the unknown-key case ends in GOOD too.
    if query.startswith("z="):
        good, good_state = "&country=UA&q=ok", ViewState(countries=("UA",), text="ok")
    elif query.startswith("q="):
        good, good_state = "&country=UA&z=5", ViewState(countries=("UA",), zoom=5)
    elif query.startswith("country="):
        good, good_state = "&q=ok&z=5", ViewState(countries=("UA",), text="ok", zoom=5)
    else:
        good, good_state = GOOD, GOOD_STATE
    decoded = from_query("?" + query + good, SYSTEMS)
    assert any(names in p and says in p for p in decoded.problems), decoded.problems
    expected = good_state.with_(**field_values)
    if query.startswith("q="):
        expected = expected.with_(text=decoded.state.text)  # kept, but cut or cleaned
        assert len(decoded.state.text) <= 200 and "\x00" not in decoded.state.text
    elif query.startswith("admin="):
        expected = expected.with_(admins=("ChernihivOblast[31m",))
    elif query.startswith("ring=iskander-m@Min%0A"):
        expected = expected.with_(rings=(RingSpec("Min sk", system="iskander-m"),))
    assert decoded.state == expected
    assert all(len(p) < 400 for p in decoded.problems)


@pytest.mark.parametrize("query, state", [
    ("", ViewState()),
    ("?", ViewState()),
    ("v=1", ViewState()),
    ("?z=6", ViewState(zoom=6)),                                       # no v: read as v=1 without a word
    ("https://reachmap.example/story?v=1&z=6#top", ViewState(zoom=6)),
    ("z=6&q=why?", ViewState(zoom=6, text="why?")),                    # a '?' inside a value, no leading '?'
    ("?v=1&country=UA&country=by", ViewState(countries=("UA", "BY"))),
    ("?country=UA,,BY,", ViewState(countries=("UA", "BY"))),
    ("?from=&to=&z=&c=&base=&near=&area=", ViewState()),               # blank values are simply unset
    ("?layers=", ViewState(layers=())),
    ("?layers=NONE", ViewState(layers=())),
    ("?layers=Rings,EVENTS", ViewState(layers=("events", "rings"))),
    ("?base=OSM", ViewState(base="osm")),
    ("?ring=300km@Minsk&ring=ISKANDER-M:Cruise@Minsk", ViewState(rings=(RingSpec("Minsk", km=300),
                                                                         RingSpec("Minsk", system="iskander-m",
                                                                                  munition="cruise")))),
    ("?ring=300 km@ 53.9, 27.57 ", ViewState(rings=(RingSpec("53.9, 27.57", km=300),))),
    ("?near=Chernihiv:100km", ViewState(near="Chernihiv", near_km=100)),
    ("?q=100%", ViewState(text="100%")),                               # a bare '%' is text, not an escape
    ("?q=%ZZ", ViewState(text="%ZZ")),
    ("?q=a+b", ViewState(text="a b")),                                 # '+' is a space, as in every form
    ("?c=52.123456,29.3", ViewState(center=(52.1235, 29.3))),
    ("?area=30.1,50.2;31,50.2;31,51;", ViewState(area=TRIANGLE)),
    ("?snapshot=abc&page=story&z=6", ViewState(zoom=6)),
])
def test_lenient_spellings_read_without_problems(query, state):
    assert from_query(query, SYSTEMS) == share.Decoded(state, ())


def test_systems_are_free_text_ids_when_no_catalogue_is_given():
    assert from_query("?ring=Kh-101@Engels").state.rings == (RingSpec("Engels", system="kh-101"),)
    assert from_query("?ring=kh-101@Engels", SYSTEMS).state.rings == ()


class _QueryParams(dict):
    """Like st.query_params: [key] gives the last value, get_all(key) gives them all."""

    def __getitem__(self, key):
        return super().__getitem__(key)[-1]

    def get_all(self, key):
        return list(super().__getitem__(key))


def test_streamlit_query_params_are_read_with_get_all():
    params = _QueryParams(v=["1"], ring=["iskander-m@Minsk", "300@Kyiv"], z=["6"])
    assert from_params(params).state == ViewState(rings=(ISKANDER_MINSK, RingSpec("Kyiv", km=300)), zoom=6)


@pytest.mark.parametrize("params", [
    {"z": ["1", "2"], "ring": [None, b"300@Minsk", 5]},
    {"z": 6, "q": b"\xff", "country": []},
    {1: "x", "area": ["1 1;2 2;3 3", ""]},
    {"q": "\ud800lone surrogate", "admin": ["\udfff"]},
])
def test_odd_python_values_never_raise(params):
    decoded = from_params(params)
    assert isinstance(decoded.state, ViewState)
    to_query(decoded.state)


def test_hostile_fuzz_never_raises():
    rng = random.Random(42)
    alphabet = string.printable + "@:;,%=&?#+\x00\x1b\u202eЧ😀" + "".join(share.KEYS)
    for _ in range(2000):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        decoded = from_query(query, SYSTEMS if rng.random() < 0.5 else ())
        again = from_query(to_query(decoded.state), SYSTEMS)
        assert again.state == decoded.state and again.problems == (), query


# ------------------------------------------------------------------------------------------ describe

JUNE = (date(2022, 2, 20), date(2022, 6, 30))


@pytest.mark.parametrize("state, count, bounds, text", [
    (ViewState(), 13, None, "13 events"),
    (ViewState(), 1, None, "1 event"),
    (ViewState(), 0, None, "0 events"),
    (ViewState(), 1234, None, "1,234 events"),
    (ViewState(near="Chernihiv", near_km=100), 8, JUNE, "8 events between 20 Feb and 30 Jun 2022 within 100 km of Chernihiv"),
    (ViewState(start=date(2022, 2, 20)), 5, None, "5 events from 20 Feb 2022"),
    (ViewState(end=date(2022, 6, 30)), 5, None, "5 events until 30 Jun 2022"),
    (ViewState(start=date(2021, 12, 1), end=date(2022, 1, 9)), 2, None, "2 events between 1 Dec 2021 and 9 Jan 2022"),
    (ViewState(start=date(2022, 6, 25), end=date(2022, 6, 25)), 3, None, "3 events on 25 Jun 2022"),
    (ViewState(start=date(2022, 6, 1)), 4, JUNE, "4 events between 1 Jun and 30 Jun 2022"),
    (ViewState(end=date(2021, 1, 1)), 0, JUNE, "0 events until 1 Jan 2021"),
    (ViewState(countries=("UA", "BY"), admins=("Chernihiv Oblast",), types=("missile strike", "airstrike"),
               actors=("Vladimir Putin",), text="iskander", area=TRIANGLE), 2, None,
     "2 events in UA, BY in Chernihiv Oblast of type missile strike or airstrike involving Vladimir Putin "
     "matching “iskander” inside the drawn area"),
    (ViewState(actors=("A", "B", "C")), 7, None, "7 events involving A, B or C"),
    (ViewState(rings=(ISKANDER_MINSK,), zoom=4, base="osm"), 13, None, "13 events"),  # the view is not a filter
])
def test_describe(state, count, bounds, text):
    assert describe(state, count, bounds) == text


# ------------------------------------------------------------------------------------------ property-style

def _text(rng: random.Random, most: int) -> str:
    alphabet = string.ascii_letters + string.digits + "  &=#%+?/@:;,.-'\"<>Чернігів😀é\t"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, most)))
    return share._clean(text) or "x"


def _float(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), rng.choice((0, 1, 3, 7, 12)))


def _ring(rng: random.Random) -> RingSpec:
    origin = rng.choice([f"{_float(rng, -90, 90)},{_float(rng, -180, 180)}", "BY", "BY-UA", "P" + _text(rng, 60)])
    reach = rng.random() < 0.4
    if rng.random() < 0.5:
        return RingSpec(origin, km=max(_float(rng, 0.01, share.MAX_KM), 0.01), reach=reach)
    munition = rng.choice(("", "ballistic", "cruise", "aircraft"))
    return RingSpec(origin, system=rng.choice(sorted(SYSTEMS)), munition=munition, reach=reach)


def random_state(rng: random.Random) -> ViewState:
    def maybe(make, p=0.5):
        return make() if rng.random() < p else None

    day = rng.choice((date(2020, 1, 1), share.EARLIEST)) + timedelta(days=rng.randint(0, 1500))
    end = maybe(lambda: day + timedelta(days=rng.randint(0, 400)))
    fields = dict(
        start=maybe(lambda: day), end=end,
        countries=tuple(rng.choice(string.ascii_uppercase) + rng.choice(string.ascii_uppercase)
                        for _ in range(rng.randint(0, 4))),
        admins=tuple(_text(rng, 100) for _ in range(rng.randint(0, 3))),
        types=tuple(_text(rng, 40) for _ in range(rng.randint(0, 3))),
        actors=tuple(_text(rng, 40) for _ in range(rng.randint(0, 3))),
        text=maybe(lambda: _text(rng, 200)) or "",
        area=tuple((_float(rng, -180, 180), _float(rng, -90, 90)) for _ in range(rng.choice((0, 3, 5, 200)))),
        rings=tuple(_ring(rng) for _ in range(rng.randint(0, 12))),
        center=maybe(lambda: (_float(rng, -85, 85), _float(rng, -180, 180))),
        zoom=maybe(lambda: rng.randint(0, 18)),
        base=rng.choice(BASES),
        layers=tuple(x for x in LAYERS if rng.random() < 0.6) if rng.random() < 0.5 else DEFAULT_LAYERS,
    )
    if rng.random() < 0.4:
        fields.update(near=_text(rng, 100), near_km=max(_float(rng, 0.01, share.MAX_KM), 0.01))
    return ViewState(**fields)


def test_random_states_round_trip():
    rng = random.Random(42)
    for i in range(300):
        state = random_state(rng)
        query = to_query(state)
        decoded = from_query(query, SYSTEMS)
        assert decoded.problems == (), (i, query)
        assert decoded.state == state, (i, query)
        assert to_query(decoded.state) == query
        url = "http://localhost:8501/?" + urlencode(to_params(state), doseq=True)
        assert from_query(url, SYSTEMS).state == state, (i, url)


def test_doctests():
    assert doctest.testmod(share).failed == 0


def test_distances_are_kept_to_ten_metres_as_the_km_field_shows_them():
    assert RingSpec("Minsk", km=300.123456).km == 300.12
    assert ViewState(near="Chernihiv", near_km=99.999).near_km == 100.0
    decoded = from_query("?near=Chernihiv:12.3456&ring=0.014@Minsk", SYSTEMS)
    assert decoded.problems == ()
    assert (decoded.state.near_km, decoded.state.rings[0].km) == (12.35, 0.01)


def test_a_link_with_thousands_of_bad_fields_reports_twenty_sentences():
    query = "&".join(f"ring=bad{i}" for i in range(5000)) + "&z=5"
    decoded = from_query(query, SYSTEMS)
    assert len(decoded.problems) == share.MAX_PROBLEMS and decoded.state.zoom == 5
    assert decoded.problems[-1] == "This link has 4,981 more fields that could not be used."


def test_what_from_query_accepts_the_widgets_can_show():
    """The sidebar's bounds are these constants: a date, centre or distance outside them never comes through."""
    wild = ("?from=0001-01-01&to=9999-12-31&near=Minsk:1e308&c=89.9,0&ring=1e308@Minsk&reach=0.001@BY"
            "&z=19&area=0 0;1 1;nan nan")
    state = from_query(wild, SYSTEMS).state
    assert state == ViewState()
    for day in (share.EARLIEST, share.LATEST):
        assert from_query(f"?from={day}&to={day}").state.start == day
    assert share.LATEST.year - share.EARLIEST.year < 285  # the date slider's JS numbers reach ±285 years


def test_coarse_is_off_by_default_round_trips_and_a_bad_value_is_one_sentence():
    assert ViewState().coarse is False and "coarse" not in to_query(ViewState())
    state = ViewState(near="Chernihiv", near_km=100, coarse=True)
    assert to_query(state) == "?v=1&near=Chernihiv:100&coarse=1" and from_query(to_query(state)).state == state
    decoded = from_query("?v=1&coarse=yes&near=Chernihiv:100")
    assert decoded.state == ViewState(near="Chernihiv", near_km=100)
    assert decoded.problems == ("Ignored coarse=yes: it is 1 (area filters also take events located only by "
                                "country or region) or 0; used 0.",)
    assert "located only by country or region" in share.describe(state, 3, (None, None))


def test_a_munition_may_name_the_nth_entry_of_its_kind():
    assert from_query("?v=1&ring=kalibr:cruise~2@Minsk").state.rings == (RingSpec("Minsk", system="kalibr",
                                                                                 munition="cruise~2"),)
    assert to_query(ViewState(rings=(RingSpec("Minsk", system="kalibr", munition="cruise~2"),))) == \
        "?v=1&ring=kalibr:cruise~2@Minsk"
    for bad in ("cruise~0", "cruise~x", "cruise~", "laser~2", "cruise~123"):
        decoded = from_query(f"?v=1&ring=kalibr:{bad}@Minsk")
        assert decoded.state.rings == () and "optionally with ~N" in decoded.problems[0]


def test_a_ring_can_carry_the_users_own_name_in_the_link():
    named = RingSpec("Belgorod", km=150, name="S-300 from Belgorod, 150 km")
    query = to_query(ViewState(rings=(named,)))
    assert query == "?v=1&ring=150@Belgorod%7CS-300%20from%20Belgorod,%20150%20km"
    assert from_query(query).state.rings == (named,) and from_query(query).problems == ()
    assert named.label == "S-300 from Belgorod, 150 km (150 km from Belgorod)"
    too_long = from_query("?v=1&ring=150@Belgorod|" + "x" * 81)
    assert too_long.state.rings == (RingSpec("Belgorod", km=150),) and "more than 80" in too_long.problems[0]
    hostile = from_query("?v=1&ring=150@Belgorod|a\u202eb<script>")
    assert hostile.state.rings[0].name == "ab<script>"  # controls removed (and said); markup is escaped later
    with pytest.raises(ValidationError):
        RingSpec("Bel|gorod", km=150)


@pytest.mark.parametrize("munition", ["cruise~²", "cruise~٣", "cruise~01", "cruise~ 2", "CRUISE~2x"])
def test_a_munition_position_that_is_not_plain_digits_is_one_sentence_never_a_crash(munition):
    decoded = from_query(f"?v=1&ring=kalibr:{munition}@Minsk")
    assert decoded.state.rings == () and "optionally with ~N" in decoded.problems[0]


# -- sites=: stored tables of sites ---------------------------------------------------------------

@pytest.mark.parametrize("query, sites, problem", [
    ("sites=sites-belarus", (share.SiteLayer("sites-belarus"),), ""),
    ("sites=Sites-Belarus:Iskander-M,s-400", (share.SiteLayer("sites-belarus", ("iskander-m", "s-400")),), ""),
    ("sites=a&sites=b:kinzhal&sites=a", (share.SiteLayer("a"), share.SiteLayer("b", ("kinzhal",))), ""),
    ("sites=bad_name", (), "Ignored sites=bad_name: a site table's name is letters, digits and '-'"),
    ("sites=a:nope,s-400", (share.SiteLayer("a", ("s-400",)),), "Ignored nope in sites=a:nope,s-400: not a system id"),
    ("sites=a:nope", (), "none of its systems is known, so none of its sites is drawn"),
    ("sites=a:", (share.SiteLayer("a"),), "no system follows it; all its sites are drawn"),
    ("sites=%3Cscript%3E", (), "Ignored sites=<script>: a site table's name"),
    ("sites=" + "x" * 200, (), "a site table's name is letters"),
])
def test_sites_are_read_or_reported_by_name_and_never_raise(query, sites, problem):
    decoded = from_query(query, known_systems={"iskander-m", "s-400", "kinzhal"})
    assert decoded.state.sites == sites
    assert (problem in " ".join(decoded.problems)) if problem else not decoded.problems
    assert from_query(to_query(decoded.state)).state == decoded.state


def test_a_table_that_is_not_stored_is_named_with_the_stored_ones():
    decoded = from_query("sites=nope&sites=sites-belarus", known_sites=("sites-belarus", "other"))
    assert decoded.state.sites == (share.SiteLayer("sites-belarus"),)
    assert decoded.problems == ("Ignored sites=nope: no site table called nope (stored tables: other and "
                                "sites-belarus); import one with import FILE --format sites.",)
    many = "&".join(f"sites=t{i}" for i in range(12))
    assert len(from_query(many).state.sites) == share.MAX_SITE_LAYERS


@pytest.mark.parametrize("build, field", [
    (lambda: LaunchSpec("Desna", "BY"), "launch"),
    (lambda: LaunchSpec("De/sna", "BY", km=3), "launch.target"),
    (lambda: LaunchSpec("Desna", "B|Y", km=3), "launch.territory"),
    (lambda: LaunchSpec("Desna", "", km=3), "launch.territory"),
    (lambda: LaunchSpec("Desna", "BY", km=300, min_km=300), "launch.min_km"),
    (lambda: LaunchSpec("Desna", "BY", system="iskander-m", min_km=30), "launch.min_km"),
    (lambda: RingSpec("Minsk", km=300, min_km=400), "ring.min_km"),
    (lambda: ViewState(launches=("launch=300@Desna/BY",)), "launches"),
])
def test_launch_specs_without_a_spelling_are_refused_when_built(build, field):
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.field == field


def test_launch_and_minimum_labels_are_data_free_words():
    assert LaunchSpec("Desna", "BY", system="iskander-m").label == "launch area of iskander-m for Desna from BY"
    assert LaunchSpec("Desna", "BY", km=300, min_km=50, name="Mine").label == (
        "Mine (launch area of 50–300 km for Desna from BY)")
    assert RingSpec("Minsk", km=500, min_km=50).label == "50–500 km from Minsk"
    # a typed km clears the system, as for rings; a duplicate launch is kept once
    assert LaunchSpec("Desna", "BY", km=3, system="iskander-m").system == ""
    assert len(ViewState(launches=(LaunchSpec("Desna", "BY", km=3),) * 2).launches) == 1


def test_a_launch_link_as_streamlit_escapes_it_reads_the_same():
    state = from_query("?launch=iskander-m%40Desna%2FBY%7CMy+area", SYSTEMS).state
    assert state.launches == (LaunchSpec("Desna", "BY", system="iskander-m", name="My area"),)
