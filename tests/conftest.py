"""Shared fixtures: small clips made by the project's own generator (seeded, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def moving_frames():
    """40 frames, 96 x 128, virtual camera over a photo."""
    return photo_sequence("coffee", n_frames=40, size=(96, 128), seed=3)


@pytest.fixture(scope="session")
def make_clip(clip_dir, moving_frames):
    """Factory: encode the moving frames with the given settings, cached per settings."""
    cache = {}

    def _make(name: str, frames=None, **settings):
        key = (name, tuple(sorted(settings.items())))
        if key not in cache:
            cache[key] = encode(moving_frames if frames is None else frames, clip_dir / name, **settings)
        return cache[key]

    return _make


@pytest.fixture(scope="session")
def static_frames():
    """30 identical noiseless frames (a static scene)."""
    return photo_sequence("astronaut", n_frames=30, size=(96, 128), motion="static", noise=0.0, seed=1)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(0)
