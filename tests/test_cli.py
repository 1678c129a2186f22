"""The command line as a user runs it: a real subprocess, a real store (the commands that read events: on both
backends), the real gazetteer index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dashboard.settings import PROJECT_DIR
from tests.conftest import BACKENDS, backend_store


def run(*args: str, store: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m dashboard …` on the store these settings name (else the one the environment names)."""
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True, text=True,
                          env={**os.environ, **(store or {})}, cwd=PROJECT_DIR, timeout=120)


@pytest.fixture(scope="module")
def store(tmp_path_factory, gazetteer):  # the gazetteer fixture builds the index once beforehand
    """A GeoPackage store's settings, for the commands that do not read the events (rings, reach, refusals)."""
    with backend_store("geopackage", tmp_path_factory.mktemp("cli")) as (_, env):
        yield env


@pytest.fixture(scope="module", params=BACKENDS)
def each_store(request, tmp_path_factory, gazetteer):
    """The settings of a store of each backend, made and seeded by the first command: for the commands that
    read the events (they run on the GeoPackage and on PostGIS)."""
    with backend_store(request.param, tmp_path_factory.mktemp("cli")) as (_, env):
        yield env


def features(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["features"]


def test_reach_from_belarus_lists_the_capitals_within_500_km(store):
    feats = features(run("reach", "--from", "Belarus", "--km", "500", "--places", "capitals", store=store))
    assert feats[0]["properties"]["kind"] == "reach" and feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    names = [f["properties"]["name"] for f in feats[1:]]
    for capital in ("Minsk", "Vilnius", "Kyiv", "Warsaw", "Riga", "Moscow", "Tallinn", "Helsinki", "Chisinau"):
        assert capital in names
    assert "Budapest" not in names and "Berlin" not in names
    distances = [f["properties"]["distance_km"] for f in feats[1:]]
    assert distances == sorted(distances) and max(distances) <= 500
    assert {"name", "distance_km", "bearing_deg"} <= set(feats[1]["properties"])


def test_ring_around_a_place_gives_distance_and_bearing(store):
    feats = features(run("ring", "--at", "Minsk", "--system", "iskander-m", store=store))
    ring = feats[0]["properties"]
    assert (ring["radius_km"], ring["system"]) == (500, "Iskander-M") and ring["range_source"].startswith("https://")
    kyiv = next(f["properties"] for f in feats[1:] if f["properties"]["name"] == "Kyiv")
    assert kyiv["distance_km"] == pytest.approx(433.4, abs=0.1) and kyiv["bearing_deg"] == pytest.approx(151.0, abs=0.1)


def test_ring_at_coordinates_and_reach_from_the_border_list_events(each_store):
    feats = features(run("ring", "--at", "51.5,31.3", "--km", "100", "--places", "events", store=each_store))
    assert "Massive missile strike on Desna launched from Belarus" in [f["properties"]["name"] for f in feats[1:]]
    feats = features(run("reach", "--from", "Belarus-Ukraine border", "--km", "50", "--places", "events",
                         store=each_store))
    assert feats[0]["properties"]["origin_kind"] == "border"


def test_events_filtered_by_date_country_and_distance(each_store):
    result = run("events", "--from", "2022-06-25", "--to", "2022-06-25", "--near", "Chernihiv:100", "--json",
                 store=each_store)
    assert [f["properties"]["id"] for f in features(result)] == ["desna-missile-strike-2022-06-25"]
    everything = features(run("events", "--json", store=each_store))
    ukraine = features(run("events", "--country", "UA", "--json", store=each_store))
    assert 0 < len(ukraine) < len(everything)
    late_feb = features(run("events", "--from", "2022-02-25", "--to", "2022-02-25", "--json", store=each_store))
    ids = {f["properties"]["id"] for f in late_feb}  # spans that overlap 25 Feb, not just those inside it
    assert "western-sanctions-on-russia-2022" in ids and "russian-invasion-via-belarus-2022-02-24" not in ids


@pytest.mark.parametrize("args, fragment", [
    (("ring", "--at", "Xyzzyqq", "--km", "5"), "Xyzzyqq"),
    (("ring", "--at", "Minsk", "--km", "-5"), "-5"),
    (("ring", "--at", "Minsk", "--km", "0"), "greater than 0"),
    (("ring", "--at", "Minsk", "--km", "abc"), "abc"),
    (("ring", "--at", "95,10", "--km", "5"), "95"),
    (("ring", "--at", "Belarus", "--km", "5"), "reach --from"),
    (("ring", "--at", "Minsk", "--system", "nope"), "nope"),
    (("reach", "--from", "Belarus", "--system", "su-25"), "su-25"),
    (("events", "--from", "2022-13-01"), "2022-13-01"),
    (("events", "--from", "2022-06-30", "--to", "2022-06-01"), "before"),
    (("events", "--near", "Chernihiv"), "PLACE:KM"),
    (("events", "--near", "Chernihiv:-3"), "-3"),
    (("bogus",), "invalid choice"),
    (("launch-area", "--target", "Desna", "--from", "BY"), "--km or --system"),
    (("launch-area", "--target", "BY", "--from", "BY", "--km", "300"), "not an area"),
    (("launch-area", "--target", "Desna", "--from", "Minsk", "--km", "300"), "territory"),
    (("launch-area", "--target", "Desna", "--from", "BY", "--km", "300", "--min-km", "300"), "less than"),
    (("launch-area", "--target", "Desna", "--from", "BY", "--system", "iskander-m", "--munition", "rocket"), "rocket"),
])
def test_bad_input_gives_one_line_and_exit_2(store, args, fragment):
    result = run(*args, store=store)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert fragment in result.stderr


def test_desna_means_the_story_village_in_chernihiv_region(store):
    feats = features(run("ring", "--at", "Desna", "--km", "10", "--places", "none", store=store))
    assert feats[0]["properties"]["origin"] == "Desna"
    ring = feats[0]["geometry"]["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    centre = ((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    assert centre == pytest.approx((30.76678, 50.92744), abs=0.01)  # GeoNames 710071, not Kyiv's Desna


# ------------------------------------------------------------------- coordinates as typed, places as read

@pytest.mark.parametrize("args, origin", [
    (("ring", "--at", "-17.8,178.0", "--km", "800"), "-17.8000, 178.0000"),     # Fiji: south
    (("ring", "--at", "-33.92, 18.42", "--km", "50"), "-33.9200, 18.4200"),     # Cape Town, with a space
    (("ring", "--at", "40.71,-74.01", "--km", "50"), "40.7100, -74.0100"),      # New York: west
    (("ring", "--at", "-22.9,-43.2", "--km", "50"), "-22.9000, -43.2000"),      # Rio: south and west
    (("ring", "--km", "50", "--at", "-22.9,-43.2"), "-22.9000, -43.2000"),      # options in any order
    (("ring", "--at=-17.8,178.0", "--km", "800"), "-17.8000, 178.0000"),        # the = form still works
    (("reach", "--from", "-17.8,178.0", "--km", "100"), "-17.8000, 178.0000"),
])
def test_southern_and_western_coordinates_work_as_typed(store, args, origin):
    feats = features(run(*args, store=store))
    assert (feats[0]["properties"]["origin"], feats[0]["properties"]["origin_kind"]) == (origin, "point")
    assert feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")  # Fiji's ring is cut at 180°


def test_the_ring_around_fiji_lists_suva(store):
    feats = features(run("ring", "--at", "-17.8,178.0", "--km", "800", store=store))
    suva = next(f["properties"] for f in feats[1:] if f["properties"]["name"] == "Suva")
    assert suva["kind"] == "capital" and suva["country"] == "FJ" and suva["distance_km"] < 100


@pytest.mark.parametrize("argv, parsed", [
    (["events", "--near", "-17.8,178.0:100"], ["events", "--near=-17.8,178.0:100"]),
    (["events", "--json", "--near", "-1,2:5"], ["events", "--json", "--near=-1,2:5"]),
    (["ring", "--at", "Minsk", "--km", "-5"], ["ring", "--at", "Minsk", "--km=-5"]),
    (["export", "?v=1", "--format", "csv", "-o", "-"], ["export", "?v=1", "--format", "csv", "-o", "-"]),
    (["ring", "--at", "Minsk", "--", "-1,2"], ["ring", "--at", "Minsk", "--", "-1,2"]),  # after --: as typed
])
def test_only_values_of_options_that_take_one_are_attached(argv, parsed):
    from dashboard import cli

    assert cli.attach_values(argv, cli.build_parser()) == parsed


def test_events_near_southern_coordinates_and_a_negative_radius_say_what_is_wrong(each_store):
    ok = run("events", "--near", "-17.8,178.0:100", store=each_store)
    assert ok.returncode == 0, ok.stderr
    bad = run("ring", "--at", "Minsk", "--km", "-5", store=each_store)
    assert bad.returncode == 2 and "greater than 0" in bad.stderr and "expected one argument" not in bad.stderr


def test_events_name_the_region_and_country_and_print_the_quote(each_store):
    table = run("events", "--from", "2022-06-25", "--to", "2022-06-25", "--country", "UA", store=each_store)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    strike = next(i for i, line in enumerate(lines) if "Desna" in line)
    assert "—  Desna, Chernihiv Oblast, UA  [" in lines[strike]
    assert "village of Desna" in lines[strike + 1] and lines[strike + 1].lstrip().startswith("“")
    feats = features(run("events", "--from", "2022-06-25", "--to", "2022-06-25", "--country", "UA", "--json",
                         store=each_store))
    desna = next(f["properties"] for f in feats if f["properties"]["place"] == "Desna")
    assert desna["place_label"] == "Desna, Chernihiv Oblast, UA" and desna["admin1"] == "Chernihiv Oblast"
    assert "village of Desna" in desna["quote"]


def test_in_range_places_name_their_region():
    from dashboard.geoparse.regions import place_label, region_name
    from dashboard.model import Place

    assert region_name("UA", "02") == "Chernihiv Oblast" and region_name("UA", "Chernihiv Oblast") == "Chernihiv Oblast"
    assert region_name("FJ", "01") == "" and region_name("UA", "") == ""
    kyiv_desna = Place.at("geonames:13546519", "Desna", "city", 30.68228, 50.52207, country="UA", admin1="12")
    assert place_label(kyiv_desna) == "Desna, Kyiv City, UA"
    assert place_label(Place.at("country:BY", "Belarus", "country", 27.5, 53.9, country="BY")) == "Belarus"


def test_import_then_reimport_is_idempotent(store_location, gazetteer):
    from dashboard.settings import PROJECT_DIR as root

    fixture = str(root / "tests" / "data" / "import" / "acled_current.csv")
    first = run("import", fixture)
    assert first.returncode == 0, first.stderr
    again = run("import", fixture)
    assert again.returncode == 0 and " 0 added" in again.stdout, again.stdout


def test_import_of_a_bad_file_is_one_line(store_location, tmp_path, gazetteer):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(bytes(range(256)) * 40)
    result = run("import", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:")


# ---------------------------------------------------------------------------------------------- terminal safety

HOSTILE_TITLE = "bell\a \x1b[31mred\x1b[0m \x9b2J \u202eevil\u202c line\nbreak\u2028sep é—ok"


@pytest.fixture
def hostile_store(store_path, monkeypatch):
    from dashboard import cli
    from tests.conftest import make_event

    events = [make_event(title=HOSTILE_TITLE, place=None), make_event("e2", title="plain")]
    monkeypatch.setattr(cli, "select_events", lambda store, flt: events)
    return cli


def test_events_table_shows_control_characters_instead_of_obeying_them(hostile_store, capsys):
    assert hostile_store.main(["events"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\a\x1b\x9b\u202e\u202c\u2028")
    assert r"\x07 \x1b[31mred\x1b[0m \x9b2J \u202eevil\u202c line\nbreak\u2028sep é—ok" in out
    assert out.count("\n") == 4  # per event its line and its quote's, whatever the title holds


def test_events_json_stays_json_with_the_same_text_and_nothing_a_terminal_obeys(hostile_store, capsys):
    assert hostile_store.main(["events", "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\a\x1b\x9b\u202e\u202c\u2028")
    titles = [f["properties"]["title"] for f in json.loads(out)["features"]]
    assert titles == [HOSTILE_TITLE, "plain"]


@pytest.mark.parametrize("text, shown", [
    ("plain é 日本", "plain é 日本"), ("\x1b[2J", r"\x1b[2J"), ("\x00", r"\x00"), ("a\tb", r"a\tb"),
    ("\u202eabc", r"\u202eabc"), ("\ud800", r"\ud800"), ("zero\u200dwidth joiner stays", "zero\u200dwidth joiner stays"),
])
def test_printable(text, shown):
    from dashboard.cli import printable

    assert printable(text) == shown


@pytest.mark.parametrize("args, says", [
    (("--from", "0001-01-01"), "outside 1900-01-01 to 2100-12-31"),
    (("--to", "2999-12-31"), "outside 1900-01-01 to 2100-12-31"),
    (("--near", "Chernihiv:30000"), "at most 19,950 km"),
])
def test_events_takes_the_same_bounds_as_a_permalink(store, args, says):
    result = run("events", *args, store=store)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr


def test_an_html_export_of_thousands_is_drawn_from_the_columns_without_reading_an_event(store_location, monkeypatch,
                                                                                          tmp_path, gazetteer):
    """Issue 15: `export --format html` of 100,000 events built every Event (31-36 s); the map, the summary
    and the credits come from the columnar table, as in the app."""
    from dashboard import cli
    from dashboard.mapview.bulk import BULK_THRESHOLD
    from dashboard.model import Place
    from tests.conftest import make_event, open_unseeded

    n = BULK_THRESHOLD + 10
    with open_unseeded(store_location) as store:
        store.put_events((make_event(f"e{i}", place=Place.at(f"p{i}", f"Village {i}", "village", 30 + i / n,
                                                            50 + (i % 97) / 100, country="UA"))
                          for i in range(n)), origin="test")
    kind = type(store)  # GeoPackageStore or PostGISStore
    monkeypatch.setattr(kind, "events_by_id", lambda self, ids: pytest.fail("read the events"))
    monkeypatch.setattr(kind, "events", lambda self, *a, **k: pytest.fail("read the events"))
    out = tmp_path / "map.html"
    assert cli.main(["export", "v=1&countries=UA", "--format", "html", "-o", str(out)]) == 0
    page = out.read_text("utf-8")
    assert "ReachmapBulk" in page and f"{n:,} events" in page


_LOADED = ("import atexit, runpy, sys\n"
           "atexit.register(lambda: print('loaded:', *[m for m in ('pandas', 'geopandas', 'pyproj') if sys.modules.get(m)],"
           " file=sys.stderr))\n"
           "sys.argv = ['dashboard', *sys.argv[1:]]\n"
           "runpy.run_module('dashboard', run_name='__main__', alter_sys=True)\n")


@pytest.mark.parametrize("fmt", ["csv", "geojson", "kml"])
def test_a_text_export_process_loads_neither_pandas_nor_pyproj_and_writes_the_same_file(each_store, tmp_path, fmt):
    """Issue 15: importing pandas, geopandas and pyproj was 0.6-0.8 s of a 3 s export of 100,000 events
    (Arrow and pyogrio ask for them at their first use); hidden from them, the file is byte for byte what
    an export in a process that loaded them writes (GeoJSON but for its `exported_at`)."""
    query = "from=2022-01-01&to=2022-12-31"
    assert run("events", store=each_store).returncode == 0  # the store made and seeded (that opens the gazetteer)
    lean = subprocess.run([sys.executable, "-c", _LOADED, "export", query, "--format", fmt, "-o", str(tmp_path / "a")],
                          capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120,
                          env={**os.environ, **each_store})
    assert lean.returncode == 0, lean.stderr
    assert lean.stderr.splitlines()[-1] == "loaded:"
    loaded = ("import pandas, geopandas, pyogrio, pyproj\n"
              "from dashboard.cli import main\nimport sys\nsys.exit(main(sys.argv[1:], whole_process=True))\n")
    full = subprocess.run([sys.executable, "-c", loaded, "export", query, "--format", fmt, "-o", str(tmp_path / "b")],
                          capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120,
                          env={**os.environ, **each_store})
    assert full.returncode == 0, full.stderr
    a, b = ((tmp_path / n).read_text("utf-8") for n in "ab")
    if fmt == "geojson":
        a, b = (json.loads(t) for t in (a, b))
        a["reachmap"].pop("exported_at"), b["reachmap"].pop("exported_at")
    assert a == b and len((tmp_path / "a").read_bytes()) > 1000


def test_a_ring_in_a_text_export_still_measures_after_pyproj_was_hidden(store):
    """The hidden pyproj is only pyogrio's question: the geodesy loads it at its first distance."""
    result = run("export", "ring=iskander-m@Minsk", "--format", "geojson", "-o", "-", store=store)
    ring = [f for f in features(result) if f["properties"].get("kind") == "ring"]
    assert len(ring) == 1 and ring[0]["geometry"]["type"] == "Polygon"


def test_launch_area_from_belarus_for_desna_comes_first_then_what_it_found(store):
    feats = features(run("launch-area", "--target", "Desna", "--system", "iskander-m", "--from", "BY", store=store))
    area = feats[0]["properties"]
    assert area["kind"] == "launch_area" and feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert (area["radius_km"], area["system"], area["territory"]) == (500, "Iskander-M", "Belarus")
    assert 150_000 < area["area_km2"] < 207_000 and 0.5 < area["share_of_territory"] < 1
    assert area["nearest_km"] == pytest.approx(40.6, abs=0.1) and area["farthest_km"] == pytest.approx(500, abs=0.5)
    assert [f["properties"]["kind"] for f in feats[1:]] == ["nearest_launch_point", "farthest_launch_point", "target"]
    assert feats[1]["properties"]["distance_km"] == area["nearest_km"]


def test_launch_area_with_a_minimum_and_out_of_reach(store):
    feats = features(run("launch-area", "--target", "Desna", "--km", "300", "--min-km", "200", "--from", "BY",
                         store=store))
    assert feats[0]["properties"]["min_km"] == 200 and feats[0]["properties"]["nearest_km"] >= 199.5
    far = features(run("launch-area", "--target", "-33.92,18.42", "--km", "300", "--from", "BY", store=store))
    assert far[0]["geometry"] is None and far[0]["properties"]["area_km2"] == 0
    assert "could not reach" in far[0]["properties"]["sentence"] and len(far) == 2  # the target only


def test_launch_area_list_names_what_could_reach_desna_from_belarus(store):
    result = run("launch-area", "--target", "Desna", "--from", "BY", "--list", store=store)
    assert result.returncode == 0, result.stderr
    first, *rows = result.stdout.splitlines()
    assert first.startswith("Could reach Desna from Belarus (at least 40.6 km away): ") and "Iskander-M (500 km)" in first
    verdicts = {tuple(r.split("\t")[:2]) for r in rows}
    assert ("in range", "iskander-m") in verdicts and ("out of range", "zala-lancet") not in verdicts


def test_export_of_a_launch_link_says_what_it_wrote_and_names_the_bad_one(each_store, tmp_path):
    out = tmp_path / "view.kml"
    result = run("export", "?v=1&launch=iskander-m@Desna/BY&launch=5@Nowhereqq/BY", "--format", "kml", "-o", str(out),
                 store=each_store)
    assert result.returncode == 0, result.stderr
    assert "1 launch area(s) written" in result.stderr and "Nowhereqq" in result.stderr
    assert "Launch areas" in out.read_text(encoding="utf-8")


def test_export_of_lines_of_bearing_counts_them_in_what_it_wrote(store, tmp_path):
    out = tmp_path / "view.geojson"
    result = run("export", "?v=1&bearing=Desna:315:200|reported launch direction&bearing=Desna:300:50",
                 "--format", "geojson", "-o", str(out), store=store)
    assert result.returncode == 0, result.stderr
    assert ", 2 line(s) of bearing written to " in result.stderr
    assert "reported launch direction" in out.read_text(encoding="utf-8")


def test_a_ring_with_a_minimum_is_an_annulus_and_lists_nothing_closer(store):
    feats = features(run("ring", "--at", "Minsk", "--km", "500", "--min-km", "50", store=store))
    assert feats[0]["properties"]["min_km"] == 50 and "50–500 km" in feats[0]["properties"]["label"]
    names = [f["properties"]["name"] for f in feats[1:]]
    assert "Vilnius" in names and "Minsk" not in names
    smerch = features(run("ring", "--at", "Minsk", "--system", "bm-30-smerch", "--places", "none", store=store))
    assert smerch[0]["properties"]["min_km"] == 20  # its declared minimum (TASS: "20-70 km")
