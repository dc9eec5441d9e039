"""The input guard of the video layer: regular files only, the real video stream, limits, damage counted.

Clips are made here with the fuzz suite's generators (a few kB each).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import toolkit.video as video
from tests.fuzz.test_video_inputs import N, _cover_first, _lost, _write
from toolkit.video import (
    LIMITS,
    NotRegularFileError,
    macroblock_types,
    probe,
    regular_file,
    set_limits,
)
from toolkit.video._common import FrameDecoder, timestamp_report

ROOT = Path(__file__).resolve().parents[2]
LONG = ROOT / "sample_data/real/person_gop10_head300.mp4"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("guard")
    mkv = _write(d / "clip.mkv")
    data = mkv.read_bytes()
    (d / "cut.mkv").write_bytes(data[: len(data) // 2])
    return {
        "mkv": mkv,
        "cut": d / "cut.mkv",
        "lost": _lost(mkv, d / "lost.mkv"),
        "cover": _cover_first(d / "cover.mkv"),
    }


def test_fifos_devices_loops_and_folders_are_refused_before_opening(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.mp4"
    os.symlink(loop, loop)
    dangling = tmp_path / "dangling.mp4"
    os.symlink(tmp_path / "missing.mp4", dangling)
    with pytest.raises(NotRegularFileError, match="FIFO"):
        regular_file(fifo)  # a plain open() of it would block until a writer appears
    with pytest.raises(NotRegularFileError, match="character device"):
        probe("/dev/zero")
    with pytest.raises(NotRegularFileError, match="symlink loop"):
        video.read_frames(loop)
    with pytest.raises(OSError):  # also an OSError, for callers that catch those
        macroblock_types(loop)
    with pytest.raises(FileNotFoundError, match="symlink to a missing file"):
        probe(dangling)
    with pytest.raises(IsADirectoryError):
        probe(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["dangling.mp4", "loop.mp4", "pipe.mp4"]


def test_limits_refuse_big_frames_with_a_way_to_raise_them(clips):
    with pytest.raises(ValueError, match=r"max_pixels=3072"):
        probe(clips["mkv"], max_pixels=1000)
    old = dict(LIMITS)
    try:
        set_limits(max_pixels=1000)
        with pytest.raises(ValueError, match="set_limits"):
            macroblock_types(clips["mkv"])
        assert probe(clips["mkv"], max_pixels=4000).n_frames == N  # the per-call limit wins
    finally:
        set_limits(**old)
    assert LIMITS == old
    with pytest.raises(ValueError, match="positive whole number"):
        set_limits(max_pixels=0)


def test_cover_art_before_the_video_is_skipped_and_stream_chooses(clips):
    info = probe(clips["cover"])
    assert (info.stream, info.skipped_streams, info.n_frames, info.codec) == (1, (0,), N, "h264")
    picture = probe(clips["cover"], stream=0)
    assert (picture.codec, picture.n_frames) == ("mjpeg", 1)
    assert video.read_frames(clips["cover"]).shape == (N, 48, 64)
    with pytest.raises(ValueError, match="no video stream number 7"):
        probe(clips["cover"], stream=7)


def test_timestamp_report_tells_lost_frames_from_a_variable_rate():
    # 30 fps in milliseconds alternates 33 and 34 ms steps: constant rate, nothing lost
    assert timestamp_report(Counter({33: 59, 34: 29})) == {
        "base": 33,
        "variable": False,
        "missing_frames": 0,
        "steps": 88,
    }
    lost = timestamp_report(Counter({160: 13, 40: 2, 80: 1}), nominal=40)
    assert lost["missing_frames"] == 13 * 3 + 1 and not lost["variable"]
    vfr = timestamp_report(Counter({40: 20, 33: 10, 57: 10}))
    assert vfr["variable"] and vfr["missing_frames"] == 0


def test_damaged_streams_are_counted_not_reported_intact(clips):
    intact = FrameDecoder(clips["mkv"])
    assert sum(1 for _ in intact) == N and intact.complete and intact.error is None
    lost = FrameDecoder(clips["lost"])
    n = sum(1 for _ in lost)
    assert n + lost.missing_frames <= N and lost.missing_frames > 0 and not lost.complete
    assert "missing" in lost.error
    cut = macroblock_types(clips["cut"])
    assert not cut.complete and "declares" in cut.error and cut.params["decode"]["complete"] is False
    assert not probe(clips["cut"]).complete


def test_macroblock_counts_without_maps_equal_the_counts_of_the_maps():
    lean = macroblock_types(LONG, workers=1)
    full = macroblock_types(LONG, workers=1, with_map=True)
    assert lean.maps is None and lean.symbols is None
    assert lean.counts.equals(full.counts)
    sym = full.symbols.reshape(full.n_frames, -1)
    assert (full.counts["forward"].to_numpy() == (sym == ord(">")).sum(axis=1)).all()
    assert (full.counts["backward"].to_numpy() == (sym == ord("<")).sum(axis=1)).all()
    assert (lean.counts[["forward", "backward"]].sum(axis=1) <= lean.counts["inter"]).all()


def test_the_two_process_trace_works_from_a_script_without_a_main_guard(tmp_path):
    # multiprocessing's spawn / forkserver would re-import this script in each worker and fail
    script = tmp_path / "no_guard.py"
    script.write_text(
        "from toolkit.video import macroblock_types\n"
        f"r = macroblock_types({str(LONG)!r})\n"
        "print(r.params['segments'], r.n_frames, r.complete)\n"
    )
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["2", "300", "True"]


def test_iter_luma_reports_the_decode_and_refuses_fractional_steps(clips):
    report: dict = {}
    frames = list(video.iter_luma(clips["mkv"], count=3, report=report))
    assert len(frames) == 3 and report["frames_decoded"] >= 3 and report["stream"] == 0
    with pytest.raises(ValueError, match="step=1.5"):
        next(video.iter_luma(clips["mkv"], step=1.5))
    with pytest.raises(ValueError, match="max_frames"):
        macroblock_types(clips["mkv"], max_frames=0)
    assert np.array_equal(frames[0], video.read_frames(clips["mkv"], count=1)[0])


def test_memory_benchmark_quick_mode_is_flat_in_video_length(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import memory
    finally:
        sys.path.pop(0)
    r = memory.main(["--quick", "--folder", str(tmp_path)])
    assert r["frames"]["vpf.analyze_serial"] == {str(12 / 60): 300, str(36 / 60): 900}
    growth = r["growth_max_over_min"]["vpf.analyze_serial"]
    assert growth < 0.10, f"peak RSS grows {100 * growth:.0f} % from 300 to 900 frames"
