"""Mutated permalinks through `from_query`, the export path of the CLI (in-process and as a real process).

Seeded (random.Random(42)) and bounded in time. The seeds are the README's and DESIGN's example links; the
mutations put hostile values in every field: huge, negative, tiny and non-finite numbers, unicode and
control characters, repeated keys, very long values, broken escapes and the payloads of the security
suites. Every link must decode without an exception into a state the widgets can show, with one sentence
per problem; exporting it must end in a file or in sentences, never in a traceback or a hang.
"""

from __future__ import annotations

import math
import random
import re
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from dashboard import settings, share
from dashboard.errors import DashboardError
from dashboard.share import from_query, to_query
from tests.security.payloads import LONG_CELL, PAYLOADS

ROOT = Path(__file__).resolve().parents[2]
# Time is CPU time of this process (and of the child for the subprocess runs): on a shared machine the wall
# clock says more about the neighbours than about Reachmap, and a hang in our code is CPU spent.
CASES = 2_400
MINIMUM = 2_000
DECODE_TIME_LIMIT_S = 30.0  # decoding takes ~2 ms a link; the limit only stops a runaway
EXPORT_CASES = 60           # in-process exports of the links whose rings and filters cost the most
EXPORT_TIME_LIMIT_S = 35.0  # stop early on a slow machine; EXPORT_MINIMUM must still be reached
EXPORT_MINIMUM = 25
CALL_LIMIT_S = 10.0         # one export, in-process (about 2 s for the dearest envelope a link may ask for)
PROCESS_CPU_LIMIT_S = 20    # one `python -m dashboard export`, start-up included (~2 s of it)
PROCESS_WALL_LIMIT_S = 300  # only a backstop: the machine may be shared with a dozen test runs
SYSTEMS = frozenset({"iskander-m", "su-25"})

# Values for any field: numbers at and past every bound, text that is not what a field expects.
NUMBERS = ["nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "1e309", "-1e309", "1e308", "1e-308", "1e-300",
           "0", "-0", "0.0", "0.004", "0.005", "0.01", "-1", "-500", "19950", "19950.004", "19950.01", "19999.9",
           "20000", "20003.93", "40075", "1e6", "9" * 400, "0x10", "1_000", "١٢٣", "５００", "5km", "5 km",
           " 500 ", "500.", ".5", "+500", "5e2", "1e", "e5", "--5", "5,5", "½"]
DATES = ["0001-01-01", "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "9999-12-31", "2022-02-30",
         "-2022-01-01", "2022-06-01/2021-01-01", "20220601", "2022-6-1", "２０２２-０６-０１", "2022-06-01T00:00"]
TEXTS = ["", " ", "%", "%ZZ", "%E2%82", "%00", "%0A%0D", "\u202eevil", "\u0000", "a\u0007b\u001b[31m",
         "😀" * 50, "Чернігів", "e\u0301" * 30, "\ufeff", "\ud800", "x" * 10_000, "&", "=", "#frag", "?", "@",
         ":", ";", ",", "BY-UA", "AQ", "RU", "0,0", "90,180", "-90,-180", "91,0", "nan,nan", "1e400,5"]
SEED_FALLBACK = "?v=1&from=2022-06-01&to=2022-06-30&country=UA,BY&near=Chernihiv:100&ring=iskander-m@Minsk" \
                "&reach=iskander-m@BY&c=52.1,29.3&z=6"


def seeds() -> list[str]:
    """The example permalinks of the README and DESIGN.md (and the story's, if those are not found)."""
    found = []
    for path in (ROOT / "README.md", ROOT.parent / "shared" / "DESIGN.md"):
        if path.exists():
            found += re.findall(r"\?v=1&[^\s\"'`)]+", path.read_text(encoding="utf-8"))
    return list(dict.fromkeys(found + [SEED_FALLBACK]))


def _pairs(query: str) -> list[list[str]]:
    return [p.split("=", 1) if "=" in p else [p, ""] for p in query.lstrip("?").split("&") if p]


def _join(pairs: list[list[str]]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in pairs)


def _enc(text: str) -> str:
    return quote(text, safe=",:@;", errors="replace") if not text.startswith("%") else text


def _hostile(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(NUMBERS)
    if kind < 0.45:
        return rng.choice(DATES)
    if kind < 0.7:
        return _enc(rng.choice(TEXTS))
    if kind < 0.95:
        return _enc(rng.choice(PAYLOADS))
    return _enc(LONG_CELL[:rng.choice((1_000, 100_000, 1_000_000))])


def _ring_value(rng: random.Random) -> str:
    head = rng.choice(NUMBERS + ["iskander-m", "iskander-m:cruise", "su-25", "nosuch", "ISKANDER-M", ":", ""])
    origin = rng.choice(["Minsk", "BY", "BY-UA", "RU", "AQ", "CA", "US", "0,0", "53.9,27.57", "-89.9,0", "90,0",
                         "0,180", "nan,0", "91,0", "Xyzzyqq", "by-ua", "UA-RU", "", "@", "Minsk@BY"])
    return f"{head}@{_enc(origin)}"


def mutate(rng: random.Random, seed: str) -> str:
    """One to three mutations of a seed link."""
    pairs = _pairs(seed)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(12)
        if op == 0 and pairs:       # a hostile value in an existing field
            rng.choice(pairs)[1] = _hostile(rng)
        elif op == 1:               # a hostile value in any known (or reserved) field
            pairs.append([rng.choice(share.KEYS + share.RESERVED), _hostile(rng)])
        elif op == 2:               # a hostile ring or reach
            pairs.append([rng.choice(("ring", "reach")), _ring_value(rng)])
        elif op == 3 and pairs:     # the same key many times
            key, value = rng.choice(pairs)
            pairs += [[key, value if rng.random() < 0.5 else _hostile(rng)] for _ in range(rng.choice((2, 13, 500)))]
        elif op == 4:               # a numeric field past its bounds
            key = rng.choice(("z", "c", "near", "area", "v", "from", "to"))
            number = rng.choice(NUMBERS)
            value = {"c": f"{number},{rng.choice(NUMBERS)}", "near": f"Chernihiv:{number}",
                     "area": ";".join(f"{rng.choice(NUMBERS)} {rng.choice(NUMBERS)}" for _ in range(3))}
            pairs.append([key, value.get(key, number)])
        elif op == 5:               # a list field with thousands of items
            key = rng.choice(("country", "admin", "type", "actor", "layers", "area"))
            sep = {"country": ",", "layers": ",", "area": ";"}.get(key)
            items = [rng.choice(("UA", "by", "x", "events", "30 50", "😀", "")) for _ in range(rng.choice((300, 3000)))]
            pairs += [[key, sep.join(items)]] if sep else [[key, i] for i in items]
        elif op == 6 and pairs:     # a key mangled
            pair = rng.choice(pairs)
            pair[0] = rng.choice((pair[0].upper(), pair[0] + " ", "", "%00", pair[0] * 3, _enc("ключ")))
        elif op == 7:               # the string truncated anywhere
            text = _join(pairs)
            return text[:rng.randrange(len(text) + 1)]
        elif op == 8 and pairs:     # a character of the structure removed or doubled
            text = _join(pairs)
            at = rng.randrange(len(text))
            return text[:at] + rng.choice(("", text[at] * 2, "&", "=", "%", "#", "?")) + text[at + 1:]
        elif op == 9:               # as a whole URL, or with a fragment
            return rng.choice(("http://localhost:8501/", "https://x.org/page?", "")) + _join(pairs) + \
                rng.choice(("", "#c=1,1", "#", "?"))
        elif op == 10:              # a control character or payload spliced into a value
            if pairs:
                pair = rng.choice(pairs)
                at = rng.randrange(len(pair[1]) + 1)
                pair[1] = pair[1][:at] + _enc(rng.choice(TEXTS + PAYLOADS[:20])) + pair[1][at:]
        elif op == 11:              # a date far from today
            pairs.append([rng.choice(("from", "to")), rng.choice(DATES)])
    return _join(pairs)


def fuzzed(count: int) -> list[str]:
    rng = random.Random(42)
    base = seeds()
    return [mutate(rng, rng.choice(base)) for _ in range(count)]


def _one_sentence(text: str) -> bool:
    return (isinstance(text, str) and 0 < len(text) <= 500 and text[0].isupper()
            and text.endswith((".", "?", "!")) and text.isprintable())


def _shows(state: share.ViewState) -> list[str]:
    """What in a decoded state no widget could show (empty when every field is within its widget's bounds)."""
    wrong = []
    for day in (state.start, state.end):
        if day is not None and not share.EARLIEST <= day <= share.LATEST:
            wrong.append(f"date {day}")
    if state.start and state.end and state.end < state.start:
        wrong.append("end before start")
    kms = [r.km for r in state.rings if r.km is not None] + ([state.near_km] if state.near_km is not None else [])
    wrong += [f"km {km}" for km in kms if not (math.isfinite(km) and share.MIN_KM <= km <= share.MAX_KM)]
    if state.center is not None:
        lat, lon = state.center
        if not (abs(lat) <= share.MAX_LAT_CENTER and abs(lon) <= 180):
            wrong.append(f"centre {state.center}")
    if state.zoom is not None and not 0 <= state.zoom <= 18:
        wrong.append(f"zoom {state.zoom}")
    if len(state.text) > share.MAX_TEXT or len(state.rings) > share.MAX_RINGS:
        wrong.append("too long")
    if len(state.countries) > share.MAX_COUNTRIES or any(
            len(items) > share.MAX_ITEMS or any(len(i) > share.MAX_NAME for i in items)
            for items in (state.admins, state.types, state.actors)):
        wrong.append("too many items")
    if not 3 <= len(state.area) <= share.MAX_AREA_POINTS and state.area:
        wrong.append("area")
    if state.base not in share.BASES or any(x not in share.LAYERS for x in state.layers):
        wrong.append("base or layers")
    return wrong


def test_the_seeds_are_the_documented_permalinks():
    assert len(seeds()) >= 2 and all(from_query(s, SYSTEMS).problems == () for s in seeds())


def test_thousands_of_mutated_permalinks_decode_into_states_the_widgets_can_show():
    links = fuzzed(CASES)
    started, done, problems_seen = time.process_time(), 0, 0
    for query in links:
        try:
            decoded = from_query(query, SYSTEMS)
        except Exception as exc:  # noqa: BLE001 - the point of the test: nothing may escape
            pytest.fail(f"from_query raised {exc!r} for {query[:300]!r}")
        bad = [p for p in decoded.problems if not _one_sentence(p)]
        assert not bad, (query[:300], bad)
        assert len(decoded.problems) <= share.MAX_PROBLEMS, query[:300]
        assert not _shows(decoded.state), (query[:300], _shows(decoded.state))
        again = from_query(to_query(decoded.state), SYSTEMS)  # what it kept is a canonical, valid link
        assert again.problems == () and again.state == decoded.state, query[:300]
        done += 1
        problems_seen += bool(decoded.problems)
        if time.process_time() - started > DECODE_TIME_LIMIT_S:
            break
    assert done >= MINIMUM, f"only {done} links decoded in {DECODE_TIME_LIMIT_S} s"
    assert problems_seen > done / 2  # the mutations do reach the fields


# ---------------------------------------------------------------------------------------- the CLI's path

@contextmanager
def _cpu_deadline(seconds: float, what: str):
    """Raise TimeoutError in the block once this process has spent `seconds` of CPU time in it."""
    def alarm(signum, frame):
        raise TimeoutError(f"{what} took more than {seconds} s of CPU time")

    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _dearest(count: int) -> list[str]:
    """Mutated links with rings, reaches and distance filters first: the ones whose cost could run away."""
    rng = random.Random(42)
    rings = [q for q in fuzzed(CASES) if re.search(r"(ring|reach|near)=", q)]
    worst = ["?ring=10000@AQ", "?reach=10000@AQ", "?near=Chernihiv:nan", "?ring=19999.9@0,0", "?reach=19999@RU",
             "?reach=1@RU", "?reach=19950@RU", "?reach=5000@RU&reach=5001@RU&reach=5002@RU",
             "?ring=19950@0,0&ring=19950@90,0&ring=0.01@-90,0", "?near=RU:19950", "?reach=0.01@BY-UA",
             "?from=0001-01-01&to=9999-12-31", "?" + "&".join(f"reach={500 + i}@CA" for i in range(12))]
    return worst + rng.sample(rings, min(len(rings), count - len(worst)))


def test_mutated_permalinks_export_through_the_cli_path_or_say_why(store_path, gazetteer):
    """What `python -m dashboard export QUERY --format geojson` does, in-process (see dashboard/cli.py)."""
    from dashboard import export
    from dashboard.ingest import open_store
    from dashboard.ingest.catalogue import load_catalogue
    from dashboard.scene import build_scene

    catalogue = load_catalogue()
    known = {s.id for s in catalogue.systems}
    with open_store(gazetteer=gazetteer) as store:
        events = store.events()
    started, done, slowest = time.process_time(), 0, (0.0, "")
    for query in _dearest(EXPORT_CASES):
        t0 = time.process_time()
        try:
            with _cpu_deadline(CALL_LIMIT_S, f"export of {query[:200]!r}"):
                decoded = from_query(query, known)
                scene = build_scene(decoded.state, events, gazetteer, catalogue)
                data = export.export(scene, None, "geojson")
        except DashboardError as exc:  # what the CLI prints as "error: …" with status 2
            assert _one_sentence(str(exc)[0].upper() + str(exc)[1:] + ("" if str(exc).endswith(".") else ".")), exc
        else:
            assert data.startswith(b"{") and all(_one_sentence(p) for p in scene.problems), (query, scene.problems)
        took = time.process_time() - t0
        slowest = max(slowest, (took, query[:120]))
        done += 1
        if time.process_time() - started > EXPORT_TIME_LIMIT_S:
            break
    print(f"{done} exports in {time.process_time() - started:.1f} s CPU; slowest {slowest[0]:.1f} s: {slowest[1]}")
    assert done >= EXPORT_MINIMUM, f"only {done} exports in {EXPORT_TIME_LIMIT_S} s (slowest: {slowest})"


PROCESS_LINKS = ["?ring=10000@AQ", "?near=Chernihiv:nan", "?ring=19999.9@0,0", "?reach=19999@RU", "?reach=1@RU",
                 "?from=0001-01-01&ring=" + quote("${alert(1)}") + "@Minsk&z=nan",
                 "?v=1&q=" + quote("ssti<{{ 7*7 }}>end\x00\u202e") + "&c=91,0&" + "&".join(["type=x"] * 50)]


@pytest.mark.parametrize("query", PROCESS_LINKS, ids=lambda q: q[:30])
def test_python_m_dashboard_export_answers_in_sentences(store_path, query):
    def limit_cpu():  # the kernel stops a child that computes for longer (SIGXCPU, a negative status)
        resource.setrlimit(resource.RLIMIT_CPU, (PROCESS_CPU_LIMIT_S, PROCESS_CPU_LIMIT_S + 5))

    proc = subprocess.run([sys.executable, "-m", "dashboard", "export", query, "--format", "geojson", "-o", "-"],
                          cwd=settings.PROJECT_DIR, capture_output=True, timeout=PROCESS_WALL_LIMIT_S,
                          preexec_fn=limit_cpu)
    err = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode in (0, 2), (proc.returncode, err)
    assert "Traceback" not in err and "Error:" not in err.replace("error:", ""), err
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), err
    assert all(_one_sentence(line.split(": ", 1)[1][:1].upper() + line.split(": ", 1)[1][1:]) for line in lines), err
    if proc.returncode == 0:
        assert proc.stdout.startswith(b'{"type": "FeatureCollection"') or proc.stdout.startswith(b"{"), proc.stdout[:200]
