"""Shared fixtures for the geolocation tests: tiny models, small images (seeded)."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_country_model():
    from toolkit.geo.country import build_model

    return build_model("tiny", seed=0).eval()


@pytest.fixture(scope="session")
def tiny_siamese():
    from toolkit.geo.city import build_siamese

    return build_siamese("tiny", seed=0).eval()


@pytest.fixture()
def rgb_image():
    rng = np.random.default_rng(0)
    return (rng.random((300, 400, 3)) * 255).astype(np.uint8)
