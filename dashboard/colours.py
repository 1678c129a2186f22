"""The colours of event types and rings, the same on the map and in every export (KML styles).

Apart from the map's marks (mapview.marks) so that a KML export need not import folium to colour its styles.
"""

from __future__ import annotations

import hashlib

# A categorical palette of 12 colours that stay apart for the colour-blind: each pair differs by at least
# 11.8 CIEDE2000 units in normal vision and under simulated deuteranopia and protanopia (Machado, Oliveira &
# Fernandes 2009, severity 1), as tests/test_marks.py computes. Chosen, to maximise that least difference,
# from Paul Tol's qualitative schemes "muted", "vibrant", "light" and "bright"
# (https://personal.sron.nl/~pault/#sec:qualitative) and Okabe & Ito's black ("Color Universal Design", 2008,
# https://jfly.uni-koeln.de/color/). A marker also carries a white rim and a dark outline, so the pale
# ones read on the beige basemap.
PALETTE = (
    "#EE3377", "#882255", "#AAAA00", "#009988",  # vibrant magenta, muted wine, light olive, vibrant teal
    "#332288", "#0077BB", "#99DDFF", "#117733",  # muted indigo, vibrant blue, light cyan, muted green
    "#EEDD88", "#BBBBBB", "#77AADD", "#000000",  # light yellow, bright grey, light blue, Okabe–Ito black
)
# The story's types keep a fixed colour of the palette (strikes magenta-red, invasion wine, military olive).
TYPE_COLOURS = {
    "missile strike": PALETTE[0], "invasion": PALETTE[1], "military activity": PALETTE[2],
    "arms transfer": PALETTE[3], "military cooperation": PALETTE[4], "diplomacy": PALETTE[5],
    "statement": PALETTE[6], "election": PALETTE[7], "protest": PALETTE[8], "sanctions": PALETTE[9],
}
# Any other type: one of the palette's two unused colours or of eight more from the same schemes (Tol's dark
# red, muted purple, light orange, light mint and dark blue; Okabe–Ito's yellow, purple and vermillion),
# each the farthest from those before it; these ten differ pairwise by at least 10.8 units in the three
# visions.
_FALLBACK = (PALETTE[10], PALETTE[11], "#663333", "#AA4499", "#EE8866", "#F0E442", "#CC79A7", "#D55E00",
             "#44BB99", "#222255")
RING_COLOURS = ("#c2185b", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
# Launch areas (analysis.launch): none of the rings' colours, and drawn dashed with a denser fill.
LAUNCH_COLOURS = ("#8d5b00", "#4e342e", "#283593", "#558b2f")


def type_colour(event_type: str) -> str:
    """A fixed colour per event type, so a type keeps its colour whatever the filters show.

    >>> type_colour("missile strike"), type_colour("air/drone strike") == type_colour("air/drone strike")
    ('#EE3377', True)
    """
    if event_type in TYPE_COLOURS:
        return TYPE_COLOURS[event_type]
    digest = hashlib.sha256(event_type.encode("utf-8")).digest()
    return _FALLBACK[int.from_bytes(digest[:4], "big") % len(_FALLBACK)]


def ring_colours(rings) -> list[str]:
    """The colour of each ring as the map draws it: a ring of its own by its place among those, the rings of a
    site table (ring.layer) by system, one colour per (table, system) after them. KML styles follow it."""
    own = [r for r in rings if not getattr(r, "layer", "")]
    keys: dict[tuple[str, str], str] = {}
    for r in rings:
        key = (r.layer, r.system or f"{r.radius_km:g} km") if getattr(r, "layer", "") else None
        if key is not None and key not in keys:
            keys[key] = RING_COLOURS[(len(own) + len(keys)) % len(RING_COLOURS)]
    out, i = [], 0
    for r in rings:
        if getattr(r, "layer", ""):
            out.append(keys[(r.layer, r.system or f"{r.radius_km:g} km")])
        else:
            out.append(RING_COLOURS[i % len(RING_COLOURS)])
            i += 1
    return out
# Lines of bearing: on the map, in the legend and in KML. Near-black: none of the rings', sites' (which take the
# rings' colours) or launch areas' colours, and dark on the beige basemap (it was a ring colour, #6a1b9a).
BEARING_COLOUR = "#212121"
