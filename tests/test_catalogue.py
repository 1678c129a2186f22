"""The weapon systems catalogue (geodata/systems.json): every range cited verbatim, drawable, pickable, findable."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from dashboard.errors import ValidationError
from dashboard.geoparse.systems import SystemFinder, _key
from dashboard.geoparse.text import split_sentences
from dashboard.ingest.catalogue import CATALOGUE_PATH, load_catalogue
from dashboard.model import MUNITION_KINDS
from dashboard.rings import resolve_ring
from dashboard.share import from_query

RAW = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["systems"]
CATALOGUE = load_catalogue()
ENTRIES = [(s, m) for s in CATALOGUE.systems for m in s.munitions]
RAW_ENTRIES = {(s["id"], m["name"]): m for s in RAW for m in s.get("munitions", [])}
IDS = [f"{s.id}:{m.name}" for s, m in ENTRIES]

MILE_KM = 1.609344
# How the quotes write a distance: the unit words of the languages the sources use.
KM_UNITS = r"km|kilomet(?:er|re)s?n?|kilomètres|kilómetros|quilômetros|chilometri|Kilometer(?:n)?|キロ"
MILE_UNITS = r"miles?|miglia"
RANGE_TEXT = re.compile(rf"\d[\d.,]*(?:\s*(?:-|to)\s*\d[\d.,]*)?\s*(?P<unit>{KM_UNITS}|{MILE_UNITS})", re.I)
# Bare words that are ordinary English (or another weapon's name) and must not identify a system alone.
AMBIGUOUS = {"grad", "tornado", "neptune", "storm", "taurus", "lancet", "dagger", "caliber", "calibre", "shahed",
             "scalp", "triumf", "hurricane", "point", "hazel", "tempest"}


def _numbers(text: str) -> list[float]:
    """Numbers as the quotes write them: 2,000 / 2.500 (a thousands point) / 77.2 / 50-200."""
    out = []
    for token in re.findall(r"\d[\d.,]*", text):
        token = token.rstrip(".,")
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
            out.append(float(re.sub(r"[.,]", "", token)))
        else:
            out.append(float(token.replace(",", ".")))
    return out


def stated_km(range_text: str) -> float:
    """The largest distance in the words that state a range, in km ('20-70 km' → 70, '48 miles' → 77.2)."""
    m = RANGE_TEXT.fullmatch(range_text.strip())
    assert m, f"range_text {range_text!r} is not 'NUMBER UNIT', 'NUMBER-NUMBER UNIT' or 'NUMBER to NUMBER UNIT'"
    value = max(_numbers(range_text))
    return value * MILE_KM if re.fullmatch(MILE_UNITS, m["unit"], re.I) else value


# ------------------------------------------------------------------------------------------ the whole

def test_at_least_thirty_cited_munitions_and_unique_ids():
    assert len(ENTRIES) >= 30
    ids = [s.id for s in CATALOGUE.systems]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)


def test_every_kind_in_use_is_a_known_kind_and_the_new_kinds_are_used():
    used = {m.kind for _, m in ENTRIES}
    assert used <= set(MUNITION_KINDS)
    assert {"rocket", "drone", "aeroballistic", "surface-to-air", "glide-bomb"} <= used


def test_the_story_entry_is_unchanged():
    iskander = CATALOGUE.get("Iskander")
    assert {(m.designation, m.kind, m.range_km) for m in iskander.munitions} == {
        ("9M723", "ballistic", 500), ("9M728", "cruise", 500)}


# ---------------------------------------------------------------------------------------- each entry

@pytest.mark.parametrize("system, munition", ENTRIES, ids=IDS)
def test_each_entry_is_cited_with_a_verbatim_quote_that_states_its_range(system, munition):
    src = munition.source
    assert re.match(r"https?://[^\s/]+\.[^\s/]+/", src.url), src.url
    assert src.publisher.strip() and src.title.strip()
    assert src.published is not None
    assert src.quote.strip()
    raw = RAW_ENTRIES[(system.id, munition.name)]
    assert raw["range_text"] in src.quote
    km = stated_km(raw["range_text"])
    assert km == pytest.approx(munition.range_km, abs=0.06), (raw["range_text"], munition.range_km)
    converted = "mile" in raw["range_text"] or "miglia" in raw["range_text"]
    if converted or not re.search(r"\b" + re.escape(f"{munition.range_km:g}"), raw["range_text"].replace(",", "")):
        assert raw.get("range_note"), "a conversion or reading of the quote is recorded in range_note"


@pytest.mark.parametrize("system, munition", ENTRIES, ids=IDS)
def test_each_entry_notes_what_is_not_read_from_the_page_itself(system, munition):
    raw = RAW_ENTRIES[(system.id, munition.name)]
    src = raw["source"]
    if "date_note" in src:
        assert str(munition.source.published.year) in src["date_note"] or munition.source.published.strftime("%Y") in \
            src["url"]
    for note in ("range_note", "date_note", "title_note"):
        assert not (note in raw or note in src) or (raw.get(note) or src.get(note)).strip()


def test_a_range_text_that_is_not_in_the_quote_is_rejected(tmp_path):
    data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["systems"][0]["munitions"][0]["range_text"] = "700 km"
    path = tmp_path / "systems.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError, match="range_text"):
        load_catalogue(path)


# -------------------------------------------------------------------- labels of disagreeing entries

def test_labels_are_distinct_within_a_system_and_disagreeing_entries_name_their_publisher():
    for system in CATALOGUE.systems:
        labels = [f"{system.name} {m.name}" for m in system.munitions]
        assert len(labels) == len(set(labels)), labels
        for kind, count in Counter(m.kind for m in system.munitions).items():
            same = [m for m in system.munitions if m.kind == kind]
            if count > 1 and len({m.range_km for m in same}) > 1:
                for m in same:
                    assert m.source.publisher in m.name, (system.id, m.name)


# ------------------------------------------------------------------------------- rings and the form

def _unique_kind(system, munition) -> bool:
    return sum(m.kind == munition.kind for m in system.munitions) == 1


@pytest.mark.parametrize("system, munition", ENTRIES, ids=IDS)
def test_each_system_and_munition_kind_draws_a_ring_from_minsk(gazetteer, system, munition):
    ring = resolve_ring("Minsk", gazetteer, CATALOGUE, system=system.id, munition=munition.kind)
    longest = max((m for m in system.munitions if m.kind == munition.kind), key=lambda m: m.range_km)
    assert ring.radius_km == longest.range_km
    span = f"{longest.min_range_km:,.0f}–{longest.range_km:,.0f}" if longest.min_range_km else f"{longest.range_km:,.0f}"
    assert ring.label == f"{system.name} {longest.name}, {span} km from Minsk"
    assert ring.min_km == longest.min_range_km
    assert ring.geometry.is_valid and not ring.geometry.is_empty
    assert ring.source == longest.source


def _shadowed(system, munition) -> bool:
    """Another entry of the same kind has a longer range, so SYSTEM:KIND never draws this one."""
    return any(m.kind == munition.kind and m.range_km > munition.range_km for m in system.munitions)


DISAGREEING = [(s, m) for s, m in ENTRIES if _shadowed(s, m)]


@pytest.mark.parametrize("system, munition", DISAGREEING, ids=[f"{s.id}:{m.name}" for s, m in DISAGREEING])
def test_each_disagreeing_entry_can_be_drawn_on_its_own(gazetteer, system, munition):
    same_kind = [m for m in system.munitions if m.kind == munition.kind]
    nth = same_kind.index(munition) + 1
    ring = resolve_ring("Minsk", gazetteer, CATALOGUE, system=system.id, munition=f"{munition.kind}~{nth}")
    assert ring.radius_km == munition.range_km and ring.source == munition.source
    assert munition.name in ring.label  # the label says whose figure it is ("… (per The Times), 77 km …")
    spec = from_query(f"?v=1&ring={system.id}:{munition.kind}~{nth}@Minsk").state.rings[0]
    assert spec.munition == f"{munition.kind}~{nth}"  # the choice survives a permalink


def test_every_system_and_munition_kind_is_an_option_of_the_map_pages_selector(store_path, gazetteer):
    from streamlit.testing.v1 import AppTest

    from dashboard.settings import PROJECT_DIR

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120).run()
    assert not at.exception
    box = next(b for b in at.selectbox if b.label == "System and munition")
    wanted = {f"{s.id}:{m.kind}" for s, m in ENTRIES}
    shown = set(box.options)
    for s, m in ENTRIES:  # AppTest lists the formatted labels: "Kinzhal — Kh-47M2 aeroballistic missile, 2,000 km"
        assert f"{s.name} — {m.name}, {m.range_km:,.0f} km" in shown  # every entry, disagreeing ones too
    assert len(wanted) <= len(box.options)


# ------------------------------------------------------------------------------ aliases and geoparse

def test_names_aliases_and_designations_identify_one_system_each():
    owner: dict[str, str] = {}
    for system in CATALOGUE.systems:
        for name in {system.id, system.name, *system.aliases, *(m.designation for m in system.munitions)} - {""}:
            key = _key(name)
            assert owner.setdefault(key, system.id) == system.id, (name, owner[key], system.id)


def test_no_ordinary_word_identifies_a_system_alone():
    for system in CATALOGUE.systems:
        for name in (system.name, *system.aliases):
            assert name.casefold() not in AMBIGUOUS, (system.id, name)


FINDER = SystemFinder(CATALOGUE)


@pytest.mark.parametrize("system", CATALOGUE.systems, ids=[s.id for s in CATALOGUE.systems])
def test_the_geoparser_finds_every_alias_as_its_system(system):
    for name in (system.name, *system.aliases):
        text = f"Officials said a {name} was used in the attack."
        found = FINDER.find(text, split_sentences(text))
        assert [(f.text, f.system_id) for f in found] == [(name, system.id)], name


@pytest.mark.parametrize("text", [
    "A tornado hit the town; Neptune and Taurus were bright in the sky.",
    "The storm passed and hail (grad in Russian) fell.",
    "A paper in The Lancet on drones and storms.",
])
def test_ordinary_words_are_not_taken_for_catalogue_systems(text):
    found = FINDER.find(text, split_sentences(text))
    assert all(f.system_id == "" for f in found), [(f.text, f.system_id) for f in found]


def test_a_minimum_range_is_cited_like_the_range():
    """Only where a source states one: BM-30 Smerch's TASS dispatch says "20-70 km"."""
    with_minimum = [(s, m) for s, m in ENTRIES if m.min_range_km]
    assert [(s.id, m.min_range_km) for s, m in with_minimum] == [("bm-30-smerch", 20)]
    for system, munition in with_minimum:
        raw = RAW_ENTRIES[(system.id, munition.name)]
        src = munition.min_source
        assert raw["min_range_text"] in src.quote and min(_numbers(raw["min_range_text"])) == munition.min_range_km
        assert src.url.startswith("http") and raw["min_range_note"].strip()


def test_a_minimum_range_text_that_is_not_in_the_quote_is_rejected(tmp_path):
    data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    entry = next(m for s in data["systems"] if s["id"] == "bm-30-smerch" for m in s["munitions"])
    entry["min_range_text"] = "15-70 km"
    path = tmp_path / "systems.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError, match="min_range_text"):
        load_catalogue(path, story_dir=tmp_path)
