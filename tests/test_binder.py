"""Binder's environment: a fresh venv installed from ``binder/requirements.txt`` imports everything.

repo2docker reads only ``binder/`` (``requirements.txt``, ``runtime.txt``). The test makes
a new virtual environment, installs ``binder/requirements.txt`` into it with pip from the
repository root (as repo2docker does) and imports the toolkit and every explorer with
that environment's Python. Packages already installed for this interpreter are visible
to the venv (``--system-site-packages``) and pip runs with ``--no-index``: nothing is
downloaded, so every requirement must be satisfiable and the editable install of the
project must succeed; a requirement that cannot be met fails the install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

IMPORTS = (
    "import toolkit, toolkit.methods, toolkit.video, toolkit.geo.maps, widgets, plotly, ipywidgets, folium\n"
    "from widgets import __all__ as explorers\n"
    "for name in explorers: getattr(widgets, name)\n"
    "print(len(explorers), toolkit.__file__)\n"
)


def test_binder_config_is_the_project_environment():
    req = (BINDER / "requirements.txt").read_text().split()
    assert "-r" in req and "../requirements.txt" in req
    assert (BINDER / "runtime.txt").read_text().strip().startswith("python-3.")


@pytest.mark.skipif(sys.prefix != sys.base_prefix, reason="runs from the base interpreter, not a venv")
def test_fresh_venv_from_binder_requirements_imports_toolkit_and_widgets(tmp_path):
    env_dir = tmp_path / "binder-venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--no-index", "--no-build-isolation", "-q", "-r",
         str(BINDER / "requirements.txt")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    run = subprocess.run(
        [str(py), "-c", IMPORTS], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    n, where = run.stdout.split()
    assert int(n) >= 9 and Path(where).resolve().is_relative_to(ROOT)
