import numpy as np

from toolkit.residual.data import SPLITS, manipulated_pairs, pristine_patches


def test_splits_are_source_disjoint():
    for kind in ("photos", "clips"):
        assert not set(SPLITS["train"][kind]) & set(SPLITS["test"][kind])
    tr = {s.split("#")[0] for s, _, _ in pristine_patches("train", use_clips=False)}
    te = {s.split("#")[0] for s, _, _ in pristine_patches("test", use_clips=False)}
    assert tr and te and not tr & te


def test_pairs(blur_data):
    tr, te = blur_data
    n = len(tr) // 2
    assert tr.x.shape == (2 * n, 64, 64) and tr.x.dtype == np.uint8
    assert tr.y.tolist() == [0] * n + [1] * n
    assert tr.source[:n] == tr.source[n:]
    # twins: same place, different pixels (blurred)
    diff = np.abs(tr.x[:n].astype(int) - tr.x[n:].astype(int)).mean((1, 2))
    assert (diff > 0).all()
    assert len(tr.table()) == 2 * n and len(tr.sha256) == 64


def test_resize_pairs_keep_size():
    p = manipulated_pairs("test", "resize1.125", n=4, size=64, use_clips=False)
    assert p.x.shape == (8, 64, 64)
