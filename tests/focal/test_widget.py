"""PatchFeatureExplorer: controls drive the crop, probabilities, descriptor and heat map."""

import numpy as np

from widgets import PatchFeatureExplorer


def _frames():
    return np.random.default_rng(0).integers(0, 256, (3, 96, 128), dtype=np.uint8)


def test_explorer_follows_controls(codec_net, quality_net):
    frames = _frames()
    ex = PatchFeatureExplorer(frames, models={"codec": codec_net, "quality": quality_net})
    fm = ex.maps["codec"]
    assert fm.probs.shape == (3, 5, 9, 4) and "5x9 patches" in ex.status.value
    assert len(ex.channel.options) == 4 + 4 + 64 + 64
    # patch selection: crop, probabilities and descriptor of that patch
    ex.frame.value, ex.row.value, ex.col.value = 2, 1, 7
    np.testing.assert_array_equal(np.asarray(ex.crop_fig.data[0].z), frames[2, 8:72, 56:120])
    bars = {t.name: np.asarray(t.y) for t in ex.probs_fig.data}
    np.testing.assert_allclose(bars["codec"], fm.probs[2, 1, 7], rtol=1e-6)
    np.testing.assert_allclose(bars["quality"], ex.maps["quality"].probs[2, 1, 7], rtol=1e-6)
    ex.model.value = "quality"
    np.testing.assert_allclose(
        np.asarray(ex.desc_fig.data[0].y), ex.maps["quality"].descriptors[2, 1, 7], rtol=1e-6
    )
    box = ex.frame_fig.layout.shapes[0]
    assert (box.x0, box.y0) == (55.5, 7.5)
    # heat map: a class probability, then a descriptor channel
    ex.channel.value = "codec:h264"
    np.testing.assert_allclose(np.asarray(ex.frame_fig.data[1].z), fm.probs[2, :, :, 2], rtol=1e-6)
    ex.channel.value = "quality:d3"
    np.testing.assert_allclose(
        np.asarray(ex.frame_fig.data[1].z), ex.maps["quality"].descriptors[2, :, :, 3], rtol=1e-6
    )
    ex.opacity.value = 0.2
    assert ex.frame_fig.data[1].opacity == 0.2
    np.testing.assert_array_equal(np.asarray(ex.frame_fig.data[0].z), frames[2])


def test_explorer_takes_feature_maps(codec_net):
    from toolkit.focal import features

    frames = _frames()
    fm = features(frames, codec_net, stride=16)
    ex = PatchFeatureExplorer(frames, feature_maps={"codec": fm})
    assert ex.maps["codec"] is fm and ex.row.max == 2 and ex.col.max == 4
    ex.row.value, ex.col.value = 2, 4
    np.testing.assert_array_equal(np.asarray(ex.crop_fig.data[0].z), frames[0, 32:96, 64:128])


def test_explorer_reports_bad_input(tmp_path, codec_net, monkeypatch):
    ex = PatchFeatureExplorer(str(tmp_path / "missing.mp4"), models={"codec": codec_net})
    assert "FileNotFoundError" in ex.status.value and not ex.maps
    ex = PatchFeatureExplorer(np.zeros((40, 40), np.uint8), models={"codec": codec_net})
    assert "ValueError" in ex.status.value and "64x64" in ex.status.value
    # no shipped weights: the registry's error is shown, not raised
    from toolkit import focal, weights

    monkeypatch.setattr(weights, "available", lambda: [])
    monkeypatch.setattr("widgets.focal_features.load_model", focal.load_model)
    ex = PatchFeatureExplorer(_frames())
    assert "WeightsNotFoundError" in ex.status.value and "toolkit.focal.train" in ex.status.value


# ------------------------------------------------------------------------------------------
# every explorer built from a Result draws that Result's data
def test_patch_explorer_draws_a_feature_map_of_a_file(make_clip, codec_net):
    from toolkit.focal import features
    from toolkit.video import read_frames

    path = make_clip("focal_widget.mp4", codec="h264", quality=30, gop=10)
    fm = features(path, codec_net, stride=16, count=3, step=2)
    ex = PatchFeatureExplorer(fm)
    luma = read_frames(path, count=3, step=2)
    assert list(ex.maps) == ["features"] and ex.maps["features"] is fm
    np.testing.assert_array_equal(ex.frames, luma)  # read back from the result's path
    ex.frame.value, ex.row.value, ex.col.value = 1, 1, 2
    np.testing.assert_array_equal(np.asarray(ex.frame_fig.data[0].z), luma[1])
    np.testing.assert_allclose(np.asarray(ex.frame_fig.data[1].z), fm.probs[1, :, :, 0], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(ex.crop_fig.data[0].z), luma[1, 16:80, 32:96])
    np.testing.assert_allclose(np.asarray(ex.probs_fig.data[0].y), fm.probs[1, 1, 2], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ex.desc_fig.data[0].y), fm.descriptors[1, 1, 2], rtol=1e-6)
    assert "frame 2" in ex.frame_fig.layout.title.text  # the video's frame number, not the row


def test_patch_explorer_draws_maps_of_an_array(codec_net, quality_net):
    from toolkit.focal import features

    frames = _frames()
    maps = {"codec": features(frames, codec_net, start=1), "quality": features(frames, quality_net, start=1)}
    ex = PatchFeatureExplorer(maps, frames=frames)
    np.testing.assert_array_equal(ex.frames, frames[1:])  # rows 0, 1 are frames 1, 2
    ex.channel.value = "quality:delta20"
    np.testing.assert_allclose(np.asarray(ex.frame_fig.data[1].z), maps["quality"].probs[0, :, :, 2])
    blank = PatchFeatureExplorer(maps)  # no frames for an array's maps: heat maps only, said so
    assert "frames not available" in blank.status.value and not np.asarray(blank.frame_fig.data[0].z).any()
    bad = PatchFeatureExplorer({"codec": "not a map"})
    assert "ValueError" in bad.status.value and not bad.maps


def test_temporal_explorer_draws_a_temporal_result(tmp_path):
    from toolkit.focal.temporal import detect
    from toolkit.synth import encode
    from widgets import TemporalExplorer

    from ._common import PatchMean, spliced_frames

    frames = spliced_frames()
    r = detect(frames, models={"codec": PatchMean()}, features="codec", stride=32, i_frames=[0])
    ex = TemporalExplorer(r, video=frames)
    assert ex.result is r and ex.cuts == r.cuts == [5] and ex.candidate.value == 5
    marks = [t for t in ex.figure.data if t.name == "detected cut"][0]
    np.testing.assert_allclose(np.asarray(marks.x), [5.5])
    line = [t for t in ex.figure.data if t.name and t.name.startswith("threshold")][0]
    np.testing.assert_allclose(np.asarray(line.y), [r.threshold * r.background] * 2)
    np.testing.assert_array_equal(np.asarray(ex.frames.data[0].z), frames[5])
    np.testing.assert_array_equal(np.asarray(ex.frames.data[1].z), frames[6])
    ex.threshold.value = 1.0
    assert ex.cuts == r.cuts_at(1.0) and len(ex.cuts) > 1
    line = [t for t in ex.figure.data if t.name and t.name.startswith("threshold")][0]
    np.testing.assert_allclose(np.asarray(line.y), [r.background] * 2)
    # a path goes through the method registry; the frames come from the file
    path = encode(frames, tmp_path / "spliced.mp4", codec="h264", quality=10, gop=30)
    ex = TemporalExplorer(path, models={"codec": PatchMean()}, features="codec", stride=32)
    assert ex.result.method == "focal.temporal" and ex.result.path == str(path)
    assert ex.cuts == ex.result.cuts == [5] and len(ex.frames.data) == 2
    assert np.abs(np.asarray(ex.frames.data[1].z, float) - frames[6]).mean() < 10


def test_ver_explorer_draws_a_spatial_result(tmp_path):
    from toolkit.focal.spatial import localize
    from toolkit.synth import encode
    from widgets import VERExplorer

    from ._common import PatchMean, random_frames

    frames = random_frames(2, seed=5)
    frames[:, 16:80, 32:96] //= 3
    r = localize(frames, models={"codec": PatchMean()}, features="codec", stride=16)
    ex = VERExplorer(r)
    heat = [t for t in ex.figure.data if t.type == "heatmap"]
    np.testing.assert_array_equal(np.asarray(heat[0].z), r.frames[0])
    np.testing.assert_allclose(np.asarray(heat[1].z), r.heatmap)
    bars = [t for t in ex.figure.data if t.type == "bar"][0]
    assert list(bars.x) == list(r.feature_names) and np.allclose(bars.y, r.ver)
    order = [t.name for t in ex.maps.data]
    assert order == [r.feature_names[k] for k in r.ver_rank]
    np.testing.assert_allclose(np.asarray(ex.maps.data[0].z), r.activations[..., r.ver_rank[0]])
    path = encode(frames, tmp_path / "box.mp4", codec="h264", quality=10)
    ex = VERExplorer(path, models={"codec": PatchMean()}, features="codec", stride=16)
    assert ex.result.method == "focal.spatial" and ex.result.path == str(path)
    assert ex.result.frame_index == (0, 1)
