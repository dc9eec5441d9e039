"""The tracked notebooks carry no outputs or execution counts (checked with nbstripout)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.ui.harness import NOTEBOOKS, ROOT

pytest.importorskip("nbstripout")


def test_tracked_notebooks_have_no_outputs():
    files = sorted(str(p.relative_to(ROOT)) for p in NOTEBOOKS.glob("*.ipynb"))
    assert files
    run = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", "--keep-id", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"notebooks saved with outputs (nbstripout them):\n{run.stdout}{run.stderr}"


def test_gitattributes_routes_notebooks_through_nbstripout():
    attrs = (ROOT / ".gitattributes").read_text()
    assert "*.ipynb filter=nbstripout" in attrs
