"""Whole columns of an export encoded at once with Arrow's compute functions, in C.

The formats' per-value encoders (json's, csv.writer's rules, ElementTree's escaping) stay the reference:
each function here gives, for a column, exactly the texts they give value by value, and hands the few
values it cannot decide in C (a control character in a JSON string) to those same encoders.
tests/test_export_columns.py holds the two side by side.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_string = json.encoder.encode_basestring  # json's own, in C: what json.dumps(..., ensure_ascii=False) writes


def text(column: pa.Array) -> pa.Array:
    """The column as text: null as "", numbers as str() writes them (integers only: floats differ)."""
    if not pa.types.is_string(column.type):
        if pa.types.is_floating(column.type):
            raise TypeError("floats are written with Python's repr, not Arrow's: see `reprs`")
        column = column.cast(pa.string())
    return column.fill_null("") if column.null_count else column


def reprs(values: list[float]) -> pa.Array:
    """float.__repr__ of each value (what json.dumps and csv.writer write for a float)."""
    return pa.array(map(float.__repr__, values), pa.string(), size=len(values))


def rounded_reprs(values: np.ndarray, decimals: int) -> pa.Array:
    """repr(round(float(v), decimals)) of each value (how lon and lat are written), made in C for all but
    a few: round's exact decimal rounding is rint(v * 10**decimals) / 10**decimals wherever the product is
    not within its own rounding error of a half, and Arrow writes the shortest text that reads back as the
    value, as repr does, but for integral values ("1" for "1.0") and outside [1e-4, 1e9) (exponents)."""
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** decimals
    scaled = values * scale
    rounded = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):  # NaN and infinities compare False: they take the slow way
        exact = np.abs(scaled - np.floor(scaled) - 0.5) > np.abs(scaled) * 2.0 ** -50
        size = np.abs(rounded)
        fast = exact & (size >= 1e-4) & (size < 1e9)
    out = pc.cast(pa.array(rounded), pa.string())
    integral = fast & (rounded == np.trunc(rounded))
    if integral.any():
        out = pc.if_else(pa.array(integral), joined(out, ".0"), out)
    if not fast.all():
        slow = ~fast
        out = pc.replace_with_mask(out, pa.array(slow), pa.array(
            [repr(round(v, decimals)) for v in values[slow].tolist()], pa.string()))
    return out


def per_distinct(column: pa.Array, make: Callable[[object], str]) -> pa.Array:
    """make(value) for each row, called once per distinct value (a few hundred actor lists, not 100,000)."""
    encoded = pc.dictionary_encode(column)
    made = pa.array([make(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return made.take(encoded.indices)


def empty_as_null(column: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)


def json_strings(column: pa.Array) -> pa.Array:
    """Each value as JSON text, as json.dumps(value, ensure_ascii=False) writes it: text quoted and escaped
    (json escapes only the quote, the backslash and C0 controls), null as null, integers as digits."""
    return joined(*json_parts(column))


def json_parts(column: pa.Array) -> list[Part]:
    """json_strings of a column as parts of a join (see `joined`): the quotes, and the escaped text between."""
    if not pa.types.is_string(column.type):
        return [column.cast(pa.string()).fill_null("null")]
    data = raw(column)
    escaped = column
    for char, escape in (("\\", "\\\\"), ('"', '\\"')):  # the backslash first
        if char.encode() in data:  # a pass over a column costs as much as a copy: only where needed
            escaped = pc.replace_substring(escaped, char, escape)
    if has_control(data):  # rare: json's own encoder for those rows (\n, \u001b, …), its quotes taken off
        controls = pc.match_substring_regex(column, "[\\x00-\\x1f]").fill_null(False)
        escaped = pc.replace_with_mask(escaped, controls, pa.array(
            [_string(v)[1:-1] for v in column.filter(controls).to_pylist()], pa.string()))
    if not escaped.null_count:
        return ['"', escaped, '"']
    text = pc.is_valid(escaped).to_numpy(zero_copy_only=False)
    return [Either(text, '"', ""), escaped.fill_null("null"), Either(text, '"', "")]


@dataclass(frozen=True, eq=False)
class Either:
    """A part of `joined` that is one constant text or another in each row: `yes` where `mask` holds."""

    mask: np.ndarray  # bool, a value per row
    yes: str
    no: str

    def column(self) -> pa.Array:
        return pc.if_else(pa.array(self.mask), self.yes, self.no)


Part = Union[pa.Array, str, Either]


def joined(*parts: Part) -> pa.Array:
    """The columns (or constant texts, or `Either` of two) one after another in each row, as
    binary_join_element_wise with no separator gives them.

    Made as one `take` of every part's texts in the order they are written, whose data is then the rows'
    text as it stands: Arrow's binary_join_element_wise took 0.35 s to join 33 columns of 10,000 rows. A
    column that would only be made to be joined (an element: its tags, or nothing) is better given as its
    parts: each join copies every text once more.
    """
    columns = [p for p in parts if isinstance(p, (pa.Array, pa.ChunkedArray))]
    if not columns or any(c.null_count for c in columns):  # a null makes the row null: Arrow's own rules
        return pc.binary_join_element_wise(*(p.column() if isinstance(p, Either) else p for p in parts), "")
    rows = len(columns[0])
    texts = [t for p in parts for t in ((p.yes, p.no) if isinstance(p, Either) else (p,) if isinstance(p, str) else ())]
    constants = {t: i for i, t in enumerate(dict.fromkeys(texts))}
    pieces = [c.cast(pa.string()) if c.type != pa.string() else c for c in columns]
    values = pa.concat_arrays(pieces + [pa.array(list(constants), pa.string())])
    where = np.empty((rows, len(parts)), dtype=np.int64)
    base, constant_base = 0, rows * len(columns)
    for k, part in enumerate(parts):
        if isinstance(part, str):
            where[:, k] = constant_base + constants[part]
        elif isinstance(part, Either):
            where[:, k] = constant_base + np.where(part.mask, constants[part.yes], constants[part.no])
        else:
            where[:, k] = np.arange(base, base + rows)
            base += rows
    joined_texts = values.take(pa.array(where.ravel()))
    data = utf8(joined_texts)
    _, offsets, _ = joined_texts.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[joined_texts.offset:joined_texts.offset + len(joined_texts) + 1]
    ends = ends[::len(parts)] - ends[0]
    return pa.StringArray.from_buffers(rows, pa.py_buffer(ends.astype(np.int32)), pa.py_buffer(data))


def utf8(lines: pa.Array) -> memoryview:
    """The texts of a column of text one after another, as UTF-8 (the column's own data, not a copy)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if not len(lines):
        return memoryview(b"")
    if lines.null_count:
        raise ValueError("a column of lines holds nulls")
    _, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[lines.offset:lines.offset + len(lines) + 1]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(ends[0]):int(ends[-1])]


def first_bytes(column: pa.Array) -> np.ndarray:
    """The first byte (UTF-8) of each non-empty text of a column of text without nulls."""
    _, offsets, _ = column.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[column.offset:column.offset + len(column) + 1]
    starts = ends[:-1][ends[1:] > ends[:-1]]
    return np.frombuffer(utf8(column), np.uint8)[starts - ends[0]] if len(starts) else np.empty(0, np.uint8)


def has_control(data: bytes) -> bool:
    """Whether the text holds a C0 control character (a byte below 0x20: UTF-8 puts none inside another
    character), found with one pass of numpy, twice as fast as bytes.translate's copy."""
    return bool(len(data)) and int(np.frombuffer(data, np.uint8).min()) < 0x20


def raw(column: pa.Array) -> bytes:
    """The column's text as one bytes object, to ask what it holds at memchr's speed (`b"&" in raw(c)`):
    Arrow's own search reads a long text at a tenth of that."""
    return bytes(utf8(text(column)))


def write_utf8(out: TextIO, data: memoryview) -> None:
    """UTF-8 bytes into a text stream: straight into its binary buffer when it has one (no decoding)."""
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
    else:
        out.write(bytes(data).decode("utf-8"))
