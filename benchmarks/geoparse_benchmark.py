"""How well and how fast the geoparser finds places: precision, recall, F1 and time per article.

    python benchmarks/geoparse_benchmark.py                 # dev and held-out scores, baseline, speed
    python benchmarks/geoparse_benchmark.py --split dev --errors   # list every miss and false alarm

The evaluation set is tests/data/geoparse/passages.txt (see the README next to it). A predicted mention
counts when its span overlaps a gold span and it resolves to the gold place: a country by ISO2, a border by
its pair of countries, anything else by a point within 161 km (100 miles) of the gold GeoNames point.
Speed target: a 1,000-word article in <= 300 ms once warm (median of 20 runs).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.gazetteer import Gazetteer  # noqa: E402
from dashboard.geodesy import distance_bearing  # noqa: E402

PASSAGES = ROOT / "tests" / "data" / "geoparse" / "passages.txt"
MAX_KM = 161.0
SPEED_TARGET_MS = 300.0
SPEED_WORDS = 1000
_MARK = re.compile(r"\[\[([^|\]]+)\|([^\]]+)\]\]")


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    text: str
    ref: str          # "710071", "R710735", "UA", "BY-UA" or "-" (not scored)

    @property
    def kind(self) -> str:
        if self.ref == "-":
            return "ignore"
        if re.fullmatch(r"[A-Z]{2}-[A-Z]{2}", self.ref):
            return "border"
        if re.fullmatch(r"[A-Z]{2}", self.ref):
            return "country"
        return "region" if self.ref.startswith("R") else "place"

    @property
    def geonameid(self) -> int | None:
        return int(self.ref.lstrip("R")) if self.kind in ("place", "region") else None


@dataclass(frozen=True)
class Passage:
    id: str
    split: str
    published: date
    text: str
    gold: tuple[Gold, ...]


def load_passages(path: Path = PASSAGES) -> list[Passage]:
    """The passages with the markup removed and gold spans at their offsets in the plain text."""
    passages = []
    blocks = re.split(r"^=== ", Path(path).read_text(encoding="utf-8"), flags=re.M)[1:]
    for block in blocks:
        head, _, body = block.partition("\n")
        pid, split, published = (part.strip() for part in head.split("|"))
        body = body.strip()
        text, gold, pos = [], [], 0
        length = 0
        for m in _MARK.finditer(body):
            text.append(body[pos:m.start()])
            length += m.start() - pos
            surface, ref = m.group(1), m.group(2)
            gold.append(Gold(length, length + len(surface), surface, ref))
            text.append(surface)
            length += len(surface)
            pos = m.end()
        text.append(body[pos:])
        plain = "".join(text)
        assert all(plain[g.start:g.end] == g.text for g in gold)
        passages.append(Passage(pid, split, date.fromisoformat(published), plain, tuple(gold)))
    return passages


def check_gold(passages: list[Passage], gazetteer: Gazetteer) -> list[str]:
    """Problems with the gold references: ids the gazetteer lacks, unknown countries or borders."""
    problems = []
    seen: set[str] = set()
    for p in passages:
        for g in p.gold:
            if g.ref in seen:
                continue
            seen.add(g.ref)
            if g.kind in ("place", "region") and gazetteer.get(g.geonameid) is None:
                problems.append(f"{p.id}: {g.text!r} → GeoNames {g.geonameid} is not in the gazetteer")
            elif g.kind == "country":
                try:
                    gazetteer.country(g.ref)
                except Exception as exc:  # noqa: BLE001 - reported, not raised
                    problems.append(f"{p.id}: {g.text!r} → {exc}")
            elif g.kind == "border":
                try:
                    gazetteer.border(*g.ref.split("-"))
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"{p.id}: {g.text!r} → {exc}")
    return problems


# ------------------------------------------------------------------------------------------- scoring

@dataclass(frozen=True)
class Predicted:
    start: int
    end: int
    text: str
    kind: str
    iso2: str | None
    key: str
    lon: float
    lat: float


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def correct(pred: Predicted, gold: Gold, gazetteer: Gazetteer) -> bool:
    if gold.kind == "country":
        return pred.kind == "country" and pred.iso2 == gold.ref
    if gold.kind == "border":
        return pred.key == f"border:{gold.ref}"
    if pred.kind in ("country", "border"):
        return False
    ref = gazetteer.get(gold.geonameid)
    return distance_bearing((pred.lon, pred.lat), (ref.lon, ref.lat))[0] <= MAX_KM


def score_passage(passage: Passage, predicted: list[Predicted], gazetteer: Gazetteer,
                  errors: list[str] | None = None) -> Score:
    score = Score()
    used: set[int] = set()
    overlaps = lambda p, g: p.start < g.end and g.start < p.end  # noqa: E731
    for g in passage.gold:
        if g.kind == "ignore":
            continue
        hits = [i for i, p in enumerate(predicted) if i not in used and overlaps(p, g)]
        good = [i for i in hits if correct(predicted[i], g, gazetteer)]
        if good:
            score.tp += 1
            used.add(good[0])
        else:
            score.fn += 1
            if hits:
                used.add(hits[0])
                score.fp += 1
            if errors is not None:
                got = f"{predicted[hits[0]].key} ({predicted[hits[0]].text!r})" if hits else "nothing"
                errors.append(f"{passage.id} MISS  {g.text!r} gold {g.ref}, got {got}")
    ignored = [g for g in passage.gold if g.kind == "ignore"]
    for i, p in enumerate(predicted):
        if i in used or any(overlaps(p, g) for g in ignored):
            continue
        score.fp += 1
        if errors is not None:
            errors.append(f"{passage.id} FALSE {p.text!r} → {p.key}")
    return score


# ------------------------------------------------------------------------------------------ systems

def geoparser_predict(parser):
    def predict(passage: Passage) -> list[Predicted]:
        result = parser.parse(passage.text, passage.published)
        return [Predicted(m.start, m.end, m.mention, m.kind, m.iso2, m.key, m.lon, m.lat) for m in result.places]
    return predict


def baseline_predict(gazetteer: Gazetteer):
    """The issue's baseline without its model: capitalised spans, most populous exact-name match, no context."""
    words = re.compile(r"\w+(?:[-'’]\w+)*")

    def predict(passage: Passage) -> list[Predicted]:
        text = passage.text
        toks = [m for m in words.finditer(text)]
        out: list[Predicted] = []
        i = 0
        while i < len(toks):
            if not toks[i].group(0)[:1].isupper():
                i += 1
                continue
            j = i + 1
            while j < len(toks) and toks[j].group(0)[:1].isupper() and text[toks[j - 1].end():toks[j].start()] == " ":
                j += 1
            k = i
            while k < j:
                for e in range(min(j, k + 4), k, -1):
                    surface = text[toks[k].start():toks[e - 1].end()]
                    found = gazetteer.lookup(surface, limit=50)
                    if found:
                        countries = [c for c in found if c.kind == "country"]
                        best = countries[0] if countries else max(found, key=lambda c: c.population or 0)
                        out.append(Predicted(toks[k].start(), toks[e - 1].end(), surface, best.kind, best.country,
                                             best.key, best.lon, best.lat))
                        k = e
                        break
                else:
                    k += 1
            i = j
        return out
    return predict


def evaluate(passages: list[Passage], predict, gazetteer: Gazetteer, errors: list[str] | None = None) -> Score:
    total = Score()
    for p in passages:
        total.add(score_passage(p, predict(p), gazetteer, errors))
    return total


def article_of(passages: list[Passage], words: int = SPEED_WORDS) -> str:
    """A news article of exactly `words` words, made of the passages one after another."""
    out: list[str] = []
    count = 0
    while count < words:
        for p in passages:
            for paragraph_word in p.text.split():
                out.append(paragraph_word)
                count += 1
                if count == words:
                    return " ".join(out)
    return " ".join(out)


def speed(parser, passages: list[Passage], runs: int = 20, cold_cache: bool = False) -> float:
    """Median milliseconds to parse a 1,000-word article once warm."""
    text = article_of(passages)
    parser.parse(text, date(2022, 6, 25))
    times = []
    for _ in range(runs):
        if cold_cache:
            parser.clear_cache()
        t0 = time.perf_counter()
        parser.parse(text, date(2022, 6, 25))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    from dashboard.geoparse import Geoparser
    from dashboard.ingest.catalogue import load_catalogue

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--errors", action="store_true", help="list every miss and false alarm")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--story-places", action="store_true",
                    help="add the stories' places to the gazetteer first, as the app does")
    args = ap.parse_args(argv)

    if args.story_places:
        from dashboard.ingest import open_gazetteer
        gazetteer = open_gazetteer()
    else:
        gazetteer = Gazetteer.open()
    passages = load_passages()
    problems = check_gold(passages, gazetteer)
    if problems:
        print("Gold problems:\n  " + "\n  ".join(problems))
        return 1
    t0 = time.perf_counter()
    parser = Geoparser(gazetteer, load_catalogue())
    warmup_s = time.perf_counter() - t0
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    gold_n = {s: sum(1 for p in passages if p.split == s for g in p.gold if g.kind != "ignore") for s in splits}
    print(f"{len(passages)} passages, gold mentions: " + ", ".join(f"{s} {n}" for s, n in gold_n.items()))
    print(f"{'system':<34}{'split':<9}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>5}{'FN':>5}")
    for name, predict in (("geoparser (rules + gazetteer)", geoparser_predict(parser)),
                          ("baseline (most populous match)", baseline_predict(gazetteer))):
        for split in splits:
            chosen = [p for p in passages if p.split == split]
            errors: list[str] | None = [] if args.errors and name.startswith("geoparser") else None
            s = evaluate(chosen, predict, gazetteer, errors)
            print(f"{name:<34}{split:<9}{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.tp:6d}{s.fp:5d}{s.fn:5d}")
            if errors:
                print("    " + "\n    ".join(errors))
    if not args.no_speed:
        print(f"warm-up (Geoparser construction): {warmup_s * 1000:.0f} ms")
        warm = speed(parser, passages)
        cold = speed(parser, passages, cold_cache=True)
        print(f"1,000-word article, median of 20: {warm:.0f} ms warm, {cold:.0f} ms with the lookup cache "
              f"emptied before each run (target {SPEED_TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
