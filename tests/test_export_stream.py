"""Issue 15: GeoJSON, CSV and KML streamed a batch at a time from the store's rows, byte for byte the files
they were when built whole from Event objects; the file appears whole or not at all."""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from dashboard import export, ingest
from dashboard.errors import DashboardError
from dashboard.export import kml, output, records, tabular
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.importer import import_file
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import build_scene, table_scene
from dashboard.share import RingSpec, ViewState
from dashboard.table import EventTable
from tests.conftest import make_event

HOSTILE = '</script><script>alert("x")</script> & <b>bold</b> ]]> &amp; \u2028'


def hostile_events() -> list[Event]:
    """Events whose every text field holds what XML, JSON, CSV and spreadsheets must be kept safe from."""
    source = Source(f"Title {HOSTILE}\r\nsecond line", "=HYPERLINK(\"https://evil.example\")",
                    "https://example.org/a?x=1&y=<2>", date(2022, 6, 26), f" -{HOSTILE}\ttab")
    place = Place.at("p", "Gomel <x> & \"y\"", "city", 30.98, 52.43, country="BY")
    return [
        make_event(),
        Event("hostile", HOSTILE, "protest", TimeSpan(date(2022, 6, 20), date(2022, 6, 28), "approximate",
              "in late June"), place, source, description="+1 line\r\nand more\x0bvt", actors=("@someone", "Second"),
              attributes=(("note", "\u00a0=1+1"), ("quote", 'say "hi" & <bye>'))),
        make_event("e3", title="Third", description="", day=date(2022, 6, 27)),
    ]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture()
def two_ways(store_location, gazetteer, catalogue):
    """The same view from the store's rows (fast) and from Event objects (slow), over several batches."""
    fixtures = Path(__file__).parent / "data" / "import"
    with ingest.open_store(store_location, gazetteer=gazetteer) as store:
        for name in ("acled_current.csv", "features.geojson", "generic_lat_lon.csv"):
            assert import_file(fixtures / name, store, gazetteer, skip_bad=True).stored
        store.put_events(hostile_events(), "test")

    def load(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            return store.events_by_id(ids)

    def rows(ids):
        with ingest.open_store(store_location, gazetteer=gazetteer) as store:
            yield from store.record_rows(ids, batch=7)

    table = EventTable.from_store(store_location)
    state = ViewState(rings=(RingSpec("Minsk", km=300),))
    fast = table_scene(state, table, load, gazetteer, catalogue, rows)
    slow = table_scene(state, table, load, gazetteer, catalogue)
    return fast, slow


def _without_time(text: str) -> str:
    return re.sub(r'"exported_at": "[^"]*"', "", text)


@pytest.mark.parametrize("size", [1, 5, 10_000])
def test_kml_from_rows_equals_kml_from_events_in_any_batch_size(two_ways, monkeypatch, size):
    monkeypatch.setattr(records, "BATCH", size)
    fast, slow = two_ways
    assert len(fast.events) > 13 and fast.events.rows() is not None
    assert export.to_kml(fast) == export.to_kml(slow)
    assert _without_time(export.to_geojson(fast)) == _without_time(export.to_geojson(slow))
    assert export.to_csv(fast) == export.to_csv(slow)


def _elementtree_placemark(e: Event, type_index: dict[str, int]) -> str:
    """One event's Placemark as the exports wrote it before issue 15: built with ElementTree, then indented."""
    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, tag, {k: kml.xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = kml.xml_text(text)
        return el

    mark = ET.Element("Placemark")
    sub(mark, "name", e.title)
    span = sub(mark, "TimeSpan")
    sub(span, "begin", e.time.start.isoformat())
    sub(span, "end", e.time.end.isoformat())
    src = e.source
    published = f" ({src.published.isoformat()})" if src.published else ""
    sub(mark, "description", kml._balloon([
        e.title, e.time.label, f"{e.place.name}{', ' + e.place.country if e.place.country else ''}",
        e.description, src.quote and f"“{src.quote}”", f"Source: {src.publisher}, {src.title}{published}", src.url]))
    sub(mark, "styleUrl", f"#type-{type_index[e.event_type]}")
    data = sub(mark, "ExtendedData")
    for name, value in export.event_record(e).items():
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False) if value else ""
        text = "" if value is None else "; ".join(value) if isinstance(value, list) else value
        sub(sub(data, "Data", name=name), "value", text)
    lon, lat = records._rounded(e.place.lonlat)
    sub(sub(mark, "Point"), "coordinates", f"{lon},{lat},0")
    ET.indent(mark, level=3)
    return ("      " + ET.tostring(mark, encoding="unicode") + "\n").replace("\r", "&#13;")


def test_streamed_placemarks_are_what_elementtree_writes(gazetteer, catalogue):
    events = hostile_events()
    scene = build_scene(ViewState(), events, gazetteer, catalogue)
    text = export.to_kml(scene)
    types = sorted({e.event_type for e in events})
    expected = "".join(_elementtree_placemark(e, {t: i for i, t in enumerate(types)}) for e in scene.events)
    assert expected in text
    root = ET.fromstring(text)  # well-formed, and the hostile title comes back as it was written
    names = [el.text for el in root.iter("{http://www.opengis.net/kml/2.2}name")]
    assert HOSTILE in names


def test_an_xml_text_column_is_escaped_as_each_value_would_be():
    rng = random.Random(42)
    alphabet = ["a", "&", "<", ">", "\x00", "\x07", "\r", "\n", "\t", "\ufffe", "\ud800", "é", "\U0001f600", " "]
    values = ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(500)] + [None, 12, 3.5]
    with_nul = kml._xml_texts(values)
    without_nul = kml._xml_texts([v for v in values if not (isinstance(v, str) and "\x00" in v)])
    one_by_one = [kml._escaped(kml.xml_text("" if v is None else v)) for v in values]
    assert with_nul == one_by_one
    assert without_nul == [t for v, t in zip(values, one_by_one) if not (isinstance(v, str) and "\x00" in v)]


@pytest.mark.parametrize("text", ["", "=1", " =1", "\t1", " \t1", " \r1", "\u00a0-1", "\u3000+1", "\u200b@x",
                                  "\x00=1", "Minsk - Kyiv", "a=1", "\ufeff\ufeff-", "\u2060 \u2060=", " ", "\t"])
def test_the_formula_pattern_says_what_is_formula_says(text):
    assert bool(tabular._FORMULA.match(text)) == tabular.is_formula(text)


def test_the_formula_pattern_agrees_on_random_text():
    rng = random.Random(42)
    alphabet = [" ", "\t", "\r", "\n", "\x00", "\u00a0", "\u200b", "\ufeff", "=", "+", "-", "@", "a", "1", "\u3000"]
    for _ in range(5_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 5)))
        assert bool(tabular._FORMULA.match(text)) == tabular.is_formula(text), repr(text)


@pytest.mark.parametrize("fmt", export.STREAMED)
def test_a_stream_is_the_bytes_of_the_export(gazetteer, catalogue, tmp_path, fmt):
    scene = build_scene(ViewState(rings=(RingSpec("Minsk", km=300),)), hostile_events(), gazetteer, catalogue)
    target = tmp_path / f"out.{fmt}"
    with output.open_file(target) as out:
        export.stream(scene, fmt, out, title="A title")
    whole = export.export(scene, None, fmt, title="A title")
    assert _without_time(target.read_bytes().decode("utf-8")) == _without_time(whole.decode("utf-8"))


def test_an_export_that_fails_midway_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="broke"):
        with output.open_file(target) as out:
            out.write(b"half of a file")
            raise RuntimeError("broke")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_open_file_refuses_what_write_file_refuses(tmp_path):
    (tmp_path / "real.csv").write_text("x", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    with pytest.raises(DashboardError, match="symbolic link"):
        with output.open_file(tmp_path / "link.csv") as out:
            out.write(b"never")
    assert (tmp_path / "real.csv").read_text("utf-8") == "x"


def test_streaming_to_an_unknown_format_is_refused():
    with pytest.raises(DashboardError, match="streamed"):
        export.stream(None, "png", None)  # type: ignore[arg-type]


def test_a_column_of_elements_is_each_value_as_an_element():
    rng = random.Random(7)
    alphabet = ["a", "&", "<", ">", "\x00", "\x1f", "\r", "\ufffe", "\ud800", "é", " "]
    values = ["".join(rng.choices(alphabet, k=rng.randint(0, 3))) for _ in range(300)] + [None, 0]
    start, end, empty = kml._DATA[0]
    expected = [start + t + end if t else empty for t in (kml._escaped(kml.xml_text("" if v is None else v))
                                                          for v in values)]
    assert kml._xml_elements(values, start, end, empty) == expected
    clean = [v for v in values if not (isinstance(v, str) and "\x00" in v)]
    assert kml._xml_elements(clean, start, end, empty) == [e for v, e in zip(values, expected) if v in clean]
    assert kml._xml_elements([], start, end, empty) == []


@pytest.mark.parametrize("stored, expected", [
    ("[]", ""), ("[ ]", ""), ('[["a", "1"]]', '{"a": "1"}'), ('[["a", "1"], ["a", "2"]]', '{"a": "2"}'),
    ('[["n", 5], [6, "x"]]', '{"n": "5", "6": "x"}'), ('[["é", "\\u00e9\\n\\"q\\""]]', '{"é": "é\\n\\"q\\""}')])
def test_stored_attributes_are_written_as_an_event_would_write_them(stored, expected):
    assert records._stored_attributes(stored) == expected
    assert records.attributes_text(records._text_dict(json.loads(stored))) == expected


def test_csv_cells_are_quoted_as_csv_writer_quotes_them():
    import csv
    import io

    rng = random.Random(3)
    alphabet = ["a", ",", '"', "\r", "\n", "\x00", " ", "é", "'", ";"]
    columns = [["".join(rng.choices(alphabet, k=rng.randint(0, 4))) for _ in range(400)] for _ in range(3)]
    columns.append([rng.choice([0.1, -30.5, 1e-7, 12]) for _ in range(400)])
    columns.append(["plain"] * 400)
    expected = io.StringIO()
    csv.writer(expected).writerows(zip(*columns))
    quoted = [tabular._quoted(c) for c in columns]
    assert "".join(",".join(row) + "\r\n" for row in zip(*quoted)) == expected.getvalue()


def test_parts_read_in_threads_come_in_order_and_a_reader_error_is_raised_in_its_place():
    import threading

    import numpy as np
    import pyarrow as pa

    seen = set()

    def read(part):
        seen.add(threading.get_ident())
        if part[0] == 30:
            raise ValueError("part 30")
        yield pa.table({"n": pa.array(part)})
        yield pa.table({"n": pa.array(part[::-1])})

    tables = records.read_in_threads(np.arange(25), read, batch=10)
    assert [t.column("n").to_pylist() for t in tables] == [
        list(range(10)), list(range(9, -1, -1)), list(range(10, 20)), list(range(19, 9, -1)), [20, 21, 22, 23, 24],
        [24, 23, 22, 21, 20]]
    assert threading.get_ident() not in seen  # read in the pool's threads
    got = []
    with pytest.raises(ValueError, match="part 30"):
        for t in records.read_in_threads(np.arange(50), read, batch=10):
            got.append(t.column("n")[0].as_py())
    assert got == [0, 9, 10, 19, 20, 29]
    early = records.read_in_threads(np.arange(1000), read, batch=10)
    next(early)
    early.close()  # stops: the parts not begun are not read
