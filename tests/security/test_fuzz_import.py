"""Malformed files through `import_file` into a real GeoPackage store: seeded, bounded in time.

Mutations of the import fixtures (CSV, ACLED, xlsx, GeoJSON, KML, KMZ): truncation, byte flips, inserted
and deleted bytes, header damage, huge fields, other encodings, broken ZIP parts and directories. Every
outcome must be a report or one of the project's DashboardErrors with a one-line message; after every
import that stored nothing, the store holds exactly the events it held before.
"""

from __future__ import annotations

import io
import random
import time
import traceback
import zipfile
from pathlib import Path

import pytest

from dashboard.errors import DashboardError
from dashboard.ingest.importer import import_file
from dashboard.store import GeoPackageStore

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
CASES = 1_100
MINIMUM = 1_000
TIME_LIMIT_S = 120.0  # a safety stop for a loaded machine (35-60 s is usual); MINIMUM must still be reached


def _kmz() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", (DATA / "placemarks.kml").read_bytes())
    return buf.getvalue()


def _seeds() -> dict[str, bytes]:
    names = ["acled_current.csv", "acled_legacy.csv", "acled_resaved.csv", "generic_lat_lon.csv",
             "generic_y_x.csv", "generic_x_long.csv", "ambiguous_dates.csv", "events.xlsx", "features.geojson",
             "placemarks.kml"]
    seeds = {n: (DATA / n).read_bytes() for n in names}
    seeds["placemarks.kmz"] = _kmz()
    return seeds


# ---------------------------------------------------------------------------------------- mutations

def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(1, max(2, len(data)))]


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    junk = rng.choice([b'"', b",", b"\n", b"\r", b"\x00", b"{", b"[", b"<", b"]]>", b"&amp", b"\xff\xfe", b";",
                       rng.randbytes(rng.randint(1, 16))]) * rng.randint(1, 20)
    return data[:at] + junk + data[at:]


def delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 200):]


def header_damage(rng: random.Random, data: bytes) -> bytes:
    first, _, rest = data.partition(b"\n")
    choice = rng.randrange(5)
    if choice == 0:
        return rest  # no header
    if choice == 1:
        return first + b"\n" + first + b"\n" + rest  # the header twice
    if choice == 2:
        return first.replace(b",", b";", rng.randint(1, 5)) + b"\n" + rest  # mixed delimiters
    if choice == 3:
        return first.upper().replace(b"LAT", b"LA T") + b"\n" + rest
    return b",".join([first] + [b"extra%d" % i for i in range(rng.randint(1, 1_500))]) + b"\n" + rest


def huge_field(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    fill = rng.choice([b"A", b'"', b"9", b"\xe2\x80\xae", b"[", b"<x>"]) * rng.choice([1_000, 50_000, 150_000])
    return data[:at] + fill + data[at:]


def encoding(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", errors="replace")
    choice = rng.randrange(4)
    if choice == 0:
        return text.encode("utf-16")
    if choice == 1:
        return text.encode("utf-16-le")  # no BOM
    if choice == 2:
        return text.replace("a", "é").encode("latin-1", errors="replace")
    return b"\xef\xbb\xbf" + b"\xef\xbb\xbf" + data  # two BOMs


def zip_damage(rng: random.Random, data: bytes) -> bytes:
    """A broken archive: its bytes, its directory, or one part's XML."""
    choice = rng.randrange(4)
    if choice == 0:
        return flip(rng, data)
    if choice == 1:
        return truncate(rng, data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = {n: archive.read(n) for n in archive.namelist()}
    except zipfile.BadZipFile:
        return flip(rng, data)
    name = rng.choice(sorted(parts))
    if choice == 2:
        parts[name] = rng.choice([truncate, flip, insert, delete, huge_field])(rng, parts[name] or b"<x/>")
    elif rng.random() < 0.5:
        del parts[name]
    else:
        parts[name] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", rng.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])) as archive:
        for part, content in parts.items():
            archive.writestr(part, content)
    return buf.getvalue()


TEXT_MUTATIONS = (truncate, flip, insert, delete, header_damage, huge_field, encoding)


def mutate(rng: random.Random, name: str, data: bytes) -> bytes:
    if name.endswith((".xlsx", ".kmz")):
        return zip_damage(rng, data)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        data = rng.choice(TEXT_MUTATIONS)(rng, data) or b"x"
    return data


# --------------------------------------------------------------------------------------------- the run

def test_malformed_files_never_raise_a_traceback_and_never_change_the_store_in_part(tmp_path, gazetteer):
    rng = random.Random(42)
    seeds = _seeds()
    names = sorted(seeds)
    failures: list[str] = []
    outcomes = {"stored": 0, "not stored": 0, "refused": 0}
    path = tmp_path / "fuzz.gpkg"
    started = time.monotonic()
    done = 0
    with GeoPackageStore.open(path) as store:
        import_file(DATA / "acled_current.csv", store, gazetteer)
        for done in range(1, CASES + 1):
            if time.monotonic() - started > TIME_LIMIT_S:
                done -= 1
                break
            name = rng.choice(names)
            data = mutate(rng, name, seeds[name])
            file = tmp_path / f"case{done % 20}{Path(name).suffix if rng.random() < 0.7 else '.txt'}"
            file.write_bytes(data)
            before = store.count()
            skip_bad = rng.random() < 0.3
            try:
                report = import_file(file, store, gazetteer, skip_bad=skip_bad)
            except DashboardError as exc:
                outcomes["refused"] += 1
                message = str(exc)
                if not message or "\n" in message or "Traceback" in message or len(message) > 1_000:
                    failures.append(f"case {done} ({name}): not one sentence: {message[:300]!r}")
                if store.count() != before:
                    failures.append(f"case {done} ({name}): refused, yet the count went {before} → {store.count()}")
                continue
            except Exception:  # noqa: BLE001 - the point of the test: name every traceback
                failures.append(f"case {done} ({name}): {traceback.format_exc(limit=-3)}")
                continue
            outcomes["stored" if report.stored else "not stored"] += 1
            if not report.stored and store.count() != before:
                failures.append(f"case {done} ({name}): nothing stored, yet the count went {before} → "
                                f"{store.count()}")
            if not skip_bad and report.rejected and report.stored:
                failures.append(f"case {done} ({name}): rows rejected without skip_bad, yet stored")
            for r in report.rejected:
                if not r.reason or "\n" in r.reason:
                    failures.append(f"case {done} ({name}): rejection reason not one line: {r.reason[:200]!r}")
    elapsed = time.monotonic() - started
    print(f"\nfuzzed {done} files in {elapsed:.1f} s: {outcomes}")
    assert not failures, f"{len(failures)} of {done} cases failed:\n" + "\n".join(failures[:20])
    assert done >= MINIMUM, f"only {done} cases in {TIME_LIMIT_S} s"
    assert outcomes["refused"] > 100 and outcomes["stored"] + outcomes["not stored"] > 100  # both paths fuzzed


@pytest.mark.parametrize("name", sorted(_seeds()))
def test_the_unmutated_seeds_import(tmp_path, gazetteer, name):
    """The fuzz is only meaningful if its seeds are good files."""
    file = tmp_path / name
    file.write_bytes(_seeds()[name])
    with GeoPackageStore.open(tmp_path / "s.gpkg") as store:
        assert import_file(file, store, gazetteer, skip_bad=True).added > 0
