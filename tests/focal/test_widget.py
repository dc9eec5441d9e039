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
