"""The map's own marks: event markers and their popups, range rings and envelopes, the legend, colours.

Part of `mapview` (the only code that knows folium); every string from data goes through `safe`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import folium
from branca.element import MacroElement, Template
from shapely.geometry import mapping

from dashboard.mapview import safe
from dashboard.model import Event
from dashboard.rings import Ring

TYPE_COLOURS = {
    "missile strike": "#d62728", "invasion": "#8c1b13", "military activity": "#ff7f0e",
    "arms transfer": "#9467bd", "military cooperation": "#6a3d9a", "diplomacy": "#1f77b4",
    "statement": "#17becf", "election": "#2ca02c", "protest": "#bcbd22", "sanctions": "#7f7f7f",
}
_FALLBACK = ("#e377c2", "#8c564b", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd")
# Imported attributes worth a line in a popup (ACLED's location and casualty fields).
SHOWN_ATTRIBUTES = ("geo_precision", "fatalities", "time_precision", "civilian_targeting")
RING_COLOURS = ("#c2185b", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")


def type_colour(event_type: str) -> str:
    """A fixed colour per event type, so a type keeps its colour whatever the filters show."""
    if event_type in TYPE_COLOURS:
        return TYPE_COLOURS[event_type]
    digest = hashlib.sha256(event_type.encode("utf-8")).digest()
    return _FALLBACK[digest[0] % len(_FALLBACK)]



def add_rings(m: folium.Map, rings: Sequence[Ring], colours: dict[str, str], name: str, show: bool) -> None:
    group = folium.FeatureGroup(name, show=show)
    for ring in rings:
        colour = colours[ring.label]
        props = {"label": ring.label, "radius_km": ring.radius_km, "kind": ring.kind}
        folium.GeoJson({"type": "Feature", "geometry": mapping(ring.geometry), "properties": props},
                       style_function=lambda _, c=colour: {"color": c, "weight": 2, "fillColor": c,
                                                           "fillOpacity": 0.08},
                       tooltip=safe.Tooltip(ring.label), class_name="rm-ring").add_to(group)
        lon, lat = ring.origin.lonlat
        if ring.kind == "ring":
            folium.CircleMarker((lat, lon), radius=4, color=colour, fill=True, fill_opacity=1,
                                tooltip=safe.Tooltip(f"Origin: {ring.origin.name}")).add_to(group)
    group.add_to(m)


def add_events(m: folium.Map, events: Sequence[Event], name: str, show: bool) -> None:
    """One marker per map point; its popup lists every selected event pinned there, so none hides another."""
    group = folium.FeatureGroup(name, show=show)
    by_point: dict[tuple[float, float], list[Event]] = {}
    for e in events:  # Belarus is pinned at Minsk: its events and Minsk's share one marker
        lon, lat = e.place.lonlat
        by_point.setdefault((round(lon, 5), round(lat, 5)), []).append(e)
    for (lon, lat), here in by_point.items():
        here.sort(key=lambda e: (e.time.start, e.id))
        place = here[0].place
        colour = type_colour(here[-1].event_type)
        badge = f'<span class="rm-count">{len(here)}</span>' if len(here) > 1 else ""
        icon = folium.DivIcon(html=f'<div class="rm-event" style="background:{colour}" '
                                   f'data-count="{len(here)}">{badge}</div>',
                              icon_size=(18, 18), icon_anchor=(9, 9), class_name="rm-event-icon")
        names = " / ".join(dict.fromkeys(e.place.name for e in here))
        tip = f"{names}: {len(here)} events" if len(here) > 1 else f"{place.name}: {here[0].title}"
        folium.Marker((lat, lon), icon=icon, tooltip=safe.Tooltip(tip),
                      popup=safe.Popup(popup_html(here), max_width=380, lazy=True)).add_to(group)
    group.add_to(m)


def popup_html(events: Sequence[Event]) -> safe.Markup:
    parts = []
    for e in events:
        src = e.source
        href = safe.url(src.url)
        link = (safe.html('<a href="{href}" target="_blank" rel="noopener noreferrer">{publisher}</a>',
                          href=href, publisher=src.publisher) if href else safe.text(src.publisher))
        quote = safe.html("<blockquote>{quote}</blockquote>", quote=src.quote) if src.quote else ""
        extra = safe.join(safe.html('<div class="rm-meta">{k}: {v}</div>', k=k, v=v)
                          for k, v in e.attributes if k in SHOWN_ATTRIBUTES)
        published = f" ({src.published.isoformat()})" if src.published else ""
        parts.append(safe.html(
            '<div class="rm-popup-event"><div class="rm-title">{title}</div>'
            '<div class="rm-meta">{when} · {place} · <span style="color:{colour}">{type}</span></div>'
            '{quote}{extra}<div class="rm-source">Source: {link}{published}</div></div>',
            title=e.title, when=e.time.label, place=e.place.name, colour=type_colour(e.event_type),
            type=e.event_type, quote=quote, extra=extra, link=link, published=published))
    return safe.html('<div class="rm-popup">{body}</div>', body=safe.join(parts))


class Legend(MacroElement):
    """Event types and rings with their colours, bottom left."""

    _template = Template("""
        {% macro header(this, kwargs) %}{% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="rm-legend" id="{{ this.get_name() }}">{{ this.body }}</div>
        {% endmacro %}
    """)

    def __init__(self, types: Sequence[str], rings: Sequence[tuple[str, str]], note: str = "") -> None:
        super().__init__()
        self._name = "Legend"
        rows = [safe.html('<div class="rm-note">{note}</div>', note=note)] if note else []
        rows += [safe.html('<div><i style="background:{c}"></i>{t}</div>', c=type_colour(t), t=t) for t in types]
        rows += [safe.html('<div><i class="rm-ring-key" style="border-color:{c}"></i>{label}</div>', c=c, label=label)
                 for label, c in rings]
        self.body = (safe.html("<details open><summary><b>Legend</b></summary>{rows}</details>", rows=safe.join(rows))
                     if rows else "")


CSS = """
<style>
.rm-event-icon { background: transparent; border: none; }
.rm-event { width: 16px; height: 16px; border-radius: 50%; border: 2px solid #fff;
            box-shadow: 0 0 0 1px rgba(0,0,0,.45); position: relative; }
.rm-count { position: absolute; top: -9px; right: -11px; background: #222; color: #fff; border-radius: 8px;
            font-size: 10px; line-height: 14px; min-width: 14px; padding: 0 3px; text-align: center; }
.rm-popup { max-height: 320px; overflow-y: auto; }
.rm-popup-event + .rm-popup-event { border-top: 1px solid #ddd; margin-top: 6px; padding-top: 6px; }
.rm-title { font-weight: 600; }
.rm-meta { color: #555; font-size: 12px; }
.rm-popup blockquote { margin: 4px 0; padding-left: 8px; border-left: 3px solid #ccc; font-style: italic; }
.rm-legend { position: absolute; bottom: 52px; left: 10px; z-index: 1000; background: rgba(255,255,255,.92);
             padding: 6px 8px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px;
             max-width: 280px; }
.rm-legend:empty { display: none; }
.rm-legend summary { cursor: pointer; }
.rm-note { font-style: italic; max-width: 240px; margin: 2px 0 4px; }
.rm-legend i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px;
               vertical-align: -1px; }
.rm-legend i.rm-ring-key { border-radius: 0; border: 2px solid; background: transparent; }
</style>
"""
