"""Date columns as people write them: ISO, 25/06/2022, 06/25/2022, 01-January-2015, June 2022, 2022.

The day/month order is decided once for the whole column (a first field above 12 means day-first), so
03/04/2022 never means March in one row and April in the next. A column where every value reads both ways
is "ambiguous": it is read day-first and the caller warns. A value without a day ("June 2022") becomes the
whole month, without a month ("2022") the whole year.

>>> parsed = parse_dates(pd.Series(["25/06/2022", "03/04/2022", "June 2022", "soon"]))
>>> parsed.order, [str(d) for d in parsed.start], list(parsed.precision)
('day-first', ['2022-06-25', '2022-04-03', '2022-06-01', 'NaT'], ['day', 'day', 'month', ''])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser

DateOrder = str  # "iso" | "day-first" | "month-first" | "ambiguous" | "mixed" | "month-name" | ""

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ]\d)")
_YMD = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:$|[T ]\d)")
_NUMERIC = re.compile(r"^(\d{1,2})[./\-](\d{1,2})[./\-](\d{2}|\d{4})(?:$|[T ]\d)")
_INTERVAL = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*/\s*(\d{4}-\d{1,2}-\d{1,2})$")  # ISO 8601: start/end
_SIGNED = re.compile(r"^[-+\u2212]\s*\d")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)  # parsing with two defaults shows which parts the text left out


@dataclass(frozen=True)
class ParsedDates:
    """One interval per value (NaT where unparseable or empty) and the order the column was read in."""

    start: np.ndarray      # datetime64[D]
    end: np.ndarray        # datetime64[D]
    precision: np.ndarray  # object: "day" | "month" | "year" | "" (unparsed)
    order: DateOrder

    @property
    def ok(self) -> np.ndarray:
        return ~np.isnat(self.start)


def detect_order(values: list[str]) -> DateOrder:
    """How the numeric dates of a column are written, judged over all of them."""
    day_first = month_first = numeric = iso = named = 0
    for text in values:
        if not text:
            continue
        if _ISO.match(text) or _YMD.match(text) or _INTERVAL.match(text):
            iso += 1
            continue
        m = _NUMERIC.match(text)
        if m:
            numeric += 1
            first, second = int(m.group(1)), int(m.group(2))
            day_first += first > 12
            month_first += second > 12
        else:
            named += 1
    if numeric:
        if day_first and month_first:
            return "mixed"
        if day_first:
            return "day-first"
        if month_first:
            return "month-first"
        return "ambiguous"
    if named:
        return "month-name"
    return "iso" if iso else ""


def date_reading(texts: list[str]) -> tuple[DateOrder, bool]:
    """How a column whose distinct (stripped) texts are `texts` is read: its order, and whether day-first."""
    order = detect_order(texts)
    return order, order in ("day-first", "ambiguous") or (order == "mixed" and _majority_day_first(texts))


def parse_dates(values: pd.Series, reading: tuple[DateOrder, bool] | None = None) -> ParsedDates:
    """Parse a column of date texts; each distinct text is parsed once (a big file repeats its dates).

    `reading` is the column's date_reading when `values` is one chunk of it: the order is judged over the
    whole column, never over a part.
    """
    codes, uniques = pd.factorize(values.astype(str).str.strip(), sort=False)
    texts = [str(u) for u in uniques]
    order, day_first = reading if reading is not None else date_reading(texts)
    n = len(texts)
    starts = np.full(n + 1, np.datetime64("NaT"), dtype="datetime64[D]")  # the extra slot serves code -1
    ends = starts.copy()
    precisions = np.full(n + 1, "", dtype=object)
    for i, text in enumerate(texts):
        parsed = parse_one(text, day_first)
        if parsed is not None:
            starts[i], ends[i], precisions[i] = parsed
    codes = np.where(codes < 0, n, codes)
    return ParsedDates(starts[codes], ends[codes], precisions[codes], order)


def _majority_day_first(texts: list[str]) -> bool:
    votes = 0
    for text in texts:
        m = _NUMERIC.match(text)
        if m:
            votes += (int(m.group(1)) > 12) - (int(m.group(2)) > 12)
    return votes >= 0


def parse_one(text: str, day_first: bool) -> tuple[date, date, str] | None:
    """One date text as (start, end, precision), or None when it is not a date with a year."""
    if not text or _SIGNED.match(text):
        return None  # "-2022-01-01" is no date that a report gives (dateutil would drop the sign)
    m = _INTERVAL.match(text)
    if m:
        first, last = _day(*map(int, m.group(1).split("-"))), _day(*map(int, m.group(2).split("-")))
        if first is None or last is None or last[0] < first[0]:
            return None
        return (first[0], last[0], "span") if last[0] != first[0] else first
    m = _ISO.match(text) or _YMD.match(text)
    if m:
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NUMERIC.match(text)
    if m:
        first, second, year = int(m.group(1)), int(m.group(2)), m.group(3)
        day, month = (first, second) if day_first else (second, first)
        return _day(_full_year(year), month, day)
    if len(text) > 60 or not any(c.isdigit() for c in text):
        return None  # "yesterday", "unknown": no year, so no date; long texts are notes, not dates
    if len(_YEAR.findall(text)) > 1 or "/" in text and "-" in text:
        return None  # two dates ("2022-01-01 - 2021-01-01"): dateutil would silently keep one
    try:
        a = dateutil_parser.parse(text, dayfirst=day_first, default=_DEFAULT_A)
        b = dateutil_parser.parse(text, dayfirst=day_first, default=_DEFAULT_B)
    except (ValueError, OverflowError):
        return None
    if a.year != b.year:
        return None  # "25 June": no year
    if a.month != b.month:
        return date(a.year, 1, 1), date(a.year, 12, 31), "year"
    if a.day != b.day:
        first = date(a.year, a.month, 1)
        return first, _month_end(first), "month"
    return a.date(), a.date(), "day"


def date_problem(text: str) -> str:
    """Why a date text is refused, when there is more to say than "not a date"; "" otherwise."""
    text = text.strip()
    if _SIGNED.match(text):
        return "a date with a sign is not a date a report gives; write it without the sign, like 2022-01-01"
    m = _INTERVAL.match(text)
    if m:
        first, last = parse_one(m.group(1), True), parse_one(m.group(2), True)
        if first is not None and last is not None and last[0] < first[0]:
            return (f"the range ends on {last[0]} before it starts on {first[0]}; write the earlier date first, "
                    f"like {last[0]}/{first[0]}")
        return ""
    if len(_YEAR.findall(text)) > 1:
        return "two dates in one cell; write a range as start/end, like 2022-06-01/2022-06-30, or use an end column"
    return ""


def _day(year: int, month: int, day: int) -> tuple[date, date, str] | None:
    try:
        d = date(year, month, day)
    except ValueError:
        return None
    return d, d, "day"


def _full_year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    # Two digits: the century that puts the year within 50 years of now, as dateutil does.
    this_year = date.today().year
    year = this_year // 100 * 100 + int(text)
    if year > this_year + 50:
        year -= 100
    elif year <= this_year - 50:
        year += 100
    return year


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
