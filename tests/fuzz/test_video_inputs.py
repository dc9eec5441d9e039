"""Odd and hostile video files against every public video entry point, each call in a subprocess.

Inputs are generated at test time (a few kB each, nothing committed): empty, random bytes and text
files; MKV and fast-start MP4 cut at 10 / 50 / 90 %; flipped bytes inside the packets; a remux
that lost most of its frames; 1- and 2-frame clips; 16x16 and 33x17 frames; HEVC, VP9, AV1,
MJPEG, MPEG-2 and MPEG-4 streams (left out, with the reason, where this PyAV lacks the encoder);
audio only; two video streams; cover art before the video (as a track, and as an attached
picture); variable frame rate; a 90-degree rotation matrix; yuv444p, 10-bit and grey pixels;
interlaced coding; a resolution change mid-stream; names with spaces, unicode and a leading dash;
a read-only file and folder; symlinks (good, dangling, a loop); a FIFO, ``/dev/zero`` and a folder.

Every input goes through ``toolkit.video.probe / read_frames / iter_luma / macroblock_types``,
``toolkit.vpf.analyze``, ``toolkit.fsvm.footprint / extract / detect``, ``toolkit.methods.run`` for
the video methods and ``toolkit.methods.inspect``, with :func:`tests.fuzz.harness.call_many`
(several calls per subprocess, each within its own budget; inputs in parallel subprocesses).
Asserted: a result or a typed error (never a hang past the budget, never an untyped deep error
such as ``AttributeError`` / ``IndexError`` / ``ZeroDivisionError`` or a raw PyAV error), the
input's SHA-256 unchanged, no file created or removed beside it — and no silent wrong answer:
damaged streams are reported ``complete=False`` (VPF: "inconclusive"), cover art is skipped, a
variable frame rate and a resolution change are reported, FIFOs and devices are refused at once.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.fuzz.harness import Call, Outcome, call_many
from toolkit._util import sha256_file

#: seconds one call may take (good calls on these tiny inputs take well under 5 s)
BUDGET = 60.0
#: exception families a caller is promised: our typed errors, a ValueError / OSError with a sentence
TYPED = ("VideoError", "ValueError", "OSError")
#: subprocesses run at once (the suite's share of 2 cores)
PARALLEL = 3
#: inputs per subprocess (imports are paid once per subprocess)
GROUP = 8

W, H, N = 64, 48, 36


def _frames(n=N, w=W, h=H, seed=0):
    """Moving, textured RGB frames (so encoders make real P-frames)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h + n, w + n, 3), dtype=np.uint8)
    for k in range(n):
        yield np.ascontiguousarray(base[k : k + h, k : k + w])


def _write(
    path,
    codec="libx264",
    n=N,
    w=W,
    h=H,
    pix_fmt="yuv420p",
    fps=25,
    options=None,
    container_options=None,
    pts=None,
    gop=12,
):
    path = Path(path)
    with av.open(str(path), "w", options=container_options or {}) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if gop:
            s.codec_context.gop_size = gop
        if options:
            s.codec_context.options = dict(options)
        if pts is not None:
            s.codec_context.time_base = Fraction(1, 1000)
        for k, a in enumerate(_frames(n, w, h)):
            f = av.VideoFrame.from_ndarray(a, format="rgb24").reformat(format=pix_fmt)
            f.pts = k if pts is None else pts[k]
            if pts is not None:
                f.time_base = Fraction(1, 1000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _cover_first(path, attached=False):
    """A 32x32 one-picture MJPEG stream (cover art) before the real 36-frame H.264 video.

    In Matroska the picture stays stream 0 (an ordinary track); with ``attached=True`` it is
    flagged as an attached picture (the MP4 muxer then stores it as ``covr``, read back last).
    """
    with av.open(str(path), "w") as c:
        cover = c.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        if attached:
            cover.disposition = av.stream.Disposition.attached_pic
        vid = c.add_stream("libx264", rate=25)
        vid.width, vid.height, vid.pix_fmt = W, H, "yuv420p"
        vid.codec_context.gop_size = 12
        img = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, np.uint8), format="rgb24")
        img = img.reformat(format="yuvj420p")
        img.pts = 0
        for p in cover.encode(img):
            c.mux(p)
        for p in cover.encode():
            c.mux(p)
        for k, a in enumerate(_frames()):
            f = av.VideoFrame.from_ndarray(a, format="rgb24").reformat(format="yuv420p")
            f.pts = k
            for p in vid.encode(f):
                c.mux(p)
        for p in vid.encode():
            c.mux(p)
    return path


def _two_video(path):
    with av.open(str(path), "w") as c:
        a = c.add_stream("libx264", rate=25)
        a.width, a.height, a.pix_fmt = W, H, "yuv420p"
        b = c.add_stream("mpeg4", rate=25)
        b.width, b.height, b.pix_fmt = 32, 32, "yuv420p"
        for k, x in enumerate(_frames(24)):
            for s, arr in ((a, x), (b, x[:32, :32])):
                f = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24").reformat(
                    format="yuv420p"
                )
                f.pts = k
                for p in s.encode(f):
                    c.mux(p)
        for s in (a, b):
            for p in s.encode():
                c.mux(p)
    return path


def _audio_only(path):
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=8000)
        t = np.arange(8000) / 8000
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        fr = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        fr.sample_rate = 8000
        fr.pts = 0
        for p in s.encode(fr):
            c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _resolution_change(path, tmp):
    """MPEG-TS: 20 frames 64x48 then 20 frames 96x64 (concatenated TS files are one valid stream)."""
    a = _write(tmp / "a.ts", n=20)
    b = _write(tmp / "b.ts", n=20, w=96, h=64)
    path.write_bytes(a.read_bytes() + b.read_bytes())
    a.unlink()
    b.unlink()
    return path


def _rotated(path):
    """MP4 whose track matrix (``tkhd``) says: display rotated by 90 degrees."""
    import struct

    _write(path)
    data = bytearray(path.read_bytes())
    m = data.find(b"tkhd") + 4 + 40  # version/flags, times, track id, duration, layer, volume
    data[m : m + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


def _corrupt(src, path, seed=1):
    """Flip a few hundred bytes in the middle of the file (inside the coded packets)."""
    data = bytearray(Path(src).read_bytes())
    rng = np.random.default_rng(seed)
    for i in rng.integers(len(data) // 4, len(data) * 3 // 4, 300):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _lost(src, path):
    """Remux keeping the first 3 packets and then every 4th: frames lost, timestamps kept."""
    with av.open(str(src)) as ic, av.open(str(path), "w") as oc:
        ist = ic.streams.video[0]
        ost = oc.add_stream_from_template(ist)
        for k, pkt in enumerate(p for p in ic.demux(ist) if p.size):
            if k < 3 or k % 4 == 0:
                pkt.stream = ost
                oc.mux(pkt)
    return path


def make_inputs(root: str | os.PathLike) -> tuple[dict[str, Path], dict[str, str]]:
    """Write every fuzz input under ``root``; ``({name: path}, {name: why skipped})``."""
    root = Path(root)
    cases: dict[str, Path] = {}
    skipped: dict[str, str] = {}

    def slot(name: str, filename: str) -> Path:
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        return d / filename

    def add(name, filename, make):
        p = slot(name, filename)
        try:
            cases[name] = make(p)
        except (av.error.FFmpegError, ValueError, OSError) as exc:  # encoder absent in this build
            shutil.rmtree(p.parent, ignore_errors=True)
            skipped[name] = f"{type(exc).__name__}: {exc}"

    scratch = root / "_scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    base_mkv = _write(scratch / "base.mkv")
    base_mp4 = _write(scratch / "fast.mp4", container_options={"movflags": "+faststart"})
    add("h264_mkv", "clip.mkv", lambda p: shutil.copy(base_mkv, p) and p)
    add("h264_mp4_faststart", "clip.mp4", lambda p: shutil.copy(base_mp4, p) and p)
    add("empty", "empty.mp4", lambda p: (p.write_bytes(b""), p)[1])
    add(
        "random_bytes",
        "random.mp4",
        lambda p: (p.write_bytes(np.random.default_rng(3).bytes(4096)), p)[1],
    )
    add("text_file", "README.txt", lambda p: (p.write_text("not a video\n" * 20), p)[1])
    for frac in (10, 50, 90):
        for src, ext in ((base_mkv, "mkv"), (base_mp4, "mp4")):
            data = src.read_bytes()
            add(
                f"truncated_{frac}_{ext}",
                f"cut.{ext}",
                lambda p, d=data, f=frac: (p.write_bytes(d[: len(d) * f // 100]), p)[1],
            )
    add("corrupt_packets", "corrupt.mp4", lambda p: _corrupt(base_mp4, p))
    add("lost_frames", "lost.mkv", lambda p: _lost(base_mkv, p))
    add("one_frame", "one.mp4", lambda p: _write(p, n=1))
    add("two_frames", "two.mp4", lambda p: _write(p, n=2))
    add("size_16x16", "tiny.mp4", lambda p: _write(p, w=16, h=16))
    add("size_33x17", "odd.mkv", lambda p: _write(p, w=33, h=17, pix_fmt="yuv444p"))
    add("hevc", "clip.mkv", lambda p: _write(p, codec="libx265", options={"x265-params": "log-level=0"}))
    add("vp9", "clip.webm", lambda p: _write(p, codec="libvpx-vp9", n=12))
    add("av1", "clip.mkv", lambda p: _write(p, codec="libsvtav1", n=8, w=64, h=64))
    add("mjpeg", "clip.avi", lambda p: _write(p, codec="mjpeg", pix_fmt="yuvj420p", gop=0))
    add("mpeg2", "clip.mpg", lambda p: _write(p, codec="mpeg2video"))
    add("mpeg4", "clip.avi", lambda p: _write(p, codec="mpeg4"))
    add("audio_only", "sound.m4a", _audio_only)
    add("two_video_streams", "two.mkv", _two_video)
    add("cover_art_first", "cover.mkv", _cover_first)
    add("cover_art_attached", "cover.mp4", lambda p: _cover_first(p, attached=True))
    # 40 ms and 33 ms frames mixed, with a few 100 ms pauses: variable frame rate
    vfr = np.cumsum([0] + [40 if k % 3 else 33 for k in range(1, N)])
    vfr[20:] += 100
    add("variable_frame_rate", "vfr.mkv", lambda p: _write(p, pts=[int(x) for x in vfr]))
    add("rotation_90", "rot.mp4", _rotated)
    add("yuv444p", "c444.mp4", lambda p: _write(p, pix_fmt="yuv444p"))
    add("10bit", "c10.mkv", lambda p: _write(p, pix_fmt="yuv420p10le"))
    add("gray", "gray.mkv", lambda p: _write(p, codec="ffv1", pix_fmt="gray"))
    add(
        "interlaced", "tff.mkv", lambda p: _write(p, options={"flags": "+ildct+ilme", "x264-params": "tff=1"})
    )
    add("resolution_change", "change.ts", lambda p: _resolution_change(p, scratch))
    for name, filename in (
        ("name_with_spaces", "a clip with spaces.mkv"),
        ("name_unicode", "vidéo_видео_映像.mkv"),
        ("name_leading_dash", "-rf --clip.mkv"),
    ):
        add(name, filename, lambda p: shutil.copy(base_mkv, p) and p)

    def read_only_file(p):
        shutil.copy(base_mkv, p)
        p.chmod(0o444)
        return p

    add("read_only_file", "ro.mkv", read_only_file)
    ro_dir = root / "read_only_folder"
    ro_dir.mkdir()
    shutil.copy(base_mkv, ro_dir / "clip.mkv")
    ro_dir.chmod(0o555)
    cases["read_only_folder"] = ro_dir / "clip.mkv"

    def symlink(p):
        os.symlink(base_mkv, p)
        return p

    add("symlink", "link.mkv", symlink)
    add("symlink_dangling", "dangling.mkv", lambda p: (os.symlink(p.parent / "missing.mkv", p), p)[1])
    add("symlink_loop", "loop.mkv", lambda p: (os.symlink(p, p), p)[1])
    add("fifo", "pipe.mp4", lambda p: (os.mkfifo(p), p)[1])
    cases["dev_zero"] = Path("/dev/zero")
    add("directory", "folder.mp4", lambda p: (p.mkdir(), p)[1])
    return cases, skipped


# ---------------------------------------------------------------------------------------------
# which calls each input gets

#: (target, extra positional args before the path, kwargs, consume an iterator, attributes reported)
ENTRY_POINTS = [
    (
        "toolkit.video:probe",
        (),
        {},
        False,
        ("stream", "n_frames", "declared_frames", "variable_frame_rate", "sizes", "fps", "problems"),
    ),
    ("toolkit.video:read_frames", (), {"count": 4}, False, ("shape",)),
    ("toolkit.video:iter_luma", (), {"count": 4}, True, ()),
    ("toolkit.video:macroblock_types", (), {}, False, ("n_frames", "error", "params.stream")),
    ("toolkit.vpf:analyze", (), {}, False, ("params.stream", "params.complete")),
    ("toolkit.fsvm:footprint", (), {"n_frames": 2, "pad": True}, False, ("n_valid",)),
    ("toolkit.fsvm:extract", (), {"n_frames": 2, "pad": True, "reencode": False}, False, ("n_valid",)),
    ("toolkit.fsvm:detect", (), {}, False, ()),
    ("toolkit.methods:inspect", (), {}, False, ("kind", "reason", "n_frames")),
    ("toolkit.methods:run", ("video.macroblocks",), {}, False, ()),
    ("toolkit.methods:run", ("vpf",), {}, False, ()),
    ("toolkit.methods:run", ("fsvm",), {}, False, ()),
]

#: inputs that test the input layer itself: these also go through every other video method
LAYER_CASES = (
    "empty",
    "random_bytes",
    "truncated_50_mkv",
    "corrupt_packets",
    "cover_art_first",
    "size_16x16",
    "fifo",
    "dev_zero",
    "symlink_loop",
    "directory",
)

#: checks of the arguments (on the intact clip): each must raise ValueError
ARGUMENT_CALLS = [
    ("toolkit.video:iter_luma", {"step": 1.5}, True),
    ("toolkit.video:iter_luma", {"count": -1}, True),
    ("toolkit.video:read_frames", {"step": 0}, False),
    ("toolkit.video:macroblock_types", {"max_frames": 0}, False),
    ("toolkit.video:macroblock_types", {"max_pixels": 100}, False),
    ("toolkit.video:probe", {"stream": 5}, False),
    ("toolkit.fsvm:extract", {"n_frames": 10**9, "pad": True}, False),
]


def _video_methods() -> list[str]:
    from toolkit import methods

    return [n for n in methods.names() if methods.get(n).input_kind == "video"]


def _calls_for(name: str, path: Path) -> list[tuple[str, Call]]:
    out = []
    for target, pre, kwargs, consume, attrs in ENTRY_POINTS:
        label = target + (f"[{pre[0]}]" if pre else "")
        out.append((label, Call(target, (*pre, str(path)), kwargs, consume, attrs, BUDGET)))
    if name in LAYER_CASES:
        covered = {pre[0] for _, pre, *_ in ENTRY_POINTS if pre}
        for method in _video_methods():
            if method not in covered:
                out.append(
                    (
                        f"toolkit.methods:run[{method}]",
                        Call("toolkit.methods:run", (method, str(path)), timeout=BUDGET),
                    )
                )
    if name == "h264_mkv":
        for target, kwargs, consume in ARGUMENT_CALLS:
            label = f"{target}{kwargs}"
            out.append((label, Call(target, (str(path),), kwargs, consume, (), BUDGET)))
    return out


def _snapshot(path: Path) -> tuple:
    """(SHA-256 of the file or None, entries of its folder or None)."""
    digest = sha256_file(path) if path.is_file() else None
    folder = sorted(os.listdir(path.parent)) if path.parent.is_dir() else None
    return digest, folder


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    """Make the inputs, run every call on them (in parallel subprocesses), restore permissions."""
    root = tmp_path_factory.mktemp("video_fuzz")
    cases, skipped = make_inputs(root)
    before = {n: _snapshot(p) if n != "dev_zero" else (None, None) for n, p in cases.items()}
    plan = [(n, label, call) for n, p in cases.items() for label, call in _calls_for(n, p)]
    names = list(cases)
    groups = [names[i : i + GROUP] for i in range(0, len(names), GROUP)]

    def run(group):
        items = [(n, label, call) for n, label, call in plan if n in group]
        return list(zip(items, call_many([c for _, _, c in items])))

    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            results = [r for batch in pool.map(run, groups) for r in batch]
        after = {n: _snapshot(p) if n != "dev_zero" else (None, None) for n, p in cases.items()}
    finally:
        (root / "read_only_folder").chmod(0o755)
    outcomes: dict[str, dict[str, Outcome]] = {}
    for (n, label, _), outcome in results:
        outcomes.setdefault(n, {})[label] = outcome
    return {"cases": cases, "skipped": skipped, "outcomes": outcomes, "before": before, "after": after}


ALL_CASES = [
    "h264_mkv",
    "h264_mp4_faststart",
    "empty",
    "random_bytes",
    "text_file",
    *[f"truncated_{f}_{e}" for f in (10, 50, 90) for e in ("mkv", "mp4")],
    "corrupt_packets",
    "lost_frames",
    "one_frame",
    "two_frames",
    "size_16x16",
    "size_33x17",
    "hevc",
    "vp9",
    "av1",
    "mjpeg",
    "mpeg2",
    "mpeg4",
    "audio_only",
    "two_video_streams",
    "cover_art_first",
    "cover_art_attached",
    "variable_frame_rate",
    "rotation_90",
    "yuv444p",
    "10bit",
    "gray",
    "interlaced",
    "resolution_change",
    "name_with_spaces",
    "name_unicode",
    "name_leading_dash",
    "read_only_file",
    "read_only_folder",
    "symlink",
    "symlink_dangling",
    "symlink_loop",
    "fifo",
    "dev_zero",
    "directory",
]


def _case(fuzz, name) -> dict[str, Outcome]:
    if name in fuzz["skipped"]:
        pytest.skip(f"{name}: this PyAV cannot write it ({fuzz['skipped'][name]})")
    return fuzz["outcomes"][name]


def _typed(o: Outcome) -> bool:
    return o.raised(*TYPED) and not o.type.startswith("av.")


@pytest.mark.parametrize("name", ALL_CASES)
def test_every_entry_point_answers_with_a_result_or_a_typed_error(fuzz, name):
    for label, o in _case(fuzz, name).items():
        assert o.status in ("returned", "raised"), (
            f"{name}: {label} {o.status}: {o.message} {o.stderr[-800:]}"
        )
        if o.status == "raised":
            assert _typed(o), f"{name}: {label} raised untyped {o.type}: {o.message}\n{o.stderr[-1500:]}"
            assert len(o.message) > 10, f"{name}: {label} raised {o.type} without a sentence"


@pytest.mark.parametrize("name", ALL_CASES)
def test_inputs_are_never_modified_and_nothing_appears_beside_them(fuzz, name):
    _case(fuzz, name)
    digest, folder = fuzz["before"][name]
    digest2, folder2 = fuzz["after"][name]
    assert digest2 == digest, f"{name} was modified"
    assert folder2 == folder, f"files appeared or vanished beside {name}: {set(folder2) ^ set(folder)}"


@pytest.mark.parametrize("name", ["fifo", "dev_zero", "symlink_loop"])
def test_fifos_devices_and_symlink_loops_are_refused_before_opening(fuzz, name):
    out = _case(fuzz, name)
    for label, o in out.items():
        if label == "toolkit.methods:inspect":
            assert o.status == "returned" and o.info["kind"] == "unknown"
            assert "regular file" in o.info["reason"] or "symlink loop" in o.info["reason"]
        elif not label.startswith("toolkit.methods:run"):
            assert o.raised("NotRegularFileError"), f"{label}: {o.type} {o.message}"
    assert out["toolkit.video:probe"].raised("OSError")  # also an OSError for callers that catch those


def test_a_folder_and_a_dangling_symlink_are_refused_with_the_usual_os_errors(fuzz):
    assert _case(fuzz, "directory")["toolkit.video:probe"].raised("IsADirectoryError")
    o = _case(fuzz, "symlink_dangling")["toolkit.video:probe"]
    assert o.raised("FileNotFoundError") and "symlink" in o.message


@pytest.mark.parametrize("name", ["cover_art_first", "cover_art_attached"])
def test_cover_art_is_skipped_and_the_stream_read_is_recorded(fuzz, name):
    out = _case(fuzz, name)
    probe = out["toolkit.video:probe"]
    assert probe.status == "returned" and probe.info["n_frames"] == N, probe
    assert probe.info["sizes"] == [[W, H]]  # the 32x32 picture is not what is analysed
    stream = probe.info["stream"]
    mb = out["toolkit.video:macroblock_types"]
    assert mb.status == "returned" and mb.info["n_frames"] == N and mb.info["params.stream"] == stream
    assert out["toolkit.vpf:analyze"].info["params.stream"] == stream
    if name == "cover_art_first":
        assert stream == 1  # the picture is stream 0


@pytest.mark.parametrize(
    "name", ["corrupt_packets", "lost_frames", "truncated_50_mkv", "truncated_90_mkv", "truncated_90_mp4"]
)
def test_damaged_streams_are_never_reported_complete(fuzz, name):
    out = _case(fuzz, name)
    mb = out["toolkit.video:macroblock_types"]
    if mb.status == "returned":
        assert mb.info["complete"] is False and mb.info.get("error"), mb.info
    vpf = out["toolkit.vpf:analyze"]
    if vpf.status == "returned":
        assert vpf.info["verdict"] == "inconclusive" and vpf.info["params.complete"] is False, vpf.info
        assert "damaged" in vpf.info["reason"]
    probe = out["toolkit.video:probe"]
    if name != "corrupt_packets" and probe.status == "returned":  # flipped bytes need a decode to show
        assert probe.info["complete"] is False and probe.info["problems"], probe.info
    assert mb.status == "returned" or vpf.status == "returned" or name.startswith("truncated_")


@pytest.mark.parametrize("name", ["truncated_10_mp4", "truncated_50_mp4", "truncated_90_mp4"])
def test_a_truncated_mp4s_header_frame_count_is_not_taken_on_trust(fuzz, name):
    probe = _case(fuzz, name)["toolkit.video:probe"]
    assert probe.status == "returned", probe
    assert probe.info["n_frames"] < probe.info["declared_frames"] == N
    assert probe.info["complete"] is False


@pytest.mark.parametrize(
    "name",
    [
        "h264_mkv",
        "h264_mp4_faststart",
        "name_with_spaces",
        "name_unicode",
        "name_leading_dash",
        "read_only_file",
        "read_only_folder",
        "symlink",
        "rotation_90",
        "yuv444p",
        "interlaced",
        "mpeg2",
        "mpeg4",
    ],
)
def test_intact_clips_are_read_whole_and_complete(fuzz, name):
    out = _case(fuzz, name)
    probe = out["toolkit.video:probe"]
    assert probe.status == "returned" and probe.info["complete"] is True and probe.info["n_frames"] == N
    assert probe.info["variable_frame_rate"] is False
    mb = out["toolkit.video:macroblock_types"]
    assert mb.status == "returned" and mb.info["complete"] is True, mb
    assert mb.info["n_frames"] >= N - 1  # MPEG-2/4 may leave the last reference frame unprinted
    assert out["toolkit.video:iter_luma"].info["value"] == 4


def test_a_variable_frame_rate_is_reported_not_a_nominal_rate(fuzz):
    probe = _case(fuzz, "variable_frame_rate")["toolkit.video:probe"]
    assert probe.status == "returned" and probe.info["variable_frame_rate"] is True
    # 36 frames over 35 steps of 33-40 ms plus a 100 ms pause: about 24.6 fps, not 25
    assert 20 < probe.info["fps"] < 25


def test_a_resolution_change_is_reported(fuzz):
    out = _case(fuzz, "resolution_change")
    probe = out["toolkit.video:probe"]
    assert probe.status == "returned" and probe.info["sizes"] == [[64, 48], [96, 64]]
    assert any("resolution changes" in p for p in probe.info["problems"])
    mb = out["toolkit.video:macroblock_types"]
    assert mb.raised("VideoReadError") and "resolution" in mb.message


@pytest.mark.parametrize("name", ["hevc", "vp9", "av1", "mjpeg"])
def test_codecs_without_macroblocks_are_refused_with_unsupported_codec(fuzz, name):
    out = _case(fuzz, name)
    assert out["toolkit.video:probe"].status == "returned"
    assert out["toolkit.video:macroblock_types"].raised("UnsupportedCodecError")
    assert out["toolkit.vpf:analyze"].raised("UnsupportedCodecError")


@pytest.mark.parametrize("name", ["audio_only", "empty", "random_bytes", "text_file"])
def test_files_without_a_decodable_video_raise_video_read_error(fuzz, name):
    probe = _case(fuzz, name)["toolkit.video:probe"]
    assert probe.raised("VideoReadError"), probe


def test_bad_arguments_are_refused_with_a_sentence(fuzz):
    out = _case(fuzz, "h264_mkv")
    for target, kwargs, _ in ARGUMENT_CALLS:
        o = out[f"{target}{kwargs}"]
        assert o.raised("ValueError"), f"{target}{kwargs}: {o.status} {o.type}"
    assert "max_pixels" in out["toolkit.video:macroblock_types{'max_pixels': 100}"].message
    assert "n_frames" in out["toolkit.fsvm:extract{'n_frames': 1000000000, 'pad': True}"].message
