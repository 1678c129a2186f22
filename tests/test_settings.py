"""Every setting is documented in the README, and its environment variable overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import settings

README = (settings.PROJECT_DIR / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_setting_is_documented(setting):
    assert f"`{setting.env}`" in README and f"| {setting.name} |" in README


def test_environment_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("REACHMAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REACHMAP_STORE_PATH", raising=False)
    assert settings.store_path() == tmp_path / "reachmap.gpkg"
    monkeypatch.setenv("REACHMAP_STORE_PATH", str(tmp_path / "x.gpkg"))
    assert settings.store_path() == tmp_path / "x.gpkg"


def test_a_blank_environment_variable_counts_as_unset(monkeypatch):
    from dashboard import settings

    monkeypatch.setenv("REACHMAP_DATA_DIR", "  ")
    assert settings.data_dir() == Path(settings._BY_NAME["data_dir"].default)
    assert settings.store_path() != Path("reachmap.gpkg")


def test_the_user_is_the_setting_else_the_login_name(monkeypatch):
    import getpass

    monkeypatch.setenv("REACHMAP_USER", "ann")
    assert settings.user() == "ann"
    monkeypatch.delenv("REACHMAP_USER")
    assert settings.user() == getpass.getuser()
