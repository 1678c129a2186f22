"""The rings of site tables (sites=… in a link) as one layer: a ring per site, coloured by system.

Part of `mapview`; every string from data (a site's name, its source and quote) goes through `safe`.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from shapely.geometry import mapping

from dashboard.colours import ring_colours
from dashboard.mapview import safe
from dashboard.mapview.marks import RingLabels
from dashboard.mapview.playback import ring_days
from dashboard.rings import Ring


def _key(ring: Ring) -> tuple[str, str]:
    return ring.layer, ring.system or f"{ring.radius_km:g} km"


def site_colours(rings: Sequence[Ring], offset: int = 0) -> dict[tuple[str, str], tuple[str, str]]:
    """(table, system) → (legend words, colour), one colour per system of a table, after `offset` rings'
    (colours.ring_colours, which KML follows)."""
    counts: dict[tuple[str, str], int] = {}
    colours: dict[tuple[str, str], str] = {}
    for ring, colour in zip(rings, ring_colours([None] * offset + list(rings))[offset:]):
        counts[_key(ring)] = counts.get(_key(ring), 0) + 1
        colours[_key(ring)] = colour
    return {key: (f"{key[1]} at {n} site{'s' if n > 1 else ''} of {key[0]}", colours[key]) for key, n in counts.items()}


def add_site_rings(m: folium.Map, rings: Sequence[Ring], colours: dict, name: str, show: bool) -> None:
    """Every site's ring in one toggleable group, with its site marked; tooltip and popup from the site."""
    if not rings:
        return
    group = folium.FeatureGroup(name, show=show)
    for i, ring in enumerate(rings):
        colour = colours[_key(ring)][1]
        lon, lat = ring.origin.lonlat
        # site_mark ties the site's dot to its ring, so that playback hides both outside the site's days.
        mark = f"rm-site-{i}"
        props = {"label": ring.label, "radius_km": ring.radius_km, "kind": ring.kind, "colour": colour,
                 "origin": [lat, lon], "layer": ring.layer, **ring_days(ring.valid), "site_mark": mark}
        folium.GeoJson({"type": "Feature", "geometry": mapping(ring.geometry), "properties": props},
                       style_function=lambda _, c=colour: {"color": c, "weight": 1.5, "fillColor": c,
                                                           "fillOpacity": 0.05, "dashArray": "4 3"},
                       tooltip=safe.Tooltip(ring.label), popup=safe.Popup(site_html(ring), max_width=360),
                       class_name="rm-ring").add_to(group)
        folium.CircleMarker((lat, lon), radius=5, color=colour, fill=True, fill_opacity=1, tags=[mark],
                            class_name="rm-site-mark", tooltip=safe.Tooltip(site_html(ring))).add_to(group)
    group.add_child(RingLabels(m))
    group.add_to(m)


def site_html(ring: Ring) -> safe.Markup:
    """Site name, system and km, minimum range, days, where it is from, and the source with its quote."""
    site = ring.site
    if site is None:
        return safe.html("<b>{label}</b>", label=ring.label)
    parts = [safe.html('<div class="rm-title">{name}</div>', name=site.name),
             safe.html('<div class="rm-meta">{what}, {km} km · table {table}</div>',
                       what=ring.system or "radius", km=f"{ring.radius_km:,.0f}", table=ring.layer)]
    if ring.min_km:
        parts.append(safe.html('<div class="rm-meta">Minimum range {km} km: nothing closer is in range (the hole '
                               'in its ring)</div>', km=f"{ring.min_km:g}"))
    if site.valid is not None:
        parts.append(safe.html('<div class="rm-meta">Reported there {days}</div>', days=site.valid.label))
    parts.append(safe.html('<div class="rm-meta">Located: {how}</div>', how=site.located))
    src = site.source
    link = safe.url(src.url)
    title = safe.html('<a href="{u}" target="_blank" rel="noopener noreferrer">{t}</a>', u=link, t=src.title) \
        if link else safe.text(src.title)
    parts.append(safe.html("<div>{title} ({publisher}{day})</div>", title=title, publisher=src.publisher,
                           day=f", {src.published.isoformat()}" if src.published else ""))
    parts.append(safe.html("<blockquote>{quote}</blockquote>", quote=src.quote))
    return safe.html('<div class="rm-popup">{body}</div>', body=safe.join(parts))
