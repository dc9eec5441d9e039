from __future__ import annotations

import numpy as np
import pytest

from toolkit.ldptop import PARTS, LDPTOPEnsemble


def _model(parts, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((8, len(parts), 2, 3072)) / 3072
    y = np.r_[[0] * 4, [1] * 4]
    X[y == 1, :, :, 255] += 0.5  # "fakes" have more flat (code 255) neighbourhoods
    return LDPTOPEnsemble(parts=parts, max_iter=20).fit(X, y)


@pytest.fixture(scope="session")
def frame_model():
    return _model(("frame",))


@pytest.fixture(scope="session")
def parts_model():
    return _model(PARTS)


@pytest.fixture(scope="session")
def dance(tmp_path_factory):
    """A tiny FakeDance-like set from the person clip's head: one training and one test segment, RAW."""
    from toolkit.synth import fakedance

    root = tmp_path_factory.mktemp("dance")
    man = fakedance.make_dataset(
        root,
        n_frames=50,
        factor=8,
        qualities=("raw",),
        flips=False,
        train_fraction=0.25,
        max_clip_frames=300,
        max_videos=1,
        progress=False,
    )
    return root, man
