"""MacroblockTypes as a Result, JSON-safe VideoInfo / GOPStructure, the shared decoding pieces."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from toolkit._util import sha256_file
from toolkit.result import Result
from toolkit.video import GOPStructure, MacroblockTypes, gop_structure, macroblock_types, probe

DOUBLE = "sample_data/double/double_mpeg2_h264.mp4"
REAL = "sample_data/real/person_gop10_head300.mp4"
VIDEO = Path(__file__).resolve().parents[2] / "toolkit" / "video"


def test_macroblock_types_is_a_frozen_result():
    mb = macroblock_types(DOUBLE, max_frames=40)
    assert isinstance(mb, Result) and isinstance(mb, MacroblockTypes) and mb.method == "video.macroblocks"
    assert mb.sha256 == sha256_file(DOUBLE) and mb.path.endswith("double_mpeg2_h264.mp4")
    assert mb.params["max_frames"] == 40 and mb.params["with_map"] is False
    assert mb.decision()["verdict"] is None  # describes, does not decide
    with pytest.raises(dataclasses.FrozenInstanceError):
        mb.codec = "hevc"
    s = mb.summary()
    assert "\n" not in s and "40 frames" in s and "h264" in s and "22x18 MBs" in s
    total = mb.counts[["intra", "inter", "skip"]].to_numpy().sum()
    assert f"skip {100 * mb.counts.skip.sum() / total:.1f}%" in s
    assert mb.gop.i_frames == (0, 33) and isinstance(mb.gop, GOPStructure)
    assert "intra" in mb._repr_html_()


def test_macroblock_types_to_dict_is_json_safe_and_keeps_old_keys():
    mb = macroblock_types(DOUBLE, max_frames=12, with_map=True)
    d = mb.to_dict()
    assert json.loads(mb.to_json()) == d
    old = {"path", "sha256", "codec", "mb_width", "mb_height", "complete", "error", "params", "counts"}
    assert set(d) >= old | {"method", "toolkit_version", "n_frames", "mb_per_frame", "has_map"}
    assert d["counts"]["frame_type"][:2] == ["I", "P"] and len(d["counts"]["intra"]) == 12
    assert d["counts"]["skip"] == mb.counts.skip.tolist()
    assert d["has_map"] is True and "maps" not in d and "symbols" not in d  # per-MB arrays left out


def test_plot_range_classes_and_fractions():
    mb = macroblock_types(REAL, max_frames=40)
    fig = mb.plot()
    assert [t.name for t in fig.data] == ["intra MBs", "inter MBs", "skip MBs"]
    assert sorted(int(s.x0) for s in fig.layout.shapes) == [0, 10, 20, 30]
    part = mb.plot(["skip", "intra"], frame_range=(10, 24), as_fraction=True)
    assert [t.name for t in part.data] == ["skip MBs", "intra MBs"]
    assert list(part.data[0].x) == list(range(10, 25)) and tuple(part.layout.xaxis.range) == (10, 24)
    np.testing.assert_allclose(part.data[1].y, mb.counts.intra[10:25] / mb.mb_per_frame)
    assert part.data[1].y[0] == 1.0  # frame 10 is an I-frame: all intra
    assert sorted(int(s.x0) for s in part.layout.shapes) == [10, 20]
    assert part.layout.yaxis.title.text == "fraction of MBs"
    with pytest.raises(ValueError, match="unknown macroblock classes"):
        mb.plot(["nope"])
    with pytest.raises(ValueError, match="first <= last"):
        mb.plot(frame_range=(9, 3))


def test_video_info_and_gop_structure_to_dict_are_json_safe():
    info = probe(REAL)
    d = info.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (d["codec"], d["width"], d["height"], d["n_frames"], d["has_b_frames"]) == (
        "h264",
        768,
        432,
        300,
        True,
    )
    assert d["sha256"] == sha256_file(REAL) and "300 frames" in info.summary()
    g = gop_structure(list("IBBPIBBPIB"))
    gd = g.to_dict()
    assert json.loads(json.dumps(gd)) == gd
    assert gd == {
        "types": "IBBPIBBPIB",
        "i_frames": [0, 4, 8],
        "gop_sizes": [4, 4],
        "gop": 4,
        "has_b_frames": True,
        "n_frames": 10,
        "params": {},
    }


def test_video_modules_import_no_private_names_of_each_other():
    for f in VIDEO.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("toolkit"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{f.name} imports private {private} from {node.module}"
