"""The realistic VPF evaluation set: design of the specs, scene cuts, cached counts, scoring."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.synth import EncodeSettings
from toolkit.vpf.dataset import (
    ACQ,
    GROUPS,
    REAL_POSITIVE_CLIP,
    build_clip,
    load_counts,
    part_sources,
    realistic_specs,
    score_clips,
    source_frames,
)

FIXED_GOP_GROUPS = ("h264_qp", "h264_crf", "h264_cbr", "h264_fixed_b", "h264_badapt", "mpeg2", "mpeg4")


def _names(sources):
    out = set()
    for s in sources:
        body = s[4:].rsplit("@", 1)[0].split("+") if s.startswith("cut:") else [s]
        out |= {b.split(":")[1] for b in body}
    return out


def test_parts_share_no_photo_and_no_real_clip_and_never_the_gop10_clip():
    bench = part_sources("benchmark", 10, 5, 5, seed=1)
    calib = part_sources("calibration", 8, 5, 4, seed=101)
    assert not _names(bench) & _names(calib)
    assert REAL_POSITIVE_CLIP not in _names(bench) | _names(calib)
    assert sum(s.startswith("cut:") for s in bench) == 5
    assert part_sources("benchmark", 10, 5, 5, seed=1) == bench  # seeded
    with pytest.raises(ValueError, match="part"):
        part_sources("test", 1, 0, 0, seed=1)


def test_specs_follow_the_design():
    specs = realistic_specs("benchmark", 6, 4, 8, 3, ["photo:coffee:pan:1"], n_frames=300, n_real_pos=0)
    assert specs == realistic_specs("benchmark", 6, 4, 8, 3, ["photo:coffee:pan:1"], n_frames=300)
    assert len({s["id"] for s in specs}) == len(specs)
    for g in GROUPS:
        pos = [s for s in specs if s["group"] == g and s["kind"] == "pos"]
        neg = [s for s in specs if s["group"] == g and s["kind"] == "neg"]
        assert len(pos) == 6 and len(neg) == 4
        assert all(s["first"] is None and s["label"] == 0 for s in neg)
        for s in pos + neg:
            EncodeSettings.make(s["second"])  # valid settings
        for s in pos:
            f, sec = s["first"], s["second"]
            assert s["label"] == 1 and s["true_gop"] == f["gop"] and 10 <= f["gop"] <= 60
            assert f.get("i_frames") is None and not f.get("adaptive")  # camera-like: fixed GOP
            if g in FIXED_GOP_GROUPS:
                g1, g2 = f["gop"], sec["gop"]
                assert g1 != g2 and g2 % g1 and g1 % g2
    fd = [s["second"] for s in specs if s["group"] == "ffmpeg_default"]
    assert all(
        (d["rate_control"], d["quality"], d["gop"], d["bframes"], d["adaptive"], d["preset"])
        == ("crf", 23, 250, 3, True, "medium")
        for d in fd
    )
    assert {s["second"]["codec"] for s in specs if s["group"] in ("mpeg2", "mpeg4")} == {"mpeg2", "mpeg4"}
    assert all(
        s["second"]["bframes"] == 0 for s in specs if s["group"] in ("h264_qp", "h264_crf", "h264_cbr")
    )
    assert all(s["second"]["bframes"] == 2 for s in specs if s["group"] == "h264_fixed_b")
    first_codecs = {s["first"]["codec"] for s in specs if s["kind"] == "pos"}
    assert first_codecs == {"h264", "mpeg2", "mpeg4"}
    assert {s["first"]["bframes"] for s in specs if s["kind"] == "pos"} == {0, 2}


def test_variable_gop_first_encodes_have_no_period():
    specs = realistic_specs("benchmark", 0, 0, 16, 5, ["photo:coffee:pan:1"], n_frames=300)
    assert {s["second_group"] for s in specs} == set(GROUPS)
    for s in specs:
        assert s["label"] == 0 and s["group"] == "variable_gop"
        f = s["first"]["i_frames"]
        gaps = np.diff(f)
        assert f[0] == 0 and gaps.min() >= 10 and gaps.max() <= 60 and f[-1] < 300
        assert len(set(gaps.tolist())) > 1  # irregular
        assert s["first"]["gop"] > 300  # only the forced I-frames


def test_real_positives_use_the_gop10_clip():
    specs = realistic_specs("benchmark", 0, 0, 0, 1, ["photo:coffee:pan:1"], n_real_pos=3)
    if not specs:
        pytest.skip("real clips are absent")
    assert all(s["source"].startswith(f"real:{REAL_POSITIVE_CLIP}:") for s in specs)
    assert all(s["label"] == 1 and s["true_gop"] == 10 and s["first"] is None for s in specs)
    for s in specs:
        g2 = s["second"]["gop"]
        assert g2 % 10 and 10 % g2


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown groups"):
        realistic_specs("benchmark", 1, 1, 0, 0, ["photo:coffee:pan:1"], groups=("h264_xx",))
    with pytest.raises(ValueError, match="source"):
        realistic_specs("benchmark", 1, 1, 0, 0, [])
    with pytest.raises(ValueError, match="scene cut"):
        source_frames("cut:photo:coffee:pan:1+photo:rocket:pan:2@50", 40, size=(32, 48))


def test_cut_source_is_a_hard_scene_cut():
    f = source_frames("cut:photo:coffee:pan:1+photo:rocket:zoom:2@12", 24, size=(64, 80))
    assert f.shape == (24, 64, 80, 3)
    d = np.abs(np.diff(f.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert int(np.argmax(d)) == 11 and d[11] > 5 * np.median(d)


def test_clip_counts_are_cached_and_scored_with_both_acquisitions(tmp_path):
    specs = realistic_specs(
        "benchmark", 1, 1, 0, 0, ["photo:coffee:pan:1"], n_frames=60, groups=("h264_qp", "ffmpeg_default")
    )
    for s in specs:
        p = build_clip(s, tmp_path, n_frames=60, size=(64, 64))
        mb = load_counts(p)
        assert len(mb.counts) == 60 and "zero_mv" in mb.counts
    mtime = (tmp_path / f"{specs[0]['id']}.mb.pkl").stat().st_mtime_ns
    build_clip(specs[0], tmp_path, n_frames=60, size=(64, 64))  # reused, not rebuilt
    assert (tmp_path / f"{specs[0]['id']}.mb.pkl").stat().st_mtime_ns == mtime
    rows = score_clips(specs + [dict(specs[0], id="missing")], tmp_path)
    assert [r["id"] for r in rows] == [s["id"] for s in specs]  # missing clips skipped
    for r in rows:
        for a in ACQ:
            assert np.isfinite(r[f"vpf_{a}"]) and r[f"status_{a}"]
    by_id = {r["id"]: r for r in rows}
    assert not by_id[specs[0]["id"]]["has_b"]  # h264_qp: no B-frames
    assert by_id[specs[2]["id"]]["has_b"]  # ffmpeg default: B-frames
