"""The real-news evaluation set: it parses, its references exist, its sources and split are as documented.

No test here asserts a score (issue 14): scores are measured by benchmarks/geoparse_benchmark.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from geoparse_benchmark import (  # noqa: E402
    KINDS, REAL_PASSAGES, check_gold, load_features, load_passages, ref_kind,
)


@pytest.fixture(scope="module")
def real():
    return load_passages(REAL_PASSAGES)


def test_real_set_parses_and_is_large_enough(real):
    assert len(real) >= 40
    assert len({p.id for p in real}) == len(real)
    assert sum(1 for p in real for g in p.gold if g.kind != "ignore") >= 150


def test_every_real_reference_exists(real, gazetteer):
    assert check_gold(real, gazetteer) == []


def test_every_passage_has_a_source_url_and_date(real):
    for p in real:
        assert re.match(r"https?://\S+$", p.source), p.id
        assert 2014 <= p.published.year <= 2025, p.id


def test_no_page_gives_more_than_two_passages(real):
    per_page: dict[str, int] = {}
    for p in real:
        per_page[p.source] = per_page.get(p.source, 0) + 1
    assert max(per_page.values()) <= 2


def test_split_is_the_documented_rule(real):
    pages: list[str] = []
    for p in real:
        if p.source not in pages:
            pages.append(p.source)
        k = pages.index(p.source) + 1
        assert p.split == ("heldout" if k % 5 in (2, 4) else "dev"), p.id
    held = sum(p.split == "heldout" for p in real) / len(real)
    assert 0.3 <= held <= 0.5


@pytest.mark.parametrize("ref, kind", [
    ("710071", "city"), ("R710735", "admin"), ("UA", "country"), ("BY-UA", "border"),
    ("F:black-sea", "physical"), ("F:sea-of-azov", "physical"), ("G:baltic-states", "region"),
    ("G:eastern-europe", "region"), ("C:europe", "continent"), ("-", "ignore"),
])
def test_reference_kinds(ref, kind):
    assert ref_kind(ref) == kind
    assert kind == "ignore" or kind in KINDS


@pytest.mark.parametrize("ref", ["F:", "X:europe", "F:Black Sea", "R", "ua"])
def test_malformed_references_are_refused(ref):
    with pytest.raises(ValueError, match="Unknown gold reference"):
        ref_kind(ref)


def test_feature_points_are_on_the_earth_and_used(real):
    points = load_features()
    for ref, (lon, lat) in points.items():
        assert ref_kind(ref) in ("physical", "region", "continent")
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    used = {g.ref for p in real for g in p.gold if g.kind in ("physical", "region", "continent")}
    assert used <= set(points)


def test_gold_spans_sit_on_their_text(real):
    for p in real:
        for g in p.gold:
            assert p.text[g.start:g.end] == g.text
            assert "[[" not in p.text and "]]" not in p.text
