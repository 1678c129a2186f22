"""CSV for spreadsheets: one row per event with its provenance; no cell a spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.export import columns as arrow
from dashboard.export.records import EVENT_FIELDS, actor_lists, column_batches, lonlat_texts, record_batches

if TYPE_CHECKING:
    from dashboard.scene import Scene

CSV_FIELDS: tuple[str, ...] = (*EVENT_FIELDS, "lon", "lat")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula
# What a spreadsheet may skip before it looks for "=": whitespace of any kind, NUL, BOM and zero-width marks.
_SKIPPED = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\x00\ufeff\u200b\u200c\u200d\u2060"
# is_formula as one expression: a formula start at once, or after all the leading skipped characters (a tab
# or CR after a space is skipped, as str.lstrip does, so only "=", "+", "-" and "@" count there).
_FORMULA = re.compile("[=+\\-@\t\r]|[%s]*[=+\\-@]" % re.escape(_SKIPPED))


def is_formula(text: str) -> bool:
    """True when a spreadsheet could read the cell as a formula: it starts with one of _FORMULA_START,
    at once or after leading whitespace.

    >>> is_formula(" =1+1"), is_formula("\\t@SUM(A1)"), is_formula("Minsk - Kyiv"), is_formula("\\u00a0-1")
    (True, True, False, True)
    """
    return text.startswith(_FORMULA_START) or text.lstrip(_SKIPPED).startswith(_FORMULA_START)


def _cell(value: object) -> object:
    if isinstance(value, dict):  # attributes: one JSON cell, so any file's extra columns fit one header
        value = json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        value = "; ".join(value)
    if value is None:
        return ""
    if isinstance(value, str) and is_formula(value):
        return "'" + value  # a spreadsheet would run "=HYPERLINK(…)" from a source as a formula
    return value


def _cells(values: list) -> list:
    """_cell of each value of a column, in one pass over a column of text (the common case)."""
    if not set(map(type, values)) <= {str}:
        return list(map(_cell, values))
    match = _FORMULA.match
    return ["'" + v if match(v) else v for v in values]


# _FORMULA for Arrow's regular expressions (RE2): the same characters, each written as a code point.
_FORMULA_RE2 = "^(?:[=+\\-@\\t\\r]|[%s]*[=+\\-@])" % "".join(f"\\x{{{ord(c):x}}}" for c in _SKIPPED)
_NEEDS_QUOTES_RE2 = '[,"\\r\\n]'
# The bytes a formula's text may start with (UTF-8 of _FORMULA_START and _SKIPPED): a column whose texts all
# start otherwise holds no formula, and is not searched.
_FORMULA_FIRST = np.zeros(256, dtype=bool)
_FORMULA_FIRST[[c.encode("utf-8")[0] for c in _FORMULA_START + tuple(_SKIPPED)]] = True


def write_csv(scene: Scene, out: TextIO) -> None:
    """The CSV of `to_csv`, written to `out` a batch of events at a time."""
    csv.writer(out).writerow(CSV_FIELDS)
    batches = column_batches(scene)
    if batches is not None:
        for batch in batches:
            _write_columns(batch, out)
        return
    for batch in record_batches(scene):
        batch["actors"] = ["; ".join(a) for a in batch["actors"]]
        columns: list = [itertools.repeat(",")] * (2 * len(CSV_FIELDS))
        columns[0::2] = [_quoted(_cells(batch[f])) for f in EVENT_FIELDS] + [_quoted(batch["lon"]),
                                                                             _quoted(batch["lat"])]
        columns[-1] = itertools.repeat("\r\n")
        out.write("".join(itertools.chain.from_iterable(zip(*columns))))


def _quoted(values: list) -> list[str]:
    """Each cell as csv.writer writes it (QUOTE_MINIMAL, '"' doubled): quoted when it holds a comma, a quote,
    CR or LF. A column that holds none of them anywhere is left as it is, checked once on the whole column."""
    texts = [v if type(v) is str else str(v) for v in values]  # str(float) is repr, as csv.writer writes it
    joined = "\x00".join(texts)
    if not ("," in joined or '"' in joined or "\r" in joined or "\n" in joined):
        return texts
    return ['"' + t.replace('"', '""') + '"' if "," in t or '"' in t or "\r" in t or "\n" in t else t for t in texts]


def _write_columns(batch: dict, out: TextIO) -> None:
    """A batch of Arrow columns (records.column_batches) as the rows `write_csv` writes, every cell of a
    column made at once in C, all of them in one join."""
    parts: list[arrow.Part] = []
    for name in EVENT_FIELDS:
        column = batch[name]
        if name == "actors":
            column = arrow.per_distinct(column, lambda a: "; ".join(actor_lists(a)))
        if pa.types.is_string(column.type):  # text can be a formula; a number (geonameid) is never quoted as one
            parts += _cell_parts(arrow.text(column))
        else:
            parts.append(arrow.text(column))
        parts.append(",")
    lon, lat = lonlat_texts(batch)  # digits, "." and "-": never quoted
    parts += [lon, ",", lat, "\r\n"]
    arrow.write_utf8(out, arrow.utf8(arrow.joined(*parts)))


def _cell_parts(column: pa.Array) -> list[arrow.Part]:
    """The cells of a column of text as parts of a join: "'" before a formula (see is_formula), and quotes
    around a cell as csv.writer puts them (_quoted_column)."""
    marks: list[arrow.Part] = []
    if _FORMULA_FIRST[arrow.first_bytes(column)].any():  # a text may start like a formula: ask each
        formula = pc.match_substring_regex(column, _FORMULA_RE2)
        marks = [arrow.Either(formula.to_numpy(zero_copy_only=False), "'", "")] if formula.true_count else []
    return _quoted_parts(column, marks)


def _quoted_column(column: pa.Array) -> pa.Array:
    """_quoted of a column of text, in C."""
    return arrow.joined(*_quoted_parts(column))


def _quoted_parts(column: pa.Array, marks: Sequence[arrow.Part] = ()) -> list[arrow.Part]:
    """_quoted of a column of text, after `marks` (which hold none of ,"\r\n), as parts of a join."""
    data = arrow.raw(column)
    if not (b"," in data or b'"' in data or b"\r" in data or b"\n" in data):  # checked once on the column
        return [*marks, column]
    needs = pc.match_substring_regex(column, _NEEDS_QUOTES_RE2)
    if not needs.true_count:
        return [*marks, column]
    quote = arrow.Either(needs.to_numpy(zero_copy_only=False), '"', "")
    doubled = pc.replace_substring(column, '"', '""') if b'"' in data else column  # a cell with '"' is quoted
    return [quote, *marks, doubled, quote]


def to_csv(scene: Scene) -> str:
    """One row per event with every field and its provenance, a header row, lists joined with '; '."""
    out = io.StringIO()
    write_csv(scene, out)
    return out.getvalue()
