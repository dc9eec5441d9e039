"""Body-part boxes from silhouettes, part volumes, the optional pose provider; V(o) from TV-L1."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from toolkit.ldptop import PARTS, Regions, flow_slices, flow_volume, from_masks, part_volume
from toolkit.ldptop.regions import from_pose, from_silhouette


def _person(h=120, w=90, top=10, left=35):
    m = np.zeros((160, 120), bool)
    m[top : top + h, left + 5 : left + 15] = True  # body
    m[top + 40 : top + 50, left - 20 : left + 40] = True  # arms: hands at the extremes
    m[top + h - 10 : top + h, left - 5 : left + 2] = True  # left foot
    m[top + h - 10 : top + h, left + 20 : left + 28] = True  # right foot
    return m


def test_boxes_sit_on_the_body_parts_and_are_sized_from_the_height():
    b = from_silhouette(_person())
    assert set(b) == set(PARTS)
    side = 120 // 6
    assert all(v[2] == v[3] == side for v in b.values())
    fy, fx = b["FC"][0], b["FC"][1] + side / 2
    assert fy == 10 and 35 + 5 <= fx <= 35 + 15
    assert b["LH"][1] < 35 - 10 and b["RH"][1] + side > 35 + 30  # the arm ends
    assert b["LF"][1] < b["RF"][1] and b["LF"][0] + side <= 131  # feet at the bottom
    assert from_silhouette(np.zeros((10, 10), bool)) == {}


def test_regions_from_masks_and_validation():
    ms = np.stack([_person(), np.zeros((160, 120), bool), _person(top=20)])
    r = from_masks(ms)
    assert r.n_frames == 3 and r.present("FC").tolist() == [True, False, True]
    assert r.boxes["FC"][2, 0] - r.boxes["FC"][0, 0] == 10
    with pytest.raises(ValueError, match="one box per frame"):
        Regions.from_dict({"FC": [[0, 0, 4, 4]], "LH": [[0, 0, 4, 4], [0, 0, 4, 4]]})
    with pytest.raises(ValueError, match="positive heights and widths"):
        Regions.from_dict({"FC": [[3, 0, 4, 0]]})
    assert Regions.from_dict({"FC": [[-3, 0, 4, 4]]}).present("FC").tolist() == [True]


def test_part_volume_follows_the_part():
    T = 6
    frames = np.zeros((T, 40, 40), np.uint8)
    boxes = []
    for t in range(T):
        frames[t, 10 + t : 14 + t, 5 + 2 * t : 9 + 2 * t] = 200  # a 4 x 4 "hand" moving
        boxes.append([9 + t, 4 + 2 * t, 6, 6])
    v = part_volume(frames, boxes)
    assert v.shape == (T, 6, 6)
    assert all(np.array_equal(v[t], v[0]) for t in range(T))  # the crop moves with the hand
    boxes[2] = [-1, -1, -1, -1]
    assert np.array_equal(part_volume(frames, boxes)[2][1:5, 1:5] > 0, np.ones((4, 4), bool)) is False
    boxes[30 // 10 :] = [[-1, -1, -1, -1]] * (T - 3)
    assert part_volume(frames, boxes) is None  # present in fewer than half the frames


def test_pose_provider_says_how_to_install_when_absent(monkeypatch):
    real_import = builtins.__import__

    def no_mediapipe(name, *a, **k):
        if name == "mediapipe":
            raise ImportError("no mediapipe")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mediapipe)
    with pytest.raises(ImportError, match="pip install 'mediapipe"):
        from_pose(np.zeros((2, 16, 16), np.uint8))


def test_flow_gradient_is_zero_when_nothing_moves_and_marks_moving_edges():
    T = 6
    still = np.zeros((T, 40, 40), np.uint8)
    still[:, 10:25, 10:25] = 180
    assert float(flow_volume(still).max()) == 0.0
    moving = np.zeros_like(still)
    for t in range(T):
        moving[t, 10:25, 8 + 2 * t : 23 + 2 * t] = 180
    v = flow_volume(moving)
    assert v.shape == (T, 40, 40) and v.dtype == np.float32
    assert v[:, 16:19, 14:20].mean() < v[:, 8:27, 5:35].max()  # motion edges, not the flat inside
    assert v[:, 0:4, 0:4].max() < 0.05 < v.max()


def test_flow_slices_band_is_close_to_the_exact_flow_on_a_translation():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (60, 80), dtype=np.uint8)
    frames = np.stack([np.roll(base, t, axis=1) for t in range(6)])[:, :, :]
    exact = flow_slices(frames)
    band = flow_slices(frames, band=6)
    assert [a.shape for a in band] == [(60, 80), (6, 80), (6, 60)]
    assert np.array_equal(exact[0], band[0])
    with pytest.raises(ValueError, match="band"):
        flow_slices(frames, band=0)
