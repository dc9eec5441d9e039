import numpy as np
import pytest

from toolkit.residual import RecastCNN, features_batch, heatmap
from toolkit.residual.data import copy_move, local_forgery


def test_heatmap_equals_per_window(blur_svm):
    img = np.random.default_rng(0).integers(0, 256, (100, 90), dtype=np.uint8)
    net = RecastCNN.from_handcrafted(blur_svm, alpha=216.0, device="cpu")
    hm = heatmap(img, net, window=48, stride=20)
    assert hm.shape == ((100 - 48) // 20 + 1, (90 - 48) // 20 + 1)
    ref = np.array(
        [
            [
                net.predict_proba(img[i * 20 : i * 20 + 48, j * 20 : j * 20 + 48][None])[0]
                for j in range(hm.shape[1])
            ]
            for i in range(hm.shape[0])
        ]
    )
    np.testing.assert_allclose(np.asarray(hm), ref, atol=1e-5)
    # tiling (rows and columns) changes only the float rounding of the pooled sums
    chunked = heatmap(img, net, window=48, stride=20, max_rows=60)
    assert chunked.params["tiles"] > 1 and hm.params["tiles"] == 1
    np.testing.assert_allclose(np.asarray(chunked), np.asarray(hm), atol=1e-6)


def test_a_wide_image_is_tiled_across_its_width_too(blur_svm):
    img = np.random.default_rng(3).integers(0, 256, (64, 400), dtype=np.uint8)
    net = RecastCNN.from_handcrafted(blur_svm, hard=True, device="cpu")
    whole = heatmap(img, net, window=48, stride=16, max_rows=4000)
    tiled = heatmap(img, net, window=48, stride=16, max_rows=96)
    assert whole.params["tiles"] == 1 and tiled.params["tiles"] == tiled.shape[1] // 4 + (
        tiled.shape[1] % 4 > 0
    )
    np.testing.assert_allclose(np.asarray(tiled), np.asarray(whole), atol=1e-6)


def test_max_pixels_refuses_before_work_with_a_sentence(tmp_path):
    img = np.zeros((200, 300), np.uint8)
    with pytest.raises(ValueError, match="exceeds max_pixels=50,000.*pass max_pixels=60000"):
        heatmap(img, window=64, max_pixels=50_000)
    assert heatmap(img, window=64, stride=64, max_pixels=60_000).shape == (3, 4)


def test_heatmap_from_svm_is_the_svm(blur_svm):
    img = np.random.default_rng(1).integers(0, 256, (80, 80, 3), dtype=np.uint8)
    hm = heatmap(img, blur_svm, window=64, stride=16)
    s = blur_svm.decision_function(
        features_batch(np.stack([img[i : i + 64, j : j + 64] for i in (0, 16) for j in (0, 16)]))
    )
    np.testing.assert_allclose(np.asarray(hm).ravel(), 1 / (1 + np.exp(-s)), atol=1e-5)


def test_heatmap_localises_blur(blur_svm):
    from toolkit.synth.sources import photo

    img = photo("rocket")[:192, :256]
    forged, mask = local_forgery(img, "blur1.1", box=(64, 96, 128, 128))
    hm = heatmap(forged, blur_svm, window=64, stride=32)
    pix = hm.to_pixels()
    assert np.nanmean(pix[mask]) > np.nanmean(pix[~mask]) + 0.2
    fig = hm.plot(forged)
    assert len(fig.data) == 2
    assert len(hm.table()) == hm.size and hm.to_dict()["window"] == 64


def test_local_forgery_resize_rejected():
    with pytest.raises(ValueError, match="resiz"):
        local_forgery(np.zeros((64, 64, 3), np.uint8), "resize1.5")


def test_copy_move_pastes_a_resized_copy_and_leaves_the_input_alone():
    from toolkit.synth.manipulate import resize
    from toolkit.synth.sources import photo

    img = photo("rocket")[:192, :256]
    before = img.copy()
    forged, mask = copy_move(img, 1.125, box=(10, 20, 64, 64), dest=(100, 150))
    np.testing.assert_array_equal(img, before)
    assert forged.shape == img.shape and forged.dtype == np.uint8
    assert mask.sum() == 72 * 72 and mask[100:172, 150:222].all()
    np.testing.assert_array_equal(forged[~mask], img[~mask])
    np.testing.assert_array_equal(forged[100:172, 150:222], resize(img[10:74, 20:84], 1.125))
    grey, gmask = copy_move(img[..., 1])  # defaults: top-left quarter box to the bottom-right
    assert grey.shape == (192, 256) and gmask.any() and (grey[gmask] != img[..., 1][gmask]).any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scale": 0.0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"box": (60, 60, 10, 10)}, "inside"),
        ({"box": (0, 0, 4, 4)}, "at least 8"),
        ({"box": (0, 0, 40, 40), "dest": (40, 40)}, "does not fit"),
    ],
)
def test_copy_move_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        copy_move(np.zeros((64, 64), np.uint8), **kwargs)
    with pytest.raises(ValueError, match="uint8"):
        copy_move(np.zeros((64, 64), np.float32))
