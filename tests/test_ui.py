"""The Streamlit pages driven through Streamlit's AppTest: every control writes the URL, links restore views."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.settings import PROJECT_DIR
from tests.conftest import make_event

APP = str(PROJECT_DIR / "app.py")


@pytest.fixture
def app(store_path, gazetteer):
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture
def app_on_each_backend(store_location, gazetteer):
    """The app on a store of each backend: for the tests of what it reads from and writes to the store."""
    return AppTest.from_file(APP, default_timeout=120)


def summary(at: AppTest) -> str:
    return at.subheader[0].value


def params(at: AppTest) -> dict:
    return {k: at.query_params[k] for k in at.query_params}


def test_the_map_page_shows_the_story(app_on_each_backend):
    at = app_on_each_backend.run()
    assert not at.exception
    assert summary(at) == "13 events between 25 Jun 1992 and 31 Dec 2022"
    assert params(at) == {"v": "1"}


@pytest.mark.parametrize("act, key, value, expected_summary", [
    (lambda at: at.multiselect(key="countries").select("UA"), "country", "UA", "2 events"),
    (lambda at: at.date_input(key="start").set_value(date(2022, 6, 1)), "from", "2022-06-01", "9 events between 1 Jun and 31 Dec 2022"),
    (lambda at: at.date_input(key="end").set_value(date(2022, 2, 25)), "to", "2022-02-25", "6 events"),
    (lambda at: at.slider(key="dates").set_value((date(2022, 2, 25), date(2022, 2, 25))), "from", "2022-02-25", "2 events on 25 Feb 2022"),
    (lambda at: at.text_input(key="text").input("Desna"), "q", "Desna", "1 event "),
    (lambda at: at.multiselect(key="types").select("missile strike"), "type", "missile strike", "1 event "),
    (lambda at: at.multiselect(key="actors").select("Vladimir Putin"), "actor", "Vladimir Putin", "events"),
    (lambda at: at.multiselect(key="admins").select("Chernihiv Oblast"), "admin", "Chernihiv Oblast", "1 event "),
    (lambda at: at.text_input(key="near").input("Chernihiv"), "near", "Chernihiv:100", "1 event "),
])
def test_each_filter_control_writes_the_url_and_filters(app, act, key, value, expected_summary):
    at = app.run()
    act(at).run()
    assert not at.exception
    got = at.query_params[key]
    assert value in (got if isinstance(got, list) else [got])
    assert summary(at).startswith(expected_summary) or expected_summary in summary(at)


def test_date_presets(app):
    at = app.run()
    pills = [b for b in at.get("button_group") if b.key == "date_preset"]
    pills[0].set_value("Story day").run()
    assert (at.query_params["from"], at.query_params["to"]) == ("2022-06-25", "2022-06-25")
    assert summary(at).startswith("8 events on 25 Jun 2022")
    [b for b in at.get("button_group") if b.key == "date_preset"][0].set_value("All dates").run()
    assert "from" not in at.query_params


def test_quick_ring_then_remove(app):
    at = app.run()
    next(b for b in at.button if b.label == "Iskander-M from Minsk").click().run()
    assert at.query_params["ring"] == "iskander-m@Minsk"
    assert "In range" in [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert {"Minsk", "Kyiv", "Vilnius"} <= set(table["name"]) and "Berlin" not in set(table["name"])
    assert not any(b.label == "Iskander-M from Minsk" and not b.disabled for b in at.button)
    next(b for b in at.button if b.label == "Remove").click().run()
    assert "ring" not in at.query_params


def test_ring_form_with_a_typed_radius_and_a_border_origin(app):
    at = app.run()
    at.radio[0].set_value("Border")
    form_input = next(t for t in at.text_input if t.label.startswith("Place, country code"))
    form_input.input("BY-UA")
    radius = next(n for n in at.number_input if n.label == "Radius km")
    radius.set_value(200.0)
    next(b for b in at.button if b.label == "Add ring").click().run()
    assert not at.exception
    assert at.query_params["reach"] == "200@BY-UA"


def test_a_permalink_restores_the_same_view(app):
    app.query_params.update({"v": "1", "from": "2022-06-01", "to": "2022-06-30", "country": "UA",
                             "ring": "iskander-m@Minsk", "reach": "iskander-m@BY", "c": "52.1,29.3", "z": "6"})
    at = app.run()
    assert not at.exception and not at.warning
    assert summary(at) == "1 event between 1 Jun and 30 Jun 2022 in UA"
    assert at.date_input(key="start").value == date(2022, 6, 1)
    assert at.multiselect(key="countries").value == ["UA"]
    assert params(at)["ring"] == "iskander-m@Minsk" and params(at)["c"] == "52.1,29.3"
    rings = {r for r in at.dataframe[0].value["ring"]}
    assert rings == {"Iskander-M, 500 km from Minsk", "Iskander-M, 500 km from Belarus"}


@pytest.mark.parametrize("query, named", [
    ({"z": "99"}, "z"), ({"from": "2022-13-01"}, "from"), ({"ring": "nosuch@Minsk"}, "ring"),
    ({"c": "nan,inf"}, "c"), ({"q": "<script>alert(1)</script>" * 30}, "q"), ({"bogus": "1"}, "bogus"),
    ({"ring": "500@Xyzzyqq"}, "Xyzzyqq"), ({"near": "Xyzzyqq:5"}, "Xyzzyqq"),
])
def test_broken_or_hostile_links_warn_and_never_crash(app, query, named):
    app.query_params.update({"v": "1", **query})
    at = app.run()
    assert not at.exception
    assert any(named in w.value for w in at.warning) or any(named in c.value for c in at.caption)
    assert summary(at)  # the page still works


def test_hostile_event_text_is_shown_as_text(store_location, gazetteer):
    from dashboard.ingest import open_store

    with open_store(gazetteer=gazetteer) as store:
        store.put_events([make_event("x", title="[click](javascript:alert(1)) <b>bold</b>")], origin="test")
    at = AppTest.from_function(_events_page, default_timeout=120).run()
    assert not at.exception
    assert "[click](javascript:alert(1)) <b>bold</b>" in set(at.dataframe[0].value["title"])


def _events_page():
    from dashboard.ui import events_page

    events_page.render()


def _sources_page():
    from dashboard.ui import sources_page

    sources_page.render()


def test_events_page_follows_the_filters(store_location, gazetteer):
    at = AppTest.from_function(_events_page, default_timeout=120)
    at.query_params.update({"v": "1", "country": "UA"})
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 and list(table.columns)[:6] == ["start", "date", "title", "place", "type", "source"]
    assert table["link"].str.startswith("https://").all()


def test_sources_page_lists_every_source_with_quotes(store_location, gazetteer):
    at = AppTest.from_function(_sources_page, default_timeout=120).run()
    assert not at.exception
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "The Statesman" in html and "The systems have a range of up to 500 km." in html
    assert 'rel="noopener noreferrer"' in html


def _snapshots_page():
    from dashboard.ui import snapshots_page

    snapshots_page.render()


def test_a_snapshot_freezes_the_view_and_opens_read_only_after_the_data_changes(app_on_each_backend, gazetteer):
    from dashboard.ingest import open_store

    app = app_on_each_backend
    app.query_params.update({"v": "1", "country": "UA", "ring": "iskander-m@Minsk"})
    at = app.run()
    at.text_input(key="snapshot_title").input("Ukraine with the Minsk ring")
    next(b for b in at.button if b.label == "Freeze and get the link").click().run()
    assert not at.exception
    link = at.code[-1].value
    snapshot_id = link.rsplit("snapshot=", 1)[1]
    assert len(snapshot_id) >= 22  # ≥ 128 random bits, URL-safe
    with open_store(gazetteer=gazetteer) as store:  # the data changes after the snapshot
        store.put_events([make_event("desna-missile-strike-2022-06-25", title="Rewritten title")], origin="test")
    view = AppTest.from_file(APP, default_timeout=120)
    view.query_params["snapshot"] = snapshot_id
    view.run()
    assert not view.exception
    assert view.title[0].value == "Ukraine with the Minsk ring"
    titles = set(view.dataframe[0].value["title"])
    assert "Massive missile strike on Desna launched from Belarus" in titles and "Rewritten title" not in titles
    assert not view.text_input  # read-only: no filters, no ring form


def test_freezing_does_not_wait_for_the_thumbnail_which_arrives_later(app, store_path, gazetteer, chromium_path):
    import time

    from dashboard.ingest import open_store

    at = app.run()
    next(b for b in at.button if b.label == "Freeze and get the link").click().run()
    assert not at.exception
    snapshot_id = at.code[-1].value.rsplit("snapshot=", 1)[1]
    deadline = time.monotonic() + 180  # a condition polled, not a fixed sleep: Chromium draws it meanwhile
    while time.monotonic() < deadline:
        with open_store(gazetteer=gazetteer) as store:
            info = next(i for i in store.snapshots() if i.id == snapshot_id)
        if info.thumbnail:
            break
        time.sleep(0.5)
    assert info.thumbnail and info.thumbnail.startswith(b"\x89PNG")


@pytest.mark.parametrize("bad", ["abc", "../../etc/passwd", "' OR 1=1 --", "A" * 24])
def test_a_broken_snapshot_link_says_so_in_one_sentence(app, bad):
    app.query_params["snapshot"] = bad
    at = app.run()
    assert not at.exception
    assert "snapshot" in at.error[0].value.lower()


def test_snapshots_page_lists_and_deletes_after_confirmation(store_location, gazetteer):
    from dashboard.ingest import open_store
    from dashboard.scene import Scene
    from dashboard.share import ViewState
    from dashboard.snapshot import freeze

    with open_store(gazetteer=gazetteer) as store:
        freeze(store, Scene(ViewState(), (make_event(),), (), ()), "First <b>snapshot</b>")
    at = AppTest.from_function(_snapshots_page, default_timeout=120).run()
    assert "First \\<b\\>snapshot\\<\\/b\\>" in at.markdown[0].value  # escaped, shown as typed
    next(b for b in at.button if b.label == "Delete").click().run()
    assert "Delete" in at.warning[0].value  # asks first
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    with open_store(gazetteer=gazetteer) as store:
        assert store.snapshots() == []


def test_data_downloads_and_prepared_png(app, chromium_path):
    app.query_params.update({"v": "1", "ring": "iskander-m@Minsk"})
    at = app.run()
    labels = [b.label for b in at.get("download_button")]
    assert {"GEOJSON", "KML", "CSV"} <= set(labels)
    next(b for b in at.button if b.label == "Prepare PNG").click().run()
    assert not at.exception and not at.error
    assert "Save PNG" in [b.label for b in at.get("download_button")]


def test_the_map_page_prepares_an_animation_of_the_selection(app, chromium_path):
    app.query_params.update({"v": "1", "from": "2022-06-20", "to": "2022-06-26"})
    at = app.run()
    next(b for b in at.button if b.label == "Prepare GIF").click().run()
    assert not at.exception and not at.error
    assert "Save GIF" in [b.label for b in at.get("download_button")]


def test_events_page_lists_the_newest_first_and_says_when_it_stops(store_location, gazetteer, monkeypatch):
    from dashboard.ui import events_page

    at = AppTest.from_function(_events_page, default_timeout=120)
    at.query_params.update({"v": "1", "country": "UA"})
    at.run()
    dates = list(at.dataframe[0].value["start"])
    assert len(dates) == 2 and dates == sorted(dates, reverse=True) and not at.info
    monkeypatch.setattr(events_page, "MAX_LISTED", 1)
    at.run()
    assert not at.exception and len(at.dataframe[0].value) == 1
    assert at.dataframe[0].value["start"].iloc[0] == dates[0]
    assert "Listing the 1 most recent of the 2 selected events" in at.info[0].value


@pytest.mark.parametrize("start, end", [(None, None), (date(2022, 6, 25), None), (None, date(2022, 6, 25)),
                                        (date(2100, 12, 31), None), (date(1900, 1, 1), date(1900, 1, 1))])
def test_the_date_slider_gets_two_ends_when_all_data_is_one_day(start, end):
    """A store whose events all fall on one day crashed the slider (min_value == max_value)."""
    from dashboard.share import EARLIEST, LATEST, ViewState
    from dashboard.ui.sidebar import date_span

    day = date(2022, 6, 25)
    s, e, lo, hi = date_span(ViewState(start=start, end=end), day, day)
    assert EARLIEST <= lo < hi <= LATEST and lo <= s <= e <= hi


def test_a_name_several_places_share_offers_each_with_region_and_country(app):
    app.query_params.update({"v": "1", "near": "Desna:100"})
    at = app.run()
    assert not at.exception
    box = at.selectbox(key="near_namesake")
    labels = list(box.options)  # as the user reads them
    assert "Desna, Chernihiv Oblast, UA" in labels and len(set(labels)) == len(labels) >= 2
    other = next(i for i, label in enumerate(labels) if label != "Desna, Chernihiv Oblast, UA")
    at = box.select(labels[other]).run()
    assert not at.exception
    lat, lon = (float(v) for v in params(at)["near"].removesuffix(":100").split(","))
    assert params(at)["near"].endswith(":100") and abs(lat - 50.93) + abs(lon - 30.77) > 0.5  # not the village


def test_the_include_country_level_events_box_writes_coarse_to_the_url(app):
    app.query_params.update({"v": "1", "near": "Minsk:100"})
    at = app.run()
    alone = summary(at)
    at = at.checkbox(key="coarse").check().run()
    assert params(at)["coarse"] == "1" and summary(at) != alone and "located only by country" in summary(at)


def test_a_custom_ring_can_be_named_and_the_name_labels_it(app):
    at = app.run()
    next(t for t in at.text_input if t.label.startswith("Place, country code")).input("Belgorod")
    next(t for t in at.text_input if t.label == "Name (optional)").input("S-300 from Belgorod, 150 km")
    next(n for n in at.number_input if n.label == "Radius km").set_value(150.0)
    next(b for b in at.button if b.label == "Add ring").click().run()
    assert not at.exception
    assert at.query_params["ring"] == "150@Belgorod|S-300 from Belgorod, 150 km"
    assert any("S-300 from Belgorod, 150 km" in m.value.replace("\\", "") for m in at.sidebar.markdown)


DEPLOYMENT = "Iskander-M systems in Belarus, from 25 Jun 2022 (approximate)"


def test_the_storys_deployment_adds_a_dated_reach_and_the_table_says_from_when(app):
    at = app.run()
    next(b for b in at.button if b.label == DEPLOYMENT).click().run()
    assert not at.exception
    assert at.query_params["reach"] == "iskander-m@BY~2022-06-25.."
    table = at.dataframe[0].value
    assert set(table["since"]) == {"2022-06-25 (approximate)"} and set(table["until"]) == {""}
    assert any("In the coming months" in c.value for c in at.caption)


def test_a_dated_ring_outside_the_dates_is_listed_greyed_and_not_drawn(app):
    app.query_params.update({"v": "1", "to": "2022-06-24", "reach": "iskander-m@BY~2022-06-25.."})
    at = app.run()
    assert not at.exception and not at.warning
    assert "In range" not in [s.value for s in at.subheader]
    assert any("not drawn, it holds from 25 Jun 2022 (approximate)" in c.value.replace("\\", "")
               for c in at.sidebar.caption)
    at.date_input(key="end").set_value(date(2022, 6, 25)).run()
    assert "In range" in [s.value for s in at.subheader]


def test_a_custom_ring_can_hold_from_a_day(app):
    at = app.run()
    next(n for n in at.number_input if n.label == "Radius km").set_value(150.0)
    next(d for d in at.date_input if d.label == "Holds from").set_value(date(2023, 3, 1))
    next(b for b in at.button if b.label == "Add ring").click().run()
    assert not at.exception
    assert at.query_params["ring"] == "150@Minsk~2023-03-01.."


@pytest.fixture
def sites_app(app, gazetteer, tmp_path, monkeypatch):
    """The app with the example site table stored as sites-belarus."""
    from dashboard.ingest.catalogue import load_catalogue
    from dashboard.ingest.sites import read_sites, save_sites

    monkeypatch.setenv("REACHMAP_SITES_DIR", str(tmp_path / "sites"))
    save_sites(read_sites(PROJECT_DIR / "examples" / "sites-belarus.csv", gazetteer, load_catalogue()),
               tmp_path / "sites", "sites-belarus")
    return app


def test_a_site_table_is_a_toggle_with_a_system_filter_and_its_own_in_range_table(sites_app):
    at = sites_app.run()
    toggle = at.toggle(key="sites_on_sites-belarus")
    assert not at.exception and not toggle.value and "In range of the sites" not in [s.value for s in at.subheader]
    toggle.set_value(True).run()
    assert not at.exception and at.query_params["sites"] == "sites-belarus"
    assert "In range of the sites" in [s.value for s in at.subheader]
    reach = at.dataframe[-1].value
    desna = reach[reach["name"].str.contains("Desna")]
    # Desna is about 160 km from Mozyr, inside Polonez's 50-200 km; the Gomel rings reach it too.
    assert desna["nearest_site"].iloc[0] == "Polonez, Gomel and Mozyr regions"
    assert "Zyabrovka airfield (Iskander-M)" in desna["sites"].iloc[0].split("; ")
    at.multiselect(key="sites_systems_sites-belarus").set_value(["tochka-u"]).run()
    assert not at.exception and at.query_params["sites"] == "sites-belarus:tochka-u"
    reach = at.dataframe[-1].value
    assert set(reach["nearest_site"]) == {"Osipovichi missile brigade (Tochka)"}  # 120 km: Minsk, not Desna
    assert "Minsk" in set(reach["name"]) and not reach["name"].str.contains("Desna").any()
    at.toggle(key="sites_on_sites-belarus").set_value(False).run()
    assert not at.exception and "sites" not in at.query_params


def test_a_link_with_an_unknown_site_table_warns_in_one_sentence(sites_app):
    sites_app.query_params.update({"v": "1", "sites": "nope"})
    at = sites_app.run()
    assert not at.exception
    assert any("no site table called nope" in w.value.replace("\\", "") for w in at.warning)


def test_rings_and_site_rings_together_share_one_population_field(sites_app):
    sites_app.query_params.update({"v": "1", "ring": "iskander-m@Minsk", "sites": "sites-belarus:s-400"})
    at = sites_app.run()
    assert not at.exception and {"In range", "In range of the sites"} <= {s.value for s in at.subheader}
    assert [n.label for n in at.number_input].count("Cities of at least (people)") == 1
    cities = set(at.dataframe[-1].value.query("kind == 'city'")["name"])
    at.number_input(key="min_population").set_value(1_000_000).run()
    fewer = set(at.dataframe[-1].value.query("kind == 'city'")["name"])
    assert not at.exception and "Kharkiv" in fewer < cities and "Bobruysk" in cities - fewer  # 1.4M and 0.2M people


def test_more_rings_than_the_reach_cache_keeps_still_answer_for_the_sites(sites_app):
    """Two rings and seven sites: past REACHES_PER_TABLE the sites' table measures the selected rows itself."""
    from dashboard.ui.state import REACHES_PER_TABLE

    sites_app.query_params.update({"v": "1", "ring": ["iskander-m@Minsk", "300@Kyiv"], "sites": "sites-belarus"})
    at = sites_app.run()
    assert not at.exception and 2 + 7 > REACHES_PER_TABLE
    reach = at.dataframe[-1].value
    assert reach[reach["name"].str.contains("Desna")]["nearest_site"].iloc[0] == "Polonez, Gomel and Mozyr regions"


def test_the_launch_area_form_finds_desna_from_belarus_and_lists_what_could_reach(app):
    at = app.run()
    next(s for s in at.selectbox if s.key == "launch_system").set_value("iskander-m:ballistic")
    next(b for b in at.button if b.label == "Find launch area").click().run()
    assert not at.exception
    assert at.query_params["launch"] == "iskander-m:ballistic@Desna/BY"
    assert "Launch areas" in [s.value for s in at.subheader]
    said = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "Iskander-M ballistic missile could reach Desna from 82.1% of Belarus" in said
    listing = at.dataframe[-1].value
    assert {"Iskander-M", "Tochka-U"} <= set(listing[listing["verdict"] == "in range"]["system"])
    next(b for b in at.button if b.key == "remove_launch_0").click().run()
    assert "launch" not in at.query_params


def test_a_launch_area_from_a_selected_event_with_a_typed_range_and_minimum(app):
    at = app.run()
    next(r for r in at.radio if r.key == "launch_target_kind").set_value("A selected event")
    event = next(s for s in at.selectbox if s.key == "launch_event")
    strike = next(o for o in event.options if o.startswith("Massive missile strike on Desna"))
    event.select(strike)
    next(n for n in at.number_input if n.key == "launch_km").set_value(300.0)
    next(n for n in at.number_input if n.key == "launch_min_km").set_value(100.0)
    next(b for b in at.button if b.label == "Find launch area").click().run()
    assert not at.exception
    assert at.query_params["launch"] == "100-300@50.92744,30.76678/BY"
    said = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "launch points 99." in said or "launch points 100." in said


def test_a_bad_launch_link_is_one_warning_and_the_rest_shows(app):
    app.query_params.update({"v": "1", "launch": ["300@Xyzzyqq/BY", "300@Desna/BY"]})
    at = app.run()
    assert not at.exception
    assert any("Launch area “launch area of 300 km for Xyzzyqq from BY” left out" in w.value.replace("\\", "")
               for w in at.warning)
    assert "Launch areas" in [s.value for s in at.subheader]


def test_a_custom_ring_with_a_minimum_is_a_donut_in_the_link_and_the_table(app):
    at = app.run()
    next(n for n in at.number_input if n.label == "Radius km").set_value(500.0)
    next(n for n in at.number_input if n.key == "ring_min_km").set_value(50.0)
    next(b for b in at.button if b.label == "Add ring").click().run()
    assert not at.exception
    assert at.query_params["ring"] == "50-500@Minsk"
    table = at.dataframe[0].value
    assert "Minsk" not in set(table["name"]) and "Kyiv" in set(table["name"]) and table["distance_km"].min() >= 50
