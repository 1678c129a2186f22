"""What the geoparser finds in an article: place, date and system mentions, candidate events."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.gazetteer import Candidate
from dashboard.model import TimeSpan


@dataclass(frozen=True)
class PlaceMention:
    """A place named in the text (text[start:end] == mention), resolved to one gazetteer entry.

    `key` is the gazetteer key of the choice ("geonames:710071", "country:UA", "border:BY-UA", or
    "admin1:UA.02" for a region the gazetteer holds no entry for); `alternatives` are the runners-up, best first,
    for a correction dropdown. `iso2` is the country the place lies in (None for a border).
    """

    mention: str
    start: int
    end: int
    name: str
    kind: str
    geonameid: int | None
    iso2: str | None
    lat: float
    lon: float
    confidence: float
    alternatives: tuple[Candidate, ...]
    key: str
    uncertainty_km: float | None = None  # a point placed by "30 km north of X": how far off it may be
    note: str | None = None  # why the choice is doubtful, in words ("no place called X in Y …")

    def to_json(self) -> dict:
        out: dict = {"mention": self.mention, "start": self.start, "end": self.end, "name": self.name,
                     "kind": self.kind}
        if self.geonameid is not None:
            out["geonameid"] = self.geonameid
        else:
            out["iso2"] = self.iso2
        out.update(lat=round(self.lat, 5), lon=round(self.lon, 5), confidence=round(self.confidence, 2),
                   key=self.key)
        if self.uncertainty_km is not None:
            out["uncertainty_km"] = round(self.uncertainty_km, 1)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class DateMention:
    """A date or period in the text, resolved against the publication date."""

    text: str
    start: int
    end: int
    span: TimeSpan

    def to_json(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "time": _time_json(self.span)}


@dataclass(frozen=True)
class SystemMention:
    """A weapon system named in the text; `system_id` is the catalogue id, or "" when it has no entry.

    `range_km` comes from a range statement next to the mention ("a range of up to 500 km") and suggests a ring.
    """

    text: str
    start: int
    end: int
    system_id: str
    range_km: float | None
    range_text: str | None

    def to_json(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "system_id": self.system_id,
                "range_km": self.range_km, "range_text": self.range_text}


@dataclass(frozen=True)
class CandidateEvent:
    """A sentence that reads like an event: what (type, title), where (places), when, and the quote."""

    sentence: str
    start: int
    end: int
    title: str
    event_type: str
    places: tuple[PlaceMention, ...]
    time: TimeSpan | None
    systems: tuple[SystemMention, ...]

    def to_json(self) -> dict:
        return {"title": self.title, "event_type": self.event_type, "quote": self.sentence,
                "start": self.start, "end": self.end,
                "places": [p.key for p in self.places],
                "time": _time_json(self.time) if self.time else None,
                "systems": [s.system_id or s.text for s in self.systems]}


@dataclass(frozen=True)
class Geoparse:
    """Everything found in one article, each list in text order."""

    places: tuple[PlaceMention, ...]
    dates: tuple[DateMention, ...]
    systems: tuple[SystemMention, ...]
    events: tuple[CandidateEvent, ...]

    def to_json(self) -> dict:
        """The `python -m dashboard geoparse --json` shape."""
        return {"places": [p.to_json() for p in self.places], "dates": [d.to_json() for d in self.dates],
                "systems": [s.to_json() for s in self.systems], "events": [e.to_json() for e in self.events]}

    @property
    def rings(self) -> tuple[tuple[str, float], ...]:
        """Suggested rings: (catalogue id or the name as written, range in km), once each, in text order."""
        seen: dict[tuple[str, float], None] = {}
        for s in self.systems:
            if s.range_km is not None:
                seen.setdefault((s.system_id or s.text, s.range_km), None)
        return tuple(seen)


def _time_json(span: TimeSpan) -> dict:
    return {"start": span.start.isoformat(), "end": span.end.isoformat(), "precision": span.precision,
            "label": span.label, "note": span.note}
