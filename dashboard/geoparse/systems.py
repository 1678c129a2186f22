"""Weapon systems named in news text, and the ranges stated next to them ("a range of up to 500 km").

Names come from the catalogue (ids, names, aliases, munition designations such as 9M723) plus systems the
news names often that have no catalogue entry yet (Kalibr, Kinzhal, S-400, HIMARS …): those are reported
with system_id "" so the analyst can see them, and can add them to geodata/systems.json.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from dashboard.geoparse.mentions import SystemMention
from dashboard.geoparse.text import Sentence
from dashboard.model import Catalogue

# Systems often named in this theatre's news; a name that the catalogue also knows takes its catalogue id.
KNOWN_SYSTEMS: tuple[str, ...] = (
    "Iskander-K", "Kalibr", "Kinzhal", "Kh-101", "Kh-555", "Kh-55", "Kh-22", "Kh-32", "Kh-59", "Kh-31",
    "Kh-47M2", "Oniks", "P-800 Oniks", "Tochka-U", "Tochka", "Tornado-S", "Smerch", "Uragan", "BM-21 Grad",
    "BM-30 Smerch", "BM-27 Uragan", "S-300", "S-400", "S-500", "Pantsir-S1", "Pantsir", "Tor-M2", "Buk-M1",
    "Buk-M2", "Shahed-136", "Shahed-131", "Shahed", "Geran-2", "Lancet", "Zircon", "Tsirkon", "Sarmat",
    "Yars", "Avangard", "Bulava", "Tu-95MS", "Tu-95", "Tu-22M3", "Tu-160", "Su-24", "Su-27", "Su-30", "Su-34",
    "Su-35", "Su-57", "MiG-29", "MiG-31K", "MiG-31", "Ka-52", "Mi-8", "Mi-24", "Mi-28", "Orlan-10", "HIMARS",
    "M142 HIMARS", "M142", "M270", "MLRS", "ATACMS", "GMLRS", "Storm Shadow", "SCALP", "Taurus", "Patriot",
    "NASAMS", "IRIS-T", "Gepard", "Javelin", "NLAW", "Stinger", "Bayraktar TB2", "Bayraktar", "Neptune",
    "R-360 Neptune", "Harpoon", "Leopard 2", "M1 Abrams", "Abrams", "Challenger 2", "Bradley", "Marder",
    "T-72", "T-80", "T-90", "F-16", "Polonez", "Piorun", "Krab", "Hrim-2", "Vilkha", "Caesar", "PzH 2000",
)
# Names that are also ordinary words: matched only as written (capitalised), never in lower case.
_CASE_SENSITIVE = frozenset({"Tochka", "Tor-M2", "Patriot", "Javelin", "Stinger", "Neptune", "Lancet",
                             "Caesar", "Taurus", "Krab", "Bradley", "Marder", "Shahed", "Harpoon", "Yars",
                             "Bulava", "Avangard", "Sarmat", "Zircon", "Gepard", "Vilkha", "Piorun", "Abrams",
                             "Polonez", "Smerch", "Uragan", "Kalibr", "Kinzhal", "Oniks", "Pantsir", "Iskander"})

_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_UNIT = r"(?P<unit>km|kilomet(?:er|re)s?|mi(?:les?)?)\b"
_DISTANCE = re.compile(rf"{_NUMBER}\s*(?:-\s*)?{_UNIT}")
# A distance is a range when the words before it say so ("a range of up to", "can strike targets") or
# "range" follows it ("a 500-km range"); "30 km from the border" is a distance, not a range.
_CUE_BEFORE = re.compile(r"(?:\brange\w*\s+(?:of\s+)?(?:up\s+to\s+|about\s+|around\s+|some\s+|nearly\s+|"
                         r"more\s+than\s+|over\s+|of\s+up\s+to\s+)?|\bup\s+to\s+|\breach(?:es|ing)?\s+(?:up\s+to\s+)?|"
                         r"\bfly\s+(?:up\s+to\s+)?|\bflies\s+(?:up\s+to\s+)?|\btargets\s+(?:up\s+to\s+|at\s+)?|"
                         r"\bcapable\s+of\s+\w+(?:\s+\w+)?\s+(?:up\s+to\s+)?)$", re.I)
_CUE_AFTER = re.compile(r"^(?:\s*-?\s*|\s+)(?:strike\s+)?range\b", re.I)
_MILE_KM = 1.609344


class SystemFinder:
    """Matches system names in one pass of a compiled pattern, longest names first."""

    def __init__(self, catalogue: Catalogue) -> None:
        ids: dict[str, str] = {}
        for system in catalogue.systems:
            for name in (system.id, system.name, *system.aliases, *(m.designation for m in system.munitions)):
                if name:
                    ids[_key(name)] = system.id
        names = {**{n: ids.get(_key(n), "") for n in KNOWN_SYSTEMS}}
        for system in catalogue.systems:
            for name in (system.name, *system.aliases, *(m.designation for m in system.munitions)):
                if name and len(name) > 2:
                    names.setdefault(name, system.id)
        names["Iskander-K"] = ids.get(_key("9M728"), "")  # the Iskander-M's cruise missile, 9M728
        self._ids = {_key(n): i for n, i in names.items()}
        parts = []
        for name in sorted(names, key=len, reverse=True):
            body = r"[\s‐‑–-]?".join(re.escape(p) for p in re.split(r"[\s-]+", name))
            parts.append(body if name in _CASE_SENSITIVE or name.isalpha() and len(name) <= 5 else f"(?i:{body})")
        self._pattern = re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")

    def find(self, text: str, sentences: list[Sentence]) -> list[SystemMention]:
        found = [(m.start(), m.end()) for m in self._pattern.finditer(text)]
        ranges = self._ranges(text)
        by_mention: dict[int, tuple[float, str]] = {}
        sentence_starts, found_starts = [s.start for s in sentences], [a for a, _ in found]
        for r_start, r_end, km, said in ranges:
            target = self._owner(found_starts, sentences, sentence_starts, r_start)
            if target is not None and target not in by_mention:
                by_mention[target] = (km, said)
        out = []
        for i, (start, end) in enumerate(found):
            km, said = by_mention.get(i, (None, None))
            out.append(SystemMention(text[start:end], start, end, self._ids.get(_key(text[start:end]), ""), km, said))
        return out

    def _ranges(self, text: str) -> list[tuple[int, int, float, str]]:
        out = []
        for m in _DISTANCE.finditer(text):
            before = text[max(0, m.start() - 60):m.start()]
            cue = _CUE_BEFORE.search(before)
            after = _CUE_AFTER.match(text[m.end():m.end() + 20])
            if not cue and not after:
                continue
            km = float(m.group("num").replace(",", ""))
            if m.group("unit").casefold().startswith("mi"):
                km = round(km * _MILE_KM, 1)
            if km <= 0:
                continue
            start = m.start() - len(cue.group(0)) if cue else m.start()
            end = m.end() + (after.end() if after else 0)
            out.append((start, end, km, text[start:end].strip()))
        return out

    @staticmethod
    def _owner(starts: list[int], sentences: list[Sentence], sentence_starts: list[int], start: int) -> int | None:
        """The system a range statement belongs to: the last one before it in its sentence (else the first
        after it), else the last one named in the two sentences before ("… Iskander-M systems. The systems
        have a range of up to 500 km.")."""
        here = bisect_right(sentence_starts, start) - 1
        if here < 0:
            return None
        lo, hi = bisect_left(starts, sentences[here].start), bisect_left(starts, sentences[here].end)
        same = list(range(lo, hi))
        earlier = [i for i in same if starts[i] < start]
        if earlier:  # "X, which can fly up to 250 km": the statement follows its system
            return earlier[-1]
        if same:  # "a 500-km-range Iskander"
            return same[0]
        first = bisect_left(starts, sentences[max(0, here - 2)].start)
        return lo - 1 if lo - 1 >= first else None


def _key(name: str) -> str:
    return re.sub(r"[\s‐‑–-]+", "", name).casefold()
