"""Where events live: the EventStore interface and its embedded GeoPackage backend."""

from __future__ import annotations

from dashboard.store.base import EventStore, Listed, SourceGroup, WriteSummary
from dashboard.store.geopackage import GeoPackageStore

__all__ = ["EventStore", "GeoPackageStore", "Listed", "SourceGroup", "WriteSummary"]
