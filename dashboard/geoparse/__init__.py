"""Offline geoparsing of news text: places, dates, weapon systems and ranges, candidate events (issue 6)."""

from dashboard.geoparse.mentions import CandidateEvent, DateMention, Geoparse, PlaceMention, SystemMention
from dashboard.geoparse.parser import Geoparser
from dashboard.geoparse.text import MAX_TEXT_BYTES

__all__ = ["CandidateEvent", "DateMention", "Geoparse", "Geoparser", "MAX_TEXT_BYTES", "PlaceMention",
           "SystemMention"]
