"""ACLED-like synthetic events: clustered around the cities of Ukraine, Belarus and western Russia, 2022–2024.

Deterministic: numpy's default_rng(42) draws everything, so a size always gives the same events, and a
smaller size is not a prefix of a bigger one (each size is drawn on its own).

The shape follows ACLED's Ukraine exports: most events in Ukraine and more of them near the front (east of
34°E); events repeat at a limited set of locations (a city or a village near it, ~1 location per 25 events)
with a few very busy ones; six ACLED event types, mostly explosions/remote violence; dates over three years
with far fewer before 24 February 2022; a tenth are week-long spans; ids like ACLED's (UKR123456).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from dashboard.gazetteer import Gazetteer
from dashboard.model import Event, Place, Source, TimeSpan

FIRST_DAY = date(2022, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days + 1
INVASION = (date(2022, 2, 24) - FIRST_DAY).days
COUNTRY_SHARE = {"UA": 0.80, "RU": 0.15, "BY": 0.05}
ISO3 = {"UA": "UKR", "RU": "RUS", "BY": "BLR"}
TYPES = (("explosions/remote violence", 0.55), ("battles", 0.20), ("strategic developments", 0.10),
         ("protests", 0.07), ("violence against civilians", 0.05), ("riots", 0.03))
ACTORS = ("Military Forces of Russia (2000-)", "Military Forces of Ukraine (2019-)", "Civilians (Ukraine)",
          "Wagner Group", "Police Forces of Belarus (1994-)", "Protesters (Russia)", "Protesters (Belarus)",
          "Unidentified Armed Group (Ukraine)", "Military Forces of Belarus (1994-)", "Rioters (Ukraine)",
          "Government of Ukraine (2019-)", "Government of Russia (2000-)")
NOTES = (
    "On {d}, Russian forces shelled {p} with artillery and MLRS. Casualties unknown.",
    "On {d}, a drone strike hit infrastructure near {p}. No fatalities were reported.",
    "On {d}, clashes between Russian and Ukrainian forces took place near {p}.",
    "On {d}, around 50 people gathered in {p} to demand the return of prisoners of war.",
    "On {d}, the authorities of {p} announced an evacuation of civilians from frontline villages.",
)
SOURCE = Source("ACLED-like synthetic data", "Reachmap benchmark", "", None, "")


@dataclass(frozen=True)
class Cities:
    name: np.ndarray
    country: np.ndarray
    admin1: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray  # sums to 1


def cities(gazetteer: Gazetteer) -> Cities:
    """Cities of ≥ 20,000 people in UA, BY and Russia west of 45°E, weighted like ACLED's event counts."""
    table = gazetteer.cities(20_000)
    keep = np.isin(table.country, list(COUNTRY_SHARE)) & ((table.country != "RU") | (table.lon < 45.0))
    idx = np.flatnonzero(keep)
    country = table.country[idx]
    lon, lat = table.lon[idx], table.lat[idx]
    weight = table.population[idx].astype(float) ** 0.6
    weight *= np.where((country == "UA") & (lon > 34.0), 4.0, 1.0)  # the front
    weight *= np.where((country == "RU") & (lat < 52.5), 6.0, 1.0)  # Belgorod, Kursk, Bryansk
    for code, share in COUNTRY_SHARE.items():
        mask = country == code
        weight[mask] *= share / weight[mask].sum()
    admin1 = np.array([f"{c}-{(gazetteer.get(int(g)) or _NoAdmin).admin1}"
                       for c, g in zip(country, table.geonameid[idx])], dtype=object)
    return Cities(table.name[idx], country, admin1, lon, lat, weight / weight.sum())


class _NoAdmin:
    admin1 = "?"


def events(n: int, gazetteer: Gazetteer, seed: int = 42) -> Iterator[Event]:
    """n synthetic events, made one at a time (a million Event objects at once would need ~1.5 GB)."""
    rng = np.random.default_rng(seed)
    c = cities(gazetteer)
    # Locations: a city itself, or a village jittered around it (sd 0.12° ≈ 10 km).
    n_loc = int(np.clip(n // 25, 200, 40_000))
    loc_city = rng.choice(len(c.weight), size=n_loc, p=c.weight)
    exact = rng.random(n_loc) < 0.3
    loc_lon = np.round(c.lon[loc_city] + np.where(exact, 0.0, rng.normal(0, 0.12, n_loc)), 5)
    loc_lat = np.round(c.lat[loc_city] + np.where(exact, 0.0, rng.normal(0, 0.12, n_loc)), 5)
    places = [Place.at(f"synth:{i}", str(c.name[ci]) if ex else f"{c.name[ci]} area {i}", "point",
                       float(x), float(y), country=str(c.country[ci]), admin1=str(c.admin1[ci]))
              for i, (ci, ex, x, y) in enumerate(zip(loc_city, exact, loc_lon, loc_lat))]
    # Busy places: heavy-tailed activity, scaled by the city weight so countries keep their shares.
    activity = (rng.pareto(1.5, n_loc) + 1.0) * c.weight[loc_city] / np.bincount(loc_city, minlength=len(c.weight))[loc_city]
    loc = rng.choice(n_loc, size=n, p=activity / activity.sum())
    # Dates: a fifth of the intensity before the invasion.
    day_weight = np.where(np.arange(DAYS) < INVASION, 0.2, 1.0)
    day = rng.choice(DAYS, size=n, p=day_weight / day_weight.sum())
    span = np.where(rng.random(n) < 0.1, 6, 0)
    kinds = rng.choice(len(TYPES), size=n, p=[w for _, w in TYPES])
    actor_a = rng.integers(0, len(ACTORS), n)
    actor_b = rng.integers(-len(ACTORS), len(ACTORS), n)  # negative: one actor only
    note = rng.integers(0, len(NOTES), n)
    counters = {code: 100_000 for code in ISO3}
    for i in range(n):
        place = places[loc[i]]
        start = FIRST_DAY + timedelta(days=int(day[i]))
        time = TimeSpan(start, start + timedelta(days=int(span[i])), "week" if span[i] else "day")
        counters[place.country] += 1
        kind = TYPES[kinds[i]][0]
        a, b = ACTORS[actor_a[i]], (ACTORS[actor_b[i]] if actor_b[i] >= 0 and actor_b[i] != actor_a[i] else None)
        yield Event(
            id=f"{ISO3[place.country]}{counters[place.country]}", title=f"{kind.capitalize()} in {place.name}",
            event_type=kind, time=time, place=place, source=SOURCE,
            description=NOTES[note[i]].format(d=start.isoformat(), p=place.name),
            actors=(a, b) if b else (a,))
