"""Per-frame macroblock (MB) prediction types, read from FFmpeg's own decoder.

How it works
------------
FFmpeg's MPEG-family decoders print the type of every macroblock of every
output frame when the decoder option ``debug=mb_type`` is set (function
``ff_print_debug_info2`` in ``libavcodec/mpegutils.c``). We decode
single-threaded (so the lines come from our thread and in order), set PyAV's
log level to DEBUG and collect the lines with ``av.logging.Capture``. With
the FFmpeg shipped in PyAV >= 14 each MB row is one log line::

    New frame, type: P
        0           64          128  ...          (column header, pixels)
      0 S  S  >  >- i  S  ...                      (row label, then 3 chars per MB)

Each MB takes three characters: the type/motion character (below), the
partition character (``+`` 8x8, ``-`` 16x8, ``|`` 8x16, space 16x16) and
``=`` for interlaced MBs. One block is printed per output frame, in display
order, so block k belongs to the k-th decoded frame (checked: the block's
picture type must equal the frame's).

Symbol table (``get_type_mv_char`` in FFmpeg) and the class we count it in:

=====  =======================================  ==========
char   FFmpeg meaning                           class
=====  =======================================  ==========
``P``  PCM (raw samples)                        intra
``A``  intra with AC prediction (MPEG-4)        intra
``i``  intra 4x4 (H.264) / intra (MPEG-2/4)     intra
``I``  intra 16x16                              intra
``d``  direct + skip (B)                        skip (and direct)
``D``  direct                                   inter (and direct)
``g``  global motion comp. + skip (MPEG-4 GMC)  skip
``G``  global motion compensation               inter
``S``  skip                                     skip
``>``  predicted from list 0 (forward)          inter
``<``  predicted from list 1 (backward)         inter
``X``  bi-predicted (lists 0 and 1)             inter (and bipred)
=====  =======================================  ==========

Verified on H.264 (libx264), MPEG-2 (mpeg2video) and MPEG-4 Part 2 (mpeg4)
streams by the tests in ``tests/video``. Codecs without macroblocks in this
sense (HEVC, VP9, AV1, ...) raise :class:`UnsupportedCodecError`.

Limit: PyAV formats each log line into a 1024-byte buffer, so frames wider
than 339 MBs (5424 pixels) cannot be read this way; they raise a clear error.
"""

from __future__ import annotations

import os
import re
import threading
from collections import deque
from dataclasses import dataclass, field

import av
import av.logging
import numpy as np
import pandas as pd

from toolkit._util import sha256_file
from toolkit.result import Result, json_safe
from toolkit.video._common import FrameDecoder, frame_type, open_video, regular_file
from toolkit.video.errors import UnsupportedCodecError, VideoReadError
from toolkit.video.io import GOPStructure, gop_structure

__all__ = [
    "MacroblockTypes",
    "macroblock_types",
    "MB_SYMBOLS",
    "MB_CLASSES",
    "SUPPORTED_MB_CODECS",
    "COUNT_COLUMNS",
]

SUPPORTED_MB_CODECS = ("h264", "mpeg2video", "mpeg4")

MB_CLASSES = ("intra", "inter", "skip")

#: symbol -> (class, is_direct, is_bipred)
MB_SYMBOLS: dict[str, tuple[str, bool, bool]] = {
    "P": ("intra", False, False),
    "A": ("intra", False, False),
    "i": ("intra", False, False),
    "I": ("intra", False, False),
    "d": ("skip", True, False),
    "D": ("inter", True, False),
    "g": ("skip", False, False),
    "G": ("inter", False, False),
    "S": ("skip", False, False),
    ">": ("inter", False, False),
    "<": ("inter", False, False),
    "X": ("inter", False, True),
}

# Codes stored in the per-MB map: 0 intra, 1 inter, 2 skip, 255 unknown.
_CLASS_CODE = {c: k for k, c in enumerate(MB_CLASSES)}
_LUT_CLASS = np.full(256, 255, dtype=np.uint8)
_LUT_DIRECT = np.zeros(256, dtype=bool)
_LUT_BIPRED = np.zeros(256, dtype=bool)
for _sym, (_cls, _direct, _bi) in MB_SYMBOLS.items():
    _LUT_CLASS[ord(_sym)] = _CLASS_CODE[_cls]
    _LUT_DIRECT[ord(_sym)] = _direct
    _LUT_BIPRED[ord(_sym)] = _bi

_MAX_LOG_LINE = 1023  # PyAV's vsnprintf buffer

# av.logging's level and capture stack are process-wide: one MB trace at a time.
_LOG_LOCK = threading.Lock()


@dataclass(frozen=True)
class MacroblockTypes(Result):
    """Macroblock-type counts of every frame of a video (a :class:`~toolkit.result.Result`).

    Attributes
    ----------
    counts : DataFrame, one row per frame in display order (index ``frame``), columns
        ``frame_type`` ('I'/'P'/'B'), ``intra``, ``inter``, ``skip`` (they sum
        to ``mb_per_frame``), ``direct`` and ``bipred`` (subsets, B-frames), ``forward`` and
        ``backward`` (inter MBs predicted from list 0 / list 1 only), ``zero_mv`` (inter MBs whose
        exported motion vectors are all zero; absent with ``motion_vectors=False``).
    mb_width, mb_height : frame size in macroblocks (16x16 pixels, rounded up).
    codec : FFmpeg decoder name (``"h264"``, ``"mpeg2video"``, ``"mpeg4"``).
    maps : optional uint8 array T x mb_height x mb_width of class codes
        (0 intra, 1 inter, 2 skip), and ``symbols`` the raw FFmpeg characters.
    complete : False when the stream is damaged: packets that failed to decode, frames decoded
        corrupt or missing (timestamp gaps), fewer frames than the container declares
        (``error`` says what, with the counts and the first problem).
    path, sha256 (of the file), params (``with_map``, ``max_frames``, ``workers``, ``stream``
        (the container stream read), ``segments``, ``unreported_trailing_frames``, ``decode``
        (the decode report: packets, frames, failures, sizes)), toolkit_version : from the base.

    It describes the video and decides nothing (no ``verdict``).

    Note: MPEG-2/MPEG-4 streams with B-frames lose their last reference frame
    (FFmpeg never prints its MBs); ``params["unreported_trailing_frames"]``
    counts such frames, which are left out of ``counts``.

    >>> mb = macroblock_types("sample_data/single/single_h264.mp4", max_frames=12)
    >>> mb.summary()
    'video.macroblocks on single_h264.mp4: 12 frames (h264, 22x18 MBs): intra 8.3%, inter 48.7%, skip 43.0%'
    >>> mb.table().loc[:2, ["frame_type", "intra", "inter", "skip"]]
          frame_type  intra  inter  skip
    frame
    0              I    396      0     0
    1              P      0    127   269
    2              P      0    160   236
    """

    method = "video.macroblocks"

    counts: pd.DataFrame
    mb_width: int
    mb_height: int
    codec: str
    maps: np.ndarray | None = None
    symbols: np.ndarray | None = None
    complete: bool = True
    error: str | None = None

    @property
    def mb_per_frame(self) -> int:
        """Macroblocks in one frame (``mb_width * mb_height``)."""
        return self.mb_width * self.mb_height

    @property
    def n_frames(self) -> int:
        """Frames with macroblock types (rows of ``counts``)."""
        return len(self.counts)

    @property
    def frame_types(self) -> list[str]:
        """Picture type ('I'/'P'/'B') of every frame, display order."""
        return list(self.counts["frame_type"])

    @property
    def gop(self) -> GOPStructure:
        """I-frame positions and GOP sizes of the frames read (:func:`toolkit.video.gop_structure`)."""
        return gop_structure(self.frame_types)

    def fractions(self) -> pd.DataFrame:
        """``intra``, ``inter``, ``skip`` as fractions of the MBs of each frame."""
        return self.counts[list(MB_CLASSES)] / float(self.mb_per_frame)

    def table(self) -> pd.DataFrame:
        """The per-frame counts (``counts``): one row per frame."""
        return self.counts

    def summary(self) -> str:
        """One line: frames, codec, MB grid, and the share of each MB class over all frames."""
        where = os.path.basename(self.path) if self.path else "array"
        total = max(self.n_frames * self.mb_per_frame, 1)
        mix = ", ".join(f"{c} {100 * self.counts[c].sum() / total:.1f}%" for c in MB_CLASSES)
        text = (
            f"{self.method} on {where}: {self.n_frames} frames ({self.codec}, "
            f"{self.mb_width}x{self.mb_height} MBs): {mix}"
        )
        return text if self.complete else text + f" (stream damaged: {self.error})"

    def to_dict(self) -> dict:
        """JSON-safe dict: the base's keys, ``codec``, ``mb_width``, ``mb_height``, ``mb_per_frame``,
        ``n_frames``, ``complete``, ``error``, ``counts`` (column -> list). The per-MB ``maps`` and
        ``symbols`` (T x mb_height x mb_width) are left out; ``has_map`` says whether they exist.

        >>> d = macroblock_types("sample_data/single/single_h264.mp4", max_frames=3).to_dict()
        >>> d["counts"]["frame_type"], d["mb_per_frame"]
        (['I', 'P', 'P'], 396)
        """
        out = {"method": self.method, "type": type(self).__name__}
        out.update(self.decision())
        out.update(
            path=self.path,
            sha256=self.sha256,
            params=json_safe(self.params),
            toolkit_version=self.toolkit_version,
            codec=self.codec,
            mb_width=self.mb_width,
            mb_height=self.mb_height,
            mb_per_frame=self.mb_per_frame,
            n_frames=self.n_frames,
            complete=self.complete,
            error=self.error,
            has_map=self.maps is not None,
            counts=json_safe(self.counts.to_dict(orient="list")),
        )
        return out

    def __repr__(self) -> str:
        return (
            f"MacroblockTypes({os.path.basename(str(self.path))!r}, codec={self.codec}, "
            f"frames={self.n_frames}, mb={self.mb_width}x{self.mb_height}, "
            f"complete={self.complete})"
        )

    def plot(
        self,
        classes=MB_CLASSES,
        *,
        frame_range: tuple[int, int] | None = None,
        as_fraction: bool = False,
    ):
        """Plotly figure: MB counts per frame, I-frames marked with grey dotted lines.

        Parameters
        ----------
        classes : which of ``MB_CLASSES`` to draw (one line each, named ``"<class> MBs"``).
        frame_range : ``(first, last)`` frames (inclusive) to draw; None: all.
        as_fraction : draw fractions of the frame's MBs instead of counts.

        >>> fig = macroblock_types("sample_data/single/single_h264.mp4", max_frames=20).plot(
        ...     ["intra"], frame_range=(5, 9))
        >>> [t.name for t in fig.data], list(fig.data[0].x)
        (['intra MBs'], [5, 6, 7, 8, 9])
        """
        import plotly.graph_objects as go

        classes = [c for c in (classes or MB_CLASSES)]
        bad = [c for c in classes if c not in MB_CLASSES]
        if bad:
            raise ValueError(f"unknown macroblock classes {bad}: use {', '.join(MB_CLASSES)}")
        last = max(self.n_frames - 1, 0)
        lo, hi = (0, last) if frame_range is None else (int(frame_range[0]), int(frame_range[1]))
        if lo > hi:
            raise ValueError(f"frame_range must be (first, last) with first <= last, got {frame_range!r}")
        lo, hi = max(lo, 0), min(hi, last)
        values = self.fractions() if as_fraction else self.counts
        colours = {"intra": "#d62728", "inter": "#1f77b4", "skip": "#2ca02c"}
        fig = go.Figure()
        x = list(range(lo, hi + 1))
        for c in classes:
            fig.add_scatter(
                x=x,
                y=values[c].to_numpy()[lo : hi + 1],
                mode="lines",
                name=f"{c} MBs",
                line=dict(color=colours.get(c)),
            )
        for i in np.flatnonzero(self.counts["frame_type"].to_numpy() == "I"):
            if lo <= i <= hi:
                fig.add_vline(x=int(i), line=dict(color="grey", dash="dot", width=1))
        fig.update_layout(
            title=f"Macroblock types per frame — {os.path.basename(str(self.path))}",
            xaxis_title="frame (display order)",
            yaxis_title="fraction of MBs" if as_fraction else "macroblocks",
            height=380,
        )
        if frame_range is not None:
            fig.update_xaxes(range=[lo, hi])
        return fig


def _parse_block(rows: list[str], mb_width: int, mb_height: int, path) -> np.ndarray:
    """Type characters of one frame's rows -> uint8 array mb_height x mb_width."""
    if len(rows) != mb_height:
        raise VideoReadError(
            f"{path}: FFmpeg printed {len(rows)} macroblock rows for a frame, expected {mb_height}"
        )
    width = 3 * mb_width
    # each row is "<label> <3 chars per MB>\n": keep the last 3*mb_width characters before "\n"
    text = "".join([line[-width - 1 : -1] for line in rows])
    if len(text) != width * mb_height or any(line[-1:] != "\n" for line in rows):
        raise VideoReadError(f"{path}: unexpected macroblock rows, e.g. {rows[0][:40]!r}")
    codes = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)[0::3]
    return codes.reshape(mb_height, mb_width)


_ROW = re.compile(r" *\d+ \S")


def _is_row(message: str) -> bool:
    """True for an MB row line (right-aligned pixel-row label, a space, then the first MB's
    type character, never a space); False for the column header, whose label is followed
    by spaces."""
    return _ROW.match(message) is not None


#: per-frame count columns of :attr:`MacroblockTypes.counts` after ``frame_type``
COUNT_COLUMNS = ("intra", "inter", "skip", "direct", "bipred", "forward", "backward", "zero_mv")


@dataclass
class _Trace:
    """What one decoding pass (whole stream or one segment) read: compact per-frame arrays.

    ``types`` is one byte per frame ('I'/'P'/'B'); ``counts`` one ``int32`` row per frame
    (:data:`COUNT_COLUMNS`), grown in blocks; ``maps`` the per-MB symbol grids, only when asked.
    """

    types: bytearray = field(default_factory=bytearray)
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, len(COUNT_COLUMNS)), np.int32))
    n: int = 0
    maps: list | None = None
    mismatched: int = 0
    unreported: int = 0
    unknown: set = field(default_factory=set)
    health: dict = field(default_factory=dict)
    error: str | None = None
    clean: bool = True

    def add(self, ftype: str, sym: np.ndarray, keep_map: bool, frame=None) -> None:
        """Count one frame's MBs; with ``frame`` (its decoded frame) also its zero-MV inter MBs."""
        if self.n == len(self.counts):
            grown = np.zeros((max(256, 2 * len(self.counts)), len(COUNT_COLUMNS)), np.int32)
            grown[: self.n] = self.counts[: self.n]
            self.counts = grown
        flat = sym.ravel()
        cls = _LUT_CLASS[flat]
        if (cls == 255).any():
            self.unknown.update(chr(c) for c in np.unique(flat[cls == 255]))
        row = self.counts[self.n]
        row[:3] = np.bincount(cls, minlength=256)[:3]
        row[3] = _LUT_DIRECT[flat].sum()
        row[4] = _LUT_BIPRED[flat].sum()
        row[5] = (flat == _FWD).sum()
        row[6] = (flat == _BWD).sum()
        row[7] = -1 if frame is None else _zero_mv_count(frame, cls.reshape(sym.shape))
        self.types += ftype.encode("ascii")
        self.n += 1
        if keep_map:
            self.maps.append(sym)

    def frames(self) -> np.ndarray:
        return self.counts[: self.n]


_FWD, _BWD = ord(">"), ord("<")


def _zero_mv_count(frame, cls: np.ndarray) -> int:
    """Inter (not skipped) MBs of ``frame`` whose exported motion vectors are all zero.

    ``cls`` is the frame's MB class grid (mb_height x mb_width, codes of :data:`MB_CLASSES`).
    FFmpeg exports one vector per (sub-)block and prediction list with ``flags2=+export_mvs``
    (``AV_FRAME_DATA_MOTION_VECTORS``); a block belongs to the MB that holds its centre
    (``dst_x``, ``dst_y``). An inter MB with every vector (0, 0) counts; one without any exported
    vector does not.
    """
    side = frame.side_data.get("MOTION_VECTORS")
    if side is None:
        return 0
    mv = side.to_ndarray()
    if not len(mv):
        return 0
    mbh, mbw = cls.shape
    col = np.clip(mv["dst_x"].astype(np.int64) // 16, 0, mbw - 1)
    row = np.clip(mv["dst_y"].astype(np.int64) // 16, 0, mbh - 1)
    idx = row * mbw + col
    has = np.bincount(idx, minlength=mbh * mbw) > 0
    moving = (mv["motion_x"] != 0) | (mv["motion_y"] != 0)
    nonzero = np.bincount(idx[moving], minlength=mbh * mbw) > 0
    inter = cls.ravel() == _CLASS_CODE["inter"]
    return int((inter & has & ~nonzero).sum())


def _trace(
    path,
    mb_width: int,
    mb_height: int,
    *,
    start_pts=None,
    end_pts=None,
    max_frames=None,
    progress=False,
    with_map=False,
    stream=None,
    motion_vectors=True,
) -> _Trace:
    """Decode single-threaded with ``debug=mb_type`` and count the MB types of each output frame.

    Each frame's rows are parsed and reduced to counts as soon as its block is complete (the log
    text is dropped at once), so memory stays flat in video length; the per-MB grids are kept only
    with ``with_map``. With ``start_pts``/``end_pts`` only frames whose pts lies in [start, end)
    are kept (one segment of a parallel run); ``clean`` is False when the first frame out of the
    decoder is not the segment's key frame.
    """
    options = {"debug": "mb_type"}
    if motion_vectors:
        options["flags2"] = "+export_mvs"
    decoder = FrameDecoder(path, threads=False, options=options, seek_pts=start_pts, stream=stream)
    out = _Trace(maps=[] if with_map else None)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"MB types {os.path.basename(str(path))}", unit="frame")
    n_out = 0
    with _LOG_LOCK:
        previous_level = av.logging.get_level()
        previous_skip = av.logging.get_skip_repeated()
        av.logging.set_level(av.logging.DEBUG)
        av.logging.set_skip_repeated(False)
        try:
            with av.logging.Capture(local=True) as logs:
                # blocks printed but not yet matched with their frame: [picture type, rows]
                pending: deque = deque()
                n_blocks = 0

                def drain() -> None:
                    nonlocal n_blocks
                    # Move MB rows out of the log list as they come (keeps memory flat).
                    current = pending[-1][1] if pending else None
                    for _level, _name, message in logs:
                        if message.startswith("New frame, type:"):
                            current = []
                            pending.append((message.strip()[-1], current))
                            n_blocks += 1
                        elif current is not None and len(current) < mb_height and _is_row(message):
                            current.append(message)
                    del logs[:]

                for frame in decoder:
                    drain()
                    k = n_out
                    n_out += 1
                    if start_pts is not None and k == 0 and frame.pts != start_pts:
                        out.clean = False
                        break
                    if end_pts is not None and frame.pts is not None and frame.pts >= end_pts:
                        break
                    if not pending:
                        # MPEG-2/4 decoders print a reference frame's MBs when the next
                        # reference arrives, so the very last one may never be printed.
                        out.unreported += 1
                        continue
                    if out.unreported:
                        raise VideoReadError(
                            f"{str(path)!r}: the decoder printed no macroblock types for frame {k - 1}"
                        )
                    block_type, rows = pending.popleft()
                    if (frame.width, frame.height) != decoder.sizes[0]:
                        raise VideoReadError(
                            f"{str(path)!r}: the resolution changes mid-stream (frame {k} is "
                            f"{frame.width}x{frame.height}, the first {decoder.sizes[0][0]}x"
                            f"{decoder.sizes[0][1]}); macroblock counts need one frame size: cut the "
                            "video at the change and analyse each part"
                        )
                    sym = _parse_block(rows, mb_width, mb_height, path)
                    ftype = frame_type(frame)
                    if block_type != ftype and not (ftype == "I" and block_type in "IS"):
                        out.mismatched += 1
                    out.add(ftype, sym, with_map, frame if motion_vectors else None)
                    if bar is not None:
                        bar.update(1)
                    if max_frames is not None and out.n >= max_frames:
                        break
        finally:
            av.logging.set_level(previous_level)
            av.logging.set_skip_repeated(previous_skip)
            if bar is not None:
                bar.close()
    out.health = decoder.report()
    out.error = decoder.error
    return out


def _plan_segments(path, workers: int | None, max_frames, stream=None) -> tuple[list[tuple], int]:
    """Split points (start_pts, end_pts) at key frames for a parallel trace ([] or one = serial),
    and the number of packets counted (0 when not counted)."""
    if max_frames is not None:
        return [], 0
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 1:
        return [], 0
    keys, n = [], 0
    with open_video(path, stream=stream) as (container, st):
        try:
            for packet in container.demux(st):
                if packet.size == 0:
                    continue
                n += 1
                if packet.is_keyframe and packet.pts is not None:
                    keys.append((n - 1, int(packet.pts)))
        except (av.error.FFmpegError, OSError):
            return [], 0  # damaged: decode serially and report what decodes
    if n < 300 or len(keys) < 2:
        return [], n
    bounds = [None]
    for w in range(1, workers):
        target = n * w / workers
        idx, pts = min(keys[1:], key=lambda kp: abs(kp[0] - target))
        if pts not in bounds:
            bounds.append(pts)
    bounds.append(None)
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)], n


def _segment_main() -> None:
    """Entry point of one segment worker process: JSON job on stdin, ``.npz`` result on stdout."""
    import io
    import json
    import sys

    job = json.loads(sys.stdin.read())
    tr = _trace(
        job["path"],
        job["mb_width"],
        job["mb_height"],
        start_pts=job["start"],
        end_pts=job["end"],
        stream=job["stream"],
        with_map=job["with_map"],
        motion_vectors=job["motion_vectors"],
    )
    meta = {k: getattr(tr, k) for k in ("mismatched", "unreported", "error", "clean", "health")}
    meta["unknown"] = sorted(tr.unknown)
    arrays = {"types": np.frombuffer(bytes(tr.types), np.uint8), "counts": tr.frames()}
    if tr.maps:
        arrays["maps"] = np.stack(tr.maps)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()


def _read_segment(data: bytes) -> _Trace:
    import io
    import json

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        tr = _Trace(
            types=bytearray(z["types"].tobytes()),
            counts=np.array(z["counts"], np.int32).reshape(-1, len(COUNT_COLUMNS)),
            maps=list(z["maps"]) if "maps" in z.files else None,
        )
    tr.n = len(tr.types)
    tr.unknown = set(meta.pop("unknown"))
    for key, value in meta.items():
        setattr(tr, key, value)
    return tr


def _run_parallel(
    path, mb_width, mb_height, segments, stream=None, with_map=False, motion_vectors=True
) -> list[_Trace]:
    """Trace each segment in its own fresh Python process (started with ``subprocess``).

    Never ``fork``: a forked child of a threaded caller (Dask workers, notebooks, two analyses
    at once) inherits locks that other threads hold at that moment — the MB log lock below,
    av.logging's, the C library's — and waits on them forever. ``subprocess`` execs a new
    interpreter instead, and unlike multiprocessing's ``spawn``/``forkserver`` it does not
    re-import the caller's ``__main__`` (a script without an ``if __name__ == "__main__"`` guard
    keeps working). Results come back as ``.npz`` (no pickle).
    """
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    code = "from toolkit.video.macroblocks import _segment_main; _segment_main()"
    procs = []
    try:
        for start, end in segments:
            job = dict(
                path=str(path),
                mb_width=mb_width,
                mb_height=mb_height,
                start=start,
                end=end,
                stream=stream,
                with_map=with_map,
                motion_vectors=motion_vectors,
            )
            err = tempfile.TemporaryFile()
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
            )
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            procs.append((proc, err))
        traces = []
        for proc, err in procs:
            data = proc.stdout.read()
            proc.wait()
            if proc.returncode != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
                raise VideoReadError(
                    f"{str(path)!r}: a macroblock-trace worker failed ({'; '.join(tail) or proc.returncode})"
                )
            traces.append(_read_segment(data))
        return traces
    finally:
        for proc, err in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            err.close()


def macroblock_types(
    path: str | os.PathLike,
    *,
    with_map: bool = False,
    max_frames: int | None = None,
    progress: bool = False,
    workers: int | None = None,
    stream: int | None = None,
    max_pixels: int | None = None,
    motion_vectors: bool = True,
) -> MacroblockTypes:
    """Count intra, inter (predicted) and skipped macroblocks in every frame.

    Parameters
    ----------
    path : video file (H.264, MPEG-2 or MPEG-4 Part 2); a regular file (FIFOs, devices, folders
        are refused before opening).
    with_map : also return the per-MB class map (T x mb_height x mb_width); without it only the
        per-frame counts are kept (a few dozen bytes per frame: memory flat in video length).
    max_frames : stop after this many frames (a whole number >= 1; None: all).
    progress : show a tqdm progress bar.
    workers : decoding processes. ``None`` (auto) uses up to 2 processes on
        streams of 300+ frames: the stream is cut at key frames and each part
        is decoded separately (a decode with MB tracing must be single-threaded,
        so this is how it uses a second core). Any part that does not start
        cleanly on its key frame makes the whole stream decode in one pass. The
        worker processes are fresh interpreters, never forks of the caller, so
        calls from several threads at once are safe.
    stream : container stream number (default: the first video stream that is not cover art).
    max_pixels : limit on the declared frame size (default ``toolkit.video.LIMITS``).
    motion_vectors : also export the motion vectors (FFmpeg ``flags2=+export_mvs``) and count,
        per frame, the inter MBs whose vectors are all zero (column ``zero_mv``; G-VPF counts
        them with the skipped MBs). False leaves the column out.

    Returns
    -------
    MacroblockTypes, whose ``counts`` rows are in display order and sum to
    ``mb_per_frame`` = ceil(W/16) * ceil(H/16). ``complete`` is False (and ``error`` says
    what, with counts) when packets failed to decode, frames were corrupt or missing, or the
    stream is shorter than the container declares; ``params["decode"]`` holds the counts.

    Raises
    ------
    FileNotFoundError, toolkit.video.NotRegularFileError, toolkit.video.VideoReadError (not a
    video, nothing decodes), toolkit.video.UnsupportedCodecError (HEVC, VP9, AV1, ...),
    ValueError (bad arguments, frames over ``max_pixels``).

    >>> mb = macroblock_types("sample_data/double/double_mpeg2_h264.mp4")
    >>> mb.n_frames, mb.mb_per_frame, mb.gop.gop, mb.complete
    (150, 396, 33, True)
    >>> mb.counts.skip[11:14].tolist()  # frame 12 was an MPEG-2 I-frame: few skipped MBs
    [123, 23, 59]
    """
    if max_frames is not None and (
        isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1
    ):
        raise ValueError(f"max_frames must be a whole number >= 1 or None, got {max_frames!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1
    ):
        raise ValueError(f"workers must be a whole number >= 1 or None, got {workers!r}")
    p = regular_file(path)
    # check the codec before decoding anything
    with open_video(p, stream=stream, max_pixels=max_pixels) as (_, st):
        codec = st.codec_context.name
        width, height = st.codec_context.width, st.codec_context.height
        stream_index = st.index
    if codec not in SUPPORTED_MB_CODECS:
        raise UnsupportedCodecError(
            f"{str(p)!r} is coded with {codec!r}, which has no macroblock types that FFmpeg "
            f"reports; supported codecs: {', '.join(SUPPORTED_MB_CODECS)} "
            "(H.264, MPEG-2, MPEG-4 Part 2). HEVC, VP9 and AV1 use coding trees, not macroblocks."
        )
    mb_width = -(-width // 16)
    mb_height = -(-height // 16)
    if mb_width < 1 or mb_height < 1:
        raise VideoReadError(f"{str(p)!r}: its video stream declares no frame size ({width}x{height})")
    if 3 * mb_width + 8 > _MAX_LOG_LINE:
        raise UnsupportedCodecError(
            f"{str(p)!r} is {width} pixels wide: macroblock rows longer than PyAV's log buffer "
            f"(frames up to {(_MAX_LOG_LINE - 8) // 3 * 16} pixels wide are supported)"
        )

    serial = dict(
        max_frames=max_frames,
        progress=progress,
        with_map=with_map,
        stream=stream_index,
        motion_vectors=bool(motion_vectors),
    )
    segments, n_packets = _plan_segments(p, workers, max_frames, stream_index)
    if len(segments) > 1:
        traces = _run_parallel(p, mb_width, mb_height, segments, stream_index, with_map, bool(motion_vectors))
        if any(not t.clean for t in traces):  # a segment did not start on its key frame
            traces = [_trace(p, mb_width, mb_height, **serial)]
    else:
        traces = [_trace(p, mb_width, mb_height, **serial)]
    n = sum(tr.n for tr in traces)
    mismatched = sum(tr.mismatched for tr in traces)
    unreported = traces[-1].unreported
    unknown = set().union(*(tr.unknown for tr in traces))
    if any(tr.unreported for tr in traces[:-1]):
        raise VideoReadError(f"{str(p)!r}: macroblock types missing inside the stream")
    errors = [tr.error for tr in traces if tr.error]
    error = "; ".join(errors) if errors else None
    if len(traces) > 1:
        decoded = n + unreported
        declared = traces[0].health.get("declared_frames")
        if declared and decoded < declared and error is None:
            error = f"decoded {decoded} of the {declared} frames the container declares"
        elif n_packets and decoded < n_packets and error is None:
            error = f"decoded {decoded} frames from {n_packets} packets"
    health = dict(traces[-1].health) if len(traces) == 1 else _merge_health(traces)
    health["complete"] = error is None
    health["error"] = error

    if not n:
        raise VideoReadError(f"{str(p)!r}: no frame could be decoded" + (f" ({error})" if error else ""))
    if mismatched:
        raise VideoReadError(
            f"{str(p)!r}: {mismatched} macroblock blocks did not match their frames' picture types"
        )
    if unknown:
        raise VideoReadError(f"{str(p)!r}: unknown macroblock symbols {sorted(unknown)} in FFmpeg's output")
    counts = np.concatenate([tr.frames() for tr in traces]).astype(np.int64)
    types = b"".join(bytes(tr.types) for tr in traces).decode("ascii")
    columns = COUNT_COLUMNS if motion_vectors else COUNT_COLUMNS[:-1]
    df = pd.DataFrame({"frame_type": list(types), **{c: counts[:, k] for k, c in enumerate(columns)}})
    df.index.name = "frame"
    symbols = classes = None
    if with_map:
        symbols = np.stack([m for tr in traces for m in tr.maps])  # T x H x W of ASCII codes
        classes = _LUT_CLASS[symbols]
    return MacroblockTypes(
        counts=df,
        mb_width=mb_width,
        mb_height=mb_height,
        codec=codec,
        sha256=sha256_file(p),
        path=str(p),
        maps=classes,
        symbols=symbols,
        complete=error is None,
        error=error,
        params={
            "with_map": with_map,
            "max_frames": max_frames,
            "motion_vectors": bool(motion_vectors),
            "workers": workers,
            "stream": stream_index,
            "unreported_trailing_frames": unreported,
            "segments": len(traces),
            "decode": health,
        },
    )


def _merge_health(traces) -> dict:
    """One decode report from the segments of a parallel trace."""
    first = dict(traces[0].health)
    for key in ("frames_decoded", "packets", "failed_packets", "corrupt_frames", "missing_frames"):
        first[key] = sum(int(t.health.get(key) or 0) for t in traces)
    first["variable_frame_rate"] = any(t.health.get("variable_frame_rate") for t in traces)
    sizes = []
    for t in traces:
        for size in t.health.get("sizes", []):
            if size not in sizes:
                sizes.append(size)
    first["sizes"] = sizes
    return first
