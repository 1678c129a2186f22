"""The geoparser: article text in; place, date and system mentions and candidate events out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dashboard.errors import ValidationError
from dashboard.gazetteer import Candidate, Gazetteer
from dashboard.geoparse.dates import find_dates
from dashboard.geoparse.events import candidate_events
from dashboard.geoparse.mentions import Geoparse, PlaceMention
from dashboard.geoparse.places import Resolver
from dashboard.geoparse.relative import relative_points
from dashboard.geoparse.spans import SpanFinder
from dashboard.geoparse.systems import SystemFinder
from dashboard.geoparse.text import check_text, split_sentences, tokenize
from dashboard.model import Catalogue, Place


class Geoparser:
    """Finds places, dates, weapon systems with their ranges, and candidate events in news text, offline.

    Build one per process and reuse it (the UI: `st.cache_resource`): construction compiles the system
    names and reads the region table (tens of ms), and the gazetteer lookups it makes are cached.

    >>> parser = Geoparser(open_gazetteer(), load_catalogue())  # doctest: +SKIP
    >>> [p.key for p in parser.parse("A strike on the village of Desna in the Chernihiv region.").places]
    ... # doctest: +SKIP
    ['geonames:710071', 'geonames:710734']
    """

    def __init__(self, gazetteer: Gazetteer, catalogue: Catalogue) -> None:
        self.gazetteer = gazetteer
        self.catalogue = catalogue
        self._spans = SpanFinder(gazetteer)
        self._resolver = Resolver(gazetteer)
        self._systems = SystemFinder(catalogue)

    def parse(self, text: str, published: date | None = None) -> Geoparse:
        """Everything found in `text`; relative dates ("on Saturday") need `published`, else they are skipped.

        Raises ValidationError for empty text, binary data, or text over 1 MB.
        """
        text = check_text(text)
        if published is not None and not isinstance(published, date):
            raise ValidationError("published", published, "must be a date (YYYY-MM-DD) or None")
        sentences = split_sentences(text)
        tokens = tokenize(text, sentences)
        spans, evidence = self._spans.find(text, tokens)
        found = list(self._resolver.resolve(text, tokens, spans, evidence))
        places = tuple(sorted(found + relative_points(text, found), key=lambda m: (m.start, -m.end)))
        dates = tuple(find_dates(text, published))
        systems = tuple(self._systems.find(text, sentences))
        events = tuple(candidate_events(text, sentences, places, dates, systems, published))
        return Geoparse(places, dates, systems, events)

    def place_for(self, mention: PlaceMention) -> Place:
        """The mention's place as a model Place, ready for an Event: a country's outline, a border's line,
        a story's own place, a town's point, or a region's pin (the mean point of its places)."""
        if mention.key.startswith("offset:"):  # "30 km north of Chernihiv": the point, named so
            return Place.at(mention.key, mention.name, "point", mention.lon, mention.lat, country=mention.iso2 or "")
        if mention.key.startswith("admin1:"):
            return Place.at(mention.key, mention.name, "admin region", mention.lon, mention.lat,
                            country=mention.iso2 or "", admin1=mention.name)
        known = self.gazetteer.get(mention.geonameid) if mention.geonameid else None
        candidate = Candidate(mention.key, mention.name, mention.kind, mention.iso2 or "",
                              known.admin1 if known else "", known.population if known else None,
                              mention.lon, mention.lat, mention.geonameid, mention.mention, 0.0)
        place = self.gazetteer.place_for(candidate)  # a story's own place when the key is one
        if place.kind == "city" and mention.kind == "village":
            place = replace(place, kind="village")
        return place

    def clear_cache(self) -> None:
        """Forget cached gazetteer lookups (after story places were added, or to time a cold parse)."""
        self._spans.clear_cache()

