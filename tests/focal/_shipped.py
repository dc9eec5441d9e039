"""The mark for the checks that need the shipped FOCAL weights (shared by the FOCAL tests)."""

import pytest


def shipped() -> bool:
    from toolkit import weights

    return {"focal/codec", "focal/quality"} <= set(weights.available())


#: skip without the shipped weights; use as a decorator or as a module's ``pytestmark``
needs_shipped_weights = pytest.mark.skipif(
    not shipped(),
    reason="shipped FOCAL weights (focal/codec, focal/quality) are not registered yet: "
    "train them with python -m toolkit.focal.train codec|quality --register",
)
