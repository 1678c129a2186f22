"""Importing event files: every ACLED variant, generic CSV/Excel, GeoJSON, KML; rejections; atomicity."""

from __future__ import annotations

import random
import shutil
from datetime import date
from pathlib import Path

import pytest

from dashboard.errors import DashboardError, ValidationError
from dashboard.ingest.dates import detect_order, parse_one
from dashboard.ingest.importer import ImportReport, Rejection, detect_format, import_file, preview_file
from dashboard.store import EventStore, GeoPackageStore
from dashboard.store.snapshots import frozen_text, read_frozen

DATA = Path(__file__).resolve().parent / "data" / "import"


@pytest.fixture
def store(any_store):
    """An empty store of each backend: an import stores the same on both."""
    return any_store


@pytest.fixture
def gpkg_store(tmp_path):
    """A GeoPackage store, for the tests of files and rows refused while they are read, before a write begins:
    no backend takes part, so one is enough (CI time); the refusals that begin a write run on both (`store`)."""
    with GeoPackageStore.open(tmp_path / "s.gpkg") as s:
        yield s


def contents(store: EventStore) -> list[tuple]:
    """Everything a user could see of the stored events, to compare before and after."""
    return [(e, e.place.geometry.wkb, e.attributes) for e in store.events()] + [("origins", *store.origins())]


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def acled_rows(count: int) -> str:
    """A small ACLED export with `count` rows (deterministic)."""
    rng = random.Random(42)
    lines = ["event_id_cnty,event_date,time_precision,event_type,sub_event_type,iso,country,admin1,location,"
             "latitude,longitude,geo_precision,source,notes,fatalities"]
    for n in range(count):
        lines.append(f"UKR{n},2022-06-{rng.randint(1, 30):02d},1,Explosions/Remote violence,Air/drone strike,804,"
                     f"Ukraine,Chernihiv,Village {n % 50},{50 + rng.random():.4f},{30 + rng.random():.4f},1,"
                     f"Suspilne,\"On that day, a strike hit Village {n % 50}. No casualties.\",0")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ detection

@pytest.mark.parametrize("name, expected", [
    ("acled_current.csv", "acled"), ("acled_legacy.csv", "acled"), ("acled_resaved.csv", "acled"),
    ("generic_lat_lon.csv", "csv"), ("places_only.csv", "csv"), ("events.xlsx", "xlsx"),
    ("features.geojson", "geojson"), ("placemarks.kml", "kml"),
])
def test_format_is_detected_by_content_not_by_suffix(tmp_path, name, expected):
    assert detect_format(DATA / name) == expected
    disguised = tmp_path / "download.txt"
    shutil.copy(DATA / name, disguised)
    assert detect_format(disguised) == expected


# -------------------------------------------------------------------------------------------------- ACLED

def test_acled_current_export_maps_every_field(store, gazetteer):
    report = import_file(DATA / "acled_current.csv", store, gazetteer)
    assert (report.format, report.rows, report.added, report.updated, report.rejected, report.stored) == \
        ("acled", 4, 4, 0, (), True)
    desna = store.get_event("acled:UKR98765")
    assert desna.title == "Air/drone strike in Desna (Chernihiv)" and desna.event_type == "air/drone strike"
    assert (desna.time.start, desna.time.end, desna.time.precision) == (date(2022, 6, 25), date(2022, 6, 25), "day")
    assert desna.place.lonlat == (30.7668, 50.9274) and desna.place.country == "UA"
    assert desna.place.admin1 == "Chernihiv" and desna.place.kind == "point"
    assert desna.actors == ("Military Forces of Russia (2000-)", "Military Forces of Belarus (1994-)",
                            "Military Forces of Ukraine (2019-)")
    assert desna.source.title == "ACLED event UKR98765"
    assert desna.source.publisher == "ACLED, citing Ukrainska Pravda; Suspilne"
    assert desna.source.quote == ("On 25 June 2022, Russian forces launched missiles from Belarusian airspace at the "
                                  "military training ground near Desna (Chernihiv).")
    assert desna.description.endswith("Casualties unknown.") and desna.source.published == date(2022, 7, 5)
    for key, value in [("geo_precision", "1"), ("fatalities", "0"), ("sub_event_type", "Air/drone strike"),
                       ("event_type", "Explosions/Remote violence"), ("time_precision", "1"),
                       ("interaction", "18"), ("admin2", "Chernihivskyi"), ("source_scale", "National")]:
        assert desna.attribute(key) == value, key
    assert store.origins() == ["import:acled_current.csv"]


@pytest.mark.parametrize("event_id, start, end, precision, country", [
    ("acled:UKR98770", date(2022, 6, 19), date(2022, 6, 25), "week", "UA"),   # time_precision 2: ±3 days
    ("acled:BLR1234", date(2022, 6, 1), date(2022, 6, 30), "month", "BY"),    # time_precision 3: the month
])
def test_acled_time_precision_widens_the_interval(store, gazetteer, event_id, start, end, precision, country):
    import_file(DATA / "acled_current.csv", store, gazetteer)
    event = store.get_event(event_id)
    assert (event.time.start, event.time.end, event.time.precision) == (start, end, precision)
    assert event.place.country == country and "time_precision" in event.time.note


def test_acled_legacy_uppercase_export_with_month_names(store, gazetteer):
    report = import_file(DATA / "acled_legacy.csv", store, gazetteer)
    assert (report.added, report.rejected, report.date_order) == (2, (), "month-name")
    first = store.get_event("acled:UKR1")
    assert first.time.start == date(2015, 1, 1) and first.place.country == "UA"  # country by name
    assert first.event_type == "battle-no change of territory"
    assert first.attribute("gwno") == "369" and first.attribute("fatalities") == "3"
    second = store.get_event("acled:UKR2")
    assert "Military Forces of Russia (2000-)" in second.actors  # ALLY_ACTOR_1
    assert (second.time.start, second.time.end) == (date(2015, 2, 12), date(2015, 2, 18))


def test_a_resaved_acled_file_with_index_bom_crlf_and_multiline_notes(store, gazetteer):
    report = import_file(DATA / "acled_resaved.csv", store, gazetteer, skip_bad=True)
    assert (report.rows, report.added, report.stored) == (3, 2, True)
    assert report.rejected == (Rejection(6, "latitude", "95.4547",
                                         "latitude is out of range: it must be between -90 and 90"),)
    shostka = store.get_event("acled:UKR98770")
    assert shostka.description == "During the week of 20 June 2022,\nRussian forces shelled Shostka.\nNo casualties."
    assert not any(key.startswith("unnamed") or key == "" for key, _ in shostka.attributes)


# --------------------------------------------------------------------------------------- generic tables

@pytest.mark.parametrize("name, title, lonlat, start, end, extra", [
    ("generic_lat_lon.csv", "Missile strike on Desna", (30.76678, 50.92744), date(2022, 6, 25), date(2022, 6, 25),
     {"publisher": "Reuters", "quote": "Missiles hit Desna.", "description": "From Belarus.", "country": "UA",
      "attributes": (("fatalities", "0"),)}),
    ("generic_latitude_longitude.csv", "Siege of Chernihiv", (31.2893, 51.4982), date(2022, 2, 24),
     date(2022, 3, 31), {"publisher": "BBC", "actors": ("Russia", "Ukraine"), "admin1": "Chernihiv Oblast",
                         "precision": "span"}),
    ("generic_y_x.csv", "Air-raid alert in Kyiv", (30.5234, 50.4501), date(2022, 6, 25), date(2022, 6, 25),
     {"publisher": "Suspilne", "event_type": "alert"}),  # semicolons, decimal commas, 25.06.2022
    ("generic_lng_long.csv", "Exercises near Gomel", (31.0048, 52.4345), date(2022, 6, 20), date(2022, 6, 26),
     {"id": "evt-1", "url": "https://example.org/gomel", "quote": "Drills continued."}),
    ("generic_x_long.csv", "Statement in Moscow", (37.6173, 55.7558), date(2022, 6, 25), date(2022, 6, 25),
     {"id": "x-1", "source_title": "Kremlin readout", "published": date(2022, 6, 26), "event_type": "event"}),
])
def test_generic_csv_columns_are_found_by_any_common_name(store, gazetteer, name, title, lonlat, start, end, extra):
    report = import_file(DATA / name, store, gazetteer)
    assert report.stored and report.rejected == () and report.format == "csv"
    event = next(e for e in store.events() if e.title == title)
    assert event.place.lonlat == lonlat and (event.time.start, event.time.end) == (start, end)
    got = {"publisher": event.source.publisher, "quote": event.source.quote, "description": event.description,
           "country": event.place.country, "attributes": event.attributes, "actors": event.actors,
           "admin1": event.place.admin1, "precision": event.time.precision, "event_type": event.event_type,
           "id": event.id, "url": event.source.url, "source_title": event.source.title,
           "published": event.source.published}
    assert {k: got[k] for k in extra} == extra


def test_place_names_are_resolved_and_offered_for_review(gazetteer):
    preview = preview_file(DATA / "places_only.csv", gazetteer)
    matches = {m.key: m for m in preview.matches}
    assert set(matches) == {"Desna (UA)", "Chernihiv (UA)", "Minsk (BY)", "Nowhereville Xq (UA)"}
    desna = matches["Desna (UA)"]
    assert desna.rows == 2 and desna.chosen is not None and desna.chosen.country == "UA"
    assert "geonames:710071" in {c.key for c in desna.candidates}  # the Desna of the story is offered
    assert 1 <= len(desna.alternatives) <= 4 and desna.confidence < 0.5  # several villages of that name
    assert matches["Chernihiv (UA)"].chosen.geonameid == 710735 and matches["Chernihiv (UA)"].confidence == 1.0
    assert matches["Minsk (BY)"].chosen.country == "BY"  # the country column said "Belarus"
    assert matches["Nowhereville Xq (UA)"].chosen is None
    [unknown] = preview.rejected
    assert (unknown.line, unknown.field, unknown.value) == (6, "place", "Nowhereville Xq")
    assert unknown.reason.startswith("unknown place")


def test_a_reviewed_choice_overrides_the_automatic_match(store, gazetteer):
    choices = {"Desna (UA)": "geonames:710071", "Nowhereville Xq (UA)": ""}
    report = import_file(DATA / "places_only.csv", store, gazetteer, place_choices=choices, skip_bad=True)
    assert report.added == 4
    assert [(r.line, r.reason) for r in report.rejected] == [(6, "left out in the review of place names")]
    desna = [e for e in store.events() if "Desna" in e.title]
    assert len(desna) == 2 and {e.place.key for e in desna} == {"geonames:710071"}
    with pytest.raises(DashboardError, match="not a gazetteer key"):
        preview_file(DATA / "places_only.csv", gazetteer, place_choices={"Desna (UA)": "made-up"})


def test_ambiguous_dates_are_read_day_first_with_a_warning(gazetteer):
    preview = preview_file(DATA / "ambiguous_dates.csv", gazetteer)
    assert preview.date_order == "ambiguous" and "day-first" in preview.warnings[0]
    assert [e.time.start for e in preview.events] == [date(2022, 4, 3), date(2022, 6, 5), date(2022, 11, 12)]


@pytest.mark.parametrize("values, order", [
    (["25/06/2022", "03/04/2022"], "day-first"),
    (["06/25/2022", "03/04/2022"], "month-first"),
    (["03/04/2022", "05/06/2022"], "ambiguous"),
    (["13/05/2022", "05/13/2022"], "mixed"),
    (["2022-06-25", "2022-06-26T10:00:00"], "iso"),
    (["01-January-2015", "25 June 2022"], "month-name"),
    ([""], ""),
])
def test_date_order_is_judged_over_the_whole_column(values, order):
    assert detect_order(values) == order


@pytest.mark.parametrize("text, expected", [
    ("2022-06-25", (date(2022, 6, 25), date(2022, 6, 25), "day")),
    ("25.06.22", (date(2022, 6, 25), date(2022, 6, 25), "day")),
    ("June 2022", (date(2022, 6, 1), date(2022, 6, 30), "month")),
    ("2022", (date(2022, 1, 1), date(2022, 12, 31), "year")),
    ("01-January-2015", (date(2015, 1, 1), date(2015, 1, 1), "day")),
    ("25 June", None), ("yesterday", None), ("31/02/2022", None), ("44737", None),
])
def test_one_date_text(text, expected):
    assert parse_one(text, day_first=True) == expected


def test_excel_workbook(store, gazetteer):
    report = import_file(DATA / "events.xlsx", store, gazetteer, skip_bad=True)
    assert (report.format, report.rows, report.added) == ("xlsx", 3, 2)
    assert [(r.line, r.field) for r in report.rejected] == [(5, "Latitude")]  # Excel's own row number
    desna = next(e for e in store.events() if e.title == "Missile strike on Desna")
    assert desna.time.start == date(2022, 6, 25) and desna.source.url == "https://example.org/desna"


def test_geojson_points_lines_polygons_keep_their_geometry_and_properties(store, gazetteer):
    report = import_file(DATA / "features.geojson", store, gazetteer)
    assert (report.format, report.added, report.rejected) == ("geojson", 4, ())
    by_title = {e.title: e for e in store.events()}
    assert {t: e.place.geometry.geom_type for t, e in by_title.items()} == {
        "Missile strike on Desna": "Point", "Troop movements along the border": "LineString",
        "Closed area near Desna": "Polygon", "Statements in two capitals": "MultiPoint"}
    assert all(e.place.kind == "point" for e in by_title.values())
    assert by_title["Missile strike on Desna"].attribute("fatalities") == "0"
    line = by_title["Troop movements along the border"]
    assert (line.time.start, line.time.end, line.time.precision) == (date(2022, 6, 20), date(2022, 6, 26), "span")
    assert by_title["Closed area near Desna"].time.precision == "month"
    assert by_title["Statements in two capitals"].place.name == "Minsk and Kyiv"


def test_kml_placemarks_with_timestamps_timespans_and_extended_data(store, gazetteer):
    report = import_file(DATA / "placemarks.kml", store, gazetteer)
    assert (report.format, report.added, report.rejected) == ("kml", 2, ())
    by_title = {e.title: e for e in store.events()}
    desna = by_title["Missile strike on Desna"]
    assert desna.event_type == "missile strike" and desna.source.publisher == "Reuters"
    assert desna.description == "Missiles launched from Belarusian airspace." and desna.time.start == date(2022, 6, 25)
    assert desna.attributes == (("fatalities", "0"),)  # KML styling fields are dropped
    column = by_title["Column on the M01"]
    assert (column.time.start, column.time.end) == (date(2022, 2, 24), date(2022, 3, 31))
    assert column.place.geometry.geom_type == "LineString" and column.source.title == "placemarks.kml, feature 2"


# ------------------------------------------------------------------------------------ one test per error

HEADER = "id,lat,lon,date,end,title,url,country,place\n"


@pytest.mark.parametrize("row, field, value, reason", [
    ("a,91,30,2022-06-25,,T,,,", "lat", "91", "latitude is out of range"),
    ("a,50,-181,2022-06-25,,T,,,", "lon", "-181", "longitude is out of range"),
    ("a,50,thirty,2022-06-25,,T,,,", "lon", "thirty", "longitude is not a number"),
    ("a,,30,2022-06-25,,T,,,", "lat", "", "missing latitude"),
    ("a,50,30,25 Juni 2022x,,T,,,", "date", "25 Juni 2022x", "not a date"),
    ("a,50,30,,,T,,,", "date", "", "missing date"),
    ("a,50,30,2022-06-25,2022-06-20,T,,,", "end", "2022-06-20", "end is before the start 2022-06-25"),
    ("a,50,30,2022-06-25,,,,,", "title", "", "missing title"),
    ("a,,,2022-06-25,,T,,,", "place", "", "missing location"),
    ("a,,,2022-06-25,,T,,,Qxzzyville", "place", "Qxzzyville", "unknown place"),
    ("a,50,30,2022-06-25,,T,javascript:alert(1),,", "url", "javascript:alert(1)", "must be an http(s) link"),
    ("a,50,30,2022-06-25,,T,,Atlantis,", "country", "Atlantis", "unknown country"),
])
def test_each_kind_of_bad_row_is_reported_with_line_field_and_reason(gpkg_store, gazetteer, tmp_path, row, field,
                                                                    value, reason):
    path = write(tmp_path, HEADER + "good,50,30,2022-06-25,,Good,,,\n" + row + "\n")
    report = import_file(path, gpkg_store, gazetteer)
    assert not report.stored and gpkg_store.count() == 0
    [rejection] = report.rejected
    assert (rejection.line, rejection.field, rejection.value) == (3, field, value)
    assert rejection.reason.startswith(reason), rejection.reason


def test_a_repeated_id_is_rejected_naming_the_first_line(gpkg_store, gazetteer, tmp_path):
    rows = "a,50,30,2022-06-25,,One,,,\nb,50,30,2022-06-25,,Two,,,\na,51,31,2022-06-26,,Three,,,\n"
    path = write(tmp_path, HEADER + rows)
    [rejection] = import_file(path, gpkg_store, gazetteer).rejected
    assert (rejection.line, rejection.field, rejection.value) == (4, "id", "a")
    assert rejection.reason == "the same id as line 2; each event once"


@pytest.mark.parametrize("row, field, reason", [
    ("UKR1,2022-06-25,7,Battles,Armed clash,50,30", "time_precision", "time_precision must be 1"),
    (",2022-06-25,1,Battles,Armed clash,50,30", "EVENT_ID_CNTY", "missing ACLED event id"),
    ("UKR1,2022-06-25,1,,,50,30", "EVENT_TYPE", "missing event type"),
])
def test_acled_specific_rejections(gpkg_store, gazetteer, tmp_path, row, field, reason):
    header = "EVENT_ID_CNTY,EVENT_DATE,time_precision,EVENT_TYPE,SUB_EVENT_TYPE,LATITUDE,LONGITUDE\n"
    path = write(tmp_path, header + row + "\n")
    [rejection] = import_file(path, gpkg_store, gazetteer).rejected
    assert (rejection.line, rejection.field) == (2, field) and rejection.reason.startswith(reason)


def test_a_row_the_model_refuses_late_still_writes_nothing(store, gazetteer, tmp_path, monkeypatch):
    from dashboard.ingest import acled

    real = acled.first_sentence

    def refuse_one(text: str) -> str:
        if "Village 7." in text:
            raise ValidationError("source.quote", text, "refused for the test")
        return real(text)

    monkeypatch.setattr(acled, "first_sentence", refuse_one)
    path = write(tmp_path, acled_rows(30), "acled.csv")
    report = import_file(path, store, gazetteer)
    assert (report.stored, report.added, store.count()) == (False, 0, 0)
    assert [(r.line, r.field) for r in report.rejected] == [(9, "source.quote")]
    report = import_file(path, store, gazetteer, skip_bad=True)
    assert (report.stored, report.added, store.count()) == (True, 29, 29)


@pytest.mark.parametrize("content, encoding, line", [
    ("lat,lon,date,title\n50,30,2022-06-25,One\n\n51,31,2022-06-26\n95,30,2022-06-27,Bad\n", "utf-8", 5),
    ("lat;lon;date;title\n50;30;2022-06-25;Café\n\n95;30;2022-06-27;Bad\n", "cp1252", 4),
    ("lat\tlon\tdate\ttitle\n50\t30\t2022-06-25\tOne\n95\t30\t2022-06-26\tBad\n", "utf-16", 3),
    ('lat,lon,date,title\n50,30,2022-06-25,One\n\n\n51,30,2022-06-26,"multi\nline"\n,,,\n95,30,2022-06-26,x\n',
     "utf-8", 8),
])
def test_line_numbers_count_blank_lines_short_rows_and_other_encodings(gazetteer, tmp_path, content, encoding, line):
    path = tmp_path / "odd.csv"
    path.write_bytes(content.encode(encoding))
    preview = preview_file(path, gazetteer)
    assert [(r.line, r.field) for r in preview.rejected if r.field == "lat"] == [(line, "lat")]
    assert preview.events[0].title in ("One", "Café")


# ---------------------------------------------------------------------------- files refused as a whole

@pytest.mark.parametrize("content, fmt, message", [
    (b"", "auto", "is empty"),
    (random.Random(42).randbytes(4096), "auto", "not text"),
    (b"a,b\n1,2\n", "auto", "no usable location columns"),
    (b"lat,lon,title\n50,30,x\n", "auto", "no date column"),
    (b'{"name": "not geojson"}', "auto", "JSON but not GeoJSON"),
    (b"<html><body>hi</body></html>", "auto", "not KML"),
    (b"lat,lon,date\n50,30,2022-06-25\n", "shapefile", "Unknown import format 'shapefile'"),
    (b"lat,lon,date\n50,30,2022-06-25\n", "geojson", "is not GEOJSON"),
    (b"lat,lon,date\n50,30,2022-06-25\n", "xlsx", "not an Excel workbook"),
    (b"lat,lon,date\n50,30,2022-06-25\n", "acled", "lacks the ACLED column(s) event_id_cnty"),
    (b"PK\x03\x04" + b"\x00" * 60, "auto", "ZIP archive"),
])
def test_unusable_files_are_refused_with_one_sentence(gpkg_store, gazetteer, tmp_path, content, fmt, message):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    with pytest.raises(DashboardError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        import_file(path, gpkg_store, gazetteer, format=fmt)
    assert "Traceback" not in str(info.value) and gpkg_store.count() == 0


def test_an_excel_file_without_data_is_refused(gpkg_store, gazetteer):
    with pytest.raises(DashboardError, match="has no sheet with data"):
        import_file(DATA / "empty.xlsx", gpkg_store, gazetteer)


def test_a_file_over_the_size_limit_is_refused_naming_the_setting(gpkg_store, gazetteer, monkeypatch):
    monkeypatch.setenv("REACHMAP_IMPORT_MAX_MB", "0.001")
    with pytest.raises(DashboardError, match=r"more than the import limit of 0.001 MB \(setting import_max_mb\)"):
        import_file(DATA / "acled_current.csv", gpkg_store, gazetteer)
    monkeypatch.setenv("REACHMAP_IMPORT_MAX_MB", "lots")
    with pytest.raises(DashboardError, match="import_max_mb"):
        detect_format(DATA / "acled_current.csv")


# ------------------------------------------------------------------------------- atomic and idempotent

def test_a_failed_import_changes_nothing(store, gazetteer, tmp_path):
    import_file(DATA / "acled_current.csv", store, gazetteer)
    before = contents(store)
    changed = (DATA / "acled_current.csv").read_text(encoding="utf-8").replace("Desna,50.9274", "Desna,150.9274")
    report = import_file(write(tmp_path, changed.replace("Mazyr", "Mazyr II"), "acled.csv"), store, gazetteer)
    assert not report.stored and report.rejected[0].line == 2 and (report.added, report.updated) == (0, 0)
    assert contents(store) == before


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_cancelled_import_leaves_the_store_as_it_was(store, gazetteer, tmp_path, stop):
    import_file(DATA / "acled_current.csv", store, gazetteer)
    before = contents(store)

    def progress(fraction: float, message: str) -> None:
        if fraction > 0.6:
            raise stop()

    with pytest.raises(stop):
        import_file(write(tmp_path, acled_rows(5000), "big.csv"), store, gazetteer, progress=progress)
    assert contents(store) == before


@pytest.mark.parametrize("name", ["acled_current.csv", "generic_lat_lon.csv", "features.geojson", "events.xlsx"])
def test_reimporting_the_same_file_changes_nothing(store, gazetteer, name):
    first = import_file(DATA / name, store, gazetteer, skip_bad=True)
    before = contents(store)
    versions = {e.id: store.version(e.id) for e in store.events()}
    second = import_file(DATA / name, store, gazetteer, skip_bad=True)
    assert (second.added, second.updated, second.unchanged) == (0, 0, first.added) and first.added > 0
    assert f"{first.added} unchanged" in str(second)
    assert contents(store) == before
    assert {e.id: store.version(e.id) for e in store.events()} == versions == dict.fromkeys(versions, 1)
    assert all(len(store.history(i)) == 1 for i in versions)  # only "created"


def test_an_updated_acled_export_revises_events_by_their_acled_id(store, gazetteer, tmp_path):
    import_file(DATA / "acled_current.csv", store, gazetteer)
    text = (DATA / "acled_current.csv").read_text(encoding="utf-8")
    revised = text.replace('Casualties unknown.",0,', 'Two soldiers were killed.",2,')
    assert revised != text
    revised += ("UKR99999,2022-06-27,2022,1,Political violence,Battles,Armed clash,A,,1,B,,2,12,,804,Europe,"
                "Ukraine,Kharkiv,,,Kharkiv,49.9935,36.2304,1,X,National,Fighting.,1,,1656979200\n")
    report = import_file(write(tmp_path, revised, "acled_current.csv"), store, gazetteer)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 3) and store.count() == 5
    assert store.get_event("acled:UKR98765").attribute("fatalities") == "2"
    assert store.version("acled:UKR98765") == 2
    change = store.history("acled:UKR98765")[-1]
    assert (change.action, change.origin) == ("updated", "import:acled_current.csv")
    assert change.before.attribute("fatalities") == "0" and change.after.attribute("fatalities") == "2"


def test_skip_bad_stores_the_good_rows_and_reports_the_rest(store, gazetteer, tmp_path):
    path = write(tmp_path, HEADER + "a,50,30,2022-06-25,,One,,,\nb,95,30,2022-06-25,,Two,,,\n"
                                    "c,50,30,someday,,Three,,,\n")
    report = import_file(path, store, gazetteer, skip_bad=True)
    assert (report.stored, report.added, report.rejected_rows) == (True, 1, 2)
    assert [r.line for r in report.rejected] == [3, 4]
    assert str(report) == "events.csv (csv): 3 rows, 1 added, 0 updated, 2 rejected"
    assert store.count() == 1 and store.get_event("a").title == "One"


def test_progress_is_reported_monotonically_up_to_one(store, gazetteer, tmp_path):
    calls: list[tuple[float, str]] = []
    import_file(write(tmp_path, acled_rows(3000), "acled.csv"), store, gazetteer,
                progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(calls) > 3
    assert fractions == sorted(fractions) and all(isinstance(m, str) and m for _, m in calls)


def test_the_preview_shows_the_first_rows_exactly_as_stored(store, gazetteer):
    preview = preview_file(DATA / "acled_current.csv", gazetteer, limit=2)
    assert preview.format == "acled" and preview.rows == 4 and len(preview.events) == 2
    assert ("event_id_cnty", "event_id_cnty") in preview.columns
    import_file(DATA / "acled_current.csv", store, gazetteer)
    for event in preview.events:
        assert store.get_event(event.id) == event and store.get_event(event.id).attributes == event.attributes


def test_a_source_name_names_the_origin_and_the_report(store, gazetteer, tmp_path):
    copy = tmp_path / "tmpab12cd.csv"
    shutil.copy(DATA / "generic_lat_lon.csv", copy)
    report = import_file(copy, store, gazetteer, source_name="my events.csv")
    assert report.source == "my events.csv" and store.origins() == ["import:my events.csv"]
    assert isinstance(report, ImportReport)


# ---------------------------------------------------------------------------------- attributes persist

def test_attributes_survive_the_store_and_a_snapshot(store, gazetteer):
    import_file(DATA / "acled_current.csv", store, gazetteer)
    events = tuple(store.events())
    assert all(e.attributes for e in events)
    assert tuple(read_frozen(frozen_text(events))) == events
    assert [e.attributes for e in read_frozen(frozen_text(events))] == [e.attributes for e in events]
    frozen = store.frozen_events([e.id for e in events])  # the store's columns, as a snapshot freezes them
    assert [e.attributes for e in frozen] == [e.attributes for e in events]


@pytest.mark.parametrize("attributes", [[("a", "b")], (("a", 1),), (("", "b"),), (("a", "b", "c"),), ("ab",)])
def test_attributes_must_be_a_tuple_of_text_pairs(attributes):
    from tests.conftest import make_event

    with pytest.raises(ValidationError, match="event.attributes"):
        make_event(attributes=attributes)


def test_one_write_that_repeats_an_id_counts_it_once_as_added_then_updated(store):
    from tests.conftest import make_event

    events = [make_event("x", title="first")] + [make_event(f"e{i}") for i in range(1500)] + \
        [make_event("x", title="last", attributes=(("k", "v"),))]
    summary = store.put_events(events, origin="test")
    assert (summary.added, summary.updated) == (1501, 1)
    assert store.get_event("x").title == "last" and store.get_event("x").attributes == (("k", "v"),)


def test_a_geopackage_from_before_attributes_gains_the_column(tmp_path):
    import sqlite3

    from tests.conftest import make_event

    path = tmp_path / "old.gpkg"
    with GeoPackageStore.open(path) as s:
        s.put_events([make_event()], origin="test")
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE events DROP COLUMN attributes")
    with GeoPackageStore.open(path) as s:
        assert s.get_event("e1").attributes == ()
        s.put_events([make_event(attributes=(("fatalities", "2"),))], origin="test")
        assert s.get_event("e1").attribute("fatalities") == "2"


# ---------------------------------------------------------------------------- hostile files (issue 11)

@pytest.fixture
def listener():
    """A loopback port that records every connection made to it (bounded: 50 connections, 0.2 s each)."""
    import socket
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set() and len(hits) < 50:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                try:
                    hits.append(conn.recv(1024) or b"(connected)")
                except OSError:
                    hits.append(b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def geojson_with_crs(crs: object, where: str = "top") -> str:
    import json

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.5, 50.4]},
               "properties": {"title": "T", "date": "2022-06-25"}}
    doc = {"type": "FeatureCollection", "features": [feature]}
    if where == "top":
        doc["crs"] = crs
    else:
        feature["geometry"]["crs"] = crs
    return json.dumps(doc)


def test_the_listener_sees_a_request_that_gdal_makes_on_its_own(listener):
    """The proof below is only as good as the listener: GDAL itself does fetch a crs link (so we refuse it)."""
    import urllib.request

    port, hits = listener
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=0.5)
    import time
    deadline = time.monotonic() + 2
    while not hits and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hits and b"/probe" in hits[0]


@pytest.mark.parametrize("href", ["http://127.0.0.1:{port}/ssrf", "file:///etc/passwd", "/etc/passwd",
                                  "HTTP://127.0.0.1:{port}/upper"])
@pytest.mark.parametrize("kind, key", [("link", "href"), ("URL", "url"), ("name", "name"), ("LINK", "href")])
@pytest.mark.parametrize("where", ["top", "geometry"])
def test_a_geojson_crs_link_is_refused_before_gdal_sees_it(gpkg_store, gazetteer, tmp_path, listener, href, kind,
                                                           key, where):
    port, hits = listener
    crs = {"type": kind, "properties": {key: href.format(port=port), "type": "proj4"}}
    path = write(tmp_path, geojson_with_crs(crs, where), "linked.geojson")
    with pytest.raises(DashboardError, match="coordinate system .* that Reachmap does not follow") as info:
        import_file(path, gpkg_store, gazetteer)
    assert "\n" not in str(info.value) and gpkg_store.count() == 0
    assert hits == []


def test_a_crs_key_spelled_with_escapes_is_still_seen(gpkg_store, gazetteer, tmp_path, listener):
    port, hits = listener
    text = geojson_with_crs({"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/esc"}})
    path = write(tmp_path, text.replace('"crs"', '"\\u0063RS"').replace('"link"', '"\\u006cink"'), "esc.geojson")
    with pytest.raises(DashboardError, match="does not follow"):
        import_file(path, gpkg_store, gazetteer)
    assert hits == []


@pytest.mark.parametrize("crs", [{"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                                 {"type": "name", "properties": {"name": "EPSG:4326"}},
                                 {"type": "EPSG", "properties": {"code": 4326}}, None])
def test_a_named_crs_is_still_read(store, gazetteer, tmp_path, crs):
    report = import_file(write(tmp_path, geojson_with_crs(crs), "named.geojson"), store, gazetteer)
    assert report.added == 1


def test_gdal_virtual_paths_are_refused():
    from dashboard.ingest.limits import local_path

    for text in ("/vsicurl/http://127.0.0.1:9/x.geojson", "/vsizip//tmp/a.zip/x.geojson", "http://h/x.geojson"):
        with pytest.raises(DashboardError, match="URL or a GDAL virtual path"):
            local_path(Path(text))


def test_gdal_options_are_set_while_reading_and_restored_after():
    import pyogrio

    from dashboard.ingest.limits import gdal_options

    before = pyogrio.get_gdal_config_option("GDAL_DISABLE_READDIR_ON_OPEN")
    with gdal_options():
        assert pyogrio.get_gdal_config_option("GDAL_DISABLE_READDIR_ON_OPEN") == "EMPTY_DIR"
        assert str(pyogrio.get_gdal_config_option("GDAL_HTTP_MAX_RETRY")) == "0"
    assert pyogrio.get_gdal_config_option("GDAL_DISABLE_READDIR_ON_OPEN") == before


def test_deeply_nested_geojson_is_refused_in_one_sentence(gpkg_store, gazetteer, tmp_path):
    import time

    for depth, body in ((100_000, "[" * 100_000 + "]" * 100_000), (80, "[" * 80 + "]" * 80)):
        text = geojson_with_crs(None).replace('"title": "T"', f'"title": "T", "deep": {body}')
        for variant in (text, text.replace('"T"', '"\\u0054"')):  # GDAL's own limit, then ours
            started = time.monotonic()
            with pytest.raises(DashboardError, match="nests JSON arrays or objects"):
                import_file(write(tmp_path, variant, "deep.geojson"), gpkg_store, gazetteer)
            assert time.monotonic() - started < 5, depth


def test_a_nul_in_a_geojson_text_rejects_that_feature(store, gazetteer, tmp_path):
    text = geojson_with_crs(None).replace('"title": "T"', '"title": "nul\\u0000cut"')
    report = import_file(write(tmp_path, text, "nul.geojson"), store, gazetteer)
    assert not report.stored and store.count() == 0
    [rejection] = report.rejected
    assert (rejection.line, rejection.field) == (1, "properties") and "NUL" in rejection.reason


KML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'


def kml_placemark(coordinates: str, geometry: str = "Point", title: str = "P") -> str:
    return (f"<Placemark><name>{title}</name><TimeStamp><when>2022-06-25</when></TimeStamp>"
            f"<{geometry}><coordinates>{coordinates}</coordinates></{geometry}></Placemark>\n")


@pytest.mark.parametrize("coordinates, geometry", [
    ("abc", "Point"), ("nan,nan", "Point"), (",", "Point"), ("", "Point"), ("inf,50", "Point"),
    ("30.5,50.4 abc,1", "LineString"), ("30.5", "Point"), ("30.5,50.4", "LineString"), ("1,2,3,4", "Point"),
])
def test_bad_kml_coordinates_are_rejected_not_stored_as_zero(gpkg_store, gazetteer, tmp_path, coordinates, geometry):
    text = KML_HEAD + kml_placemark("30.5,50.4,0", title="Good") + kml_placemark(coordinates, geometry) + \
        "</Document></kml>"
    report = import_file(write(tmp_path, text, "bad.kml"), gpkg_store, gazetteer)
    assert not report.stored and gpkg_store.count() == 0
    [rejection] = report.rejected
    assert (rejection.line, rejection.field, rejection.value) == (2, "coordinates", coordinates)
    assert "longitude,latitude" in rejection.reason or "needs" in rejection.reason
    report = import_file(write(tmp_path, text, "bad.kml"), gpkg_store, gazetteer, skip_bad=True)
    assert [e.title for e in gpkg_store.events()] == ["Good"] and gpkg_store.events()[0].place.lonlat == (30.5, 50.4)


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE kml SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE kml [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>',
])
def test_kml_with_a_dtd_or_entities_is_refused_in_one_sentence(gpkg_store, gazetteer, tmp_path, doctype):
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + '\n<kml xmlns="http://www.opengis.net/kml/2.2">'
            "<Document>" + kml_placemark("30.5,50.4", title="&b;" if "ENTITY a" in doctype else "P") +
            "</Document></kml>")
    with pytest.raises(DashboardError, match="declares a DTD or XML entities") as info:
        import_file(write(tmp_path, text, "dtd.kml"), gpkg_store, gazetteer)
    assert "\n" not in str(info.value) and gpkg_store.count() == 0


def test_kml_polygons_multigeometry_schemadata_and_kmz(store, gazetteer, tmp_path):
    import zipfile

    body = ("<Placemark><name>Area</name><TimeStamp><when>2022-06-25</when></TimeStamp>"
            "<ExtendedData><SchemaData><SimpleData name=\"fatalities\">2</SimpleData></SchemaData></ExtendedData>"
            "<Polygon><outerBoundaryIs><LinearRing><coordinates>30,50 31,50 31,51 30,50</coordinates></LinearRing>"
            "</outerBoundaryIs></Polygon></Placemark>"
            "<Placemark><name>Two</name><TimeStamp><when>2022-06-26</when></TimeStamp><MultiGeometry>"
            "<Point><coordinates>30,50</coordinates></Point><Point><coordinates>31,51</coordinates></Point>"
            "</MultiGeometry></Placemark>")
    kmz = tmp_path / "two.kmz"
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", KML_HEAD + body + "</Document></kml>")
    report = import_file(kmz, store, gazetteer)
    assert (report.format, report.added) == ("kml", 2)
    by_title = {e.title: e for e in store.events()}
    assert by_title["Area"].place.geometry.geom_type == "Polygon" and by_title["Area"].attribute("fatalities") == "2"
    assert by_title["Two"].place.geometry.geom_type == "MultiPoint"


def test_a_kmz_zip_bomb_is_refused_from_its_directory(gpkg_store, gazetteer, tmp_path):
    import zipfile

    kmz = tmp_path / "bomb.kmz"
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", KML_HEAD + " " * (50 * 1024 * 1024) + "</Document></kml>")
    assert kmz.stat().st_size < 200_000
    with pytest.raises(DashboardError, match="looks like a zip bomb"):
        import_file(kmz, gpkg_store, gazetteer)


# ------------------------------------------------------------------------- limits answered before work

def test_a_csv_with_100000_columns_is_refused_at_once(gpkg_store, gazetteer, tmp_path):
    import time

    header = ",".join(f"c{i}" for i in range(100_000))
    path = write(tmp_path, "lat,lon,date,title," + header + "\n" + "50,30,2022-06-25,T" + ",x" * 100_000 + "\n")
    started = time.monotonic()
    with pytest.raises(DashboardError, match=r"has [\d,]+ or more columns, more than the 1,000 Reachmap reads") as info:
        import_file(path, gpkg_store, gazetteer)
    assert time.monotonic() - started < 2 and "\n" not in str(info.value)


def test_a_header_longer_than_the_sniffed_head_still_counts_its_columns(gazetteer, tmp_path):
    path = write(tmp_path, ",".join(f"column_{i:06d}" for i in range(20_000)) + "\n1\n")
    with pytest.raises(DashboardError, match="has 4,682 or more columns"):
        preview_file(path, gazetteer)


@pytest.mark.parametrize("fmt", ["csv", "acled"])
def test_a_10_mb_cell_rejects_its_row_with_a_sentence(store, gazetteer, tmp_path, fmt):
    import time

    big = "A" * (10 * 1024 * 1024)
    if fmt == "csv":
        text = HEADER + "good,50,30,2022-06-25,,Good,,,\n" + f"a,50,30,2022-06-25,,{big},,,{big}\n"
    else:
        text = acled_rows(1).replace('"On that day', f'"{big}')
    started = time.monotonic()
    report = import_file(write(tmp_path, text), store, gazetteer, skip_bad=True)
    assert time.monotonic() - started < 15
    over = [r for r in report.rejected if "more than the 100,000" in r.reason]
    assert over and over[0].reason.startswith("the cell holds 10,48")
    assert len(over[0].value) <= 200 and all(len(e.title) < 1000 for e in store.events())


# ------------------------------------------------------------------------------ bad data never stored

TRUNCATED = "title,date,latitude,longitude,source_url,notes\nFirst,2022-06-25,51.0,31.0,https://example.org/a,ok\n"


@pytest.mark.parametrize("tail, line, field, value, reason", [
    ("Event,2022-06-25,51.0,31.0,https://exampl", 3, "source_url", "https://exampl", "ends in the middle of this row"),
    ('"Event",2022-06-25,51.0,31.0,"https://exampl', 3, "source_url", "https://exampl", "ends inside this quoted"),
    ('Event,2022-06-25,51.0,31.0,https://example.org/b,"a note\nover two lin', 3, "notes", "a note\nover two lin",
     "ends inside this quoted"),
])
def test_a_truncated_last_row_is_rejected_not_stored(gpkg_store, gazetteer, tmp_path, tail, line, field, value, reason):
    path = tmp_path / "cut.csv"
    path.write_bytes((TRUNCATED + tail).encode())
    report = import_file(path, gpkg_store, gazetteer)
    assert not report.stored and gpkg_store.count() == 0 and report.rows == 2
    [rejection] = report.rejected
    assert (rejection.line, rejection.field, rejection.value) == (line, field, value)
    assert reason in rejection.reason and "cut off" in rejection.reason
    report = import_file(path, gpkg_store, gazetteer, skip_bad=True)
    assert [e.title for e in gpkg_store.events()] == ["First"]


def test_a_complete_last_row_without_a_line_break_is_stored_with_a_warning(store, gazetteer, tmp_path):
    path = tmp_path / "sheets.csv"
    path.write_bytes((TRUNCATED + "Second,2022-06-26,51.0,31.0,https://example.org/b,done").encode())
    report = import_file(path, store, gazetteer)
    assert report.added == 2 and report.rejected == ()
    assert any("does not end with a line break" in w and "line 3" in w for w in report.warnings)


@pytest.mark.parametrize("date_text, reason", [
    ("-2022-01-01", "a date with a sign"),
    ("2022-06-01/2021-01-01", "the range ends on 2021-01-01 before it starts on 2022-06-01"),
    ("2022-01-01 - 2021-01-01", "two dates in one cell"),
    ("2022-06-01/2022-06-30x", "two dates in one cell"),
])
def test_signed_dates_and_reversed_ranges_are_rejected(gpkg_store, gazetteer, tmp_path, date_text, reason):
    path = write(tmp_path, HEADER + f"a,50,30,{date_text},,T,,,\n")
    [rejection] = import_file(path, gpkg_store, gazetteer).rejected
    assert (rejection.field, rejection.value) == ("date", date_text) and reason in rejection.reason
    assert gpkg_store.count() == 0


def test_an_iso_range_in_one_cell_is_a_span(store, gazetteer, tmp_path):
    import_file(write(tmp_path, HEADER + "a,50,30,2022-06-01/2022-06-30,,T,,,\n"), store, gazetteer)
    event = store.get_event("a")
    assert (event.time.start, event.time.end, event.time.precision) == (date(2022, 6, 1), date(2022, 6, 30), "span")


def test_control_characters_are_removed_with_a_warning_and_nul_cuts_nothing(store, gazetteer, tmp_path):
    path = write(tmp_path, 'id,lat,lon,date,title,notes\na,50,30,2022-06-25,"nul\x00byte end","bell\x07esc\x1b[31m'
                           'red\tTab\r\nnext"\n')
    report = import_file(path, store, gazetteer)
    event = store.get_event("a")
    assert event.title == "nulbyte end" and event.description == "bellesc[31mred\tTab\nnext"
    [warning] = report.warnings
    assert "Removed control characters (such as NUL) from 2 cell(s), the first at line 2 in 'title'" in warning


@pytest.mark.parametrize("fmt", ["kml", "xlsx", "geojson"])
def test_control_characters_are_removed_in_every_format(store, gazetteer, tmp_path, fmt):
    import json

    if fmt == "kml":  # XML 1.0 cannot hold most C0 characters at all; &#x1b; is refused by the parser too
        path = write(tmp_path, KML_HEAD + kml_placemark("30,50", title="esc\u0085 next line") + "</Document></kml>",
                     "c.kml")
    elif fmt == "geojson":
        path = write(tmp_path, geojson_with_crs(None).replace('"T"', json.dumps("bell\x07esc\x1b")), "c.geojson")
    else:
        import openpyxl

        workbook = openpyxl.Workbook()
        workbook.active.append(["lat", "lon", "date", "title"])
        workbook.active.append([50, 30, "2022-06-25", "del\x7f c1\x9b end"])
        path = tmp_path / "c.xlsx"
        workbook.save(path)
    report = import_file(path, store, gazetteer)
    [event] = store.events()
    assert event.title in ("esc next line", "bellesc", "del c1 end") and report.warnings


# ------------------------------------------------------------------------------------- broken Excel

def xlsx_variant(tmp_path: Path, name: str, change) -> Path:
    """events.xlsx with its ZIP parts changed by `change(parts)`."""
    import zipfile

    with zipfile.ZipFile(DATA / "events.xlsx") as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    change(parts)
    path = tmp_path / f"{name}.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    return path


SHEET = "xl/worksheets/sheet1.xml"


def _replace(part: str, old: bytes, new: bytes):
    def change(parts):
        assert old in parts[part]
        parts[part] = parts[part].replace(old, new, 1)
    return change


def _shared_strings(text: bytes, index: bytes = b"0"):
    def change(parts):
        cell = b'<c r="D2" t="inlineStr"><is><t>Missile strike on Desna</t></is></c>'
        assert cell in parts[SHEET]
        parts[SHEET] = parts[SHEET].replace(cell, b'<c r="D2" t="s"><v>' + index + b"</v></c>")
        parts["xl/sharedStrings.xml"] = text
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                                 b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                         b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    return change


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>x</t></si></sst>'
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
          b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&d;&d;&d;</t></si></sst>')


@pytest.mark.parametrize("name, change, message", [
    ("missing_sheet", lambda parts: parts.pop(SHEET), "is damaged: its worksheet xl/worksheets/sheet1.xml is missing"),
    ("bad_xml", _replace(SHEET, b"<sheetData>", b'<sheetData><row><c r="A9"></row>'),
     "one of its parts is not well-formed XML (mismatched tag: line 1"),
    ("shared_index", _shared_strings(SST, b"999"), "a cell refers to a shared text or style the workbook does not hold"),
    ("bad_number", _replace(SHEET, b"<v>50.92744</v>", b"<v>fifty</v>"), "a cell or part holds a value an .xlsx "
                                                                          "file cannot hold (invalid literal"),
    ("bad_date", _replace(SHEET, b'<c r="C2" s="1" t="n"><v>44737</v>', b'<c r="C2" s="1" t="d"><v>2022-13-45</v>'),
     "cannot hold (month must be in 1..12)"),
    ("bad_ref", _replace(SHEET, b'r="A2"', b'r="ZZZZZZ2"'), "cannot hold ('ZZZZZZ' is not a valid column name"),
    ("bad_workbook", _replace("xl/workbook.xml", b"<sheets>", b"<sheets><"), "not well-formed XML"),
    ("missing_rels", lambda parts: parts.pop("xl/_rels/workbook.xml.rels"), "a part it needs is missing"),
    ("bad_content_types", _replace("[Content_Types].xml", b"<Types", b"<Typ"), "not well-formed XML"),
    ("bad_styles", _replace("xl/styles.xml", b"<", b"<<"), "not well-formed XML"),
    ("laughs", _shared_strings(LAUGHS), "declares a DTD or XML entities in xl/sharedStrings.xml"),
])
def test_each_kind_of_broken_excel_file_gives_one_sentence(gpkg_store, gazetteer, tmp_path, name, change, message):
    path = xlsx_variant(tmp_path, name, change)
    with pytest.raises(DashboardError) as info:
        import_file(path, gpkg_store, gazetteer)
    text = str(info.value)
    assert message in text, text
    assert "\n" not in text and text.endswith(".") and gpkg_store.count() == 0
    assert type(info.value) is DashboardError


def test_billion_laughs_in_a_later_part_is_refused_by_defusedxml(tmp_path):
    """Past the head of the part our scan reads, openpyxl's parser (defusedxml) still refuses entities."""
    from dashboard.ingest.table import xlsx_error

    try:
        import defusedxml.ElementTree as safe_xml

        safe_xml.fromstring(LAUGHS)
    except ValueError as exc:
        assert "declares a DTD or XML entities" in str(xlsx_error(exc, "x.xlsx"))
    else:
        pytest.fail("defusedxml parsed entities")


def test_an_excel_zip_bomb_is_refused_from_the_zip_directory(gpkg_store, gazetteer, tmp_path, monkeypatch):
    import time

    bomb = _replace(SHEET, b"<sheetData>", b"<sheetData>" + b" " * (100 * 1024 * 1024))
    path = xlsx_variant(tmp_path, "bomb", bomb)
    assert path.stat().st_size < 1024 * 1024
    started = time.monotonic()
    with pytest.raises(DashboardError, match=r"looks like a zip bomb: its part xl/worksheets/sheet1.xml unpacks to "
                                             r"100 MB"):
        import_file(path, gpkg_store, gazetteer)
    assert time.monotonic() - started < 2
    monkeypatch.setenv("REACHMAP_IMPORT_MAX_MB", "0.01")
    with pytest.raises(DashboardError, match=r"unpacks to 0 MB, more than the import limit of 0.01 MB"):
        detect_format(DATA / "events.xlsx")


def test_an_excel_sheet_wider_than_the_column_limit_is_refused(gpkg_store, gazetteer, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append([f"c{i}" for i in range(1_500)])
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    with pytest.raises(DashboardError, match="has 1,500 columns"):
        import_file(path, gpkg_store, gazetteer)


def test_a_zip_directory_that_understates_a_part_stops_unpacking_at_the_stated_size(gpkg_store, gazetteer, tmp_path):
    """A bomb that lies about its size in the directory: Python's zipfile never unpacks more than stated."""
    import struct
    import time

    path = xlsx_variant(tmp_path, "liar", _replace(SHEET, b"<sheetData>", b"<sheetData>" + b" " * (20 * 1024 * 1024)))
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02"))
    while entry >= 0:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length] == SHEET.encode():
            struct.pack_into("<I", data, entry + 24, 4096)  # "unpacks to 4 KB"
        entry = data.find(b"PK\x01\x02", entry + 4)
    path.write_bytes(bytes(data))
    started = time.monotonic()
    with pytest.raises(DashboardError, match="is damaged") as info:
        import_file(path, gpkg_store, gazetteer)
    assert time.monotonic() - started < 10 and "\n" not in str(info.value) and gpkg_store.count() == 0


def test_kml_coordinates_written_with_spaces_after_commas_are_read(store, gazetteer, tmp_path):
    text = KML_HEAD + kml_placemark(" 30.5, 50.4, 0 ") + "</Document></kml>"
    import_file(write(tmp_path, text, "spaced.kml"), store, gazetteer)
    assert [e.place.lonlat for e in store.events()] == [(30.5, 50.4)]


def test_a_property_named_crs_holding_text_is_just_text(store, gazetteer, tmp_path):
    text = geojson_with_crs(None).replace('"title": "T"', '"title": "T", "crs": "EPSG:4326 as noted"')
    import_file(write(tmp_path, text, "prop.geojson"), store, gazetteer)
    assert store.events()[0].attribute("crs") == "EPSG:4326 as noted"
