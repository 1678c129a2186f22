"""Choosing between namesakes: which Desna a text means, from the regions, countries and places around it.

Each candidate of a name gets a score from the clues below, in the order the issue lists them; the best
wins if it is good enough to be a place at all. Two passes: the first settles the easy names (unique, big,
or with their region said), the second lets those pull their ambiguous neighbours by proximity.

    region named with it ("Desna in the Chernihiv region")    +3.0   same sentence +2.0
    a place named with it ("the Desnyanskyi district of Kyiv")  up to +2.0, falling with distance
    its country named with it / in its sentence                 +1.5 / +0.8
    the countries the article is about (names, demonyms, places) up to +1.0, less far from its places
    nearness to the places already resolved                     up to +1.5 (same sentence), +1.0
    a national capital (metonymy: "Minsk accused Warsaw")       +1.2 by its own name, else +0.6
    spelt exactly as the candidate, accents and all ("Mińsk")   +0.8
    a theatre country (UA, RU, BY, PL, the Baltics, …)          +0.5
    written as its primary name (not an alternate spelling)     +0.4
    found only by another romanisation ("Olenevka")             -0.6
    population                                                  log10(population + 10) / 6.5

A name said with its region ("Dubovoye in the Belgorod region") and no namesake there is placed at the
region, doubtful, with the namesakes as alternatives (`_stated_region`).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from dashboard.errors import NotFoundError
from dashboard.gazetteer import Candidate, CityTable, Gazetteer, normalize
from dashboard.geoparse import lexicon as lx
from dashboard.geoparse.mentions import PlaceMention
from dashboard.model import Place
from dashboard.geoparse.regions import Region, load_regions, names_index
from dashboard.geoparse.spans import Evidence, NameSpan
from dashboard.geoparse.text import Token

ACCEPT = 1.2            # a name scoring less is not taken for a place
ACCEPT_HINTED = 0.8     # ... unless the text says it is one ("the village of X", "X district")
FOCUS_KM = 400.0       # beyond this distance from every other place of the text, its countries weigh less
ANCHOR_WINDOW = 25     # sentences before and after a name whose places may pull it by nearness
DISTRICT_KM = 12.0      # a populous place this close to a bigger city is one of its districts (GeoNames PPLX)
MAX_ALTERNATIVES = 5
SPELLING_PENALTY = 0.6  # a candidate found only by its other romanisation (Olenevka for "Olenivka")
UNLISTED_KM = 150.0     # a namesake this far from the region the text puts a name in is not that place
UNLISTED_POPULATION = 10_000  # ... and, when the region is said elsewhere in the sentence, a place smaller than this
UNLISTED_CONFIDENCE = 0.45  # such a name placed at its region: shown as doubtful, with the namesakes
_DIRECTION = r"(?:north|south|east|west|north-?east|north-?west|south-?east|south-?west)"
_LOCAL_GAP = re.compile(rf"^[\s,(]*(?:(?:an?|the)\s+(?:small\s+|frontline\s+|border\s+)?"
                        rf"(?:village|town|city|settlement|hamlet)\s+)?"  # "Olenivka, a village in Crimea"
                        rf"(?:(?:in|of|near|outside|at|{_DIRECTION}(?:ern)?\s+of)\s+)?(?:the\s+)?"
                        rf"(?:{_DIRECTION}(?:ern)?\s+)?$", re.I)
_EARTH_KM = 6371.0088


@dataclass
class _Context:
    """What a text says around its names: countries and regions, per sentence and overall."""

    doc: Counter
    sentence_countries: dict[int, set[str]]
    sentence_regions: dict[int, set[str]]

    top: float = 0.0  # the largest doc count, refreshed by settle() before each pass

    def settle(self) -> None:
        self.top = max(self.doc.values(), default=0.0)

    def doc_weight(self, iso2: str) -> float:
        return self.doc.get(iso2, 0.0) / self.top if self.top else 0.0


@dataclass
class _Choice:
    span: NameSpan
    scored: list[tuple[float, Candidate]]   # best first

    @property
    def best(self) -> tuple[float, Candidate]:
        return self.scored[0]

    @property
    def margin(self) -> float:
        return self.scored[0][0] - self.scored[1][0] if len(self.scored) > 1 else 9.0


class Resolver:
    """Turns the spans of one text into PlaceMentions."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        big = gazetteer.cities(min_population=100_000)
        self._big_lon, self._big_lat, self._big_pop = (np.radians(big.lon), np.radians(big.lat), big.population)
        self._capitals = frozenset(c.key for c in gazetteer.capitals())
        self._district: dict[str, bool] = {}
        self._all_cities: CityTable | None = None
        self._countries: dict[str, Place | None] = {}
        self._story_regions: dict[str, Candidate | None] = {}
        regions = load_regions()
        keyword, _ = names_index(regions)
        # Story places carry their region by name ("Chernihiv Oblast"), GeoNames by code ("02").
        self._region_codes = {normalize(r.name): r.code for r in regions.values()}
        self._region_codes.update({f"{name} {suffix}": r.code for name, r in keyword.items()
                                   for suffix in ("oblast", "region", "voblast", "province", "voivodeship")})

    # -- the clues

    def _context(self, spans: list[NameSpan], evidence: Evidence) -> _Context:
        doc: Counter = Counter()
        countries: dict[int, set[str]] = defaultdict(set)
        regions: dict[int, set[str]] = defaultdict(set)
        for sentence, iso2, weight in evidence.countries:
            if iso2:
                doc[iso2] += weight
                countries[sentence].add(iso2)
        for s in spans:
            if s.kind == "country" and s.candidates:
                doc[s.candidates[0].country] += 1.0
                countries[s.sentence].add(s.candidates[0].country)
            elif s.kind == "region" and s.region is not None:
                doc[s.region.country] += 1.0
                countries[s.sentence].add(s.region.country)
                regions[s.sentence].add(s.region.code)
            elif s.kind == "border":
                for code in s.border:
                    doc[code] += 0.5
        return _Context(doc, countries, regions)

    def _local(self, span: NameSpan, spans: list[NameSpan], index: int, text: str) -> NameSpan | None:
        """The place named right with this one: 'X in the Y region', 'X, Y', 'X of Y', "Y's X"."""
        if index + 1 < len(spans):
            nxt = spans[index + 1]
            if nxt.sentence == span.sentence and nxt.start - span.end < 40 \
                    and _LOCAL_GAP.match(text[span.end:nxt.start]):
                return nxt
        if index > 0:
            prev = spans[index - 1]
            if prev.sentence == span.sentence and re.fullmatch(r"['’]s? ", text[prev.end:span.start]):
                return prev
        return None

    def _is_district(self, c: Candidate) -> bool:
        """A populous place within DISTRICT_KM of a bigger city: a city district such as Kyiv's 'Desna'."""
        if c.key not in self._district:
            pop = self._population(c)
            flag = False
            if pop >= 1000:
                d = _haversine_km(math.radians(c.lon), math.radians(c.lat), self._big_lon, self._big_lat)
                flag = bool(np.any((d < DISTRICT_KM) & (self._big_pop > pop)))
            self._district[c.key] = flag
        return self._district[c.key]

    def _region_code(self, c: Candidate) -> str:
        """'UA.02' for a candidate in Chernihiv Oblast, whether its admin1 is a code or a story's name."""
        if len(c.admin1) <= 3:
            return f"{c.country}.{c.admin1}"
        return self._region_codes.get(normalize(c.admin1), f"{c.country}.{c.admin1}")

    def _population(self, c: Candidate) -> int:
        """The candidate's population; a story place without one borrows its GeoNames entry's (loaded once)."""
        if c.population is not None or c.geonameid is None:
            return c.population or 0
        if self._all_cities is None:
            self._all_cities = self.gazetteer.cities()
        ids = self._all_cities.geonameid
        i = int(np.searchsorted(ids, c.geonameid))
        return int(self._all_cities.population[i]) if i < len(ids) and ids[i] == c.geonameid else 0

    def _score(self, c: Candidate, span: NameSpan, ctx: _Context, local: NameSpan | None,
               nearest_km: float, proximity: float, local_km: float | None, respelt: bool = False) -> float:
        """The candidate's score; the distances, and whether it was found only by another romanisation while
        a namesake is called this as written (`respelt`), come precomputed from `_choose`."""
        pop = self._population(c)
        district_said = span.kind == "district"
        if not district_said and self._is_district(c):
            s = math.log10(10) / 6.5 - 0.3
        else:
            s = math.log10(pop + 10) / 6.5
        primary = normalize(c.name) == span.norm
        if primary:
            s += 0.4
        elif respelt and c.kind not in ("country", "border"):
            s -= SPELLING_PENALTY  # another romanisation, while a place is called this as written
        if span.surface and not span.surface.isascii() and span.surface in (c.name, c.matched):
            s += 0.8  # spelt exactly, accents and all: "Mińsk" is the Polish town, not Belarus's capital
        if c.score >= 12.0:  # a story place (gazetteer rank: exact 8 + story 4): the analyst put it there
            s += 0.5
        if c.key in self._capitals:  # "Minsk accused Warsaw": news names capitals for their governments
            s += 1.2 if primary else 0.6
        if c.country in lx.THEATRE:
            s += 0.5
        # The article's countries speak for a namesake near its other places, not for one 2,000 km away
        # (a village called Berlin in the Urals, in a text about Belarus and Moscow).
        focus = math.exp(-(nearest_km - FOCUS_KM) / FOCUS_KM) if nearest_km > FOCUS_KM else 1.0
        s += 1.0 * ctx.doc_weight(c.country) * focus
        if c.country in ctx.sentence_countries.get(span.sentence, ()):
            s += 0.8
        code = self._region_code(c)
        if code in ctx.sentence_regions.get(span.sentence, ()):
            s += 2.0
        if local is not None:
            if local.kind == "region" and local.region is not None and local.region.code == code:
                s += 3.0
            elif local.kind == "country" and local.candidates and local.candidates[0].country == c.country:
                s += 1.5
        if local_km is not None:
            s += 2.0 * math.exp(-local_km / 50.0)
        return s + proximity

    # -- resolution

    def resolve(self, text: str, tokens: list[Token], spans: list[NameSpan],
                evidence: Evidence) -> list[PlaceMention]:
        """The place mentions of one text, in text order: names, countries, regions and borders."""
        ctx = self._context(spans, evidence)
        index_of = {id(s): i for i, s in enumerate(spans)}
        names = [(i, s) for i, s in enumerate(spans) if s.kind in ("name", "district")]
        locals_ = {i: self._local(s, spans, i, text) for i, s in names}

        # Pass 1: no proximity; settle what is clear.
        ctx.settle()
        first: dict[int, _Choice] = {}
        for i, s in names:
            first[i] = self._choose(s, ctx, locals_[i], None, [])
        anchors: list[tuple[float, float, int, str]] = []
        taken: dict[int, dict[str, str]] = defaultdict(dict)  # sentence → key → the name it was settled for
        for i, choice in first.items():
            score, c = choice.best
            if score >= self._threshold(choice.span) and (choice.margin >= 0.7 or len(choice.scored) == 1):
                anchors.append((c.lon, c.lat, choice.span.sentence, choice.span.norm))
                taken[choice.span.sentence][c.key] = choice.span.norm
                ctx.doc[c.country] += 0.5
        for s in spans:
            if s.kind == "region" and s.region is not None:
                anchors.append((s.region.lon, s.region.lat, s.sentence, s.norm))

        # Pass 2: everything, with the anchors of the others and the places named right with each.
        ctx.settle()
        by_sentence: dict[int, list[tuple[float, float, int, str]]] = defaultdict(list)
        for anchor in anchors:
            by_sentence[anchor[2]].append(anchor)
        chosen: dict[int, _Choice] = {}
        unlisted: dict[int, tuple[_Choice, Region]] = {}  # named in a region where no namesake of it lies
        regions_named = {s.sentence: s.region for s in spans if s.kind == "region" and s.region is not None}
        for i, s in names:
            local = locals_[i]
            point = None
            if local is not None and local.kind in ("name", "district") and local is not s:
                j = index_of[id(local)]
                if j in first:
                    point = (first[j].best[1].lon, first[j].best[1].lat)
            # Nearness counts within a window of sentences: a long text moves from place to place.
            own = [(lon, lat, sent) for k in range(s.sentence - ANCHOR_WINDOW, s.sentence + ANCHOR_WINDOW + 1)
                   for lon, lat, sent, norm in by_sentence.get(k, ()) if norm != s.norm]
            # "Ivanivka and Bilozerka": two names in one sentence are two places, so a candidate that is
            # already another name's place there (Bilozerka was once called Ivanivka) is set aside.
            others = {key for key, norm in taken[s.sentence].items() if norm != s.norm}
            choice = self._choose(s, ctx, local, point, own, others)
            if choice.best[0] < self._threshold(s) and not s.settlement:
                continue
            region = self._stated_region(s, local, regions_named, choice)
            if region is not None:
                unlisted[i] = (choice, region)
            elif choice.best[0] >= self._threshold(s):
                chosen[i] = choice

        mentions: list[PlaceMention] = []
        in_sentence: dict[int, list[PlaceMention]] = defaultdict(list)
        for i, s in enumerate(spans):
            if i in chosen:
                m = self._city_mention(text, chosen[i])
            elif i in unlisted:
                m = self._unlisted_mention(text, *unlisted[i])
            elif s.kind == "country" and s.candidates:
                m = self._country_mention(text, s, s.candidates[0])
            elif s.kind == "region" and s.region is not None:
                m = self._region_mention(text, s, s.region)
            elif s.kind == "feature" and s.candidates:
                c = s.candidates[0]  # a sea, peninsula, macro-region or continent: named, not guessed
                m = PlaceMention(text[s.start:s.end], s.start, s.end, c.name, c.kind, None, None, c.lat, c.lon,
                                 0.9, (), c.key)
            else:
                continue
            mentions.append(m)
            in_sentence[s.sentence].append(m)
        for s in spans:
            if s.kind == "border":
                m = self._border_mention(text, s, in_sentence[s.sentence], ctx)
                if m is not None:
                    mentions.append(m)
        mentions.sort(key=lambda m: m.start)
        return mentions

    def _stated_region(self, span: NameSpan, local: NameSpan | None, regions_named: dict[int, Region],
                       choice: _Choice) -> Region | None:
        """The region the text puts this name in, when the gazetteer has no namesake of it there.

        "Dubovoye in the Belgorod region": cities500 has no Dubovoye in Belgorod Oblast, only villages in
        Ukraine 400 km off, and the best of those is no answer. Said right with the name (`local`), the
        region is taken when the best namesake lies more than UNLISTED_KM from it; said elsewhere in the
        sentence, only when that namesake is a village or small town in another country ("Vilnius" in a
        sentence about the Hrodna region is Vilnius). Never instead of a capital.
        """
        best = choice.best[1]
        if best.key in self._capitals:
            return None
        if local is not None and local.kind == "region" and local.region is not None:
            region, same_country_too = local.region, True
        elif span.sentence in regions_named and self._population(best) < UNLISTED_POPULATION:
            region, same_country_too = regions_named[span.sentence], False
        else:
            return None
        if any(self._region_code(c) == region.code for c in span.candidates):
            return None
        if not same_country_too and best.country == region.country:
            return None
        far = _haversine_km(math.radians(best.lon), math.radians(best.lat), math.radians(region.lon),
                            math.radians(region.lat))
        return region if float(far) > UNLISTED_KM else None

    def _threshold(self, span: NameSpan) -> float:
        return ACCEPT_HINTED if span.kind == "district" or span.settlement else ACCEPT

    def _choose(self, span: NameSpan, ctx: _Context, local: NameSpan | None,
                local_point: tuple[float, float] | None, anchors: list[tuple[float, float, int]],
                taken: set[str] = frozenset()) -> _Choice:
        cands = span.candidates
        lon = np.radians([c.lon for c in cands])
        lat = np.radians([c.lat for c in cands])
        n = len(cands)
        nearest, proximity = np.zeros(n), np.zeros(n)
        if anchors:
            a_lon, a_lat, a_sentence = (np.array(col, dtype=float) for col in zip(*anchors))
            d = _haversine_km(lon[:, None], lat[:, None], np.radians(a_lon)[None, :], np.radians(a_lat)[None, :])
            weight = np.where(a_sentence == span.sentence, 1.5, 1.0)[None, :]
            nearest, proximity = d.min(axis=1), (weight * np.exp(-d / 150.0)).max(axis=1)
        local_km = None
        if local_point is not None:
            local_km = _haversine_km(lon, lat, math.radians(local_point[0]), math.radians(local_point[1]))
        written = [normalize(c.matched) == span.norm for c in cands]
        any_written = any(written)
        scored = [(self._score(c, span, ctx, local, float(nearest[i]), float(proximity[i]),
                               None if local_km is None else float(local_km[i]), any_written and not written[i])
                   - (1.5 if c.key in taken else 0.0), c)
                  for i, c in enumerate(cands)]
        scored.sort(key=lambda sc: (-sc[0], -(sc[1].population or 0), sc[1].key))
        return _Choice(span, scored)

    # -- mentions

    def _city_mention(self, text: str, choice: _Choice) -> PlaceMention:
        span = choice.span
        score, c = choice.best
        kind = c.kind if c.kind in ("village", "city") and c.score >= 12.0 else (
            "village" if span.settlement == "village" or (span.settlement != "town" and (c.population or 0) < 10_000)
            else "city")
        top = [sc for sc, _ in choice.scored[:10]]
        conf = _softmax_top(top) * min(1.0, 0.75 + 0.25 * (score - self._threshold(span)))
        alternatives = tuple(replace(alt, score=round(sc, 3)) for sc, alt in choice.scored[1:1 + MAX_ALTERNATIVES])
        return PlaceMention(text[span.start:span.end], span.start, span.end, c.name, kind, c.geonameid, c.country,
                            c.lat, c.lon, round(max(0.05, min(conf, 0.99)), 2), alternatives, c.key)

    def _unlisted_mention(self, text: str, choice: _Choice, region: Region) -> PlaceMention:
        """A name the gazetteer lacks in the region the text gives: placed at that region, doubtful, with the
        namesakes elsewhere as the alternatives and a note saying so."""
        span = choice.span
        alternatives = tuple(replace(alt, score=round(sc, 3)) for sc, alt in choice.scored[:MAX_ALTERNATIVES])
        note = (f"no place called {text[span.start:span.end]} in {region.name} in the gazetteer: placed at the "
                f"region; add a GeoNames dump of {region.country} (python -m dashboard gazetteer add) for its villages")
        return PlaceMention(text[span.start:span.end], span.start, span.end, region.name, "admin region", None,
                            region.country, region.lat, region.lon, UNLISTED_CONFIDENCE, alternatives, region.key,
                            note=note)

    def _country_mention(self, text: str, span: NameSpan, c: Candidate) -> PlaceMention:
        return PlaceMention(text[span.start:span.end], span.start, span.end, c.name, "country", None, c.country,
                            c.lat, c.lon, 0.95, (), c.key)

    def _region_mention(self, text: str, span: NameSpan, region: Region) -> PlaceMention:
        story = self._story_region(region)
        seat = [replace(c, score=0.0) for c in span.candidates if c.kind != "country"][:MAX_ALTERNATIVES]
        if story is not None:
            return PlaceMention(text[span.start:span.end], span.start, span.end, story.name, "admin region",
                                story.geonameid, region.country, story.lat, story.lon, 0.9, tuple(seat), story.key)
        return PlaceMention(text[span.start:span.end], span.start, span.end, region.name, "admin region", None,
                            region.country, region.lat, region.lon, 0.9, tuple(seat), region.key)

    def _story_region(self, region: Region) -> Candidate | None:
        """A story's own place for this region ('Chernihiv Oblast' with its GeoNames id), if one was added."""
        if region.code not in self._story_regions:
            found = [c for c in self.gazetteer.lookup(region.name, kinds=("admin region",), limit=3)
                     if c.country == region.country]
            self._story_regions[region.code] = found[0] if found else None
        return self._story_regions[region.code]

    def _border_mention(self, text: str, span: NameSpan, here: list[PlaceMention],
                        ctx: _Context) -> PlaceMention | None:
        """A border; with one country given ('the Belarus border'), the other side comes from the context."""
        codes = list(span.border)
        inferred = len(codes) == 1
        if inferred:
            for other in self._other_sides(span, here, ctx, codes[0]):
                try:
                    self.gazetteer.border(codes[0], other)
                except NotFoundError:
                    continue
                codes.append(other)
                break
        if len(codes) < 2:
            return None
        try:
            place = self.gazetteer.border(codes[0], codes[1])
        except NotFoundError:
            return None
        lon, lat = place.lonlat
        alternatives = []
        for code in dict.fromkeys(codes):
            country = self._country(code)
            if country is None:
                continue
            clon, clat = country.lonlat
            alternatives.append(Candidate(country.key, country.name, "country", code, "", country.population,
                                          clon, clat, None, country.name, 0.0))
        return PlaceMention(text[span.start:span.end], span.start, span.end, place.name, "border", None, None,
                            lat, lon, 0.75 if inferred else 0.9, tuple(alternatives), place.key)

    def _country(self, iso2: str) -> Place | None:
        """A country's Place, cached: the gazetteer reads its outline each time."""
        if iso2 not in self._countries:
            try:
                self._countries[iso2] = self.gazetteer.country(iso2)
            except NotFoundError:
                self._countries[iso2] = None
        return self._countries[iso2]

    @staticmethod
    def _other_sides(span: NameSpan, here: list[PlaceMention], ctx: _Context, code: str) -> list[str]:
        """Countries that may be the other side of a border, most likely first: those of the places in its
        sentence (nearest first), its sentence's demonyms, then the article's countries."""
        order: list[str] = [m.iso2 for m in sorted(here, key=lambda m: abs(m.start - span.start)) if m.iso2]
        order += sorted(ctx.sentence_countries.get(span.sentence, ()))
        order += [iso2 for iso2, _ in ctx.doc.most_common()]
        return [c for c in dict.fromkeys(order) if c and c != code]


def _softmax_top(scores: list[float], temperature: float = 0.5) -> float:
    top = scores[0]
    total = sum(math.exp((s - top) / temperature) for s in scores)
    return 1.0 / total


def _haversine_km(lon, lat, lons, lats) -> np.ndarray:
    """Great-circle km between points in radians (broadcasting numpy arrays).

    Ranking only (which namesake is nearer), so a sphere is accurate enough; measurements use geodesy.py.
    """
    a = np.sin((lats - lat) / 2) ** 2 + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
