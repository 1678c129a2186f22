"""Where a text may name a place: capitalised names, "X region" phrases, borders — and what is not a place.

The finder marks tokens that cannot start or be part of a place name (demonyms, bodies, organisations,
people, features, common words), then reads borders and regions from their keywords, and finally looks the
remaining capitalised runs up in the gazetteer, longest match first. It does not choose between namesakes:
that is `places.Resolver`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dashboard.gazetteer import Candidate, Gazetteer, normalize
from dashboard.geoparse import lexicon as lx
from dashboard.geoparse.regions import Region, load_regions, names_index, regions_by_seat
from dashboard.geoparse.text import Token

MAX_NAME_TOKENS = 5
_DIRECTIONS = frozenset({"eastern", "western", "northern", "southern", "central"})
LOOKUP_LIMIT = 60
_CACHE_LIMIT = 50_000


@dataclass
class NameSpan:
    """A stretch of text that may name a place, with what the finder learned about it."""

    start: int
    end: int
    tok_start: int
    tok_end: int
    sentence: int
    kind: str                                   # name | region | district | border | country | feature
    norm: str = ""                              # the name part, normalised (no keyword)
    candidates: tuple[Candidate, ...] = ()      # gazetteer answers for norm (names, districts)
    region: Region | None = None                # kind region
    border: tuple[str, ...] = ()                # kind border: one code (other side unknown) or two
    settlement: str = ""                        # "village" / "town" said right before the name
    surface: str = ""                           # the name as written


@dataclass
class Evidence:
    """Country clues that are not place mentions themselves: demonyms, by sentence."""

    countries: list[tuple[int, str, float]] = field(default_factory=list)  # (sentence, iso2, weight)


class SpanFinder:
    """Finds candidate place spans in tokenised text; holds the gazetteer lookups cache."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.regions = load_regions()
        self.regions_by_seat = regions_by_seat(self.regions)
        self.region_keyword_names, self.region_standalone = names_index(self.regions)
        self._cache: dict[str, tuple[Candidate, ...]] = {}
        self._countries: dict[str, str | None] = {}
        self._lower_words: set[str] = set()  # the words of the text being read that are written in lower case

    # -- lookups

    def lookup(self, norm: str) -> tuple[Candidate, ...]:
        """Gazetteer candidates for a normalised name (cached: articles repeat names)."""
        found = self._cache.get(norm)
        if found is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            found = tuple(self.gazetteer.lookup(norm, limit=LOOKUP_LIMIT, spelling="also"))
            self._cache[norm] = found
        return found

    def clear_cache(self) -> None:
        self._cache.clear()
        self._countries.clear()

    def country_code(self, norm: str) -> str | None:
        """ISO2 of a country named (not coded) by this normalised text, e.g. 'belarus' → 'BY'."""
        if norm not in self._countries:
            if len(self._countries) > _CACHE_LIMIT:
                self._countries.clear()
            found = [c.country for c in self.lookup(norm) if c.kind == "country"] if len(norm) > 3 else []
            self._countries[norm] = found[0] if found else None
        return self._countries[norm]

    def country_or_demonym(self, norm: str) -> str | None:
        return lx.DEMONYMS.get(norm) or self.country_code(norm) or None

    # -- the pass over a text

    def find(self, text: str, tokens: list[Token]) -> tuple[list[NameSpan], Evidence]:
        blocked = self._block(text, tokens)
        evidence = Evidence()
        for t in tokens:
            code = lx.DEMONYMS.get(t.norm)
            if code and t.cap:
                evidence.countries.append((t.sentence, code, 0.5))
        claimed = [False] * len(tokens)
        spans = self._features(text, tokens, claimed)
        spans += self._borders(text, tokens, claimed)
        spans += self._regions(text, tokens, claimed, blocked)
        spans += self._names(text, tokens, claimed, blocked)
        spans.sort(key=lambda s: s.start)
        return spans, evidence

    def _block(self, text: str, tokens: list[Token]) -> list[bool]:
        """Tokens that are not (part of) a place name here."""
        n = len(tokens)
        blocked = [not t.cap or t.text[:1].isdigit() for t in tokens]
        runs = _cap_runs(text, tokens)
        run_ends = dict(runs)  # run start → run end
        persons: set[str] = set()
        for i, t in enumerate(tokens):
            if t.norm in lx.DEMONYMS and i + 1 < n and tokens[i + 1].cap and _adjacent(text, t, tokens[i + 1]) \
                    and self.country_code(f"{t.norm} {tokens[i + 1].norm}"):
                continue  # "Russian Federation", "Czech Republic": a demonym that is part of a country's name
            if (t.acronym and t.text not in lx.COUNTRY_CODES_AS_NAMES) or t.norm in lx.BODIES \
                    or t.norm in lx.DEMONYMS or t.norm in lx.SURNAMES:
                blocked[i] = True
            elif t.norm in lx.MONTHS or t.norm in lx.WEEKDAYS:
                blocked[i] = True
        for a, b in runs:
            norms = [tokens[k].norm for k in range(a, b)]
            # Organisations: the whole run, and "of (the) X" runs hanging from it.
            if any(w in lx.ORG_HEADS for w in norms):
                _block_range(blocked, a, b)
                _block_of_chain(text, tokens, run_ends, b, blocked)
            # People: from a given name, or after a title, to the end of the run.
            for k in range(a, b):
                if tokens[k].norm in lx.TITLES:
                    blocked[k] = True
                    if k + 1 < b:
                        _block_range(blocked, k + 1, b)
                        persons.add(tokens[b - 1].norm)
                    break
                if tokens[k].norm in lx.GIVEN_NAMES and (k + 1 < b or not _keyword_after(tokens, k)):
                    _block_range(blocked, k, b)
                    if b - k > 1:
                        persons.add(tokens[b - 1].norm)
                    break
            # Features named after a town: "the Kakhovka dam", "Sea of Azov", "the river Desna".
            if self._feature_after(text, tokens, b) or norms[0] in lx.FEATURE_BEFORE:
                _block_range(blocked, a, b)
            if a > 0 and tokens[a - 1].norm in ("river", "lake") and not tokens[a - 1].cap:
                _block_range(blocked, a, b)
            if norms[-1] in lx.FEATURE_BEFORE and _word_after(text, tokens, b - 1) == "of":
                _block_range(blocked, a, b)
                _block_of_chain(text, tokens, run_ends, b, blocked)
        for i, t in enumerate(tokens):
            if t.norm in persons and not blocked[i]:
                blocked[i] = True
        return blocked

    def _feature_after(self, text: str, tokens: list[Token], b: int) -> bool:
        if b >= len(tokens) or tokens[b - 1].possessive or not _adjacent(text, tokens[b - 1], tokens[b]):
            return False
        nxt = tokens[b].norm
        pair = (nxt, tokens[b + 1].norm) if b + 1 < len(tokens) else (nxt, "")
        return nxt in lx.FEATURE_AFTER or pair in lx.FEATURE_AFTER_PAIRS

    # -- seas, peninsulas, macro-regions, continents

    def _features(self, text: str, tokens: list[Token], claimed: list[bool]) -> list[NameSpan]:
        """'the Black Sea', 'the Sea of Azov', 'the Baltic states', 'Eastern Europe': the longest run of
        words, starting with a capital, that the gazetteer's feature table names; its words are claimed."""
        spans, i, n = [], 0, len(tokens)
        while i < n:
            found = None
            # "The Baltic states" from Baltic; "eastern Europe" with its direction word, as news writes it.
            starts = tokens[i].cap or (tokens[i].norm in _DIRECTIONS and i + 1 < n and tokens[i + 1].cap)
            if starts and not claimed[i] and tokens[i].norm != "the":
                for j in range(min(n, i + MAX_NAME_TOKENS), i, -1):
                    if any(claimed[k] or not _adjacent(text, tokens[k], tokens[k + 1]) for k in range(i, j - 1)):
                        continue
                    norm = " ".join(tokens[k].norm for k in range(i, j))
                    candidates = self.gazetteer.features_named(norm)
                    if candidates and j - i == 1 and candidates[0].kind == "physical" and any(
                            not c.key.startswith("feature:") for c in self.lookup(norm)):
                        continue  # one word that is also a town ("Kaliningrad", a lagoon's label): the town
                    if candidates:
                        found = (j, candidates)
                        break
            if found is None:
                i += 1
                continue
            j, candidates = found
            surface = text[tokens[i].start:tokens[j - 1].end]
            spans.append(NameSpan(tokens[i].start, tokens[j - 1].end, i, j, tokens[i].sentence, "feature",
                                  norm=normalize(surface), candidates=tuple(candidates[:1]), surface=surface))
            for k in range(i, j):
                claimed[k] = True
            i = j
        return spans

    # -- borders

    def _borders(self, text: str, tokens: list[Token], claimed: list[bool]) -> list[NameSpan]:
        spans = []
        for i, t in enumerate(tokens):
            if t.norm not in lx.BORDER_WORDS:
                continue
            if t.cap and i + 1 < len(tokens) and tokens[i + 1].cap and _adjacent(text, t, tokens[i + 1]):
                continue  # "Border Guard", "Border Service": an organisation
            if i + 1 < len(tokens) and tokens[i + 1].norm in lx.BORDER_ORGS:
                continue  # "Ukrainian border guards said": people, not a line
            before = tokens[i - 1] if i > 0 and _adjacent(text, tokens[i - 1], t) else None
            if before is not None and not claimed[i - 1]:
                parts = re.split(r"[-–]", before.text)
                codes = [self.country_or_demonym(normalize(p)) for p in parts]
                if len(parts) == 2 and all(codes) and codes[0] != codes[1]:
                    spans.append(self._border_span(tokens, i - 1, i, tuple(codes)))
                    claimed[i - 1] = claimed[i] = True
                    continue
                if len(parts) == 1 and before.cap:
                    code = self.country_or_demonym(before.norm)
                    if code:
                        spans.append(self._border_span(tokens, i - 1, i, (code,)))
                        claimed[i - 1] = claimed[i] = True
                        continue
            after = _words_after(text, tokens, i, 4)
            if after and after[0][0] == "with" and len(after) > 1 and tokens[after[1][1]].cap:
                j = after[1][1]
                end = j + 1
                if end < len(tokens) and _adjacent(text, tokens[j], tokens[end]) and tokens[end].cap:
                    end += 1  # "the border with the United States" — two-word country names
                code = self.country_code(normalize(text[tokens[j].start:tokens[end - 1].end]))
                if code is None and end - j == 2:
                    code, end = self.country_code(tokens[j].norm), j + 1
                if code:
                    spans.append(self._border_span(tokens, i, end - 1, (code,)))
                    # "the border with Belarus" names Belarus too: its mention stands whether or not the
                    # border's other side is known (issue 14: a border beside the country, never instead).
                    spans.extend(self._country_spans(text, tokens, j, end, code))
                    for k in range(i, end):
                        claimed[k] = True
                    continue
            if after and after[0][0] == "between" and len(after) >= 4 and after[2][0] == "and":
                a, b = after[1][1], after[3][1]
                ca, cb = self.country_code(tokens[a].norm), self.country_code(tokens[b].norm)
                if ca and cb and ca != cb:
                    spans.append(self._border_span(tokens, i, b, (ca, cb)))
                    for k in range(i, b + 1):
                        claimed[k] = True
        return spans

    def _country_spans(self, text: str, tokens: list[Token], a: int, b: int, code: str) -> list[NameSpan]:
        """tokens[a:b] as the mention of the country `code`, or nothing if the gazetteer says otherwise."""
        norm = normalize(text[tokens[a].start:tokens[b - 1].end])
        country = next((c for c in self.lookup(norm) if c.kind == "country" and c.country == code), None)
        return [NameSpan(tokens[a].start, tokens[b - 1].end, a, b, tokens[a].sentence, "country", norm=norm,
                         candidates=(country,))] if country else []

    @staticmethod
    def _border_span(tokens: list[Token], a: int, b: int, codes: tuple[str, ...]) -> NameSpan:
        return NameSpan(tokens[a].start, tokens[b].end, a, b + 1, tokens[a].sentence, "border", border=codes)

    # -- regions and districts

    def _regions(self, text: str, tokens: list[Token], claimed: list[bool], blocked: list[bool]) -> list[NameSpan]:
        spans = []
        for i, t in enumerate(tokens):
            is_region, is_district = t.norm in lx.REGION_WORDS, t.norm in lx.DISTRICT_WORDS
            if not (is_region or is_district) or claimed[i]:
                continue
            plural = t.norm.endswith("s")
            names = self._names_before(text, tokens, i, plural, claimed)
            if not names and not t.cap and i + 2 < len(tokens) and tokens[i + 1].norm == "of" \
                    and tokens[i + 2].cap and not claimed[i + 2]:
                end = i + 3  # "the region of Kharkiv"
                while end < len(tokens) and end - i < 5 and tokens[end].cap and \
                        _adjacent(text, tokens[end - 1], tokens[end]):
                    end += 1
                names = [(i + 2, end, i, end)]
            for a, b, span_a, span_b in names:
                if any(blocked[k] for k in range(a, b)):
                    continue  # "the Kharkiv Oblast Military Administration": an organisation
                surface = text[tokens[a].start:tokens[b - 1].end]
                norm = normalize(surface)
                code = self.country_code(norm)
                if code and span_a < a:  # "regions of Russia": the country, not Russia, Ohio
                    found = self._country_spans(text, tokens, a, b, code)
                    if found:
                        spans.extend(found)
                        claimed[a:b] = [True] * (b - a)
                    continue
                region = self._region_for(norm) if is_region else None
                if region is not None:
                    span = NameSpan(tokens[span_a].start, tokens[span_b - 1].end, span_a, span_b, t.sentence,
                                    "region", norm=norm, region=region, candidates=self.lookup(norm))
                else:
                    candidates = tuple(c for c in self._place_candidates(norm, surface) if c.kind != "country")
                    if not candidates:
                        continue
                    span = NameSpan(tokens[span_a].start, tokens[span_b - 1].end, span_a, span_b, t.sentence,
                                    "district", norm=norm, candidates=candidates)
                spans.append(span)
                for k in range(span_a, span_b):
                    claimed[k] = True
        return spans

    def _names_before(self, text: str, tokens: list[Token], i: int, plural: bool,
                      claimed: list[bool]) -> list[tuple[int, int, int, int]]:
        """(name start, name end, span start, span end) token ranges of the names a region keyword follows.

        'the Chernihiv region' gives one; 'the Kharkiv, Sumy and Chernihiv regions' gives three, the
        keyword joining the span of the last name.
        """
        if i == 0 or not _adjacent(text, tokens[i - 1], tokens[i]):
            return []
        found: list[tuple[int, int, int, int]] = []
        end = i
        while True:
            a = self._name_start(text, tokens, end, claimed)
            if a == end:
                break
            found.append((a, end, a, i + 1 if not found else end))
            if not plural or a == 0:
                break
            sep, gap = tokens[a - 1], text[tokens[a - 1].end:tokens[a].start]
            if sep.norm == "and" and not sep.cap and gap == " " and a >= 2 \
                    and text[tokens[a - 2].end:sep.start] in (" ", ", "):
                end = a - 1
            elif gap == ", ":
                end = a
            else:
                break
        return found

    @staticmethod
    def _name_start(text: str, tokens: list[Token], end: int, claimed: list[bool]) -> int:
        """Start of the (at most three-word) capitalised name that ends right before token `end`."""
        a = end
        while a > 0 and end - a < 3:
            t = tokens[a - 1]
            if not t.cap or claimed[a - 1] or t.norm in lx.DEMONYMS or t.norm in lx.COMMON_WORDS \
                    or t.norm in lx.BODIES or t.text[:1].isdigit():
                break
            if a < end and not _adjacent(text, t, tokens[a]):
                break
            a -= 1
        return a

    def _region_for(self, norm: str) -> Region | None:
        """The admin1 region an 'X region' phrase names, through its seat or the curated names."""
        if norm in self.region_keyword_names:
            return self.region_keyword_names[norm]
        if norm in self.region_standalone:
            return self.region_standalone[norm]
        seats = [self.regions_by_seat[c.geonameid] for c in self.lookup(norm)
                 if c.geonameid in self.regions_by_seat]
        return seats[0] if seats else None

    # -- names

    def _place_candidates(self, norm: str, surface: str) -> tuple[Candidate, ...]:
        out = []
        for c in self.lookup(norm):
            if c.kind == "country" and len(norm) <= 3 and surface not in lx.COUNTRY_CODES_AS_NAMES:
                continue  # ISO codes: "IN", "BY", "TO" are words
            if c.kind == "border":
                continue  # border phrases are read from their keyword
            out.append(c)
        return tuple(out)

    def _names(self, text: str, tokens: list[Token], claimed: list[bool], blocked: list[bool]) -> list[NameSpan]:
        spans = []
        self._lower_words = {t.text for t in tokens if t.text.islower()}
        free = [not claimed[i] and not blocked[i] for i in range(len(tokens))]
        for a, b in _cap_runs(text, tokens, free):
            i = a
            while i < b:
                matched = None
                for j in range(min(b, i + MAX_NAME_TOKENS), i, -1):
                    span = self._match(text, tokens, i, j)
                    if span is not None:
                        matched = span
                        break
                if matched is None:
                    spans.extend(self._hyphen_parts(text, tokens[i], i))
                    i += 1
                    continue
                spans.append(matched)
                i = matched.tok_end
        return spans

    def _match(self, text: str, tokens: list[Token], i: int, j: int) -> NameSpan | None:
        first, last = tokens[i], tokens[j - 1]
        surface = text[first.start:last.end]
        norm = normalize(surface)
        words = [tokens[k].norm for k in range(i, j)]
        if surface in lx.COUNTRY_CODES_AS_NAMES or (j - i > 1 and self.country_code(norm)):
            pass  # "US troops", "the Russian Federation": country names made of common words
        elif all(w in lx.COMMON_WORDS for w in words):
            return None
        elif j - i == 1 and first.first and first.text.lower() in self._lower_words:
            return None  # a sentence-initial word also written in lower case in this text ("Shelling")
        sentence = first.sentence
        settlement = _settlement_before(text, tokens, i)
        if norm in self.region_standalone:
            return NameSpan(first.start, last.end, i, j, sentence, "region", norm=norm,
                            region=self.region_standalone[norm], candidates=self.lookup(norm))
        candidates = self._place_candidates(norm, surface)
        if not candidates:
            return None
        countries = [c for c in candidates if c.kind == "country"]
        if countries and (normalize(countries[0].name) == norm or len(norm) > 3
                          or surface in lx.COUNTRY_CODES_AS_NAMES):
            return NameSpan(first.start, last.end, i, j, sentence, "country", norm=norm,
                            candidates=(countries[0],))
        cities = tuple(c for c in candidates if c.kind != "country")
        if not cities or (j - i == 1 and not settlement and self._river_like(text, tokens, i)):
            return None
        return NameSpan(first.start, last.end, i, j, sentence, "name", norm=norm, candidates=cities,
                        settlement=settlement, surface=surface)

    @staticmethod
    def _river_like(text: str, tokens: list[Token], i: int) -> bool:
        """'on the Dnipro was destroyed': a lone name after 'the' and before a verb or a full stop."""
        if i == 0 or tokens[i - 1].norm != "the" or tokens[i - 1].cap or text[tokens[i - 1].end:tokens[i].start] != " ":
            return False
        t = tokens[i]
        if t.possessive:
            return False
        if i + 1 >= len(tokens) or tokens[i + 1].sentence != t.sentence:
            return True
        gap = text[t.end:tokens[i + 1].start].strip()
        return bool(gap) or tokens[i + 1].norm in lx.AFTER_THE_NOT_TOWN

    def _hyphen_parts(self, text: str, token: Token, i: int) -> list[NameSpan]:
        """'Russia-Ukraine talks': each part of a hyphenated pair of countries is a country mention."""
        parts = list(re.finditer(r"[^-–]+", token.text))
        if len(parts) < 2:
            return []
        codes = [self.country_code(normalize(p.group(0))) for p in parts]
        if not all(codes):
            return []
        return [NameSpan(token.start + p.start(), token.start + p.end(), i, i + 1, token.sentence, "country",
                         norm=normalize(p.group(0)),
                         candidates=tuple(c for c in self.lookup(normalize(p.group(0))) if c.kind == "country")[:1])
                for p in parts]


# ------------------------------------------------------------------------------------------- helpers

def _adjacent(text: str, a: Token, b: Token) -> bool:
    """True when b follows a within one name: separated by one space (or 'St. ' style dot-space)."""
    gap = text[a.end:b.start]
    if a.possessive:
        return False
    return gap == " " or gap == "\u00a0" or (gap == ". " and a.norm in ("st", "mt", "ft"))


def _cap_runs(text: str, tokens: list[Token], allowed: list[bool] | None = None) -> list[tuple[int, int]]:
    """Maximal runs [a, b) of capitalised tokens that may form one name."""
    runs, a = [], None
    for i, t in enumerate(tokens):
        ok = t.cap and not t.text[:1].isdigit() and (allowed is None or allowed[i])
        if ok and a is not None and _adjacent(text, tokens[i - 1], t):
            continue
        if a is not None:
            runs.append((a, i))
            a = None
        if ok:
            a = i
    if a is not None:
        runs.append((a, len(tokens)))
    return runs


def _block_range(blocked: list[bool], a: int, b: int) -> None:
    for k in range(a, b):
        blocked[k] = True


def _block_of_chain(text: str, tokens: list[Token], starts: dict[int, int], b: int,
                    blocked: list[bool]) -> None:
    """Block 'of (the) X' runs that continue an organisation name: 'Armed Forces of Ukraine'."""
    while b < len(tokens) and tokens[b].norm == "of" and text[tokens[b - 1].end:tokens[b].start] == " ":
        k = b + 1
        if k < len(tokens) and tokens[k].norm == "the" and not tokens[k].cap:
            k += 1
        if k not in starts:
            return
        _block_range(blocked, k, starts[k])
        b = starts[k]


def _keyword_after(tokens: list[Token], k: int) -> bool:
    """'Vladimir region': a lone given name before a region keyword is a place after all."""
    return k + 1 < len(tokens) and (tokens[k + 1].norm in lx.REGION_WORDS or tokens[k + 1].norm in lx.DISTRICT_WORDS)


def _word_after(text: str, tokens: list[Token], i: int) -> str:
    return tokens[i + 1].norm if i + 1 < len(tokens) and tokens[i + 1].sentence == tokens[i].sentence else ""


def _words_after(text: str, tokens: list[Token], i: int, n: int) -> list[tuple[str, int]]:
    out = []
    for k in range(i + 1, min(len(tokens), i + 1 + n)):
        if tokens[k].sentence != tokens[i].sentence:
            break
        if tokens[k].norm == "the" and not tokens[k].cap:
            continue
        out.append((tokens[k].norm, k))
    return out


def _settlement_before(text: str, tokens: list[Token], i: int) -> str:
    """'village' or 'town' when the name follows 'the village of', 'the town of', 'a resort village in'."""
    for k in range(i - 1, max(-1, i - 3), -1):
        if tokens[k].norm in lx.SETTLEMENT_WORDS:
            return "village" if tokens[k].norm in lx.VILLAGE_WORDS else "town"
        if tokens[k].norm not in ("of", "the", "a", "small"):
            return ""
    return ""
