"""VPF on damaged or odd streams: inconclusive with the damage named, never a verdict on lost frames."""

from __future__ import annotations

import pytest

from tests.fuzz.test_video_inputs import _corrupt, _cover_first, _lost, _write
from toolkit.vpf import analyze


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("vpf_damaged")
    mp4 = _write(d / "clip.mp4", n=60, container_options={"movflags": "+faststart"})
    mkv = _write(d / "clip.mkv", n=60)
    return {
        "intact": mkv,
        "lost": _lost(mkv, d / "lost.mkv"),
        "corrupt": _corrupt(mp4, d / "corrupt.mp4"),
        "cover": _cover_first(d / "cover.mkv"),
    }


@pytest.mark.parametrize("name", ["lost", "corrupt"])
def test_a_damaged_stream_is_inconclusive_and_says_why(clips, name):
    r = analyze(clips[name])
    assert r.verdict == "inconclusive" and r.double_encoded is None and r.previous_gop is None
    assert "damaged" in r.reason and r.params["complete"] is False and r.params["decode_error"]


def test_an_intact_stream_is_decided_and_records_the_stream_read(clips):
    r = analyze(clips["intact"])
    assert r.verdict != "inconclusive" or "damaged" not in r.reason
    assert r.params["complete"] is True and r.params["stream"] == 0 and r.n_frames == 60


def test_cover_art_is_not_what_vpf_analyses(clips):
    r = analyze(clips["cover"])
    assert r.params["stream"] == 1 and r.n_frames == 36 and r.codec == "h264"
