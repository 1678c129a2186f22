"""Site tables imported from CSV, Excel or GeoJSON: every row checked, stored whole under a name, replaced whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.sites import load_sites, read_sites, save_sites, site_tables

HEADER = ("name,place,country,lat,lon,system,radius_km,min_km,from,until,approximate,source_title,"
          "source_publisher,source_url,source_published,quote\n")
BY_NAME = ('Osipovichi base,Asipovichy,BY,,,iskander-m,,,2023-02-01,,1,A report,An agency,https://example.org/a,'
           '2023-03-02,"The brigade is based at Asipovichy, the ministry said."\n')
BY_POINT = ('Airfield,,,52.20,26.47,,150,20,,,,Another report,A paper,,,"An airfield near Luninets."\n')


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=settings.PROJECT_DIR, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=180)


def test_the_cli_stores_a_table_by_its_name_and_a_second_import_replaces_it(data_dir, tmp_path):
    file = tmp_path / "Belarus Bases.csv"
    file.write_text(HEADER + BY_NAME + BY_POINT, encoding="utf-8")
    done = _run("import", str(file), "--format", "sites")
    assert done.returncode == 0, done.stderr
    assert "2 site(s) saved as the table belarus-bases" in done.stdout
    assert "gazetteer: Osipovichi, BY (geonames:624034)" in done.stdout  # the place as the gazetteer has it
    table = load_sites(settings.sites_dir(), "belarus-bases")
    osipovichi, airfield = table.sites
    assert (round(osipovichi.lat, 2), round(osipovichi.lon, 2), osipovichi.system) == (53.31, 28.63, "iskander-m")
    assert osipovichi.valid.start == date(2023, 2, 1) and osipovichi.valid.approximate
    assert osipovichi.valid.source.quote.startswith("The brigade is based")
    assert (airfield.lat, airfield.lon, airfield.km, airfield.min_km, airfield.valid) == (52.2, 26.47, 150, 20, None)
    assert airfield.located == "source coordinates" and table.systems() == ("iskander-m",)
    file.write_text(HEADER + BY_POINT, encoding="utf-8")
    assert _run("import", str(file), "--format", "sites").returncode == 0
    assert [s.name for s in load_sites(settings.sites_dir(), "belarus-bases").sites] == ["Airfield"]
    assert site_tables(settings.sites_dir()) == ("belarus-bases",)
    assert not [p for p in settings.sites_dir().iterdir() if p.suffix == ".tmp"]
    named = _run("import", str(file), "--format", "sites", "--name", "Luninets only")
    assert named.returncode == 0 and site_tables(settings.sites_dir()) == ("belarus-bases", "luninets-only")


@pytest.mark.parametrize("row, words", [
    (BY_NAME.replace("iskander-m,", "no-such-system,", 1), "system 'no-such-system' is not in the catalogue"),
    (BY_POINT.replace("52.20,", "152.20,", 1), "lat '152.20' is not a latitude"),
    (BY_NAME.replace("Asipovichy,BY", "Xyzzyville,BY", 1), "place 'Xyzzyville' is not a place in BY"),
    (BY_NAME.replace(",2023-02-01,", ",1 Feb 2023,", 1), "from '1 Feb 2023' is not a date"),
    (BY_NAME.replace('"The brigade is based at Asipovichy, the ministry said."', ""), "quote '' is empty"),
    (BY_POINT.replace(",150,20,", ",150,150,", 1), "min_km '150' is not less than the ring's radius 150 km"),
    (BY_POINT.replace(",150,", ",-5,", 1), "radius_km '-5' is not a distance"),
    (BY_NAME.replace(",1,A report", ",maybe,A report", 1), "approximate 'maybe' must be 1 or 0"),
    (BY_NAME.replace("2023-02-01,,", "2023-02-01,2022-01-01,", 1), "until '2022-01-01' is before the first day"),
    (BY_NAME.replace("https://example.org/a", "javascript:alert(1)", 1), "source_url 'javascript:alert(1)'"),
])
def test_one_bad_row_refuses_the_file_naming_line_field_and_value_and_nothing_is_saved(
        data_dir, tmp_path, gazetteer, row, words):
    file = tmp_path / "bad.csv"
    file.write_text(HEADER + BY_POINT + row, encoding="utf-8")
    with pytest.raises(DashboardError) as caught:
        read_sites(file, gazetteer, load_catalogue())
    assert str(caught.value).startswith("In the sites file bad.csv, line 3: ") and words in str(caught.value)
    done = _run("import", str(file), "--format", "sites") if "catalogue" in words else None
    if done is not None:  # the CLI says the same sentence, without a traceback, and stores nothing
        assert done.returncode == 2 and "line 3" in done.stderr and "Traceback" not in done.stderr
    assert not settings.sites_dir().exists()


def test_excel_and_geojson_tables_are_read_like_csv(data_dir, tmp_path, gazetteer):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Place", "System", "Source title", "Source publisher", "Quote"])
    sheet.append(["Machulishchy", "Machulishchy", "S-400", "A report", "An agency", "S-400 at Machulishchy."])
    workbook.save(tmp_path / "sites.xlsx")
    (site,) = read_sites(tmp_path / "sites.xlsx", gazetteer, load_catalogue())
    assert site.system == "s-400" and site.located.startswith("gazetteer: Machulishchy, BY")
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [31.0, 52.4]},
         "properties": {"name": "Zyabrovka", "radius_km": 300, "source_title": "T", "source_publisher": "P",
                        "quote": "The airfield at Zyabrovka."}}]}
    (tmp_path / "sites.geojson").write_text(json.dumps(geojson), encoding="utf-8")
    (site,) = read_sites(tmp_path / "sites.geojson", gazetteer, load_catalogue())
    assert (site.lon, site.lat, site.km, site.located) == (31.0, 52.4, 300, "source coordinates")
    saved = save_sites((site,), settings.sites_dir(), "zyabrovka")
    assert json.loads(saved.read_text(encoding="utf-8"))["features"][0]["properties"]["quote"] == \
        "The airfield at Zyabrovka."
    assert load_sites(settings.sites_dir(), "zyabrovka").sites == (site,)


def test_a_geojson_crs_link_is_refused_before_gdal_could_follow_it(data_dir, tmp_path, gazetteer):
    hostile = {"type": "FeatureCollection", "crs": {"type": "link", "properties": {"href": "http://127.0.0.1:9/x"}},
               "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [31.0, 52.4]},
                             "properties": {"name": "Z", "radius_km": 3, "source_title": "T",
                                            "source_publisher": "P", "quote": "Q"}}]}
    (tmp_path / "hostile.geojson").write_text(json.dumps(hostile), encoding="utf-8")
    with pytest.raises(DashboardError, match="crs"):
        read_sites(tmp_path / "hostile.geojson", gazetteer, load_catalogue())


def test_a_file_that_is_not_a_site_table_says_what_it_needs(data_dir, tmp_path, gazetteer):
    file = tmp_path / "events.csv"
    file.write_text("title,lat,lon\nA,1,2\n", encoding="utf-8")
    with pytest.raises(DashboardError, match="has no column name, system or radius_km, source_title"):
        read_sites(file, gazetteer, load_catalogue())
    with pytest.raises(DashboardError, match="No site table called 'nope' .none is stored yet"):
        load_sites(settings.sites_dir(), "nope")
    done = _run("import", str(file), "--format", "sites", "--name", "!!!")
    assert done.returncode == 2 and "has no letter or digit" in done.stderr


def test_the_example_table_imports_with_a_source_and_quote_for_every_site(gazetteer):
    sites = read_sites(settings.PROJECT_DIR / "examples" / "sites-belarus.csv", gazetteer, load_catalogue())
    assert len(sites) == 7 and all(s.source.quote and s.source.url.startswith("https://") for s in sites)
    assert {s.system for s in sites} == {"iskander-m", "tochka-u", "s-400", "kinzhal", "polonez"}
    assert all(s.located.startswith("gazetteer: ") and s.located.endswith(", BY (geonames:" + s.located.split(":")[-1])
               for s in sites)
    polonez = next(s for s in sites if s.system == "polonez")
    assert polonez.min_km == 50 and polonez.valid.start == date(2024, 8, 10)
