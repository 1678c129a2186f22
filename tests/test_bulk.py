"""The clustered layer's payload: coordinates within 1e-5°, days, types and ids exact, ≤ 30 bytes per event."""

from __future__ import annotations

import re
from dataclasses import replace

import folium
import numpy as np
import pyarrow as pa
import pytest

from dashboard.mapview import type_colour
from dashboard.mapview.assets import LOCAL_PREFIX, external_urls, inline, localize
from dashboard.mapview.bulk import (BULK_THRESHOLD, CLICK_PREFIX, SUPERCLUSTER_URL, BulkEvents, add_bulk_events,
                                    clicked_event_id, clustered_note, decode, encode, payload_bytes)
from dashboard.table import EventTable, day_number

ACLED_TYPES = ("explosions/remote violence", "battles", "strategic developments", "protests",
               "violence against civilians", "riots")


def synthetic_table(n: int, seed: int = 42, locations: int = 4000) -> EventTable:
    """An ACLED-like table built straight from arrays: events repeat at a few thousand locations in UA/BY/RU."""
    rng = np.random.default_rng(seed)
    loc_lon = rng.uniform(22.0, 40.0, locations).round(5)
    loc_lat = rng.uniform(44.5, 56.0, locations).round(5)
    loc = rng.choice(locations, n, p=(w := rng.pareto(1.5, locations) + 1) / w.sum())
    country = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    start = day_number(np.datetime64("2022-01-01").astype(object)) + rng.integers(0, 1096, n)
    ids = np.array([f"{('UKR', 'RUS', 'BLR')[c]}{100000 + i}" for i, c in enumerate(country)], dtype=object)
    titles = np.array([f"Event {i}" for i in range(n)], dtype=object)
    columns = dict(
        ids=pa.chunked_array([pa.array(ids.tolist(), pa.string())]),
        titles=pa.chunked_array([pa.array(titles.tolist(), pa.string())]), type_code=rng.choice(len(ACLED_TYPES), n, p=[.55, .2, .1, .07, .05, .03]).astype(np.int32),
        types=ACLED_TYPES, t_start=start.astype(np.int32), t_end=start.astype(np.int32),
        lon=loc_lon[loc], lat=loc_lat[loc], country_code=country.astype(np.int32),
        country_sets=(("UA",), ("RU",), ("BY",)), admin_code=np.zeros(n, np.int32), admins=("",),
        actor_code=np.zeros(n, np.int32), actor_sets=((),), place_code=loc.astype(np.int32),
        place_shapes=(None,) * locations, place_coarse=np.zeros(locations, bool), text=pa.chunked_array([pa.array([t.lower() for t in titles], pa.large_string())]),
        publisher_code=np.zeros(n, np.int32), publishers=("ACLED",))
    return EventTable(**columns)


COLOURS = {t: type_colour(t) for t in ACLED_TYPES}


def _in_order_of(back: dict, ids: list[str]) -> dict:
    """The decoded columns in the order of `ids` (unique): the payload keeps its rows sorted by place."""
    at = {i: k for k, i in enumerate(back["id"])}
    assert len(at) == len(back["id"]) == len(ids) and set(at) == set(ids)
    order = np.array([at[i] for i in ids], dtype=np.int64)
    return {key: (np.asarray(col)[order] if isinstance(col, np.ndarray) else [col[k] for k in order])
            for key, col in back.items()}


def test_the_payload_round_trips_coordinates_within_1e5_degrees_and_everything_else_exactly():
    table = synthetic_table(20_000)
    rng = np.random.default_rng(42)
    rows = np.sort(rng.choice(len(table), 7_000, replace=False))
    back = _in_order_of(decode(encode(table, rows, COLOURS)), table.id[rows].tolist())
    assert np.abs(back["lon"] - table.lon[rows]).max() <= 1e-5
    assert np.abs(back["lat"] - table.lat[rows]).max() <= 1e-5
    assert back["day"].tolist() == table.t_start[rows].tolist()
    assert back["type"] == [table.types[c] for c in table.type_code[rows]]
    assert back["id"] == table.id[rows].tolist()


def test_extreme_coordinates_unicode_ids_and_a_newline_in_an_id_survive():
    table = synthetic_table(6)
    lon = np.array([-180.0, 180.0, 0.0, 12.345675, -0.000004, 179.999996])
    lat = np.array([-90.0, 90.0, 0.0, -45.678915, 0.000006, 89.99999])
    ids = np.array(["a", "Ж-1", "line\nbreak", "</script>", "", "x" * 200], dtype=object)
    odd = replace(table, lon=lon, lat=lat, ids=pa.chunked_array([pa.array(ids.tolist())]),
                  t_start=np.array([-3, 0, 70000, 5, 5, 5], np.int32))
    back = _in_order_of(decode(encode(odd, np.arange(6), COLOURS)), ids.tolist())
    assert np.abs(back["lon"] - lon).max() <= 1e-5 and np.abs(back["lat"] - lat).max() <= 1e-5
    assert back["id"] == ids.tolist()
    assert back["day"].tolist() == [-3, 0, 70000, 5, 5, 5]  # a span over 65,535 days takes 4 bytes a day


def test_a_page_to_send_packs_the_same_events_harder():
    table = synthetic_table(20_000)
    rows = np.arange(len(table))
    quick, hard = encode(table, rows, COLOURS), encode(table, rows, COLOURS, level=6)
    assert len(hard.data) < len(quick.data)
    a, b = decode(quick), decode(hard)
    assert a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def test_an_empty_selection_is_a_valid_payload():
    back = decode(encode(synthetic_table(10), np.array([], dtype=np.int64), COLOURS))
    assert back["id"] == [] and len(back["lon"]) == 0


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_at_most_30_bytes_per_event_reach_the_page(n):
    table = synthetic_table(n)
    rows = np.arange(n)
    per_event = payload_bytes(table, rows, COLOURS) / n
    assert per_event <= 30, per_event


def _html(table: EventTable, rows: np.ndarray, **kw) -> str:
    m = folium.Map(tiles=None)
    folium.LayerControl().add_to(m)
    add_bulk_events(m, table, rows, COLOURS, **kw)
    return localize(m).get_root().render()


def test_the_map_loads_supercluster_from_the_vendored_copy_and_says_it_is_clustered():
    table = synthetic_table(BULK_THRESHOLD + 1)
    html = _html(table, np.arange(len(table)))
    assert f'src="{LOCAL_PREFIX}/supercluster/supercluster.min.js"' in html
    assert SUPERCLUSTER_URL not in html and external_urls(html) == []
    assert clustered_note(5_001) == "Showing 5,001 events clustered; zoom in for individual events"
    assert "Showing 5,001 events clustered" in html


def test_the_layer_control_comes_after_the_layer_it_lists():
    html = _html(synthetic_table(100), np.arange(100))
    group = re.search(r"var (feature_group_\w+) = L\.featureGroup", html).group(1)
    assert html.index(f"var {group} =") < html.index("L.control.layers")


def test_strings_from_data_cannot_close_the_script():
    table = synthetic_table(10)
    evil = "</script><script>alert(1)</script>"
    odd = replace(table, types=(evil,) + ACLED_TYPES[1:], type_code=np.zeros(10, np.int32))
    html = _html(odd, np.arange(10))
    assert "alert(1)</script>" not in html and "\\u003c/script\\u003e" in html


def test_an_exported_file_inlines_supercluster():
    html = inline(_html(synthetic_table(50), np.arange(50)))
    assert external_urls(html) == [] and LOCAL_PREFIX not in html
    assert "Supercluster" in html


def test_the_app_reads_the_clicked_event_id_from_the_tooltip_text():
    assert clicked_event_id(f"{CLICK_PREFIX}UKR123456") == "UKR123456"
    assert clicked_event_id("Kyiv") is None and clicked_event_id(None) is None and clicked_event_id(CLICK_PREFIX) is None


def test_the_element_script_is_self_contained_for_streamlit_folium():
    # streamlit-folium's feature_group_to_add runs only the script macros: CSS and legend come from the script.
    m = folium.Map(tiles=None)
    add_bulk_events(m, synthetic_table(20), np.arange(20), COLOURS)
    element = next(c for g in m._children.values() for c in getattr(g, "_children", {}).values()
                   if isinstance(c, BulkEvents))
    script = element._template.module.script(element)
    assert "rm-bulk-style" in script and "ReachmapBulk.layer(" in script


def _with_ids(ids: list[str]) -> EventTable:
    table = synthetic_table(len(ids))
    return replace(table, ids=pa.chunked_array([pa.array(ids, pa.string())]))


@pytest.mark.parametrize("ids, coding", [
    # a prefix and a number: the number never keeps a leading zero, and 20 digits are past a double's 53 bits
    ([f"acled:UKR{100000 + i}" for i in range(30)] + ["abc007", "x00", "0", "9", "x", "Ж-12", "story-2020",
                                                      "12345678901234567890", "a\nb7", "{{ 7*7 }}1", "000",
                                                      "x0000000000000000000001", "ж٣", ""], "numbered"),
    ([f"{chr(0x4e00 + i)}-id" for i in range(40)], "lines"),  # every id its own prefix: plain text is shorter
    ([f"id{chr(0x4e00 + i)}" for i in range(39)] + ["line\nbreak"], "json"),
])
def test_ids_round_trip_in_each_coding(ids, coding):
    payload = encode(_with_ids(ids), np.arange(len(ids)), COLOURS)
    assert payload.meta["ids"] == coding
    assert sorted(decode(payload)["id"]) == sorted(ids)


def test_a_payload_of_100k_acled_like_events_takes_at_most_8_bytes_each():
    table = synthetic_table(100_000)
    per_event = payload_bytes(table, np.arange(len(table)), COLOURS) / len(table)
    assert per_event <= 8, per_event  # 13.6 when the rows were unsorted and the ids text
