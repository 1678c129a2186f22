"""Where the text puts a weapon system: the origin a suggested ring starts from, or None when it does not say.

"S-300 missiles launched from near Belgorod", "Iskander-M systems in Belarus", "Kinzhals fired from MiG-31s
over the Black Sea": the place a launcher preposition ties to the system in its sentence. A target ("at
Kharkiv", "on Odesa", "into Ukraine") is never an origin; a country named elsewhere in the text is not
either, so a ring is not guessed "from Ukraine" when the text put the launchers near Belgorod.
"""

from __future__ import annotations

import re

from dashboard.geoparse.mentions import PlaceMention, SystemMention
from dashboard.geoparse.text import split_sentences

MAX_GAP_CHARS = 80  # from the system's name to its origin's, within the sentence
# What may stand between the system and the place, ending in a launcher preposition.
_LAUNCH = re.compile(
    r"^[^.;:!?]*?\b(?:(?:launched|fired|deployed|stationed|based|positioned|placed|moved|located|sited)\s+)?"
    r"(?:from(?:\s+(?:near|around|inside|over|the\s+territory\s+of|the\s+airspace\s+of|positions?\s+(?:in|near)))?"
    r"|near|in|inside|over|to)\s+(?:the\s+)?(?:(?:town|city|village|region|area)\s+of\s+)?$",
    re.IGNORECASE)
_TARGET = re.compile(r"\b(?:at|on|into|against|toward|towards|hit|struck|targeting|targeted)\s+(?:the\s+)?$",
                     re.IGNORECASE)


def launch_origin(text: str, system: SystemMention, places: tuple[PlaceMention, ...]) -> PlaceMention | None:
    """The place the text puts this system at or fires it from, in its sentence; None if it does not say."""
    sentence = next(((s.start, s.end) for s in split_sentences(text) if s.start <= system.start < s.end),
                    (0, len(text)))
    for place in sorted(places, key=lambda p: p.start):
        if not (sentence[0] <= place.start < sentence[1]) or place.start < system.end:
            continue
        between = text[system.end:place.start]
        if len(between) > MAX_GAP_CHARS:
            break
        if _TARGET.search(between):
            continue
        if _LAUNCH.match(between):
            return place
    return None
