"""Launch areas on the map: the part of a territory from which a target could be reached (analysis.launch).

Drawn apart from rings: a dashed outline over a denser fill, in colours rings do not use; the target as a
white dot ringed in its colour, the nearest and farthest launch points as small dots ringed in white.
Every string from data goes through `safe` (tooltips and popups as safe.Tooltip/safe.Popup, HTML from
safe.html).
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from shapely.geometry import mapping

from dashboard.colours import LAUNCH_COLOURS as COLOURS
from dashboard.mapview import safe

LAYER_NAME = "Launch areas"


def launch_colours(areas: Sequence) -> list[tuple[str, str]]:
    """(label, colour) for each launch area, for the map and the legend."""
    return [(a.label, COLOURS[i % len(COLOURS)]) for i, a in enumerate(areas)]


def popup_html(area) -> safe.Markup:
    """Area km², share of the territory, nearest and farthest launch points: every value escaped."""
    rows = [safe.html('<div class="rm-title">{label}</div>', label=area.label),
            safe.html('<div class="rm-meta">{sentence}</div>', sentence=area.sentence())]
    if not area.empty:
        rows.append(safe.html("<div>Area: {km2} km² ({share} of {territory})</div>", km2=f"{area.area_km2:,.0f}",
                              share=f"{100 * area.share:.1f}%", territory=area.territory.name))
        rows.append(safe.html("<div>Nearest launch point: {near} km · farthest: {far} km</div>",
                              near=f"{area.nearest_km:,.1f}", far=f"{area.farthest_km:,.1f}"))
    if area.source is not None:
        rows.append(safe.html('<div class="rm-meta">Range: {publisher}</div>', publisher=area.source.publisher))
    return safe.html('<div class="rm-popup">{rows}</div>', rows=safe.join(rows))


def add_launch_areas(m: folium.Map, areas: Sequence, show: bool = True) -> list[tuple[str, str]]:
    """Each launch area as its polygon with a popup, plus its target and launch points; the legend's keys."""
    keys = launch_colours(areas)
    if not areas:
        return keys
    group = folium.FeatureGroup(LAYER_NAME, show=show)
    for area, (label, colour) in zip(areas, keys):
        if not area.empty:
            props = {"kind": "launch_area", "area_km2": round(area.area_km2, 1), "share": round(area.share, 4)}
            folium.GeoJson({"type": "Feature", "geometry": mapping(area.geometry), "properties": props},
                           style_function=lambda _, c=colour: {"color": c, "weight": 2.5, "dashArray": "8 5",
                                                               "fillColor": c, "fillOpacity": 0.3},
                           tooltip=safe.Tooltip(area.sentence()), popup=safe.Popup(popup_html(area), max_width=360),
                           class_name="rm-launch").add_to(group)
            for point, km, what in ((area.nearest, area.nearest_km, "Nearest"),
                                    (area.farthest, area.farthest_km, "Farthest")):
                # L.circleMarker is a dot of fixed pixels, not a distance: only L.circle is spherical.
                folium.CircleMarker((point[1], point[0]), radius=4, color="#ffffff", weight=1.5, fill=True,
                                    fill_color=colour, fill_opacity=1,
                                    tooltip=safe.Tooltip(f"{what} launch point: {km:,.1f} km from "
                                                         f"{area.target.name}")).add_to(group)
        lon, lat = area.target.lonlat
        folium.CircleMarker((lat, lon), radius=6, color=colour, weight=3, fill=True, fill_color="#ffffff",
                            fill_opacity=1, tooltip=safe.Tooltip(area.sentence()),  # one element per parent
                            popup=safe.Popup(popup_html(area), max_width=360),
                            ).add_to(group)
    group.add_to(m)
    return keys
