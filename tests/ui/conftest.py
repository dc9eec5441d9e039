"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per session.

The notebook, busy-CPU and Voila tests are marked ``ui`` and left out of the default run
(``-m "not ui"`` in pyproject.toml: about nine minutes on 2 cores); ``python -m pytest
tests/ui -m ui`` runs them. The offline-map and notebook-output tests run in the default
suite. Each skips (saying why) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.ui import harness as H

#: the long browser tests (JupyterLab Run All of every notebook, the busy-CPU rerun, Voila)
UI_FILES = {"test_notebooks.py", "test_busy_cpu.py", "test_dashboard_voila.py"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if here in path.parents and path.name in UI_FILES:
            item.add_marker(pytest.mark.ui)


@pytest.fixture(scope="session")
def playwright_api():
    if H.CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser needed)")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = H.launch(playwright_api)
    yield b
    b.close()


@pytest.fixture(scope="session")
def ui_tmp():
    d = Path(tempfile.mkdtemp(prefix="toolkit_ui_"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(ui_tmp, browser):
    """A JupyterLab serving copies of the notebooks under a temporary folder."""
    H.workdir(ui_tmp)
    server = H.start_lab(ui_tmp, ui_tmp)
    yield server
    server.stop()
