"""Face-manipulation analysis of an image (or sampled video frames): detect, crop, FCN, decide.

>>> r = analyze("sample_data/images/rocket.png")
>>> r.verdict, r.reason
('inconclusive', 'no face was found (detector mtcnn)')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.faces.detection import Face, get_detector
from toolkit.faces.geometry import crop
from toolkit.faces.model import KIND, to_tensor
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, Result

__all__ = ["FaceResult", "analyze", "analyze_faces", "load_model", "DEFAULT_MODEL", "THRESHOLD"]

#: registry name of the shipped FCN
DEFAULT_MODEL = "faces/fcn"
#: fake probability at and above which a face is called manipulated
THRESHOLD = 0.5
_MODELS: dict = {}


def load_model(name: str | os.PathLike = "default", device: str = "auto"):
    """The face FCN (:class:`~toolkit.faces.model.FaceFCN`, eval mode) from the registry or a checkpoint file.

    ``"default"`` is the shipped ``faces/fcn``; short names are looked up under ``faces/``.
    ``forward`` on N x 3 x 128 x 128 (RGB in [0, 1]) returns ``(N x 2 logits, N x 2 x 49 x 49 logits)``.

    Raises :class:`toolkit.weights.UnknownWeightsError` for an unknown name and
    :class:`toolkit.weights.WeightsNotFoundError` (naming the file and where to put it) for a
    registered but missing file.

    >>> import torch
    >>> net = load_model(device="cpu")
    >>> [tuple(t.shape) for t in net(torch.zeros(2, 3, 128, 128))]
    [(2, 2), (2, 2, 49, 49)]
    """
    from toolkit import weights

    if name in (None, "default"):
        name = DEFAULT_MODEL
    return weights.load_named(name, "faces", KIND, device=str(device))


def _cached_model(model, device):
    if not isinstance(model, (str, os.PathLike)):
        return model
    key = (os.fspath(model), str(device))
    if key not in _MODELS:
        _MODELS[key] = load_model(model, device)
    return _MODELS[key]


@dataclass(frozen=True)
class FaceResult(Result):
    """Faces found and, for each, the FCN's fake probability and 49 x 49 manipulation map.

    Attributes
    ----------
    faces : per face: ``box`` (x0, y0, x1, y1 px), ``landmarks`` (5 x 2), ``detector_score``,
        ``fake_prob`` (classification head), ``frame`` (frame index; 0 for an image).
    maps : K x 49 x 49 fake probability of the segmentation head per face (cell ``(i, j)`` is the
        31 x 31 crop patch centred at crop pixel ``(15 + 2j, 15 + 2i)``).
    score : largest ``fake_prob`` (image) or the mean over frames of each frame's largest (video);
        NaN without faces.
    threshold : decision threshold on ``score``.
    image_shape : (H, W) of the analysed image / frames.
    frames : indices of the analysed frames.
    lam : λ of the model used.
    """

    method = "faces"

    faces: tuple = ()
    maps: np.ndarray = field(default_factory=lambda: np.zeros((0, 49, 49), np.float32))
    score: float = float("nan")
    threshold: float = THRESHOLD
    image_shape: tuple = ()
    frames: tuple = (0,)
    lam: float | None = None
    detector: str = ""

    @property
    def verdict(self) -> str:
        """``"manipulated"`` when ``score >= threshold``, else ``"not_detected"``;
        ``"inconclusive"`` without faces."""
        if not self.faces:
            return INCONCLUSIVE
        return "manipulated" if self.score >= self.threshold else NOT_DETECTED

    @property
    def reason(self) -> str:
        """Why the verdict is what it is."""
        if not self.faces:
            return f"no face was found (detector {self.detector})"
        return (
            f"{len(self.faces)} face(s); highest fake probability "
            f"{max(f['fake_prob'] for f in self.faces):.3f} "
            f"(score {self.score:.3f} vs threshold {self.threshold:g})"
        )

    def table(self):
        """pandas table, one row per face: frame, box, detector score, fake probability, mean map value."""
        import pandas as pd

        rows = [
            {
                "frame": f["frame"],
                "x0": f["box"][0],
                "y0": f["box"][1],
                "x1": f["box"][2],
                "y1": f["box"][3],
                "detector_score": f["detector_score"],
                "fake_prob": f["fake_prob"],
                "map_mean": float(np.mean(m)),
            }
            for f, m in zip(self.faces, self.maps)
        ]
        cols = ["frame", "x0", "y0", "x1", "y1", "detector_score", "fake_prob", "map_mean"]
        return pd.DataFrame(rows, columns=cols)

    def plot(self, max_faces: int = 4):
        """plotly figure: the 49 x 49 manipulation map of up to ``max_faces`` faces (a note without faces)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        k = min(len(self.faces), max_faces)
        if k == 0:
            fig = go.Figure()
            fig.add_annotation(text=self.reason, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
            fig.update_layout(title="faces: no face found", height=250)
            return fig
        titles = [f"frame {f['frame']}, p(fake) = {f['fake_prob']:.2f}" for f in self.faces[:k]]
        fig = make_subplots(rows=1, cols=k, subplot_titles=titles)
        for i in range(k):
            fig.add_trace(
                go.Heatmap(
                    z=np.asarray(self.maps[i]), zmin=0, zmax=1, colorscale="Reds", showscale=i == k - 1
                ),
                row=1,
                col=i + 1,
            )
            fig.update_yaxes(autorange="reversed", scaleanchor=f"x{i + 1 if i else ''}", row=1, col=i + 1)
        fig.update_layout(title=f"faces: segmentation maps (λ = {self.lam})", height=320)
        return fig

    def summary(self) -> str:
        """One line: verdict, score vs threshold, number of faces."""
        base = super().summary()
        return base if not self.faces else f"{base}, {len(self.faces)} face(s)"


def analyze_faces(rgb: np.ndarray, faces: list[Face], model, *, device: str = "auto", frame: int = 0):
    """Fake probability and 49 x 49 map of each face of one RGB image: ``(list of dicts, K x 49 x 49)``.

    >>> rows, maps = analyze_faces(np.zeros((64, 64, 3), np.uint8), [], load_model(device="cpu"))
    >>> rows, maps.shape
    ([], (0, 49, 49))
    """
    import torch

    model = _cached_model(model, device)
    if not faces:
        return [], np.zeros((0, 49, 49), np.float32)
    crops = np.stack([crop(rgb, f) for f in faces])
    dev = next(model.parameters()).device
    with torch.no_grad():
        cls, seg = model(to_tensor(crops).to(dev))
    p = torch.softmax(cls.float(), 1)[:, 1].cpu().numpy()
    maps = torch.softmax(seg.float(), 1)[:, 1].cpu().numpy().astype(np.float32)
    rows = [
        {
            "box": list(f.box),
            "landmarks": f.landmarks.tolist(),
            "detector_score": f.score,
            "fake_prob": float(pi),
            "frame": int(frame),
        }
        for f, pi in zip(faces, p)
    ]
    return rows, maps


def _is_video(x) -> bool:
    from toolkit.image import IMAGE_SUFFIXES

    return isinstance(x, (str, os.PathLike)) and Path(x).suffix.lower() not in IMAGE_SUFFIXES


def analyze(
    image_or_path,
    *,
    model: str | os.PathLike = "default",
    detector: str = "mtcnn",
    threshold: float = THRESHOLD,
    max_faces: int = 4,
    max_frames: int = 4,
    device: str = "auto",
    progress: bool = False,
) -> FaceResult:
    """Detect faces, crop them as the seed does and run the FCN; the decision on the image.

    Parameters
    ----------
    image_or_path : image path / array (grey, RGB, RGBA, 16-bit: :func:`toolkit.image.load_image`) or a
        video path (``max_frames`` frames evenly spread over the video are analysed).
    model : registry name (``"default"`` = ``faces/fcn``) or checkpoint file.
    detector : ``"mtcnn"`` or ``"lbp-cascade"``.
    threshold : fake probability at and above which the verdict is ``"manipulated"``.
    max_faces : faces per frame analysed (highest detector scores).

    Returns
    -------
    FaceResult
        ``"inconclusive"`` when no face is found (never an error).

    Raises
    ------
    FileNotFoundError, ValueError (not an image; image too large), toolkit.video.VideoReadError,
    toolkit.weights.WeightsNotFoundError.

    >>> from skimage import data
    >>> r = analyze(data.astronaut(), device="cpu")
    >>> len(r.faces), r.maps.shape, r.verdict in ("manipulated", "not_detected")
    (1, (1, 49, 49), True)
    """
    from tqdm.auto import tqdm

    from toolkit._util import input_sha256, sha256_file

    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be a probability in [0, 1], got {threshold}")
    if int(max_faces) < 1 or int(max_frames) < 1:
        raise ValueError("max_faces and max_frames must be at least 1")
    net = _cached_model(model, device)
    det = get_detector(detector, device)
    path = None
    if isinstance(image_or_path, (str, os.PathLike)):
        path = os.fspath(image_or_path)
        digest = sha256_file(path)
    else:
        digest = input_sha256(np.asarray(image_or_path))
    if _is_video(image_or_path):
        from toolkit.video import FrameSource

        n_total = FrameSource(path, fmt="rgb").n_total
        step = max(1, n_total // int(max_frames)) if n_total else 1
        source = FrameSource(path, 0, int(max_frames), step, fmt="rgb")
        items = ((i, f) for i, f in source)
    else:
        from toolkit.image import load_image

        items = iter([(0, load_image(image_or_path))])
    rows, maps, frames, shape, per_frame = [], [], [], (), []
    for idx, rgb in tqdm(items, disable=not progress, desc="faces", total=int(max_frames)):
        shape = tuple(rgb.shape[:2])
        faces = det.detect(rgb)[: int(max_faces)]
        r, m = analyze_faces(rgb, faces, net, frame=idx)
        rows += r
        maps.append(m)
        frames.append(int(idx))
        if r:
            per_frame.append(max(x["fake_prob"] for x in r))
    score = float(np.mean(per_frame)) if per_frame else float("nan")
    params = {
        "model": getattr(net, "weights_name", None) or str(model),
        "model_sha256": getattr(net, "weights_sha256", None),
        "detector": det.name,
        "detector_sha256": getattr(det, "weights_sha256", None),
        "threshold": float(threshold),
        "max_faces": int(max_faces),
        "max_frames": int(max_frames),
        "device": str(device),
    }
    return FaceResult(
        path=path,
        sha256=digest,
        params=params,
        faces=tuple(rows),
        maps=np.concatenate(maps) if maps else np.zeros((0, 49, 49), np.float32),
        score=score,
        threshold=float(threshold),
        image_shape=shape,
        frames=tuple(frames),
        lam=getattr(net, "lam", None),
        detector=det.name,
    )
