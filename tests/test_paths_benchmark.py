"""The paths benchmark's table: ratios from the same run, and a row without a baseline says so."""

from __future__ import annotations

from datetime import datetime, timezone

from benchmarks.scale.paths import Row, Step, markdown


def test_the_table_has_one_line_per_row_and_ratios_of_wall_time():
    rows = [Row("import", 100_000, Step(8.0, 9.5, 820), "read_csv + GeoDataFrame.to_file (GPKG)", Step(4.0, 4.1, 600)),
            Row("export png", 100_000, Step(3.2, 3.5, 280), note="1.0 MB")]
    text = markdown(rows, "python -m benchmarks.scale.paths --sizes 100000", datetime(2026, 1, 1, tzinfo=timezone.utc))
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(rows)  # the header, then the rows
    assert "| import | 100,000 | 8.00 | 9.50 | 820 | read_csv + GeoDataFrame.to_file (GPKG) | 4.00 | 4.10 | 600 | 2.00× |" \
        in text
    assert "| export png | 100,000 | 3.20 | 3.50 | 280 | — | — | — | — | — | 1.0 MB |" in text
