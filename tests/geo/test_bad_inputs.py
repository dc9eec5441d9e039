import numpy as np
import pytest
from PIL import Image

from toolkit import weights
from toolkit.geo import city, country
from toolkit.geo.image import load_image


def test_non_image_file(tmp_path, tiny_country_model):
    f = tmp_path / "fake.jpg"
    f.write_text("this is not an image")
    with pytest.raises(ValueError, match="not an image"):
        country.predict(f, model=tiny_country_model)
    with pytest.raises(FileNotFoundError):
        country.predict(tmp_path / "missing.jpg", model=tiny_country_model)
    with pytest.raises(ValueError, match="expected an image"):
        load_image(12)


def test_tiny_image(tiny_country_model):
    with pytest.raises(ValueError, match="too small"):
        country.five_crops(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="too small"):
        country.predict(np.zeros((20, 500, 3), np.uint8), model=tiny_country_model)


def test_cmyk_rgba_16bit(tmp_path, tiny_country_model):
    rng = np.random.default_rng(1)
    rgb = (rng.random((64, 80, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg")
    a = load_image(tmp_path / "cmyk.jpg")
    assert a.shape == (64, 80, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - rgb).mean() < 20  # the colours survive CMYK round trip roughly
    rgba = np.dstack([rgb, np.zeros((64, 80), np.uint8)])  # fully transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert (load_image(tmp_path / "rgba.png") == 255).all()
    g16 = (np.arange(64 * 80).reshape(64, 80) * 12).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")
    b = load_image(tmp_path / "g16.png")
    assert b.dtype == np.uint8 and b.shape == (64, 80, 3)
    np.testing.assert_array_equal(b[..., 0], np.clip(g16 / 65535 * 255 + 0.5, 0, 255).astype(np.uint8))
    assert load_image(g16).max() == b.max()
    rgb16 = np.full((40, 40, 3), 65535, np.uint16)
    rgb16[0, 0] = (0, 32768, 65535)
    c = load_image(rgb16)
    assert c.dtype == np.uint8 and c[1, 1].tolist() == [255, 255, 255] and c[0, 0].tolist() == [0, 128, 255]
    for f in ("cmyk.jpg", "rgba.png", "g16.png"):
        t = country.predict(tmp_path / f, k=3, model=tiny_country_model)
        assert len(t) == 3


def test_missing_checkpoint_gives_registry_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    with pytest.raises(weights.WeightsNotFoundError, match="toolkit.geo.train"):
        country.load_model("geo/vippgeo_resnet101")
    with pytest.raises(weights.WeightsNotFoundError, match="resnet101-63fe2227"):
        country.build_model("resnet101", pretrained=True)
    with pytest.raises(weights.WeightsNotFoundError):
        city.load_siamese("geo/city_vit_l_16")
    with pytest.raises(FileNotFoundError):
        country.load_model(tmp_path / "nope.pt")


def test_torchvision_prefix_check(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "resnet18-f37072fd.pth").write_bytes(b"corrupt")
    with pytest.raises(weights.WeightsHashError, match="f37072fd"):
        country.build_model("resnet18", pretrained=True)


def test_wrong_checkpoint_kind(tmp_path):
    import torch

    torch.save({"hello": 1}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a country-classifier"):
        country.load_model(tmp_path / "x.pt")


def test_pretrained_auto_falls_back_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    m = country.build_model("resnet18", pretrained="auto")
    assert m.meta["pretrained"] is False
    with pytest.raises(ValueError, match="pretrained"):
        country.build_model("resnet18", pretrained="maybe")
