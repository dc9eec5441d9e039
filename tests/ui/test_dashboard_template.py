"""The offline Voila page template of ``python -m widgets.dashboard`` (fast; no browser)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from widgets import dashboard


def _voila_template(name: str) -> Path:
    paths = pytest.importorskip("voila.paths")
    for d in paths.collect_template_paths(["voila"], name):
        if (Path(d) / "index.html.j2").is_file():
            return Path(d) / "index.html.j2"
    pytest.skip(f"Voila's {name!r} template is not installed")


def test_the_template_is_the_lab_one_without_network_addresses():
    folder = dashboard.TEMPLATE_ROOT / "voila" / "templates" / dashboard.TEMPLATE
    conf = json.loads((folder / "conf.json").read_text())
    assert conf == {"base_template": "lab"}
    ours = (folder / "index.html.j2").read_text()
    assert "extends 'lab/index.html.j2'" in ours and "super.super()" in ours
    assert not re.search(r"https?://", ours.split("-#}", 1)[1]), "the template itself links an address"
    lab = _voila_template("lab").read_text()
    # the block replaced is where Voila's lab template links Font Awesome from a CDN: if Voila
    # moves the links, this test says the override no longer removes them
    block = lab[lab.index("{%- block notebook_css -%}") : lab.index("{%- endblock notebook_css -%}")]
    assert "cdn.jsdelivr.net" in block


def test_the_command_finds_the_template_and_keeps_the_users_jupyter_path():
    argv, env = dashboard.voila_command("d.ipynb", port=9000, token="t", env={"JUPYTER_PATH": "/x"})
    assert env["JUPYTER_PATH"].split(":") == [str(dashboard.TEMPLATE_ROOT), "/x"]
    assert "--token=t" in argv and "--port=9000" in argv and "--no-browser" in argv
    with pytest.raises(ValueError, match="port"):
        dashboard.voila_command("d.ipynb", port=0)
