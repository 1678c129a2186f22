"""The README's commands run as written on a fresh clone, and the upload limit it states is the app's one limit.

Every line of the README's code blocks (indented or fenced) is a command. Each is either run here, verbatim
through the shell, in a temporary folder with a fresh data folder (so the store is new and seeded, as on a
fresh clone), or listed in NOT_RUN with the reason; a command that is neither fails the test, so a new one
cannot go untried.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dashboard import settings
from dashboard.gazetteer import default_index_path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# Commands the test does not run, by their first words, and why.
NOT_RUN = {
    "pip install": "installs packages and then starts a server that runs until stopped (streamlit run)",
    "streamlit run": "starts a server that runs until stopped",
    "python -m pytest": "runs the test suite itself",
    "python benchmarks/": "a benchmark: minutes of CPU on a shared machine; its numbers are read by a person",
    "python -m benchmarks": "a benchmark: minutes of CPU on a shared machine; its numbers are read by a person",
}
# Commands run here: the CLI, alone or fed a file through a pipe.
RUN = re.compile(r"^(?:cat examples/\S+ \| )?python -m dashboard ")


def code_lines(text: str) -> list[str]:
    """The lines of the Markdown's code blocks: fenced ones, and indented ones outside lists."""
    lines, in_fence, previous = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif in_fence:
            lines.append(line.strip())
        elif line.startswith("    ") and line.strip() and (not previous.strip() or lines and previous == lines[-1]):
            # An indented block starts after a blank line and goes on line by line; a list item's continuation
            # line follows its item directly.
            lines.append(line.strip())
            previous = lines[-1]
            continue
        previous = line if line.strip() else ""
    return [line for line in lines if line]


def commands(text: str) -> list[str]:
    """The code-block lines with any trailing `# comment` removed (the Speed block annotates its commands)."""
    found = []
    for line in code_lines(text):
        command = re.sub(r"(?:^|\s+)#.*$", "", line)  # a comment, or a comment's continuation line
        if command:
            found.append(command)
    return found


README_COMMANDS = commands(README.read_text(encoding="utf-8"))
TO_RUN = [c for c in README_COMMANDS if RUN.match(c)]


def test_every_readme_command_is_run_or_excluded_with_a_reason():
    unclassified = [c for c in README_COMMANDS if not RUN.match(c) and not any(c.startswith(p) for p in NOT_RUN)]
    assert not unclassified, f"README commands neither run by this test nor listed in NOT_RUN: {unclassified}"
    assert len(TO_RUN) >= 12, TO_RUN  # the parser still finds the CLI blocks


def test_code_block_parsing_on_a_sample():
    sample = ("Intro\n\n    python -m dashboard a\n    python -m dashboard b   # note\n      # more note\n\n- item\n"
              "    continued prose\n\n```\ncat examples/x.txt | python -m dashboard c -\n```\n")
    assert commands(sample) == ["python -m dashboard a", "python -m dashboard b",
                                "cat examples/x.txt | python -m dashboard c -"]


@pytest.fixture
def fresh_clone(tmp_path, gazetteer) -> tuple[Path, dict[str, str]]:
    """A working folder that sees the checkout's examples/, and an environment whose data folder is new.

    The gazetteer index is shared (built once per machine by the `gazetteer` fixture): rebuilding it for each
    command would take about a minute and test nothing the README says.
    """
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REACHMAP_")
           or k in ("REACHMAP_CHROMIUM_PATH", "REACHMAP_REQUIRE_BROWSER")}
    env.update(REACHMAP_DATA_DIR=str(tmp_path / "data"),
               REACHMAP_GAZETTEER_INDEX=str(default_index_path().resolve()),
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return work, env


@pytest.mark.parametrize("command", TO_RUN)
def test_readme_command_runs(command, fresh_clone, request):
    work, env = fresh_clone
    words = shlex.split(command.split("|")[-1])  # the CLI's own arguments
    if option(words, "--format") == "png":
        request.getfixturevalue("chromium_path")  # skips, saying why, without a browser; fails under CI
    # Verbatim, except that `python` is this interpreter (the one whose packages the suite runs with).
    shell_command = re.sub(r"(^|\| )python -m ", lambda m: f"{m.group(1)}{shlex.quote(sys.executable)} -m ", command,
                           count=1)
    done = subprocess.run(shell_command, shell=True, cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stderr[-3000:]}"
    output = option(words, "-o")
    if output not in (None, "-"):
        written = work / output
        assert written.is_file() and written.stat().st_size > 0, f"{command} wrote no {output}"
    elif words[3] in ("ring", "reach", "geoparse") or "--json" in words:
        assert done.stdout.lstrip().startswith("{"), done.stdout[:200]


def option(words: list[str], name: str) -> str | None:
    """The value after `name` in a command's words, or None."""
    return words[words.index(name) + 1] if name in words[:-1] else None


def test_upload_limit_is_one_number():
    """Streamlit's upload limit (config.toml) and the import limit (settings) are the same 512 MB."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    default = next(s.default for s in settings.SETTINGS if s.name == "import_max_mb")
    assert config["server"]["maxUploadSize"] == float(default) == 512
    readme = README.read_text(encoding="utf-8")
    assert readme.count("512") == 2 and "200MB" not in readme and "200 MB" not in readme  # the table row only


@pytest.mark.parametrize("env_mb, shown", [(None, 512), ("20", 20), ("0.5", 1), ("4096", 512)])
def test_uploader_states_the_import_limit(env_mb, shown, monkeypatch):
    """The Import page's uploader says the limit import enforces, capped by what the server accepts."""
    from streamlit.testing.v1 import AppTest

    if env_mb is None:
        monkeypatch.delenv("REACHMAP_IMPORT_MAX_MB", raising=False)
    else:
        monkeypatch.setenv("REACHMAP_IMPORT_MAX_MB", env_mb)
    from streamlit import config

    monkeypatch.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working folder, once
    config.get_config_options(force_reparse=True)

    def page():
        from dashboard.ui import import_page

        import_page.render()

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    uploaders = at.get("file_uploader")  # the events file, and a GeoNames dump for the gazetteer
    assert len(uploaders) == 2 and {u.proto.max_upload_size_mb for u in uploaders} == {shown}


def test_example_files_are_what_their_script_builds(tmp_path):
    """examples/build_examples.py rebuilds the committed CSV byte for byte and the workbook cell for cell."""
    import openpyxl

    subprocess.run([sys.executable, str(ROOT / "examples" / "build_examples.py"), str(tmp_path)], check=True)
    examples = ROOT / "examples"
    assert (tmp_path / "acled-ukraine-2022.csv").read_bytes() == (examples / "acled-ukraine-2022.csv").read_bytes()
    assert (tmp_path / "sites-belarus.csv").read_bytes() == (examples / "sites-belarus.csv").read_bytes()

    def cells(path: Path) -> list[tuple]:
        return list(openpyxl.load_workbook(path, read_only=True)["Incidents"].iter_rows(values_only=True))

    assert cells(tmp_path / "incidents.xlsx") == cells(examples / "incidents.xlsx")
