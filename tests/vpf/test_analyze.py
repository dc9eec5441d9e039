"""analyze() end to end on generated clips, and its handling of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit._util import sha256_file
from toolkit.synth import double_encode, encode
from toolkit.video import UnsupportedCodecError, VideoReadError
from toolkit.vpf import VPFResult, analyze, default_threshold


def test_double_encoded_without_b_frames_is_detected_with_its_gop(double_nob):
    r = analyze(double_nob)
    assert isinstance(r, VPFResult)
    assert r.threshold == pytest.approx(
        default_threshold(has_b=False)
    )  # the shipped value for streams without B-frames
    assert r.double_encoded is True and r.status == "double_encoded"
    assert r.previous_gop == 15
    assert r.vpf_value > r.threshold
    assert r.current_gop == 33
    # the VPF peaks sit on multiples of the first GOP that are not I-frames now
    peaks = np.flatnonzero(r.signal > 0.5 * r.signal.max())
    assert peaks.size >= 3 and all(p % 15 == 0 for p in peaks)
    assert r.sha256 == sha256_file(double_nob)


def test_double_encoded_with_b_frames_is_detected_with_its_gop(double_b):
    r = analyze(double_b)
    assert "B" in r.frame_types
    assert r.double_encoded is True
    assert r.previous_gop == 15


def test_single_encoded_is_not_detected(single, double_nob):
    r = analyze(single)
    assert r.double_encoded is False and r.status == "not_detected"
    assert r.previous_gop is None
    assert r.vpf_value < analyze(double_nob).vpf_value
    # the seed's blind spot is reported, not hidden
    assert "multiple of the current GOP (33)" in r.reason


def test_threshold_moves_the_decision_without_decoding(double_nob):
    r = analyze(double_nob)
    high = r.with_threshold(r.vpf_value + 1.0)
    assert high.double_encoded is False and high.previous_gop is None
    assert high.best_gop == r.best_gop == 15
    assert analyze(double_nob, threshold=r.vpf_value + 1.0).double_encoded is False
    assert high.params["threshold"] == pytest.approx(r.vpf_value + 1.0)
    with pytest.raises(ValueError):
        r.with_threshold(float("nan"))


def test_table_plot_and_dict(double_nob):
    r = analyze(double_nob)
    t = r.table()
    assert t.loc["Double encoding detected", "value"] == "Yes"
    assert t.loc["Estimated previous GOP size", "value"] == 15
    assert t.loc["Threshold", "value"] == pytest.approx(r.threshold, abs=1e-4)
    fig = r.plot()
    names = [tr.name for tr in fig.data]
    assert names == [
        "I-MBs (fraction)",
        "S-MBs (fraction)",
        "VPF signal",
        "current I-frames",
        "previous GOP 15",
    ]
    assert len(fig.data[0].y) == r.n_frames

    def marks(trace):  # one vertical segment (x, x, gap) per mark
        x = np.asarray(trace.x, float)
        return sorted({int(v) for v in x[np.isfinite(x)]})

    assert fig.data[4].line.dash == "dash" and fig.data[3].line.dash == "dot"
    assert marks(fig.data[4]) == list(range(15, r.n_frames, 15))  # multiples of the estimated GOP
    assert marks(fig.data[3]) == [k for k, f in enumerate(r.frame_types) if f == "I"]
    zoom = r.plot(frame_range=(20, 60), show_signal=False)
    assert len(zoom.data) == 4 and tuple(zoom.layout.xaxis.range) == (19.5, 60.5)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["previous_gop"] == 15 and d["sha256"] == r.sha256
    assert set(d["params"]) >= {"threshold", "min_gop", "min_periods", "penalty", "same_type"}
    assert r.i_curve[0] == r.i_curve[1]  # current I-frames carry the neighbouring value


def test_mpeg2_and_mpeg4_streams_are_analysed(tmp_path, vpf_frames):
    for codec, ext in (("mpeg2", ".mpg"), ("mpeg4", ".avi")):
        out = tmp_path / f"x{ext}"
        double_encode(
            vpf_frames[:100],
            out,
            first=dict(codec="h264", quality=26, gop=14),
            second=dict(codec=codec, quality=4, gop=24, bframes=2),
        )
        r = analyze(out)
        assert r.codec in ("mpeg2video", "mpeg4")
        assert r.status in ("double_encoded", "not_detected")
        assert 98 <= r.n_frames <= 100  # MPEG with B-frames may drop the last reference
        assert "B" in r.frame_types and len(r.signal) == r.n_frames


def test_hevc_input_raises_unsupported_codec(tmp_path, vpf_frames):
    p = encode(vpf_frames[:20], tmp_path / "hevc.mp4", codec="h265", quality=30, gop=10)
    with pytest.raises(UnsupportedCodecError, match="hevc"):
        analyze(p)


def test_all_intra_video_is_inconclusive_with_reason(tmp_path, vpf_frames):
    p = encode(vpf_frames[:40], tmp_path / "intra.mp4", codec="h264", quality=22, gop=1)
    r = analyze(p)
    assert r.status == "inconclusive" and r.double_encoded is None
    assert "no P- or B-frames" in r.reason
    assert r.previous_gop is None
    assert r.table().loc["Double encoding detected", "value"] == "inconclusive"


def test_short_video_is_inconclusive_with_reason(tmp_path, vpf_frames):
    p = tmp_path / "short.mp4"
    double_encode(
        vpf_frames[:15],
        p,
        first=dict(codec="mpeg2", quality=6, gop=5),
        second=dict(codec="h264", quality=22, gop=12),
    )
    r = analyze(p)
    assert r.status == "inconclusive" and r.double_encoded is None
    assert "too short" in r.reason and "15 frames" in r.reason


def test_gop_hidden_by_current_i_frames_is_inconclusive(tmp_path, vpf_frames):
    # 40 frames, candidates 12 and 13: the current GOP 12 hides 12, 24, 36 (every
    # first-encoding I-frame would be an I-frame again) and 13 has only 13, 26 before the end
    p = encode(vpf_frames[:40], tmp_path / "g12.mp4", codec="h264", quality=22, gop=12)
    r = analyze(p, min_gop=12, min_periods=3)
    assert r.status == "inconclusive"
    assert "no candidate GOP" in r.reason


def test_corrupt_and_missing_files_give_clear_errors(tmp_path, double_nob):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200)
    with pytest.raises(VideoReadError):
        analyze(bad)
    truncated = tmp_path / "trunc.mp4"
    truncated.write_bytes(double_nob.read_bytes()[:2000])
    with pytest.raises(VideoReadError):
        analyze(truncated)
    with pytest.raises(FileNotFoundError):
        analyze(tmp_path / "nope.mp4")


def test_bad_settings_raise_value_error(double_nob):
    with pytest.raises(ValueError, match="min_gop"):
        analyze(double_nob, min_gop=1)
    with pytest.raises(ValueError, match="max_gop"):
        analyze(double_nob, min_gop=10, max_gop=5)
    with pytest.raises(ValueError, match="threshold"):
        analyze(double_nob, threshold=float("inf"))
