"""Small simulated sets for the F-SVM tests (seeded, made by toolkit.fsvm.simulate)."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.fsvm.simulate import make_dataset

SIZE = (64, 96)  # 4 x 6 macroblocks: fast to simulate and to re-encode


@pytest.fixture(scope="session")
def sim_root(tmp_path_factory):
    """4 real + 4 fake videos, 16 frames, 64x96, photo sources only (fast)."""
    root = tmp_path_factory.mktemp("fsvm_sim")
    make_dataset(root, n_per_class=4, n_frames=16, size=SIZE, seed=7, real_clips=False, progress=False)
    return root


@pytest.fixture(scope="session")
def sim_set(sim_root):
    from toolkit.fsvm import load_folder

    return load_folder(sim_root, n_frames=12, progress=False)


@pytest.fixture(scope="session")
def separable():
    """Synthetic footprints: 6 real (mostly inter) and 6 fake (mostly intra), N = 10."""
    rng = np.random.default_rng(0)

    def make(mean, k):
        f = np.clip(rng.normal(mean, 0.05, (k, 10, 3)), 0, None)
        return f / f.sum(axis=2, keepdims=True)

    X = np.concatenate([make([0.1, 0.8, 0.1], 6), make([0.6, 0.4, 0.0], 6)])
    y = np.array([0] * 6 + [1] * 6)
    return X, y
