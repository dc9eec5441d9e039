"""The one image reader: orientation, colour modes, bit depths, bad input, inputs untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from toolkit._util import sha256_file
from toolkit.image import image_sha256, load_image


def _png(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def test_exif_orientation_turns_the_image_upright(tmp_path):
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = 255  # left half white, 20 rows x 40 columns
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the stored image is on its side
    f = tmp_path / "rot.jpg"
    Image.fromarray(a).save(f, exif=exif, quality=100)
    out = load_image(f)
    assert out.shape == (40, 20, 3)  # upright: width and height swap
    assert out[:18].mean() > 200 and out[22:].mean() < 50  # the white half is now on top
    plain = load_image(a)
    assert plain.shape == (20, 40, 3)  # arrays carry no EXIF: unchanged


@pytest.mark.parametrize(
    "mode, value, expected",
    [("L", 128, 128), ("I;16", 65535, 255), ("I;16", 32896, 128), ("CMYK", (0, 0, 0, 0), 255)],
)
def test_colour_modes_and_bit_depths(tmp_path, mode, value, expected):
    img = Image.new(mode, (33, 34), value)
    f = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    img.save(f)
    out = load_image(f)
    assert out.dtype == np.uint8 and out.shape == (34, 33, 3)
    assert abs(int(out[0, 0, 0]) - expected) <= 1


def test_rgba_is_composited_on_white_and_bytes_work():
    img = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    out = load_image(buf.getvalue())
    assert (out == 255).all()


def test_the_input_is_never_modified(tmp_path):
    a = np.random.default_rng(0).integers(0, 65536, (10, 12, 4), dtype=np.uint16)
    before = a.copy()
    load_image(a)
    assert np.array_equal(a, before) and a.flags.writeable
    f = _png(Image.fromarray(np.zeros((9, 9), np.uint8)), tmp_path / "z.png")
    digest = sha256_file(f)
    load_image(f)
    assert sha256_file(f) == digest == image_sha256(f)


def test_bad_input_is_a_sentence(tmp_path):
    (tmp_path / "t.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image file"):
        load_image(tmp_path / "t.png")
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="too small"):
        load_image(np.zeros((4, 4), np.uint8), min_side=8)
    with pytest.raises(ValueError, match="HxW"):
        load_image(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        load_image(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="expected an image"):
        load_image(12)


def test_image_info_states_conversions_and_is_json(tmp_path):
    import json

    from toolkit.image import ImageInfo

    f = _png(Image.new("P", (12, 10), 3), tmp_path / "p.png")
    rgb, info = load_image(f, return_info=True)
    assert isinstance(info, ImageInfo) and info.format == "PNG" and info.mode == "P"
    assert (
        info.size == (12, 10) and info.shape == (10, 12) and info.conversions == ("palette expanded to RGB",)
    )
    assert json.loads(json.dumps(info.to_dict())) == info.to_dict()
    _, plain = load_image(np.zeros((3, 4, 3), np.uint8), return_info=True)
    assert plain.conversions == () and plain.source == "array"  # nothing done: nothing claimed


def test_read_header_reports_the_declared_size_of_an_image_too_large_to_decode(tmp_path):
    from toolkit.image import read_header

    f = _png(Image.new("L", (11000, 10000)), tmp_path / "big.png")
    with pytest.raises(ValueError, match=r"11000x10000 = 110,000,000 pixels exceeds max_pixels"):
        load_image(f)
    h = read_header(f)
    assert h.size == (11000, 10000) and h.format == "PNG" and h.n_frames == 1


def test_non_regular_paths_are_refused_before_opening(tmp_path):
    import os

    from toolkit.image import check_image_file

    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ValueError, match="FIFO"):
        check_image_file(tmp_path / "pipe.png")
    with pytest.raises(ValueError, match="folder"):
        load_image(tmp_path)
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(FileNotFoundError, match="symbolic link"):
        load_image(tmp_path / "gone.png")
    with pytest.raises(ValueError, match="max_pixels must be"):
        load_image(np.zeros((2, 2), np.uint8), max_pixels=0)
