"""Issue 15: GeoJSON, CSV and KML encoded a column at a time in C (export.columns, the store's record columns
read by GDAL) are byte for byte the files the per-value encoders write, hostile data included."""

from __future__ import annotations

import json
import json.encoder
import random
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from dashboard import export, ingest
from dashboard.errors import NotFoundError
from dashboard.export import columns, kml, records, tabular
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.importer import import_file
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import table_scene
from dashboard.share import RingSpec, ViewState
from dashboard.table import EventTable
from tests.conftest import make_event
from tests.test_export_stream import HOSTILE, hostile_events

# Every character the encoders treat apart, and a few they do not.
ALPHABET = ["a", "é", " ", ",", '"', "\\", "'", "&", "<", ">", ";", "\x00", "\x07", "\x0b", "\x1b", "\x1f",
            "\r", "\n", "\t", "\u00a0", "\u200b", "\u2028", "\u3000", "\ufeff", "\ufffe", "\uffff", "\U0001f600",
            "=", "+", "-", "@", "{", "]"]


def random_texts(seed: int, count: int = 2_000, longest: int = 6) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, longest))) for _ in range(count)]


@pytest.fixture()
def three_ways(store_location, gazetteer):
    """One view of a store as Arrow columns (the CLI's way), as the store's rows, and as Event objects."""
    fixtures = Path(__file__).parent / "data" / "import"
    with ingest.open_store(store_location, gazetteer=gazetteer) as store:
        for name in ("acled_current.csv", "features.geojson", "generic_lat_lon.csv"):
            assert import_file(fixtures / name, store, gazetteer, skip_bad=True).stored
        store.put_events(hostile_events() + odd_events(nul=not ingest.is_url(store_location)), "test")

    def load(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            return store.events_by_id(ids)

    def rows(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            yield from store.record_rows(ids, batch=7)

    def tables(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            yield from store.record_tables(ids, batch=5)  # several batches, the last one short

    table = EventTable.from_store(store_location)
    state = ViewState(rings=(RingSpec("Minsk", km=300),))
    slow = table_scene(state, table, load, gazetteer, load_catalogue())
    by_rows = table_scene(state, table, load, gazetteer, load_catalogue(), rows)
    by_columns = replace(by_rows, events=by_rows.events.with_columns(tables))
    return by_columns, by_rows, slow


def odd_events(nul: bool = True) -> list[Event]:
    """Fields the column encoders treat apart: attributes named twice, empty fields, controls in text.

    `nul=False` for PostGIS, whose text cannot hold a NUL (it refuses the write: the accepted limitation)."""
    place = Place.at("p-odd", "Odd\x1bplace", "city", 30.0, 52.0, country="")
    source = Source("T\x00itle" if nul else "T\x01itle", "@pub", "", None, "")
    return [
        make_event("odd-1", title="\u00a0-x", description="\x07bell\r\ncr",
                   attributes=(("a", "1"), ("b", "2"), ("a", "3"))),
        Event("odd-2", "Esc \x1b[31m", "strike", TimeSpan.day(make_event().time.start), place, source,
              actors=(), attributes=(("k\\", '"], ["'), ("\u2028", "\ufeff=1"))),
        make_event("odd-3", title="-1", description=HOSTILE, actors=("=cmd", "a; b")),
    ]


def _without_time(text: str) -> str:
    return re.sub(r'"exported_at": "[^"]*"', "", text)


def test_the_columns_give_the_bytes_the_rows_and_the_events_give(three_ways):
    by_columns, by_rows, slow = three_ways
    assert by_columns.events.columns() is not None and len(by_columns.events) > 13
    for scene in (by_rows, slow):
        assert export.to_csv(by_columns) == export.to_csv(scene)
        assert export.to_kml(by_columns) == export.to_kml(scene)
        assert _without_time(export.to_geojson(by_columns)) == _without_time(export.to_geojson(scene))


@pytest.mark.parametrize("fmt", export.STREAMED)
def test_a_streamed_column_export_is_the_bytes_of_the_export(three_ways, tmp_path, fmt):
    by_columns, by_rows, _ = three_ways
    target = tmp_path / f"out.{fmt}"
    with export.output.open_file(target) as out:  # through the binary buffer, not the text layer
        export.stream(by_columns, fmt, out, title="A title")
    whole = export.export(by_rows, None, fmt, title="A title")
    assert _without_time(target.read_bytes().decode("utf-8")) == _without_time(whole.decode("utf-8"))


def test_record_tables_are_record_rows_as_columns(store_location, gazetteer):
    with ingest.open_store(store_location, gazetteer=gazetteer) as store:
        store.put_events(hostile_events() + odd_events(nul=not ingest.is_url(store_location)), "test")
        ids = ["odd-3", "hostile", "e1", "odd-1", "e3", "odd-2"]  # not the store's order
        rows = list(store.record_rows(ids))
        tables = list(store.record_tables(ids, batch=4))
        assert [t.num_rows for t in tables] == [4, 2]
        as_rows = [tuple(r.values()) for t in tables for r in t.to_pylist()]
        assert as_rows == rows
        assert list(store.record_tables([])) == []
        with pytest.raises(NotFoundError, match="no longer holds the event 'gone'"):
            list(store.record_tables(["e1", "gone"]))


def test_json_strings_are_what_json_writes():
    values = random_texts(1) + [None]
    expected = [json.dumps(v, ensure_ascii=False) for v in values]
    assert columns.json_strings(pa.array(values, pa.string())).to_pylist() == expected
    assert columns.json_strings(pa.array([5, None], pa.int64())).to_pylist() == ["5", "null"]


def test_csv_cells_of_a_column_are_those_of_each_value():
    values = random_texts(2)
    expected = tabular._quoted(tabular._cells(values))
    column = pa.array(values, pa.string())
    formula = pa.compute.match_substring_regex(column, tabular._FORMULA_RE2)
    assert formula.to_pylist() == [tabular.is_formula(v) for v in values]
    cells = tabular._quoted_column(pa.compute.if_else(formula, columns.joined("'", column), column))
    assert cells.to_pylist() == expected
    assert columns.joined(*tabular._cell_parts(column)).to_pylist() == expected  # the parts of one join


def test_the_arrow_formula_pattern_is_the_python_one_for_every_skipped_character():
    texts = [c + s for c in tabular._SKIPPED for s in ("=1", "a", "\t1", "")]
    found = pa.compute.match_substring_regex(pa.array(texts), tabular._FORMULA_RE2).to_pylist()
    assert found == [bool(tabular._FORMULA.match(t)) for t in texts]
    for text in texts:  # each alone: a column whose first bytes could not start a formula is not searched
        cells = columns.joined(*tabular._cell_parts(pa.array(["plain", text])))
        assert cells.to_pylist() == tabular._quoted(tabular._cells(["plain", text]))


def test_xml_columns_are_escaped_as_each_value_would_be():
    values = [v for v in random_texts(3) if "\ud800" not in v] + [None]
    expected = [kml._escaped(kml.xml_text("" if v is None else v)).replace("\r", "&#13;") for v in values]
    assert kml._xml_column(pa.array(values, pa.string())).to_pylist() == expected
    start, end, empty = kml._DATA[0]
    elements = kml._element_column(pa.array(values, pa.string()), start, end, empty).to_pylist()
    assert elements == [start + t + end if t else empty for t in expected]


def test_balloons_of_columns_are_those_of_each_row():
    rng = random.Random(4)
    lines = [[rng.choice(["", "a<b>", "\x07", "x\ny", "&"]) for _ in range(300)] for _ in range(4)]
    expected = [kml._balloon(row) for row in zip(*lines)]
    assert kml._balloon_column([pa.array(c) for c in lines]).to_pylist() == expected


def test_attributes_of_a_column_are_those_of_each_stored_list():
    store_json = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode  # as the store writes
    rng = random.Random(8)
    names = ["a", "b", "é", "", ", ", '"', "\\", "x\n", "]", '"], ["', ", \"", "\U0001f600"]
    stored = [store_json([[rng.choice(names), "".join(rng.choices(ALPHABET + ['", "', '"], ["'], k=rng.randint(0, 4)))]
                          for _ in range(rng.randint(1, 5))]) for _ in range(3_000)]
    stored += ["[]", "[ ]", '[["a", "1"], ["b", "2"], ["a", "3"]]', '[["n", 5], [6, "x"]]', '[["a","1"]]',
               '[["é", "\\u00e9"]]', '[["", ""]]']
    expected = [records._stored_attributes(s) for s in stored]
    assert records.attributes_column(pa.array(stored)).to_pylist() == expected
    assert records.attributes_column(pa.array(stored)[5:]).to_pylist() == expected[5:]  # a slice of a column
    plain = [s for s in stored if pa.compute.match_substring_regex(s, records._PLAIN_PAIRS).as_py()]
    assert len(plain) > 200  # lists without an escape go the way of C
    assert records.attributes_column(pa.array(plain)).to_pylist() == [records._stored_attributes(s) for s in plain]
    assert records.attributes_column(pa.array([], pa.string())).to_pylist() == []


def test_rounded_reprs_are_what_round_and_repr_write():
    import numpy as np

    rng = np.random.default_rng(9)
    near_halves = np.round(rng.uniform(-180, 180, 2_000), 6) + 5e-7  # where rint of the product may differ
    values = np.concatenate([rng.uniform(-180, 180, 5_000), np.round(rng.uniform(-90, 90, 2_000), 4), near_halves,
                             rng.uniform(-1e-3, 1e-3, 500), np.arange(-180, 181, dtype=float),
                             [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-5, 5e-5, 1e-4, 1e9, 1e12, 1e300, 5e-7, -5e-7,
                              2.5e-6, 1.5e-6, -179.9999995, 0.1 + 0.2]])
    expected = [repr(round(v, records.DECIMALS)) for v in values.tolist()]
    assert columns.rounded_reprs(values, records.DECIMALS).to_pylist() == expected
    assert columns.rounded_reprs(np.array([]), 6).to_pylist() == []


def test_utf8_is_the_texts_one_after_another_even_for_a_slice():
    column = pa.array(["ab", "", "cé", "d"])
    assert bytes(columns.utf8(column)) == "abcéd".encode()
    assert bytes(columns.utf8(column[2:])) == "céd".encode()
    assert bytes(columns.utf8(column[1:2])) == b""
    with pytest.raises(ValueError, match="nulls"):
        columns.utf8(pa.array(["a", None]))


def test_text_formats_do_not_import_the_map():
    code = ("import sys, dashboard.export, dashboard.cli; "
            "print(sorted(m for m in ('folium', 'dashboard.mapview', 'dashboard.geoparse') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout
    assert out.strip() == "[]"


def test_joined_rows_are_those_arrow_joins():
    texts = random_texts(6, 300)
    first, second = pa.array(texts), pa.array(list(reversed(texts)))
    expected = [f"<{a}|{b}>{a}" for a, b in zip(texts, reversed(texts))]
    assert columns.joined("<", first, "|", second, ">", first).to_pylist() == expected
    assert columns.joined(first[7:], "x").to_pylist() == [t + "x" for t in texts[7:]]  # a slice of a column
    assert columns.joined(pa.array([1, 22]), "-").to_pylist() == ["1-", "22-"]
    with_null = pa.array(["a", None, "c"])
    assert columns.joined(with_null, "!").to_pylist() == ["a!", None, "c!"]  # Arrow's rule: a null row
    assert columns.joined(pa.array([], pa.string()), "x").to_pylist() == []


def test_read_ahead_gives_every_item_raises_the_readers_error_and_stops_with_its_caller():
    assert list(records.read_ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise NotFoundError("gone")

    with pytest.raises(NotFoundError, match="gone"):
        list(records.read_ahead(failing()))
    closed = []

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(True)

    ahead = records.read_ahead(endless())
    assert next(ahead) == 0
    ahead.close()  # the caller stops: the reader thread ends and closes what it read from
    assert closed == [True]
