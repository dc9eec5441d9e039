"""VPFExplorer: double-encoding detection (VPF) on a video, with a movable threshold.

A view: it draws a :class:`toolkit.vpf.VPFResult`; a path is analysed by
``toolkit.methods.run("vpf", path)``, and the threshold slider re-decides with
:meth:`VPFResult.with_threshold` (no new decoding).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ipywidgets as w

import toolkit.methods as methods
from toolkit.video import VideoError
from toolkit.vpf import VPFResult
from widgets._common import FigureWidget, error_html, split_source, video_picker

__all__ = ["VPFExplorer"]


class VPFExplorer(w.VBox):
    """Show a VPF result, or pick a video (sample list, typed path or upload) and see its VPF.

    Parameters
    ----------
    source : a :class:`~toolkit.vpf.VPFResult` (drawn as it is) or a video path (analysed
        with ``toolkit.methods.run("vpf", path)``); None: the first sample video.
    result : the older keyword form of a VPFResult ``source``.

    Controls: ``picker`` (video path), ``upload`` (a file from your computer),
    ``threshold`` (decision threshold; moving it re-decides without decoding
    again), ``frames`` (zoom into a frame range), ``show_signal`` (VPF signal
    panel). Outputs: ``table`` (HTML of :meth:`VPFResult.table`), ``figure``
    (plotly FigureWidget of :meth:`VPFResult.plot`), ``status``; ``analysis`` is
    the result as given or computed, ``result`` the one decided with the slider.

    >>> ex = VPFExplorer("sample_data/double/double_mpeg2_h264.mp4")
    >>> ex.result.verdict, ex.result.previous_gop
    ('double_encoded', 12)
    >>> ex.threshold.value = 50.0; ex.result.double_encoded
    False
    """

    def __init__(
        self, source: VPFResult | str | os.PathLike | None = None, *, result: VPFResult | None = None
    ):
        path, result = split_source(source, result, VPFResult)
        self.picker = video_picker(path if result is None else result.path)
        self.upload = w.FileUpload(
            accept="video/*,.mp4,.mkv,.avi,.mpg,.mov", multiple=False, description="upload"
        )
        self.threshold = w.FloatSlider(
            value=1.0,
            min=-5.0,
            max=20.0,
            step=0.05,
            description="threshold",
            continuous_update=False,
            readout_format=".2f",
            layout=w.Layout(width="60%"),
        )
        self.frames = w.IntRangeSlider(
            value=(0, 1),
            min=0,
            max=1,
            description="frames",
            continuous_update=False,
            layout=w.Layout(width="480px", min_width="320px"),
        )
        self.show_signal = w.Checkbox(value=True, description="show VPF signal")
        self.status = w.HTML()
        self.table = w.HTML()
        self.figure = FigureWidget()
        self.analysis: VPFResult | None = None  # as computed, calibrated threshold
        self.result: VPFResult | None = None  # with the slider's threshold
        self._upload_dir = None
        self.picker.observe(lambda _: self.load(), names="value")
        self.upload.observe(lambda _: self._on_upload(), names="value")
        self.threshold.observe(lambda _: self.decide(), names="value")
        for c in (self.frames, self.show_signal):
            c.observe(lambda _: self.redraw(), names="value")
        super().__init__(
            [
                w.HBox([self.picker, self.upload]),
                self.threshold,
                w.HBox([self.frames, self.show_signal]),
                self.status,
                self.table,
                self.figure,
            ]
        )
        if result is not None:
            self._show(result)
        elif self.picker.value:
            self.load()

    # -- actions ----------------------------------------------------------
    def _on_upload(self) -> None:
        files = self.upload.value
        if not files:
            return
        item = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = Path(item["name"]).name if "name" in item else "upload.mp4"
        if self._upload_dir is None:
            self._upload_dir = tempfile.mkdtemp(prefix="vpf_upload_")
        dest = Path(self._upload_dir) / name
        dest.write_bytes(bytes(item["content"]))
        self.picker.value = str(dest)  # triggers load()

    def load(self) -> None:
        """Analyse the picked video (``toolkit.methods.run("vpf", path)``, one decode) and show it."""
        path = self.picker.value
        try:
            r = methods.run("vpf", path, progress=True)
        except (FileNotFoundError, IsADirectoryError, VideoError, ValueError) as exc:
            self.analysis = self.result = None
            self.status.value = error_html(exc)
            self.table.value = ""
            self.figure.data = []
            return
        self._show(r)

    def _show(self, r: VPFResult) -> None:
        self.analysis = r
        n = max(r.n_frames - 1, 1)
        with self.frames.hold_trait_notifications():
            self.frames.max = n
            self.frames.value = (0, n)
        lo = min(self.threshold.min, r.threshold, r.vpf_value - 1)
        hi = max(self.threshold.max, r.threshold, r.vpf_value + 1)
        with self.threshold.hold_trait_notifications():
            self.threshold.min, self.threshold.max = float(lo), float(hi)
            self.threshold.value = float(r.threshold)
        self.decide()

    def decide(self) -> None:
        """Re-decide with the slider's threshold (no new decoding), refresh the views."""
        if self.analysis is None:
            return
        self.result = self.analysis.with_threshold(float(self.threshold.value))
        r = self.result
        colour = {"double_encoded": "#b00", "not_detected": "#070"}.get(r.status, "#a60")
        self.status.value = (
            f"<b style='color:{colour}'>{r.status}</b>: {r.reason} "
            f"<br><small>{r.codec}, {r.n_frames} frames, sha256 "
            f"{r.sha256[:16]}…</small>"
        )
        self.table.value = r.table().to_html(header=False)
        self.redraw()

    def redraw(self) -> None:
        """Draw :meth:`VPFResult.plot` of the current result with the frame range and signal switch."""
        if self.result is None:
            return
        fig = self.result.plot(frame_range=tuple(self.frames.value), show_signal=self.show_signal.value)
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(list(fig.data))
            self.figure.layout = fig.layout
