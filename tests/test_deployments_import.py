"""Deployments imported from a file: checked row by row, kept in the data folder, offered by the catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.ingest.deployments import read_deployments, save_deployments

HEADER = ("system,origin,reach,from,until,approximate,title,source_title,source_publisher,source_url,"
          "source_published,quote,note\n")
GOOD = ('iskander-m,Minsk,0,2023-03-01,,1,Iskander-M near Minsk,A report,An agency,https://example.org/a,'
        '2023-03-02,"The systems are on duty near Minsk, the ministry said.",From the report\'s month.\n')


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_the_cli_imports_a_csv_of_deployments_and_the_catalogue_offers_them(data_dir, tmp_path):
    file = tmp_path / "minsk.csv"
    file.write_text(HEADER + GOOD, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dashboard", "import", str(file), "--format", "deployments"],
                          cwd=settings.PROJECT_DIR, env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 deployment(s) saved" in done.stdout
    found = {d.id: d for d in load_catalogue().deployments}
    minsk = found["minsk-line-2"]
    assert (minsk.system, minsk.origin, minsk.reach, minsk.valid.label) == ("iskander-m", "Minsk", False,
                                                                            "from 1 Mar 2023 (approximate)")
    assert minsk.valid.source.quote.startswith("The systems are on duty") and minsk.title == "Iskander-M near Minsk"
    assert "iskander-m-belarus-2022" in found  # the story's stays
    assert catalogue_match(minsk)


def catalogue_match(d) -> bool:
    return load_catalogue().deployment(d.system, d.origin, d.valid.start, d.valid.end) == d


@pytest.mark.parametrize("row, words", [
    (GOOD.replace("iskander-m,", "no-such-system,", 1), "no-such-system"),
    (GOOD.replace(",2023-03-01,", ",2023-3-1,", 1), "YYYY-MM-DD"),
    (GOOD.replace(",0,2023", ",maybe,2023", 1), "1 or 0"),
    (GOOD.replace('"The systems are on duty near Minsk, the ministry said."', '""'), "quote is empty"),
    (GOOD.replace(",2023-03-01,,", ",2023-03-01,2022-01-01,", 1), "before"),
])
def test_a_bad_row_refuses_the_file_with_its_line_and_nothing_is_saved(data_dir, tmp_path, row, words):
    file = tmp_path / "bad.csv"
    file.write_text(HEADER + GOOD + row, encoding="utf-8")
    with pytest.raises(DashboardError, match=words) as caught:
        read_deployments(file, load_catalogue())
    assert "line 3" in str(caught.value) or "line-3" in str(caught.value)
    assert not settings.deployments_dir().exists()


def test_a_json_file_in_the_story_files_shape_round_trips(data_dir, tmp_path):
    story = json.loads((settings.story_dir() / "iskander-belarus-2022.json").read_text(encoding="utf-8"))
    file = tmp_path / "from-story.json"
    file.write_text(json.dumps({"sources": story["sources"], "deployments": story["deployments"]}), encoding="utf-8")
    found = read_deployments(file, load_catalogue())
    saved = save_deployments(found, settings.deployments_dir(), "from-story")
    again = read_deployments(saved, load_catalogue())
    assert [d.valid for d in again] == [d.valid for d in found] and again[0].reach


def test_a_file_that_is_not_deployments_says_what_it_needs(data_dir, tmp_path):
    file = tmp_path / "events.csv"
    file.write_text("title,lat,lon\nA,1,2\n", encoding="utf-8")
    with pytest.raises(DashboardError, match="no column system"):
        read_deployments(file, load_catalogue())
    file = tmp_path / "x.json"
    file.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DashboardError, match="as in a story file"):
        read_deployments(file, load_catalogue())
