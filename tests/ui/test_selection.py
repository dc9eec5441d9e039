"""The browser tests run only when asked for: ``python -m pytest tests/ui`` (or ``-m ui``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collected(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return [line for line in out.splitlines() if "::" in line]


def test_browser_tests_only_when_tests_ui_is_named():
    browser = "test_notebooks.py::test_notebook_in_jupyterlab"
    assert not any(browser in t for t in _collected())  # the default run: testpaths
    named = _collected("tests/ui")
    assert sum(browser in t for t in named) >= 11  # every notebook
    assert any("test_maps_offline.py" in t for t in named)  # and the quick browser tests
    assert not any(browser in t for t in _collected("tests/ui", "-m", "not ui"))


def test_tests_using_the_browser_run_after_everything_else():
    # Playwright keeps an asyncio loop running in the main thread once open (see conftest)
    ids = _collected()
    browser = ("test_map_draws_offline_without_tiles", "test_map_with_tiles_still_draws_polygons_offline")
    assert [t.rsplit("::", 1)[-1] for t in ids[-2:]] == list(browser)
    assert any(t.startswith("notebooks/") for t in ids)
