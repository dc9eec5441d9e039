"""The seed's crop and the receptive-field-centre labels, on hand-computed cases."""

import numpy as np
import pytest
import torch

from toolkit.faces import Face, crop, crop_box, mask_labels, output_centres, paste_map, receptive_field
from toolkit.faces.model import FaceFCN
from toolkit.faces.train import seg_targets


def _face(box, lm):
    return Face(box=box, landmarks=np.asarray(lm, float), score=1.0)


def test_crop_box_hand_computed():
    # box 40 x 20 -> d_max 40, d_crop 44, side 88; landmarks' mean (50, 30) -> corner (6, -14)
    f = _face((30, 20, 70, 40), [[40, 25], [60, 25], [50, 30], [45, 35], [55, 35]])
    assert crop_box(f) == (6, -14, 88)


def test_non_square_box_uses_larger_side():
    tall = _face((0, 0, 10, 50), [[5, 25]] * 5)
    wide = _face((0, 0, 50, 10), [[5, 25]] * 5)
    assert crop_box(tall)[2] == crop_box(wide)[2] == 110


def test_centre_is_landmark_mean_not_box_centre():
    # rotated (tilted) landmarks: their mean, not the box centre, fixes the crop
    lm = np.array([[20, 10], [30, 20], [22, 22], [12, 26], [22, 36]], float)
    f = _face((0, 0, 40, 40), lm)
    x0, y0, side = crop_box(f)
    assert side == 88
    assert (x0 + side / 2, y0 + side / 2) == pytest.approx(lm.mean(0), abs=0.5)


def test_border_is_zero_padded():
    img = np.full((20, 20, 3), 200, np.uint8)
    f = _face((0, 0, 10, 10), [[0, 0]] * 5)  # centre on the corner: 3/4 of the crop is outside
    c = crop(img, f)
    assert c.shape == (128, 128, 3) and c.dtype == np.uint8
    assert c[:60, :60].max() == 0 and c[70:, 70:].min() == 200
    assert img.min() == 200  # input untouched


def test_tiny_face_is_upsampled():
    img = np.zeros((8, 8, 3), np.uint8)
    img[4, 4] = 255
    f = _face((3, 3, 5, 5), [[4, 4]] * 5)  # side 4 (2 * 1.1 * 2 = 4.4 -> 4)
    assert crop_box(f) == (2, 2, 4)
    c = crop(img, f)
    assert c.shape == (128, 128, 3) and c.max() > 100 and c[0, 0].max() == 0


def test_mask_crop_is_nearest():
    m = np.zeros((100, 100), bool)
    m[40:60, 40:60] = True
    f = _face((40, 40, 60, 60), [[50, 50]] * 5)
    mc = crop(m, f, mask=True)
    assert mc.dtype == bool and mc.shape == (128, 128)
    assert 0.15 < mc.mean() < 0.25  # 20x20 of a 44x44 window ~ 0.21


def test_receptive_field_and_stride_from_the_architecture():
    rf, stride, off = receptive_field()
    assert (rf, stride) == (31, 2)
    c = output_centres()
    assert len(c) == 49 and c[0] == 15 and np.all(np.diff(c) == 2)


def test_receptive_field_measured_by_gradients():
    # the output cell (i, j) must depend on exactly the 31 x 31 input patch centred at (15 + 2i, 15 + 2j)
    torch.manual_seed(0)
    net = FaceFCN().eval()
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    _, seg = net(x)
    i, j = 10, 30
    seg[0, 1, i, j].backward()
    g = x.grad[0].abs().sum(0).numpy() > 0
    ys, xs = np.nonzero(g)
    assert ys.max() - ys.min() + 1 <= 31 and xs.max() - xs.min() + 1 <= 31
    assert (ys.min() + ys.max()) / 2 == pytest.approx(15 + 2 * i, abs=1)
    assert (xs.min() + xs.max()) / 2 == pytest.approx(15 + 2 * j, abs=1)


def test_labels_sample_mask_at_centres():
    m = np.zeros((128, 128), bool)
    m[15, 17] = True  # centre of cell (0, 1)
    m[16, 16] = True  # between centres: not sampled
    lab = mask_labels(m)
    assert lab.shape == (49, 49) and lab.sum() == 1 and lab[0, 1] == 1
    assert np.array_equal(seg_targets(m[None])[0], lab)
    with pytest.raises(ValueError):
        mask_labels(np.zeros((64, 64)))


def test_paste_map_round_trip():
    f = _face((100, 100, 140, 140), [[120, 120]] * 5)
    prob = np.zeros((49, 49))
    prob[24, 24] = 1.0
    out = paste_map(prob, f, (300, 300))
    ys, xs = np.nonzero(out > 0.5)
    assert abs(ys.mean() - 120) < 3 and abs(xs.mean() - 120) < 3
    assert np.isnan(out[0, 0])
