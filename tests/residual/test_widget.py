import datetime
import io

import numpy as np

from widgets import ResidualExplorer


def test_explorer_histograms_follow_controls(blur_svm):
    img = np.random.default_rng(0).integers(0, 256, (160, 200, 3), dtype=np.uint8)
    ex = ResidualExplorer(img, manipulation="blur1.1", models={"blur1.1": blur_svm}, window=64, stride=32)
    assert [t.name for t in ex.fig_hist.data] == ["pristine", "blur1.1"]
    a, b = ex.analyses
    np.testing.assert_allclose(ex.fig_hist.data[0].y, a.feature)
    # random noise blurred: the histograms must differ a lot
    assert np.abs(np.asarray(ex.fig_hist.data[0].y) - np.asarray(ex.fig_hist.data[1].y)).sum() > 0.5
    assert len(ex.table) == 81 and ex.table["along"].sum() == a.counts[:81].sum()
    ex.top.value, ex.left.value = 0, 0
    np.testing.assert_allclose(ex.fig_hist.data[0].y, ex.analyses[0].feature)
    assert ex.analyses[0].sha256 != a.sha256  # another window
    ex.manipulation.value = "jpeg70"
    assert ex.fig_hist.data[1].name == "jpeg70"
    assert len(ex.fig_residual.data) == 2 and ex.fig_residual.data[0].z.shape == (64, 61)


def test_explorer_heatmap_and_errors(blur_svm):
    from toolkit.synth.sources import photo

    ex = ResidualExplorer(
        photo("rocket")[:384, :384],
        manipulation="blur1.1",
        models={"blur1.1": blur_svm},
        window=64,
        stride=32,
    )
    ex.show_heatmap.value = True
    assert len(ex.fig_heat.data) == 2 and ex.heat is not None
    pix = ex.heat.to_pixels()
    mask = np.zeros((384, 384), bool)
    mask[128:256, 128:256] = True  # local_forgery's default box: the central third
    assert np.nanmean(pix[mask]) > np.nanmean(pix[~mask]) + 0.2
    ex.models["resize1.5"] = blur_svm
    ex.manipulation.value = "resize1.5"  # local forgery by resizing is not supported: said, not raised
    assert "ValueError" in ex.status.value and ex.heat is None
    ex.upload.value = (
        {
            "name": "bad.png",
            "content": memoryview(b"not an image"),
            "type": "image/png",
            "size": 12,
            "last_modified": datetime.datetime.now(),
        },
    )
    assert "not a readable image" in ex.status.value
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(buf, format="PNG")
    ex.upload.value = (
        {
            "name": "small.png",
            "content": memoryview(buf.getvalue()),
            "type": "image/png",
            "size": 1,
            "last_modified": datetime.datetime.now(),
        },
    )
    assert ex.picker.value == "uploaded: small.png" and "smaller than" in ex.status.value


def test_explorer_heat_map_uses_the_shipped_model():
    from toolkit.residual.data import local_forgery
    from toolkit.synth.sources import photo

    img = photo("rocket")[:256, :320]
    ex = ResidualExplorer(img, manipulation="median5", window=128, stride=64)
    ex.show_heatmap.value = True
    assert ex.models["median5"].weights_name == "residual/median5"
    assert ex.heat is not None and ex.heat.params["model"] == "residual/median5"
    assert ex.heat.verdict in ex.status.value and "threshold" in ex.status.value
    forged, mask = local_forgery(img, "median5")
    inside, outside = ex.heat.region_means(mask)
    assert f"inside box {inside:.2f}" in ex.status.value
