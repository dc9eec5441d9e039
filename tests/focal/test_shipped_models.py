"""The shipped FOCAL CNNs on videos they never saw: codec and quantisation step are recognised.

These are end-to-end checks of the trained weights (registry -> load_model -> dense
features -> classify); a model at chance, or one wired to the wrong classes, fails them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolkit.focal import classify
from toolkit.focal.model import QUALITY_DELTAS

from ._shipped import needs_shipped_weights

ROOT = Path(__file__).resolve().parents[2]
pytestmark = needs_shipped_weights


def test_codec_model_names_the_codec_of_the_sample_clip():
    video = ROOT / "sample_data" / "single" / "single_h264.mp4"
    if not video.exists():
        pytest.skip("sample_data missing: python -m toolkit.synth.sample_data")
    p = classify(video, "codec", stride=16, count=4)
    assert max(p, key=p.get) == "h264", p


@pytest.fixture(scope="module")
def held_out_encodes(tmp_path_factory):
    """4 frames of 'coffee' (a test-split source, unseen in training) coded by MPEG-2 at Δ = 10 and 40."""
    from toolkit.focal.data import SourceSpec
    from toolkit.synth import delta_to_quality, encode

    frames = SourceSpec("photo", "coffee", seed=100).frames(n_frames=4)
    d = tmp_path_factory.mktemp("quality")
    out = {}
    for delta in (10, 40):
        f = d / f"mpeg2_delta{delta}.mp4"
        encode(frames, f, codec="mpeg2", quality=delta_to_quality("mpeg2", delta), gop=30, bframes=0)
        out[delta] = f
    return out


def test_quality_model_orders_and_names_the_quantisation_step(held_out_encodes):
    probs = {d: classify(f, "quality", stride=16) for d, f in held_out_encodes.items()}
    expected = {d: float(np.dot(list(p.values()), QUALITY_DELTAS)) for d, p in probs.items()}
    assert expected[40] > expected[10], probs  # coarser quantisation -> larger estimated step
    assert max(probs[40], key=probs[40].get) == "delta40", probs


@pytest.fixture(scope="module")
def held_out_x26x(tmp_path_factory):
    """8 frames of 'sister.mkv' (a test-split clip, unseen in training) coded by x264 and x265 with one
    and with four encoder threads (frame threads change the stream, see toolkit.focal.data)."""
    from toolkit.focal.data import SourceSpec
    from toolkit.synth import encode

    frames = SourceSpec("real", "sister.mkv").frames(n_frames=8)
    d = tmp_path_factory.mktemp("threads")
    out = {}
    for codec, bframes in (("h264", 3), ("h265", 4)):
        for threads in (1, 4):
            f = d / f"{codec}_t{threads}.mp4"
            encode(frames, f, codec=codec, quality=26, gop=30, bframes=bframes, threads=threads)
            out[codec, threads] = f
    return out


def test_codec_model_names_h264_and_h265_whatever_the_encoder_threads(held_out_x26x):
    for (codec, threads), f in held_out_x26x.items():
        p = classify(f, "codec", stride=16)
        assert max(p, key=p.get) == codec, (codec, threads, p)
