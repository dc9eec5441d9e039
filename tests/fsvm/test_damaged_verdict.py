"""A damaged stream's footprint does not describe its coding: F-SVM then says "inconclusive"."""

from __future__ import annotations

import dataclasses

from toolkit.fsvm import detect, load_model
from toolkit.fsvm.footprint import extract


def test_damaged_footprint_is_inconclusive():
    model = load_model("simulated")
    fp = extract("sample_data/single/single_h264.mp4", n_frames=int(model.n_frames), pad=True)
    assert fp.params["decode_complete"] is True
    clean = detect("sample_data/single/single_h264.mp4", model=model, footprint=fp)
    assert clean.verdict in ("synthetic", "not_detected")
    broken = dataclasses.replace(
        fp, params={**fp.params, "decode_complete": False, "decode_error": "3 packets"}
    )
    r = detect("sample_data/single/single_h264.mp4", model=model, footprint=broken)
    assert r.verdict == "inconclusive" and "damaged" in r.reason and "3 packets" in r.reason
    assert r.score == clean.score  # the number is kept; only the decision is withheld
