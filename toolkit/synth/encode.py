"""Encoding with real encoders through PyAV: libx264, libx265, mpeg2video, mpeg4.

The only place in the toolkit that writes video. Frames come in as numpy
arrays (RGB ``H x W x 3`` or grey ``H x W`` uint8), so they never carry a
picture type from an earlier decode: every encode chooses its own I-frames
(see the pitfall in DEVELOPERS.md).

Quality
-------
``quality`` is the codec's own fixed-quality parameter ``q``:

* H.264 / H.265: the constant quantisation parameter QP (``qp``), 0-51;
* MPEG-2 / MPEG-4: the quantiser scale ``qscale`` (1-31), forced by setting
  ``qmin = qmax = q`` (PyAV cannot set per-frame quality the way ffmpeg's
  ``-q:v`` does, and this gives the same constant quantiser).

:func:`delta_to_quality` / :func:`quality_to_delta` map the quantisation step
Δ to ``q`` with seed 000's eqs. (18)-(19).
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

#: ``EncodeSettings.simd`` values: the encoder's default, or x264/x265 capped at AVX2
SIMD_LEVELS = ("auto", "avx2")

__all__ = [
    "CODECS",
    "is_x86_64",
    "EncodeSettings",
    "SIMD_LEVELS",
    "encode",
    "delta_to_quality",
    "quality_to_delta",
    "codec_name",
    "remux",
]

#: toolkit codec key -> (PyAV encoder, decoder name, default container extension)
CODECS: dict[str, tuple[str, str, str]] = {
    "h264": ("libx264", "h264", ".mp4"),
    "h265": ("libx265", "hevc", ".mp4"),
    "mpeg2": ("mpeg2video", "mpeg2video", ".mpg"),
    "mpeg4": ("mpeg4", "mpeg4", ".avi"),
}
_ALIASES = {
    "h264": "h264",
    "avc": "h264",
    "libx264": "h264",
    "x264": "h264",
    "h265": "h265",
    "hevc": "h265",
    "libx265": "h265",
    "x265": "h265",
    "mpeg2": "mpeg2",
    "mpeg2video": "mpeg2",
    "mpeg-2": "mpeg2",
    "mpeg4": "mpeg4",
    "mpeg-4": "mpeg4",
    "mp4v": "mpeg4",
    "xvid": "mpeg4",
}


def codec_name(codec: str) -> str:
    """Canonical toolkit codec key ('h264', 'h265', 'mpeg2', 'mpeg4') for an alias.

    >>> codec_name("libx264"), codec_name("HEVC"), codec_name("mpeg2video")
    ('h264', 'h265', 'mpeg2')
    """
    key = _ALIASES.get(str(codec).lower())
    if key is None:
        raise ValueError(f"unknown codec {codec!r}; choose from {', '.join(CODECS)}")
    return key


def delta_to_quality(codec: str, delta: float) -> int:
    """Codec quality parameter ``q`` giving quantisation step ``delta`` (seed 000, eqs. 18-19).

    H.264/H.265: Δ = 5/8 · 2^(q/6)  →  q = round(6 · log2(8Δ/5)).
    MPEG-2/4 (piece-wise linear): Δ = 8 for q ≤ 4, 2q for 5 ≤ q ≤ 8, q + 8 for
    9 ≤ q ≤ 24, 2q − 16 for 25 ≤ q ≤ 31; a Δ below 8 maps to q = 1 (Δ = 8).

    >>> [delta_to_quality("h264", d) for d in (5, 10, 20, 40)]
    [18, 24, 30, 36]
    >>> [delta_to_quality("mpeg2", d) for d in (5, 10, 20, 40)]
    [1, 5, 12, 28]
    """
    key = codec_name(codec)
    if delta <= 0:
        raise ValueError("the quantisation step must be positive")
    if key in ("h264", "h265"):
        return int(min(51, max(0, round(6 * math.log2(8 * delta / 5)))))
    # MPEG: invert the piece-wise linear law, choosing the q whose Δ is closest
    best = min(range(1, 32), key=lambda q: (abs(quality_to_delta(key, q) - delta), q))
    return int(best)


def quality_to_delta(codec: str, quality: float) -> float:
    """Quantisation step Δ of quality parameter ``quality`` (seed 000, eqs. 18-19).

    >>> quality_to_delta("h264", 24), quality_to_delta("mpeg4", 12)
    (10.0, 20.0)
    """
    key = codec_name(codec)
    q = float(quality)
    if key in ("h264", "h265"):
        return 5.0 / 8.0 * 2.0 ** (q / 6.0)
    if not 1 <= q <= 31:
        raise ValueError("MPEG quantiser scale must be in 1..31")
    if q <= 4:
        return 8.0
    if q <= 8:
        return 2.0 * q
    if q <= 24:
        return q + 8.0
    return 2.0 * q - 16.0


def is_x86_64() -> bool:
    """True on an x86-64 CPU, where ``EncodeSettings(simd="avx2")`` can cap x264/x265's
    instruction sets (the names ``asm=`` takes are x86 ones).

    >>> isinstance(is_x86_64(), bool)
    True
    """
    return platform.machine().lower() in ("x86_64", "amd64")


@dataclass(frozen=True)
class EncodeSettings:
    """Every setting of one encode (stored beside outputs as ground truth).

    ``rate_control``: ``"q"`` fixed quality (``quality`` = QP or qscale),
    ``"crf"`` (x264/x265 only, ``quality`` = CRF; 0 with x264 is lossless),
    ``"cbr"`` / ``"vbr"`` (``bitrate`` in bits per second).
    ``gop`` is the fixed I-frame period (scene-cut detection off);
    ``bframes`` the number of consecutive B-frames (fixed pattern). MPEG-2/4
    encoders keep the GOP fixed with B-frames only when ``gop`` is a multiple
    of ``bframes + 1`` (otherwise FFmpeg stretches some GOPs).
    ``threads``: encoder threads (None = the encoder's default, which follows the
    machine's core count). Frame threads change the coding (x264 limits a frame's
    vertical motion search to what its reference threads have finished; FFmpeg's
    MPEG encoders cut one slice per thread), so ``threads=1`` and ``threads=4`` give
    different streams. Fixed-quality encodes are bit-exact for a fixed thread count.
    Under CBR/VBR, x265 with ``threads=1`` (``frame-threads=1:pools=1``) is bit-exact.
    ``simd``: the instruction sets x264/x265 may use. ``"auto"`` (default) is all the
    CPU has. ``"avx2"`` caps them at AVX2 (``asm=AVX2`` / ``asm=avx2``; x86-64 only).
    On a CPU with AVX-512, x264's default code makes CBR/VBR encodes vary from run
    to run, even with one thread (measured: repeated encodes differ by up to 3.1 grey
    levels of mean abs luma); its AVX2 code is repeatable. x264's output also depends
    on the instruction set (plain C, SSE2 and AVX2 give other bytes), so the cap also
    makes encodes agree between x86-64 machines with AVX2 or more. MPEG-2/4 (FFmpeg's
    own encoders) ignore ``simd``. Frames get explicit timestamps (``pts`` = frame index).
    ``adaptive``: let the encoder make its own GOP decisions, as a plain re-save does. With
    x264 only ``keyint=gop`` is set (x264 defaults for the rest: min-keyint auto =
    min(fps, keyint/10), scenecut 40, b-adapt 1, b-pyramid normal), so
    ``EncodeSettings(rate_control="crf", quality=23, gop=250, bframes=3, adaptive=True)`` is
    what ``ffmpeg -i in.mp4 out.mp4`` does (libx264 defaults: CRF 23, preset medium, keyint
    250, 3 B-frames); with MPEG-2/4, FFmpeg's scene-change detection stays on. ``gop`` is
    then the longest GOP, not a fixed one.
    ``i_frames``: frame indices (sorted, non-negative) forced to be I-frames; every other
    frame is left to the encoder (variable-GOP encodes: pass a ``gop`` longer than the
    longest interval).

    >>> s = EncodeSettings.make({"codec": "mpeg2", "gop": 12}, quality=4)
    >>> s.codec, s.gop, s.quality, s.bframes
    ('mpeg2', 12, 4, 0)
    """

    codec: str = "h264"
    quality: float | None = 23
    gop: int = 30
    bframes: int = 0
    fps: float = 25.0
    rate_control: str = "q"
    bitrate: int | None = None
    preset: str = "medium"
    threads: int | None = None
    simd: str = "auto"
    adaptive: bool = False
    i_frames: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.i_frames is not None and not isinstance(self.i_frames, tuple):
            try:
                object.__setattr__(self, "i_frames", tuple(self.i_frames))
            except TypeError:
                raise ValueError(
                    f"i_frames must be a sequence of frame indices, got {self.i_frames!r}"
                ) from None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["i_frames"] is not None:
            d["i_frames"] = list(d["i_frames"])
        return d

    @classmethod
    def make(cls, spec: EncodeSettings | dict | None = None, **overrides) -> EncodeSettings:
        if isinstance(spec, EncodeSettings):
            d = spec.to_dict()
        else:
            d = dict(spec or {})
        d.update({k: v for k, v in overrides.items() if v is not None})
        s = cls(**d)
        s.validate()
        return s

    def validate(self) -> None:
        key = codec_name(self.codec)
        if self.gop < 1:
            raise ValueError("gop must be >= 1")
        if self.bframes < 0 or (self.bframes and self.gop > 1 and self.bframes >= self.gop):
            raise ValueError("bframes must be >= 0 and smaller than the GOP")
        if self.threads is not None and (
            isinstance(self.threads, bool) or int(self.threads) != self.threads or self.threads < 1
        ):
            raise ValueError(f"threads must be a positive integer or None, got {self.threads!r}")
        if self.simd not in SIMD_LEVELS:
            raise ValueError(f"simd must be one of {SIMD_LEVELS}, got {self.simd!r}")
        if self.simd != "auto" and not is_x86_64():
            raise ValueError(
                f"simd={self.simd!r} caps x86 instruction sets; this CPU is "
                f"{platform.machine()}, use simd='auto'"
            )
        if not isinstance(self.adaptive, bool):
            raise ValueError(f"adaptive must be True or False, got {self.adaptive!r}")
        if self.i_frames is not None:
            f = self.i_frames
            if any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in f):
                raise ValueError(f"i_frames must be non-negative integers, got {f!r}")
            if any(b <= a for a, b in zip(f, f[1:])):
                raise ValueError(f"i_frames must be sorted without repeats, got {f!r}")
        if self.rate_control not in ("q", "crf", "cbr", "vbr"):
            raise ValueError("rate_control must be 'q', 'crf', 'cbr' or 'vbr'")
        if self.rate_control in ("cbr", "vbr") and not self.bitrate:
            raise ValueError(f"rate_control={self.rate_control!r} needs a bitrate (bits/s)")
        if self.rate_control == "crf" and key not in ("h264", "h265"):
            raise ValueError("CRF exists only for H.264/H.265")
        if self.rate_control in ("q", "crf") and self.quality is None:
            raise ValueError("fixed-quality encoding needs quality=")
        if self.rate_control == "q" and key in ("mpeg2", "mpeg4") and not 1 <= self.quality <= 31:
            raise ValueError("MPEG-2/4 quality (qscale) must be in 1..31")
        if self.rate_control == "q" and key in ("h264", "h265") and not 0 <= self.quality <= 51:
            raise ValueError("H.264/H.265 quality (QP) must be in 0..51")


def _x26x_params(s: EncodeSettings, key: str) -> str:
    if s.adaptive:  # the encoder's own GOP decisions: scene cuts, adaptive B-frames, pyramid
        params = [f"keyint={s.gop}", f"bframes={s.bframes}"]
    else:
        params = [f"keyint={s.gop}", f"min-keyint={s.gop}", "scenecut=0", f"bframes={s.bframes}"]
        if s.bframes:
            params += ["b-adapt=0", "b-pyramid=none" if key == "h264" else "b-pyramid=0"]
    if key == "h264":
        params.append("open-gop=0")
    else:
        params += ["open-gop=0", "log-level=error"]
    if s.threads is not None:
        if key == "h264":
            params.append(f"threads={s.threads}")
        else:  # x265: frame threads and worker-pool size (its rate control depends on both)
            params += [f"frame-threads={s.threads}", f"pools={s.threads}"]
    if s.simd == "avx2":
        params.append("asm=AVX2" if key == "h264" else "asm=avx2")
    if s.rate_control == "q":
        params.append(f"qp={int(round(s.quality))}")
    elif s.rate_control == "crf":
        params.append(f"crf={s.quality}")
    elif s.rate_control == "cbr":
        kb = int(s.bitrate // 1000)
        params += [f"bitrate={kb}", f"vbv-maxrate={kb}", f"vbv-bufsize={kb}"]
        if key == "h264":
            params.append("nal-hrd=cbr")
    else:  # vbr
        kb = int(s.bitrate // 1000)
        params += [f"bitrate={kb}", f"vbv-maxrate={int(kb * 1.5)}", f"vbv-bufsize={2 * kb}"]
    return ":".join(params)


def _configure(stream, s: EncodeSettings, width: int, height: int) -> None:
    key = codec_name(s.codec)
    cc = stream.codec_context
    stream.width = width
    stream.height = height
    stream.pix_fmt = (
        "yuv444p" if (key == "h264" and s.rate_control in ("q", "crf") and s.quality == 0) else "yuv420p"
    )
    cc.gop_size = s.gop
    opts: dict[str, str] = {}
    if key in ("h264", "h265"):
        opts["preset"] = s.preset
        opts["x264-params" if key == "h264" else "x265-params"] = _x26x_params(s, key)
        if key == "h264" and stream.pix_fmt == "yuv444p":
            stream.pix_fmt = "yuv420p"  # lossless x264 in 4:2:0 is fine at qp=0
    else:
        cc.max_b_frames = s.bframes
        if s.threads is not None:
            cc.thread_count = int(s.threads)
        if not s.adaptive:
            opts["sc_threshold"] = "1000000000"  # no scene-cut I-frames: fixed GOP
        opts["g"] = str(s.gop)
        if s.rate_control == "q":
            q = str(int(round(s.quality)))
            opts.update(qmin=q, qmax=q)
        else:
            cc.bit_rate = int(s.bitrate)
            if s.rate_control == "cbr":
                opts.update(
                    minrate=str(int(s.bitrate)), maxrate=str(int(s.bitrate)), bufsize=str(int(s.bitrate))
                )
            else:
                opts.update(maxrate=str(int(s.bitrate * 1.5)), bufsize=str(int(s.bitrate * 2)))
    cc.options = opts


def _to_frame(array: np.ndarray) -> av.VideoFrame:
    a = np.asarray(array)
    if a.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 arrays, got {a.dtype}")
    if a.ndim == 2:
        return av.VideoFrame.from_ndarray(a, format="gray")
    if a.ndim == 3 and a.shape[2] == 3:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(a), format="rgb24")
    raise ValueError(f"frames must be H x W (grey) or H x W x 3 (RGB) arrays, got shape {a.shape}")


def encode(
    frames: Iterable[np.ndarray],
    out: str | os.PathLike,
    settings: EncodeSettings | dict | None = None,
    *,
    codec: str | None = None,
    quality: float | None = None,
    gop: int | None = None,
    bframes: int | None = None,
    fps: float | None = None,
    rate_control: str | None = None,
    bitrate: int | None = None,
    preset: str | None = None,
    threads: int | None = None,
    simd: str | None = None,
    adaptive: bool | None = None,
    i_frames: Iterable[int] | None = None,
    write_sidecar: bool = False,
) -> Path:
    """Encode ``frames`` (uint8 RGB H x W x 3 or grey H x W arrays) into ``out``.

    Settings come from ``settings`` (an :class:`EncodeSettings` or dict) with
    keyword overrides. Frame sizes must be even (4:2:0 chroma). The container
    follows ``out``'s extension (``.mp4``, ``.mkv``, ``.avi``, ``.mpg``...).
    Returns ``out`` as a Path; ``write_sidecar=True`` writes ``out + '.json'``
    with the settings.

    >>> import numpy as np, tempfile, os
    >>> frames = [np.full((64, 64, 3), i * 8, np.uint8) for i in range(10)]
    >>> p = encode(frames, os.path.join(tempfile.mkdtemp(), "x.mp4"), codec="h264", quality=20, gop=5)
    >>> p.stat().st_size > 0
    True
    """
    s = EncodeSettings.make(
        settings,
        codec=codec,
        quality=quality,
        gop=gop,
        bframes=bframes,
        fps=fps,
        rate_control=rate_control,
        bitrate=bitrate,
        preset=preset,
        threads=threads,
        simd=simd,
        adaptive=adaptive,
        i_frames=None if i_frames is None else tuple(i_frames),
    )
    key = codec_name(s.codec)
    forced = None if s.i_frames is None else set(s.i_frames)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    container = av.open(str(out), mode="w")
    try:
        stream = container.add_stream(CODECS[key][0], rate=_rate(s.fps))
        for array in frames:
            frame = _to_frame(array)
            if n == 0:
                h, w = frame.height, frame.width
                if h % 2 or w % 2:
                    raise ValueError(f"frame size {w}x{h} must be even for 4:2:0 encoding")
                _configure(stream, s, w, h)
            elif (frame.height, frame.width) != (h, w):
                raise ValueError(f"frame {n} is {frame.width}x{frame.height}, expected {w}x{h}")
            frame.pts = n  # explicit timestamps: x264/x265 rate control reads frame durations from them
            if forced is not None:
                frame.pict_type = (
                    av.video.frame.PictureType.I if n in forced else av.video.frame.PictureType.NONE
                )
            for packet in stream.encode(frame):
                container.mux(packet)
            n += 1
        if n == 0:
            raise ValueError("no frames to encode")
        for packet in stream.encode():
            container.mux(packet)
    except BaseException:
        container.close()
        out.unlink(missing_ok=True)
        raise
    container.close()
    if write_sidecar:
        out.with_name(out.name + ".json").write_text(
            json.dumps({"settings": s.to_dict(), "n_frames": n}, indent=2)
        )
    return out


def _rate(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def remux(src: str | os.PathLike, out: str | os.PathLike, max_frames: int | None = None) -> Path:
    """Copy the first ``max_frames`` coded frames of ``src``'s video stream into ``out`` without re-encoding.

    The bitstream is untouched (packets are copied), so the result keeps the
    camera's own coding: a shorter, still single-encoded clip. The cut is made
    before the key frame that follows ``max_frames`` packets in decode order,
    so no frame loses its references. Returns ``out`` as a Path.

    >>> import os, tempfile
    >>> from toolkit.video import gop_structure
    >>> out = remux("sample_data/real/person_gop10_head300.mp4",
    ...             os.path.join(tempfile.mkdtemp(), "head.mp4"), max_frames=25)
    >>> gop_structure(out).i_frames  # cut before the I-frame at 20: two whole GOPs
    (0, 10)
    """
    from toolkit.video import open_video

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_video(src) as (container, stream):
        packets = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if max_frames is not None and len(packets) >= max_frames and packet.is_keyframe:
                break
            packets.append(packet)
        if max_frames is not None and len(packets) > max_frames:
            # drop the tail after the last key frame that fits, to end on a whole GOP
            keys = [k for k, p in enumerate(packets) if p.is_keyframe and k <= max_frames]
            packets = packets[: keys[-1]] if keys and keys[-1] > 0 else packets
        dst = av.open(str(out), mode="w")
        try:
            ostream = dst.add_stream_from_template(stream)
            for packet in packets:
                packet.stream = ostream
                dst.mux(packet)
        finally:
            dst.close()
    return out
