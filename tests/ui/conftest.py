"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per session.

The notebook, busy-CPU and Voila tests are marked ``ui`` and run only when asked for:
``python -m pytest tests/ui`` (or ``-m ui``), about seven minutes on 2 cores, which ``.ci/run``
runs after the default suite in a process of its own (in the same process as the rest of the
suite a notebook page stalls: its renderer busy, the kernel idle; the cause is not known).
Each skips (saying why) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.ui import harness as H

#: the long browser tests (JupyterLab Run All of every notebook, the busy-CPU rerun, Voila)
UI_FILES = {"test_notebooks.py", "test_busy_cpu.py", "test_dashboard_voila.py"}
#: seconds one browser test may take before it fails (pytest-timeout): a stuck page fails, it
#: does not hold the suite (a Playwright call on a page that never answers would wait forever)
UI_TEST_TIMEOUT = 900


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark the browser tests ``ui`` (before ``-m`` selects); keep them to the runs that ask for them."""
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if here in path.parents and path.name in UI_FILES:
            item.add_marker(pytest.mark.ui)
            item.add_marker(pytest.mark.timeout(UI_TEST_TIMEOUT))
    yield  # -m / -k deselect here
    _keep_browser_tests_to_their_own_run(config, items)
    _browser_last(items)


def _asked_for_browser_tests(config) -> bool:
    """Whether this run names ``tests/ui`` (or a file in it) or selects by the ``ui`` marker."""
    if "ui" in (config.option.markexpr or ""):
        return True
    here = Path(__file__).parent.resolve()
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path == here or here in path.parents:
            return True
    return False


def _keep_browser_tests_to_their_own_run(config, items) -> None:
    """Deselect the ``ui`` tests unless the run asks for them (``python -m pytest tests/ui``)."""
    if _asked_for_browser_tests(config):
        return
    dropped = [it for it in items if it.get_closest_marker("ui") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [it for it in items if it.get_closest_marker("ui") is None]


def _browser_last(items) -> None:
    """Move the tests that use the Playwright ``browser`` to the end of the run (stable order).

    Playwright's sync API registers a running asyncio loop in the main thread for as long as it
    is open (here: the session), so every notebook nbmake ran after it went through
    ``jupyter_core.utils.run_sync``'s thread runner instead of a plain loop. With the browser
    tests last, nothing else runs beside that loop.
    """
    uses = [("browser" in getattr(it, "fixturenames", ())) for it in items]
    items[:] = [it for it, u in zip(items, uses) if not u] + [it for it, u in zip(items, uses) if u]


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
