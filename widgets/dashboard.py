"""Start the course-room dashboard (``notebooks/dashboard.ipynb``) in Voila, offline.

``python -m widgets.dashboard [NOTEBOOK] [--port 8866] [--ip 127.0.0.1] [--no-browser]`` runs
``voila`` with the project's page template ``toolkit-offline`` (``widgets/jupyter/voila/
templates``): Voila's ``lab`` template without its two Font Awesome links to a CDN, so an
air-gapped workstation makes no request outside the machine. Running as root adds nothing:
Voila, unlike JupyterLab, needs no ``--allow-root``. Plain ``voila notebooks/dashboard.ipynb``
works too where a network is present.

>>> argv, env = voila_command("notebooks/dashboard.ipynb", port=8866)
>>> argv[1:4], "--template=toolkit-offline" in argv
(['-m', 'voila', 'notebooks/dashboard.ipynb'], True)
>>> env["JUPYTER_PATH"].split(os.pathsep)[0] == str(TEMPLATE_ROOT)
True
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["TEMPLATE", "TEMPLATE_ROOT", "DEFAULT_NOTEBOOK", "voila_command", "main"]

#: the page template's name and the Jupyter data folder that holds ``voila/templates/<name>``
TEMPLATE = "toolkit-offline"
TEMPLATE_ROOT = Path(__file__).resolve().parent / "jupyter"
#: the dashboard notebook of a checkout
DEFAULT_NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "dashboard.ipynb"


def voila_command(
    notebook: str | os.PathLike = DEFAULT_NOTEBOOK,
    *,
    port: int = 8866,
    ip: str = "127.0.0.1",
    token: str | None = None,
    browser: bool = False,
    env: dict | None = None,
) -> tuple[list[str], dict]:
    """``(argv, environment)`` that serve ``notebook`` with Voila and the offline template.

    ``JUPYTER_PATH`` gets :data:`TEMPLATE_ROOT` first (where Voila looks for page templates);
    ``token`` None serves without one (Voila's default), ``browser`` opens a browser tab.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be a whole number in 1..65535, got {port!r}")
    argv = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--template={TEMPLATE}",
        f"--Voila.ip={ip}",
        f"--port={port}",
    ]
    if token is not None:
        argv.append(f"--token={token}")
    if not browser:
        argv.append("--no-browser")
    env = dict(os.environ if env is None else env)
    env["JUPYTER_PATH"] = os.pathsep.join([str(TEMPLATE_ROOT)] + [p for p in [env.get("JUPYTER_PATH")] if p])
    return argv, env


def main(argv: list[str] | None = None) -> int:
    """Command line: serve the dashboard until Ctrl-C; the exit status is Voila's."""
    ap = argparse.ArgumentParser(prog="python -m widgets.dashboard", description=__doc__.splitlines()[0])
    ap.add_argument("notebook", nargs="?", default=str(DEFAULT_NOTEBOOK))
    ap.add_argument("--port", type=int, default=8866)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args(argv)
    if not Path(a.notebook).is_file():
        ap.error(f"no notebook at {a.notebook}")
    nb = Path(a.notebook).resolve()
    cmd, env = voila_command(nb.name, port=a.port, ip=a.ip, browser=not a.no_browser)
    try:
        return subprocess.call(cmd, env=env, cwd=str(nb.parent))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
