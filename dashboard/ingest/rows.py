"""What every import format produces: rows checked column by column, rejections with line numbers, and
events built one at a time (so 100,000 rows are never held twice)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.errors import ValidationError
from dashboard.gazetteer import Candidate
from dashboard.ingest.dates import ParsedDates, date_problem, parse_dates
from dashboard.ingest.limits import MAX_CELL_CHARS, clean_text, control_name
from dashboard.ingest.table import Table
from dashboard.model import Event

MAX_SHOWN = 200  # characters of a rejected value kept in the report


@dataclass(frozen=True)
class Rejection:
    """A row left out: where (1-based line as an editor shows it, or feature number), which field, why."""

    line: int
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        shown = f" {self.value!r}" if self.value else ""
        return f"line {self.line}: {self.field}{shown}: {self.reason}"


@dataclass(frozen=True)
class PlaceMatch:
    """A place name from a file and the gazetteer's answer to it, for a person to confirm or change.

    `key` is what `import_file(place_choices=…)` is keyed by: the name, or "name (CC)" when the file has a
    country column. `confidence` is 1.0 for a single exact match and falls as the alternatives get closer.
    """

    key: str
    name: str
    country: str
    rows: int
    chosen: Candidate | None
    alternatives: tuple[Candidate, ...]
    confidence: float

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return ((self.chosen,) if self.chosen else ()) + self.alternatives


# Items of an event stream: a built event, or the model's reason for refusing a row.
Built = tuple[int, Event | ValidationError]


@dataclass(eq=False)
class Parsed:
    """A file read and checked: which rows are bad and why, and a generator of the good rows' events."""

    format: str
    rows: int
    lines: np.ndarray
    bad: np.ndarray
    rejected: list[Rejection]
    build: Callable[[], Iterator[Built]]
    matches: tuple[PlaceMatch, ...] = ()
    date_order: str = ""
    warnings: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (model field, the file's column used for it)


class Checks:
    """Collects rejections from vectorised checks; `bad` marks every row with at least one."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self.bad = np.zeros(len(lines), dtype=bool)
        self.rejected: list[Rejection] = []

    def reject(self, mask: np.ndarray, field_name: str, values: Sequence[object],
               reason: str | Callable[[object], str]) -> None:
        """Reject the rows where `mask` is true, each with its own value from `values`."""
        for i in np.flatnonzero(mask):
            value = values[i]
            text = reason(value) if callable(reason) else reason
            self.rejected.append(Rejection(int(self.lines[i]), field_name, shown(value), text))
        self.bad |= np.asarray(mask, dtype=bool)

    def reject_row(self, i: int, field_name: str, value: object, reason: str) -> None:
        self.rejected.append(Rejection(int(self.lines[i]), field_name, shown(value), reason))
        self.bad[i] = True

    def duplicates(self, ids: Sequence[str], field_name: str, what: str = "the same id",
                   first_line: dict[str, int] | None = None, repeated: set[str] | None = None) -> None:
        """Reject later rows that repeat an id: the file would otherwise overwrite its own row.

        For a file checked in chunks, `first_line` carries the ids seen in earlier chunks and `repeated`
        (the ids that occur more than once in the whole file) keeps every other id out of it."""
        first_line = {} if first_line is None else first_line
        for i, event_id in enumerate(ids):
            if not event_id or self.bad[i] or repeated is not None and event_id not in repeated:
                continue
            if event_id in first_line:
                self.reject_row(i, field_name, event_id, f"{what} as line {first_line[event_id]}; each event once")
            else:
                first_line[event_id] = int(self.lines[i])


def chunked_rows(n: int, columns: Sequence[Sequence | pd.Series | np.ndarray],
                 chunk: int = 10_000) -> Iterator[tuple[int, tuple]]:
    """(i, row) over aligned columns, turning only `chunk` rows at a time into Python objects.

    A Python string costs ~60 bytes more than the same text in an Arrow column: converting 100,000 rows of
    30 columns at once would double an import's memory.
    """
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        parts = [c.iloc[start:end].tolist() if isinstance(c, pd.Series) else
                 c[start:end].tolist() if isinstance(c, np.ndarray) else c[start:end] for c in columns]
        for offset, row in enumerate(zip(*parts)):
            yield start + offset, row


def shown(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9\[(\"'«“])")


def first_sentence(text: str, limit: int = 400) -> str:
    """The text up to its first full stop that ends a sentence ('On 25 June 2022, … Desna.')."""
    m = _SENTENCE_END.search(text, 0, limit + 1)
    sentence = text[:m.end()] if m else text
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def split_names(*texts: str) -> tuple[str, ...]:
    """Names from ';'-separated lists, stripped, empty and repeated ones left out, order kept."""
    names: dict[str, None] = {}
    for text in texts:
        if text:
            for part in text.split(";"):
                part = part.strip()
                if part:
                    names[part] = None
    return tuple(names)


# ----------------------------------------------------------------------------------- shared column checks

def clean_table(table: Table) -> Table:
    """The table with every cell and column name through `clean_text`, and a warning if anything was removed.

    Line breaks become LF silently; other control characters (NUL, ESC, BEL, …) are removed and the report
    says how many cells held some and where the first was, so nothing is changed without a word.
    """
    frame = table.frame
    names = [clean_text(str(c)) for c in frame.columns]
    cleaned, changed_cells, first = clean_cells(frame, table.lines)
    if names == [str(c) for c in frame.columns] and cleaned is frame:
        return table
    frame = cleaned.copy(deep=False) if cleaned is frame else cleaned
    frame.columns = unique_names(names)
    warnings = list(table.warnings)
    if changed_cells:
        warnings.append(control_warning(changed_cells, first))
    return Table(table.name, frame, table.lines, table.problems, warnings)


def clean_cells(frame: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, int, tuple[int, str, str] | None]:
    """The frame with every cell through `clean_text` (the same object if no cell changes), how many cells
    held control characters, and the first of them as (line, column, the character's name)."""
    changed_cells, first = 0, None
    columns = {}
    cleaned_any = False
    for column in frame.columns:
        values = frame[column]
        texts = values if isinstance(values.dtype, pd.StringDtype) else values.astype(str)
        odd = texts.str.contains(_ODD, regex=True).to_numpy(dtype=bool)
        if odd.any():
            cleaned_any = True
            controls = texts.str.contains(_CONTROL_CHARS, regex=True).to_numpy(dtype=bool)
            if controls.any():
                changed_cells += int(controls.sum())
                i = int(np.flatnonzero(controls)[0])
                here = (int(lines[i]), str(column), control_name(texts.iloc[i]))
                first = here if first is None or here[0] < first[0] else first
            cleaned = [clean_text(v) if o else v for v, o in zip(texts.tolist(), odd.tolist())]
            values = pd.Series(cleaned, index=frame.index, dtype=object)
        columns[column] = values
    if not cleaned_any:
        return frame, 0, None
    return pd.DataFrame(columns, index=frame.index), changed_cells, first


def control_warning(changed_cells: int, first: tuple[int, str, str]) -> str:
    """The report's sentence about the control characters clean_cells removed."""
    line, column, what = first
    return (f"Removed control characters (such as {what}) from {changed_cells:,} cell(s), the first at line {line} "
            f"in {clean_text(column)[:60]!r}: they cannot be shown, printed or exported safely.")


_CONTROL_CHARS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
_ODD = "[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]"  # controls and CR


def unique_names(names: list[str]) -> list[str]:
    """Names made unique as clean_table does it: a repeated one gets '.1', '.2'."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, k = name, 0
        while candidate in seen:
            k += 1
            candidate = f"{name}.{k}"
        seen.add(candidate)
        out.append(candidate)
    return out


def check_table(checks: Checks, table: Table) -> np.ndarray:
    """Reject what the reader found (a cut last row, a bad KML coordinate) and cells over MAX_CELL_CHARS.

    Returns the rows rejected here, which later checks need not look up (a 10 MB place name).
    """
    before = checks.bad.copy()
    for i, (field_name, value, reason) in sorted(table.problems.items()):
        checks.reject_row(i, field_name, value, reason)
    for column in table.frame.columns:
        values = table.frame[column]
        texts = values if isinstance(values.dtype, pd.StringDtype) else values.astype(str)
        lengths = texts.str.len().to_numpy()
        for i in np.flatnonzero(lengths > MAX_CELL_CHARS):
            checks.reject_row(int(i), str(column), table.frame[column].iloc[i],
                              f"the cell holds {int(lengths[i]):,} characters, more than the {MAX_CELL_CHARS:,} "
                              f"Reachmap stores; shorten it or move the text to a linked document")
    return checks.bad & ~before


_DATE_HINT = "expected a date like 2022-06-25, 25/06/2022 or 25 June 2022"


def stripped(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """A column's text with surrounding spaces removed; all "" when the file has no such column."""
    if column is None:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[column].astype(str).str.strip()


def check_coordinates(checks: Checks, lat_text: pd.Series, lon_text: pd.Series, lat_field: str,
                      lon_field: str, required: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes as floats (NaN where missing); bad values rejected with the reason.

    `required` marks the rows that must have coordinates (default: all); a decimal comma is accepted.
    """
    result = []
    for text, field_name, limit, word in ((lat_text, lat_field, 90, "latitude"),
                                          (lon_text, lon_field, 180, "longitude")):
        number = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        empty = (text == "").to_numpy()
        need = empty if required is None else empty & required
        checks.reject(need, field_name, text.tolist(), f"missing {word}")
        values = text.tolist()
        not_number = ~empty & ~np.isfinite(number)
        checks.reject(not_number, field_name, values, f"{word} is not a number in decimal degrees")
        out = np.isfinite(number) & (np.abs(number) > limit)
        checks.reject(out, field_name, values, f"{word} is out of range: it must be between -{limit} and {limit}")
        result.append(np.where(out, np.nan, number))
    return result[0], result[1]


def check_dates(checks: Checks, text: pd.Series, field_name: str, required: bool = True,
                reading: tuple[str, bool] | None = None) -> ParsedDates:
    """Parse a date column; empty or unreadable values are rejected (empty ones only if `required`).

    `reading`: the whole column's dates.date_reading, when `text` is one chunk of it."""
    parsed = parse_dates(text, reading)
    empty = (text == "").to_numpy()
    values = text.tolist()
    if required:
        checks.reject(empty, field_name, values, "missing date")
    hint = _DATE_HINT
    if parsed.order == "mixed":
        hint += (" (this column mixes day-first and month-first dates, such as 13/05/2022 and 05/13/2022; "
                 "write them one way, or as YYYY-MM-DD)")
    checks.reject(~empty & ~parsed.ok, field_name, values,
                  lambda value: f"not a date: {date_problem(str(value)) or hint}")
    return parsed
