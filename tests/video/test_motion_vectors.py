"""Zero-motion-vector counts (``macroblock_types(..., motion_vectors=True)``) on real encodes."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence
from toolkit.video import macroblock_types


def _still_and_pan(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    pan = photo_sequence("coffee", n_frames=n, size=(96, 128), motion="pan", seed=3)
    # a still scene with sensor-like noise: coded mostly with inter MBs that do not move
    rng = np.random.default_rng(0)
    still = np.stack(
        [
            np.clip(pan[0].astype(int) + rng.integers(-6, 7, pan[0].shape), 0, 255).astype(np.uint8)
            for _ in range(n)
        ]
    )
    return still, pan


@pytest.mark.parametrize(
    "settings",
    [
        dict(codec="h264", quality=18, gop=12),
        dict(codec="mpeg2", quality=3, gop=12),
        dict(codec="mpeg4", quality=3, gop=12),
    ],
    ids=["h264", "mpeg2", "mpeg4"],
)
def test_zero_mv_counts_follow_the_motion(tmp_path, settings):
    still, pan = _still_and_pan()
    ext = ".mp4" if settings["codec"] == "h264" else (".mpg" if settings["codec"] == "mpeg2" else ".avi")
    a = macroblock_types(encode(still, tmp_path / f"still{ext}", settings))
    b = macroblock_types(encode(pan, tmp_path / f"pan{ext}", settings))
    for mb in (a, b):
        c = mb.counts
        assert "zero_mv" in c
        assert (c["zero_mv"] >= 0).all() and (c["zero_mv"] <= c["inter"]).all()
        assert (c.loc[c.frame_type == "I", "zero_mv"] == 0).all()  # no vectors in intra frames
    pred = lambda mb: mb.counts[mb.counts.frame_type != "I"]  # noqa: E731
    still_share = pred(a)["zero_mv"].sum() / max(1, pred(a)["inter"].sum())
    pan_share = pred(b)["zero_mv"].sum() / max(1, pred(b)["inter"].sum())
    # the still scene's coded MBs mostly do not move (x264 lets sensor noise pull some vectors
    # off zero: 41 % measured), the panned ones do
    assert still_share > 0.3, still_share
    assert pan_share < still_share / 2, (pan_share, still_share)


def test_motion_vectors_off_drops_the_column_and_changes_nothing_else(tmp_path):
    _, pan = _still_and_pan()
    p = encode(pan, tmp_path / "pan.mp4", codec="h264", quality=24, gop=10, bframes=2)
    on = macroblock_types(p)
    off = macroblock_types(p, motion_vectors=False)
    assert "zero_mv" not in off.counts and off.params["motion_vectors"] is False
    assert on.counts.drop(columns="zero_mv").equals(off.counts)


def test_zero_mv_equals_a_count_from_the_exported_vectors(tmp_path):
    """Cross-check against an independent reading of the side data: the vectors of each MB."""
    import av

    _, pan = _still_and_pan(12)
    p = encode(pan, tmp_path / "pan.mp4", codec="h264", quality=26, gop=12)
    mb = macroblock_types(p, with_map=True)
    expected = []
    with av.open(str(p)) as c:
        st = c.streams.video[0]
        st.codec_context.options = {"flags2": "+export_mvs"}
        for k, frame in enumerate(c.decode(st)):
            sd = frame.side_data.get("MOTION_VECTORS")
            moving: dict = {}
            for v in sd.to_ndarray() if sd is not None else []:
                key = (int(v["dst_y"]) // 16, int(v["dst_x"]) // 16)
                moving[key] = moving.get(key, False) or bool(v["motion_x"] or v["motion_y"])
            inter = mb.maps[k] == 1
            expected.append(sum(1 for (y, x), m in moving.items() if not m and inter[y, x]))
    assert mb.counts["zero_mv"].tolist() == expected
