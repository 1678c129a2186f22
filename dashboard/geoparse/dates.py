"""Dates and periods in news text, resolved against the publication date into TimeSpans.

    on Saturday            the last Saturday on or before publication          day
    June 25 / 25 June      that day, in the publication year (the year before if that is > 60 days ahead)
    in late February       20 February – end of February                         approximate (note says so)
    since August 2020      1 August 2020 – publication date                      span
    in the coming months   publication date – six months later                   span (note says so)
    last week / yesterday  the Monday–Sunday week before / the day before        week / day
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dashboard.geoparse.lexicon import MONTHS, WEEKDAYS
from dashboard.geoparse.mentions import DateMention
from dashboard.model import TimeSpan

FUTURE_DAYS = 60  # a day-month without a year is taken as past unless it falls this soon after publication

_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"  # a dot only after an abbreviation
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_PART = r"(?P<part>early|mid|late|the\s+end\s+of|the\s+beginning\s+of|the\s+start\s+of|the\s+middle\s+of)"
_NUMBER = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "several": 3, "a few": 3, "few": 3}

# Order matters only for ties: longer matches win, then earlier patterns.
_PATTERNS: list[tuple[str, re.Pattern]] = [(name, re.compile(rx)) for name, rx in [
    ("since", rf"\b[Ss]ince\s+{_DAY}\s+{_MONTH},?\s+{_YEAR}\b"),
    ("since", rf"\b[Ss]ince\s+{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    ("since", rf"\b[Ss]ince\s+{_MONTH}\s+{_YEAR}\b"),
    ("since", rf"\b[Ss]ince\s+{_DAY}\s+{_MONTH}(?![\w-])"),
    ("since", rf"\b[Ss]ince\s+{_MONTH}\s+{_DAY}\b"),
    ("since", rf"\b[Ss]ince\s+{_YEAR}\b"),
    ("iso", r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
    ("dmy", rf"\b(?:[Oo]n\s+)?{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"),
    ("mdy", rf"\b(?:[Oo]n\s+)?{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    ("range", rf"\b(?P<day>[0-3]?\d)\s*[-–]\s*(?P<day2>[0-3]?\d)\s+{_MONTH}(?:\s+{_YEAR})?\b"),
    ("dm", rf"\b(?:[Oo]n\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?![\w-])"),
    ("md", rf"\b(?:[Oo]n\s+)?{_MONTH}\s+{_DAY}\b(?!\s*(?:km|kilomet|miles|%|,\d|\.\d|\d))"),
    ("part_month", rf"\b(?:[Ii]n\s+|[Bb]y\s+|[Aa]t\s+)?{_PART}[\s-]+{_MONTH}(?:\s+{_YEAR})?\b"),
    ("part_year", rf"\b(?:[Ii]n\s+|[Bb]y\s+|[Aa]t\s+)?{_PART}[\s-]+{_YEAR}\b"),
    ("month_year", rf"\b(?:[Ii]n\s+)?{_MONTH}\s+{_YEAR}\b"),
    ("in_month", rf"\b[Ii]n\s+{_MONTH}(?![\w-])(?!\s+\d)"),
    ("year", rf"\b(?:[Ii]n|[Dd]uring|[Bb]y|[Uu]ntil|[Tt]hrough)\s+{_YEAR}\b"
             rf"(?!\s*(?:km|kilomet|%|people|troops|soldiers))"),
    ("weekday", rf"\b(?:(?P<rel>[Ll]ast|[Tt]his|[Nn]ext)\s+|(?:(?:early|late)\s+)?[Oo]n\s+)?{_WEEKDAY}(?!\w)"),
    ("relday", r"\b(?P<word>[Yy]esterday|[Tt]oday|[Tt]onight|[Ll]ast\s+night|[Tt]he\s+day\s+before\s+yesterday)\b"),
    ("relperiod", r"\b(?P<rel>[Ll]ast|[Tt]his|[Nn]ext|[Ee]arlier\s+this|[Ll]ater\s+this)\s+"
                  r"(?P<unit>week|month|year|weekend)\b"),
    ("weekend", r"\b(?:[Oo]ver|[Aa]t|[Dd]uring)\s+the\s+weekend\b"),
    ("ago", r"\b(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|a\s+few)\s+"
            r"(?P<unit>day|days|week|weeks|month|months|year|years)\s+ago\b"),
    ("coming", r"\b(?:[Ii]n|[Oo]ver|[Ww]ithin)\s+the\s+(?:coming|next|next\s+few|following|upcoming)\s+"
               r"(?P<unit>days|weeks|months|year|years)\b"),
]]


def find_dates(text: str, published: date | None) -> list[DateMention]:
    """Every date phrase the patterns know, longest first where they overlap, in text order."""
    found: list[tuple[int, int, int, TimeSpan]] = []
    for rank, (name, rx) in enumerate(_PATTERNS):
        for m in rx.finditer(text):
            span = _resolve(name, m, published)
            if span is not None:
                found.append((m.start(), m.end(), rank, span))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[2], f[0]))
    taken = bytearray(len(text))  # 1 where a kept phrase already lies
    out = []
    for start, end, _, span in found:
        if any(taken[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        out.append(DateMention(text[start:end], start, end, span))
    return sorted(out, key=lambda d: d.start)


# ------------------------------------------------------------------------------------------ resolving

def _resolve(name: str, m: re.Match, published: date | None) -> TimeSpan | None:
    text = m.group(0)
    g = m.groupdict()
    try:
        if name == "iso":
            return TimeSpan.day(date(int(g["year"]), int(g["month"]), int(g["day"])), text)
        if name in ("dmy", "mdy"):
            return TimeSpan.day(date(int(g["year"]), _month(g["month"]), int(g["day"])), text)
        if name in ("dm", "md"):
            day = _infer_year(_month(g["month"]), int(g["day"]), published)
            return TimeSpan.day(day, text) if day else None
        if name == "range":
            month = _month(g["month"])
            first = date(int(g["year"]), month, int(g["day"])) if g.get("year") else \
                _infer_year(month, int(g["day"]), published)
            if first is None:
                return None
            last = first.replace(day=int(g["day2"]))
            return TimeSpan(first, last, "span", text) if last >= first else None
        if name == "since":
            return _since(g, text, published)
        if name == "part_month":
            return _part_of_month(g, text, published)
        if name == "part_year":
            return _part_of_year(g["part"], int(g["year"]), text)
        if name == "month_year":
            return TimeSpan.month(int(g["year"]), _month(g["month"]), text)
        if name == "in_month":
            if published is None or g["month"] in ("May", "Mar") and not text[3:].istitle():
                return None
            month = _month(g["month"])
            year = published.year if date(published.year, month, 1) <= published + timedelta(FUTURE_DAYS) \
                else published.year - 1
            return TimeSpan.month(year, month, text)
        if name == "year":
            year = int(g["year"])
            return TimeSpan(date(year, 1, 1), date(year, 12, 31), "year", text)
    except ValueError:
        return None  # 31 June and the like
    if published is None:
        return None  # everything below is relative to the publication date
    if name == "weekday":
        return _weekday(g, text, published)
    if name == "relday":
        return _relative_day(g["word"].casefold(), text, published)
    if name == "relperiod":
        return _relative_period(" ".join(g["rel"].casefold().split()), g["unit"], text, published)
    if name == "weekend":
        saturday = published - timedelta((published.weekday() - 5) % 7)
        return TimeSpan(saturday, min(saturday + timedelta(1), max(published, saturday)), "span", text,
                        "The weekend on or before the publication date.")
    if name == "ago":
        return _ago(g, text, published)
    if name == "coming":
        return _coming(g["unit"], text, published)
    return None


def _month(word: str) -> int:
    return MONTHS[word.casefold().rstrip(".")]


def _infer_year(month: int, day: int, published: date | None) -> date | None:
    """The date in the publication year, or the year before when that would lie well in the future."""
    if published is None:
        return None
    candidate = date(published.year, month, day)
    if candidate > published + timedelta(FUTURE_DAYS):
        candidate = date(published.year - 1, month, day)
    return candidate


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _since(g: dict, text: str, published: date | None) -> TimeSpan | None:
    if g.get("day") and g.get("year"):
        start = date(int(g["year"]), _month(g["month"]), int(g["day"]))
    elif g.get("day"):
        start = _infer_year(_month(g["month"]), int(g["day"]), published)
    elif g.get("month"):
        start = date(int(g["year"]), _month(g["month"]), 1)
    else:
        start = date(int(g["year"]), 1, 1)
    end = published or start
    if start is None or end < start:
        return None
    note = "From the date given to the publication date." if published else "Open-ended; no publication date."
    return TimeSpan(start, end, "span", text, note)


def _part_of_month(g: dict, text: str, published: date | None) -> TimeSpan | None:
    month = _month(g["month"])
    if g.get("year"):
        year = int(g["year"])
    elif published is not None:
        year = published.year if date(published.year, month, 1) <= published + timedelta(FUTURE_DAYS) \
            else published.year - 1
    else:
        return None
    part = " ".join(g["part"].casefold().split())
    last = _last_day(year, month)
    first_day, last_day = {"early": (1, 10), "the beginning of": (1, 10), "the start of": (1, 10),
                           "mid": (11, 20), "the middle of": (11, 20),
                           "late": (20, last), "the end of": (20, last)}[part]
    return TimeSpan(date(year, month, first_day), date(year, month, last_day), "approximate", text,
                    f"'{part}' read as days {first_day}–{last_day} of the month.")


def _part_of_year(part: str, year: int, text: str) -> TimeSpan:
    part = " ".join(part.casefold().split())
    months = {"early": (1, 4), "the beginning of": (1, 4), "the start of": (1, 4), "mid": (5, 8),
              "the middle of": (5, 8), "late": (9, 12), "the end of": (9, 12)}[part]
    return TimeSpan(date(year, months[0], 1), date(year, months[1], _last_day(year, months[1])), "approximate",
                    text, f"'{part}' read as months {months[0]}–{months[1]} of the year.")


def _weekday(g: dict, text: str, published: date) -> TimeSpan:
    wanted = WEEKDAYS[g["weekday"].casefold()]
    rel = (g.get("rel") or "").casefold()
    back = (published.weekday() - wanted) % 7
    if rel == "next":
        day = published + timedelta((wanted - published.weekday()) % 7 or 7)
        return TimeSpan.day(day, text)
    if rel == "last" and back == 0:
        back = 7
    return TimeSpan(published - timedelta(back), published - timedelta(back), "day", text,
                    "The last such weekday on or before the publication date.")


def _relative_day(word: str, text: str, published: date) -> TimeSpan:
    word = " ".join(word.split())
    if word in ("today", "tonight"):
        return TimeSpan.day(published, text)
    if word == "yesterday":
        return TimeSpan.day(published - timedelta(1), text)
    if word == "the day before yesterday":
        return TimeSpan.day(published - timedelta(2), text)
    return TimeSpan(published - timedelta(1), published, "approximate", text,
                    "The night before the publication date.")  # last night


def _relative_period(rel: str, unit: str, text: str, published: date) -> TimeSpan:
    if unit == "week":
        monday = published - timedelta(published.weekday())
        if rel == "last":
            return TimeSpan(monday - timedelta(7), monday - timedelta(1), "week", text)
        if rel == "next":
            return TimeSpan(monday + timedelta(7), monday + timedelta(13), "week", text)
        if rel == "later this":
            return TimeSpan(published, monday + timedelta(6), "span", text)
        return TimeSpan(monday, published if rel == "earlier this" else monday + timedelta(6), "week", text)
    if unit == "weekend":
        saturday = published - timedelta((published.weekday() - 5) % 7)
        if rel == "next" or (rel == "this" and published.weekday() < 5):
            saturday = published + timedelta((5 - published.weekday()) % 7)
        elif rel == "last" and published.weekday() >= 5:
            saturday -= timedelta(7)
        return TimeSpan(saturday, saturday + timedelta(1), "span", text)
    if unit == "month":
        first = published.replace(day=1)
        if rel == "last":
            prev = first - timedelta(1)
            return TimeSpan.month(prev.year, prev.month, text)
        if rel == "next":
            nxt = first + timedelta(32)
            return TimeSpan.month(nxt.year, nxt.month, text)
        if rel == "earlier this":
            return TimeSpan(first, published, "span", text)
        if rel == "later this":
            return TimeSpan(published, first.replace(day=_last_day(first.year, first.month)), "span", text)
        return TimeSpan.month(published.year, published.month, text)
    year = published.year + {"last": -1, "next": 1}.get(rel, 0)
    if rel == "earlier this":
        return TimeSpan(date(year, 1, 1), published, "span", text)
    if rel == "later this":
        return TimeSpan(published, date(year, 12, 31), "span", text)
    return TimeSpan(date(year, 1, 1), date(year, 12, 31), "year", text)


def _ago(g: dict, text: str, published: date) -> TimeSpan | None:
    raw = " ".join(g["n"].casefold().split())
    n = int(raw) if raw.isdigit() else _NUMBER.get(raw)
    if n is None:
        return None
    unit = g["unit"].rstrip("s")
    if unit == "day":
        return TimeSpan.day(published - timedelta(n), text)
    days = {"week": 7, "month": 30, "year": 365}[unit] * n
    centre = published - timedelta(days)
    slack = timedelta({"week": 3, "month": 15, "year": 182}[unit])
    return TimeSpan(centre - slack, min(centre + slack, published), "approximate", text,
                    f"About {n} {unit}(s) before the publication date.")


def _coming(unit: str, text: str, published: date) -> TimeSpan:
    if unit == "days":
        end, said = published + timedelta(7), "a week"
    elif unit == "weeks":
        end, said = published + timedelta(28), "four weeks"
    elif unit == "months":
        month = published.month + 6
        year, month = published.year + (month - 1) // 12, (month - 1) % 12 + 1
        end, said = date(year, month, min(published.day, _last_day(year, month))), "six months"
    else:
        end, said = published.replace(year=published.year + 1) if not (published.month == 2 and published.day == 29) \
            else date(published.year + 1, 2, 28), "a year"
    return TimeSpan(published, end, "span", text,
                    f"'{text}' read as the publication date to {said} later; the source gives no end date.")
