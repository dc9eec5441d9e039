"""FOCAL temporal splicing localization: Δf signal, I-frame suppression, cuts, widget, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolkit.focal import FocalNet
from toolkit.focal.features import extract_patches
from toolkit.focal.temporal import (
    TemporalResult,
    detect,
    distance_signal,
    disturbed_pairs,
    find_cuts,
    frame_descriptors,
    suppress_iframes,
)
from toolkit.synth import encode, temporal_splice
from toolkit.synth.sources import photo_sequence
from toolkit.video import VideoReadError, gop_structure

from ._shipped import needs_shipped_weights


class Blockiness:
    """Hand-made coding-trace descriptor of each 64x64 patch (no learning, fast).

    Block-edge / inner gradient ratio, Laplacian energy and inner gradient energy
    (logs): enough to see quantisation changes, so tests of the temporal logic do
    not depend on trained weights.
    """

    num_classes = 3
    classes = ("blockiness", "laplacian", "gradient")

    def __call__(self, luma, stride):
        out = []
        for y in np.asarray(luma, dtype=np.float32):
            p = extract_patches(y, stride)
            dx = np.abs(np.diff(p, axis=3))
            edge = dx[..., 7::8].mean(axis=(2, 3))
            inner = np.delete(dx, np.s_[7::8], axis=3).mean(axis=(2, 3))
            lap = np.abs(
                4 * p[..., 1:-1, 1:-1]
                - p[..., :-2, 1:-1]
                - p[..., 2:, 1:-1]
                - p[..., 1:-1, :-2]
                - p[..., 1:-1, 2:]
            ).mean(axis=(2, 3))
            out.append(np.stack([np.log((edge + 1e-3) / (inner + 1e-3)), np.log1p(lap), np.log1p(inner)], -1))
        return np.stack(out)


@pytest.fixture(scope="module")
def frames30():
    return photo_sequence("coffee", n_frames=30, size=(96, 128), seed=3)


@pytest.fixture(scope="module")
def mpeg2_gop10(tmp_path_factory, frames30):
    """A non-spliced MPEG-2 video, GOP 10: its I-frames differ in coding from the P-frames."""
    return encode(frames30, tmp_path_factory.mktemp("t") / "single.mpg", codec="mpeg2", quality=10, gop=10)


@pytest.fixture(scope="module")
def spliced(tmp_path_factory, frames30):
    """MPEG-2 q2 frames 0-12 + MPEG-2 q31 frames 13-29 (GOP 30), re-encoded H.264 QP 16."""
    d = tmp_path_factory.mktemp("s")
    a = encode(frames30, d / "a.mpg", codec="mpeg2", quality=2, gop=30)
    b = encode(frames30, d / "b.mpg", codec="mpeg2", quality=31, gop=30)
    truth = temporal_splice(a, b, d / "spliced.mp4", cut=13)
    return d / "spliced.mp4", truth


@pytest.fixture(scope="module")
def small_nets():
    torch.manual_seed(0)
    return {
        "codec": FocalNet(4, classes=("mpeg2", "mpeg4", "h264", "h265")).eval(),
        "quality": FocalNet(4).eval(),
    }


# ------------------------------------------------------------------------------------------
# the method's steps
def test_frame_descriptor_is_patch_mean_and_distance_is_squared_euclidean():
    rng = np.random.default_rng(0)
    probs = rng.random((5, 3, 4, 8))
    f = frame_descriptors(probs)
    assert f.shape == (5, 8)
    np.testing.assert_allclose(f[2], probs[2].reshape(-1, 8).mean(axis=0))
    d = distance_signal(f)
    assert d.shape == (4,)
    np.testing.assert_allclose(d[1], np.sum((f[1] - f[2]) ** 2))


def test_suppression_removes_periodic_spikes_but_keeps_a_splice_on_an_i_frame():
    t, gop = 61, 10
    rng = np.random.default_rng(1)
    f = np.tile([0.7, 0.3], (t, 1)) + rng.normal(0, 1e-3, (t, 2))
    f[30:] += [-0.3, 0.3]  # a splice between frames 29 and 30 ...
    iframes = list(range(0, t, gop))  # ... which is also an I-frame
    for i in iframes[1:]:
        f[i] += [0.1, -0.1]  # I-frames code differently: a spike each GOP
    raw = distance_signal(f)
    score_raw = raw / np.median(raw)
    assert len(find_cuts(score_raw, 20)) >= 5  # every I-frame fires without suppression
    # disturbed=1: the I-frame alone is disturbed, two pairs each
    sup, touched = suppress_iframes(raw, f, iframes, mode="bridge", disturbed=1)
    assert touched.sum() == 1 + 2 * 5 + 1  # frame 0 and frame 60 touch one pair each
    cuts = find_cuts(sup / np.median(sup), 20)
    assert cuts == [29]  # the splice survives, the GOP peaks are gone
    # bridge value is the distance across the I-frame
    np.testing.assert_allclose(sup[29], np.sum((f[29] - f[31]) ** 2))
    # 'discard' (the seed's evaluation) removes the GOP peaks and, by design, this splice too
    dis, _ = suppress_iframes(raw, f, iframes, mode="discard", disturbed=1)
    assert find_cuts(dis / np.median(dis), 20) == []
    # the default disturbs the frame after each I-frame as well: three pairs per inner I-frame,
    # and the bridge spans both disturbed frames
    sup2, touched2 = suppress_iframes(raw, f, iframes, mode="bridge")
    assert touched2.sum() == 2 + 3 * 5 + 1
    np.testing.assert_allclose(sup2[29], np.sum((f[29] - f[32]) ** 2))
    assert find_cuts(sup2 / np.median(sup2), 20) == [29]


def test_rate_control_step_after_an_i_frame_is_discarded_not_bridged():
    # a camera's rate control steps the quality one frame after its I-frame at 20: no splice
    f = np.zeros((40, 2)) + [0.5, 0.5]
    f[20] = [0.9, 0.1]  # the I-frame
    f[22:] = [0.2, 0.8]  # the P-frames from 22 on are coded at another quality
    f += np.random.default_rng(3).normal(0, 1e-3, f.shape)
    raw = distance_signal(f)
    dis, touched = suppress_iframes(raw, f, [0, 20])
    assert list(np.flatnonzero(touched)) == [0, 1, 19, 20, 21]
    assert find_cuts(dis / np.median(dis), 20) == []
    brg, _ = suppress_iframes(raw, f, [0, 20], mode="bridge")
    assert find_cuts(brg / np.median(brg), 20) == [19]  # the bridge sees the step, as designed
    # disturbed=1 leaves the step at (21, 22) as a false cut
    one, _ = suppress_iframes(raw, f, [0, 20], disturbed=1)
    assert find_cuts(one / np.median(one), 20) == [21]


def test_disturbed_pairs_with_a_frame_step():
    idx = np.arange(0, 50, 5)  # frames 0, 5, ..., 45
    # I-frame 12 lies inside the pair (10, 15); its next frame 13 too; I-frame 30 is analysed
    assert [list(g) for g in disturbed_pairs(idx, [12, 30], disturbed=2)] == [[2], [5, 6]]
    assert [list(g) for g in disturbed_pairs(idx, [14], disturbed=2)] == [[2, 3]]  # 14, 15 disturbed
    assert disturbed_pairs(idx, [3, 4, 5]) == []  # an all-intra stretch disturbs nothing
    with pytest.raises(ValueError, match="disturbed"):
        disturbed_pairs(idx, [10], disturbed=0)
    with pytest.raises(ValueError, match="increasing"):
        disturbed_pairs(idx[::-1], [10])


class Brightness:
    """Mean grey level of each patch (/255): a descriptor that sees brightness steps only."""

    num_classes = 1
    classes = ("grey",)

    def __call__(self, luma, stride):
        y = np.asarray(luma, np.float32)
        return np.stack([extract_patches(f, stride).mean(axis=(-2, -1))[..., None] / 255.0 for f in y])


def test_step_refinement_keeps_an_abrupt_cut_and_drops_a_ramp():
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 0.3, (40, 64, 64))
    cut = np.where(np.arange(40)[:, None, None] < 21, 100.0, 140.0) + noise  # abrupt: between 20 and 21
    ramp = 100.0 + np.clip(np.arange(40) - 14, 0, 8)[:, None, None] * 5.0 + noise  # +5 a frame, 14..22
    ext = {"codec": Brightness()}
    for frames in (cut, ramp):
        frames = np.clip(frames, 0, 255).astype(np.uint8)
        coarse = detect(frames, models=ext, features="codec", step=4, refine=False, i_frames=[0])
        assert len(coarse.cuts) == 1  # at a 4-frame step both look like one jump
    c = detect(np.clip(cut, 0, 255).astype(np.uint8), models=ext, features="codec", step=4, i_frames=[0])
    assert c.cuts == [20]  # confirmed and placed on the exact frame
    assert c.params["refined"][0]["pair"] == [20, 24] and c.params["refined"][0]["at"] == 20
    r = detect(np.clip(ramp, 0, 255).astype(np.uint8), models=ext, features="codec", step=4, i_frames=[0])
    assert r.cuts == [] and r.params["refined"] and r.params["refined"][0]["fine_score"] < r.threshold
    assert r.verdict == "not_detected"


def test_floor_keeps_a_steady_clip_from_calling_fluctuations_splices():
    from toolkit.focal.model import FocalNet

    frames = np.full((12, 64, 64), 128, np.uint8)
    frames[6:] = 129  # a one-grey-level change: some Δf, but nothing a codec would do
    nets = {"codec": FocalNet(4)}
    r = detect(frames, models=nets, features="codec", floor=None, i_frames=[0])
    assert r.params["floor_rule"] == "none" and r.background == r.params["median_distance"]
    big = float(r.distance.max()) + 1.0
    f = detect(frames, models=nets, features="codec", floor=big, i_frames=[0])
    assert f.background == big and f.cuts == [] and f.params["floor_rule"] == "fixed"
    assert np.all(f.scores < 1.0)
    # random networks have no calibration: the floor is off
    c = detect(frames, models=nets, features="codec", i_frames=[0])
    assert c.params["floor_rule"] == "none" and c.params["floor_calibration"] is None
    with pytest.raises(ValueError, match="floor"):
        detect(frames, models=nets, features="codec", floor=-1.0)


def test_all_intra_video_is_left_alone():
    f = np.random.default_rng(2).random((6, 3))
    d = distance_signal(f)
    out, touched = suppress_iframes(d, f, range(6))
    np.testing.assert_array_equal(out, d)
    assert not touched.any()


def test_find_cuts_needs_local_maximum_above_threshold():
    assert find_cuts(np.array([1, 30, 25, 1, 50.0]), 20) == [1, 4]
    assert find_cuts(np.array([1, 5, 1.0]), 20) == []


# ------------------------------------------------------------------------------------------
# on real encoded videos
def test_iframe_suppression_removes_gop_false_alarms_on_a_non_spliced_video(mpeg2_gop10):
    ext = {"codec": Blockiness()}
    without = detect(mpeg2_gop10, models=ext, features="codec", stride=16, suppress=None)
    with_ = detect(mpeg2_gop10, models=ext, features="codec", stride=16)
    assert without.i_frames == (0, 10, 20)
    # without suppression the I-frames at 10 and 20 raise false alarms next to them
    assert len(without.cuts) >= 2 and set(without.cuts) <= {0, 9, 10, 19, 20}
    assert with_.cuts == []  # with it: no false alarm on this pristine video
    # (9,10),(10,11),(11,12), (19,20),(20,21),(21,22) and (0,1),(1,2): each I-frame and the frame after
    assert list(np.flatnonzero(with_.suppressed)) == [0, 1, 9, 10, 11, 19, 20, 21]
    np.testing.assert_array_equal(with_.raw_distance, without.raw_distance)


def test_detects_the_splice_of_a_re_encoded_temporal_splice(spliced):
    path, truth = spliced
    # the hand-made descriptor is weaker than the CNNs: the splice peak is ~10x the median here
    r = detect(path, models={"codec": Blockiness()}, features="codec", stride=16, threshold=6)
    assert isinstance(r, TemporalResult)
    assert r.distance.shape == (truth["n_frames"] - 1,)
    assert r.cuts == [truth["boundary"]]
    assert int(np.argmax(r.distance)) == truth["boundary"]
    table = r.table()
    assert len(table) == truth["n_frames"] - 1 and table["cut"].sum() == len(r.cuts)
    d = r.to_dict()
    assert d["cuts"] == r.cuts and d["params"]["stride"] == 16 and len(d["sha256"]) == 64
    fig = r.plot()
    names = [t.name for t in fig.data]
    assert "detected cut" in names and "I-frame" in names


def test_step_roi_and_arrays(spliced, frames30):
    path, truth = spliced
    ext = {"codec": Blockiness()}
    r = detect(path, models=ext, features="codec", stride=16, step=2)
    assert list(r.frame_index) == list(range(0, truth["n_frames"], 2))
    assert r.suppressed[0] and r.params["refine"]  # suppression works with any step
    roi = detect(path, models=ext, features="codec", stride=16, roi=(16, 32, 64, 64))
    assert roi.params["roi"] == [16, 32, 64, 64]
    full = detect(path, models=ext, features="codec", stride=16)
    assert not np.allclose(roi.raw_distance, full.raw_distance)
    arr = detect(frames30[:5], models=ext, features="codec", stride=16, i_frames=[0])
    assert arr.path is None and len(arr.distance) == 4


def test_with_focalnets_and_widget(spliced, small_nets):
    from widgets import TemporalExplorer

    path, truth = spliced
    r = detect(path, models=small_nets, count=8, stride=32)
    assert r.descriptors.shape == (8, 8)
    assert r.feature_names[:2] == ("codec:mpeg2", "codec:mpeg4")
    np.testing.assert_allclose(r.descriptors[:, :4].sum(axis=1), 1.0, atol=1e-5)  # softmax means
    ex = TemporalExplorer(r)
    ex.threshold.value = float(np.max(r.score)) * 0.99  # only the strongest peak remains
    assert len(ex.cuts) == 1 and ex.candidate.value == ex.cuts[0]
    marks = [t for t in ex.figure.data if t.name == "detected cut"][0]
    assert len(marks.x) == 1
    assert len(ex.frames.data) == 2  # frame n and frame n+1
    ex.threshold.value = float(np.max(r.score)) * 1.5  # nothing above: no cut
    assert ex.cuts == [] and len([t for t in ex.figure.data if t.name == "detected cut"][0].x) == 0


# ------------------------------------------------------------------------------------------
# bad inputs
def test_bad_inputs(tmp_path, frames30, small_nets):
    ext = {"codec": Blockiness()}
    one = encode(frames30[:1], tmp_path / "one.mp4", codec="h264", quality=20)
    with pytest.raises(ValueError, match="at least 2 frames"):
        detect(one, models=ext, features="codec")
    with pytest.raises(ValueError, match="at least 2 frames"):
        detect(frames30[:1], models=ext, features="codec")
    tiny = encode(photo_sequence("coffee", n_frames=3, size=(48, 64)), tmp_path / "tiny.mp4", quality=20)
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        detect(tiny, models=ext, features="codec")
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        detect(np.zeros((3, 32, 32), np.uint8), models=ext, features="codec")
    with pytest.raises(FileNotFoundError):
        detect(tmp_path / "missing.mp4", models=ext, features="codec")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoReadError):
        detect(junk, models=ext, features="codec")
    with pytest.raises(ValueError, match="multiple of 8"):
        detect(frames30, models=ext, features="codec", stride=12)
    with pytest.raises(ValueError, match="roi"):
        detect(frames30, models=ext, features="codec", roi=(4, 0, 64, 64))
    with pytest.raises(ValueError, match="features"):
        detect(frames30, models=ext, features="colour")
    with pytest.raises(ValueError, match="no 'quality'"):
        detect(frames30, models=ext, features="both")
    with pytest.raises(ValueError, match="suppress"):
        detect(frames30[:3], models=ext, features="codec", suppress="sometimes", i_frames=[0])


def test_missing_weights_give_a_clear_error(monkeypatch, frames30):
    from toolkit import weights

    monkeypatch.setattr(weights, "available", lambda: [])
    with pytest.raises(weights.WeightsNotFoundError, match="python -m toolkit.focal.train"):
        detect(frames30[:3])


@needs_shipped_weights
def test_shipped_models_on_the_sample_temporal_splice():
    import json
    from pathlib import Path

    video = Path(__file__).resolve().parents[2] / "sample_data" / "temporal" / "temporal_splice.mp4"
    if not video.exists():
        pytest.skip("sample_data/temporal/temporal_splice.mp4 missing: python -m toolkit.synth.sample_data")
    truth = json.loads(Path(str(video) + ".json").read_text())
    # 20 frames either side of the splice, which falls on the final encode's I-frame 60
    assert 60 in gop_structure(video).i_frames
    r = detect(video, start=truth["cut"] - 20, count=40, suppress="bridge")
    assert int(r.pairs[np.argmax(r.raw_distance)]) == truth["boundary"]
    assert int(r.pairs[np.argmax(r.distance)]) == truth["boundary"]
    assert truth["boundary"] in r.cuts
    # the default ('discard') is blind inside the frames an I-frame disturbs, by design
    d = detect(video, start=truth["cut"] - 20, count=40)
    assert d.suppressed[truth["boundary"] - (truth["cut"] - 20)] and truth["boundary"] not in d.cuts


def test_calibrated_floor_applies_only_to_the_settings_it_was_made_with():
    import json
    from types import SimpleNamespace

    from toolkit.focal import temporal

    cal = json.loads(temporal.CALIBRATION_FILE.read_text())
    nets = {n: SimpleNamespace(weights_sha256=sha) for n, sha in cal["weights"].items()}
    names = sorted(cal["weights"])
    same = dict(mode=cal["suppress"], disturbed=cal["disturbed"], persist=cal["persist"])
    hit = temporal.calibrated_floor(nets, names, **same)
    assert hit is not None and hit["floor"] == cal["floors"]["+".join(names)]
    assert temporal.calibrated_floor(nets, names, **{**same, "persist": not cal["persist"]}) is None
    assert temporal.calibrated_floor(nets, names, **{**same, "disturbed": cal["disturbed"] + 1}) is None
    other = {**nets, names[0]: SimpleNamespace(weights_sha256="0" * 64)}
    assert temporal.calibrated_floor(other, names, **same) is None
