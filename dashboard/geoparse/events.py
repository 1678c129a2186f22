"""Candidate events: sentences with an action and a place, proposed for the analyst to accept or drop.

The type is the first of the story's event types whose words the sentence uses, in the order below (a
strike outranks the statement that reports it); the time is the sentence's first date, else the publication
date; the quote is the sentence itself.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from datetime import date

from dashboard.geoparse.mentions import CandidateEvent, DateMention, PlaceMention, SystemMention
from dashboard.geoparse.text import Sentence
from dashboard.model import TimeSpan

_STRIKE = r"strikes?|struck|airstrikes?|shell(?:ed|ing|s)|bombard\w*|bomb(?:ed|ing)|explosions?|blasts?|" \
          r"shot\s+down|intercepted|fired|(?:missile|rocket|drone)\s+attacks?"
_TRANSFER = r"hand(?:ed|s|ing)?(?:\s+over)?|transfer(?:red|s)?|suppl(?:y|ied|ies|ying)|deliver(?:ed|ies|y|s|ing)?|" \
            r"provid(?:e|ed|es|ing)|sen[dt]s?|donat(?:e|ed|es)|pledg(?:e|ed|es)|station(?:ed)?"
_ARMS = r"weapons?|arms|missiles?|systems?|launchers?|tanks?|ammunition|shells|rockets|jets|aircraft|drones|" \
        r"air\s+defen[cs]es?|howitzers?|artillery"
# (type, words that signal it, words that must also be in the sentence) — first match wins.
_SHELLING = r"shell(?:ed|ing|s)|artillery\s+(?:fire|strikes?|attacks?)|mortar\s+(?:fire|attacks?)|mortars?"
_MISSILES = r"missiles?|rockets?|drones?|Shahed\w*|Iskander\w*|Kalibr\w*|Kinzhal\w*|S-[34]00\w*|ballistic|cruise"
EVENT_TYPES: tuple[tuple[str, str, str], ...] = (
    # Shelling is not a missile strike (issue 14): artillery and mortars, unless missiles or drones are said.
    ("shelling", _SHELLING, ""),
    ("missile strike", _STRIKE, ""),
    ("arms transfer", _TRANSFER, _ARMS),
    ("sanctions", r"sanction(?:s|ed)?|embargo|ban(?:s|ned)?|restrictions?|blacklist\w*|froze|freez\w+", ""),
    ("missile strike", r"hit(?:s|ting)?|attack(?:ed|s)?", ""),
    ("election", r"elections?|vot(?:e|es|ed|ing)|ballots?|referendum", ""),
    ("protest", r"protest(?:s|ers|ed)?|demonstrat\w+|rall(?:y|ies)|march(?:ed|es)?|crackdown", ""),
    ("diplomacy", r"talks|met|meet(?:s|ing)?|summit|visit(?:s|ed|ing)?|negotiat\w+|agreement|signed|treaty|"
                  r"summoned|expelled", ""),
    ("military activity", r"deploy(?:ed|s|ment)?|drills?|exercises?|troops|forces|moved|mov(?:ing|es)|buildup|"
                          r"massing|massed|stationed|patrols?|flights?|mobili[sz]\w+|withdr[ae]w\w*|invasion|"
                          r"invaded|offensive|retreat(?:ed|s)?|recaptured|captured|advanced|encircled|"
                          r"counterattack\w*|entered|launched", ""),
    ("statement", r"said|says|stated|warned|announced|told|claimed|accused|denied|called|condemned|complained", ""),
)
_TYPE_WORDS = [(name, re.compile(rf"\b(?:{rx})\b", re.I), re.compile(rf"\b(?:{need})\b", re.I) if need else None)
               for name, rx, need in EVENT_TYPES]
_MISSILE_WORDS = re.compile(rf"\b(?:{_MISSILES})\b", re.I)
# "can hit Kharkiv", "could strike", "capable of reaching", "within range of": what might happen, not what did.
_HYPOTHETICAL = re.compile(r"\b(?:can|could|would|may|might|able\s+to|capable\s+of|threaten(?:s|ed)?\s+to|"
                           r"designed\s+to|intended\s+to|meant\s+to|(?:is|are)\s+to)\s+(?:\w+\s+){0,2}$", re.I)
_TITLES = {"shelling": "Shelling of {}", "missile strike": "Missile strike on {}", "arms transfer": "Arms transfer to {}",
           "sanctions": "Sanctions: {}", "election": "Election in {}", "protest": "Protest in {}",
           "diplomacy": "Talks in {}", "military activity": "Military activity near {}",
           "statement": "Statement on {}"}
_SPECIFIC = {"village": 0, "city": 0, "admin region": 1, "border": 2, "country": 3}


def candidate_events(text: str, sentences: list[Sentence], places: tuple[PlaceMention, ...],
                     dates: tuple[DateMention, ...], systems: tuple[SystemMention, ...],
                     published: date | None) -> list[CandidateEvent]:
    """One candidate per sentence that has an action word and at least one place."""
    events = []
    starts = [p.start for p in places]  # places, dates and systems come in text order
    date_starts, system_starts = [d.start for d in dates], [s.start for s in systems]
    for sentence in sentences:
        here = list(places[bisect_left(starts, sentence.start):bisect_left(starts, sentence.end)])
        if not here:
            continue
        quote = text[sentence.start:sentence.end]
        typed = _event_type(quote)
        if typed is None:
            continue
        event_type, verb_at = typed
        primary = _primary(here, sentence.start + verb_at)
        ordered = (primary, *[p for p in here if p is not primary])
        first_date = bisect_left(date_starts, sentence.start)
        when = dates[first_date].span if first_date < len(dates) and dates[first_date].start < sentence.end else None
        if when is None and published is not None:
            when = TimeSpan(published, published, "day", "", "No date in the sentence: the publication date.")
        named = systems[bisect_left(system_starts, sentence.start):bisect_left(system_starts, sentence.end)]
        title = _TITLES[event_type].format(primary.name)
        if named and event_type in ("missile strike", "arms transfer"):
            title += f" ({', '.join(dict.fromkeys(s.text for s in named))})"
        events.append(CandidateEvent(quote, sentence.start, sentence.end, title, event_type, ordered, when, named))
    return events


def _event_type(sentence: str) -> tuple[str, int] | None:
    """The sentence's event type and where its first word for that type is, if it reports something that
    happened: a word after 'can', 'could', 'able to'… ("can hit Kharkiv") is a possibility, not an event."""
    for name, rx, need in _TYPE_WORDS:
        if need is not None and not need.search(sentence):
            continue
        if name == "shelling" and _MISSILE_WORDS.search(sentence):
            continue  # "shelled with S-300 missiles": a missile strike
        for m in rx.finditer(sentence):
            if not _HYPOTHETICAL.search(sentence[:m.start()]):
                return name, m.start()
    return None


def _primary(places: list[PlaceMention], verb_at: int) -> PlaceMention:
    """The place the event is about: the first named after the action word ("a strike on Desna", "supply
    Belarus with"), else the most specific one in the sentence."""
    after = [p for p in places if p.start >= verb_at]
    if after:
        return after[0]
    return min(places, key=lambda p: (_SPECIFIC.get(p.kind, 4), p.start))
