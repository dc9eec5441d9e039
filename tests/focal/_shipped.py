"""Marks for the checks that need the shipped FOCAL weights (shared by the FOCAL tests)."""

import pytest


def shipped() -> bool:
    from toolkit import weights

    return {"focal/codec", "focal/quality"} <= set(weights.available())


SKIP_WITHOUT_WEIGHTS = pytest.mark.skipif(
    not shipped(),
    reason="shipped FOCAL weights (focal/codec, focal/quality) are not registered yet: "
           "train them with python -m toolkit.focal.train codec|quality --register")


def needs_shipped_weights(test):
    """Skip without the shipped weights (python -m toolkit.focal.train codec|quality --register)."""
    return SKIP_WITHOUT_WEIGHTS(test)
