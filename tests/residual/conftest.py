"""Small seeded data for the residual tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def photo_patches():
    """24 green-band 64 x 64 patches of two photos (natural content)."""
    from toolkit.synth.sources import photo

    out = []
    for name in ("astronaut", "coffee"):
        g = photo(name)[..., 1]
        out += [g[t : t + 64, lf : lf + 64] for t in range(0, 192, 64) for lf in range(0, 256, 64)]
    return np.stack(out)


@pytest.fixture(scope="session")
def blur_data():
    """Train / test pairs (pristine vs Gaussian blur 1.1), photos only, small."""
    from toolkit.residual.data import manipulated_pairs

    tr = manipulated_pairs("train", "blur1.1", n=40, size=64, stride=64, use_clips=False)
    te = manipulated_pairs("test", "blur1.1", n=20, size=64, stride=64, use_clips=False, seed=1)
    return tr, te


@pytest.fixture(scope="session")
def blur_svm(blur_data):
    from toolkit.residual import features_batch
    from toolkit.residual.svm import train_svm

    tr, _ = blur_data
    return train_svm(features_batch(tr.x), tr.y, C=1.0)
