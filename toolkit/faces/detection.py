"""Face detectors behind one interface: ``detect(image) -> list[Face]``.

* :class:`MTCNNDetector` (default) — the project's MTCNN with the pretrained weights ``faces/mtcnn``;
* :class:`RetinaFaceDetector` — the seed's detector (RetinaFace, Deng et al. 2019) from weights the
  user supplies through :mod:`toolkit.weights` (none ship: no RetinaFace weights could be obtained);
* :class:`CascadeDetector` — scikit-image's bundled LBP frontal-face cascade, a fallback without
  landmarks: its five "landmarks" are all the box centre, so the seed's crop stays centred on the box.

"No face" is an empty list, never an error.

>>> import numpy as np
>>> detect(np.zeros((64, 64, 3), np.uint8))
[]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Face",
    "Detector",
    "MTCNNDetector",
    "CascadeDetector",
    "RetinaFaceDetector",
    "detect",
    "get_detector",
    "DETECTORS",
    "MTCNN_WEIGHTS",
]

#: registry name of the MTCNN weights
MTCNN_WEIGHTS = "faces/mtcnn"


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes
    ----------
    box : (x0, y0, x1, y1), pixels (float; x to the right, y down).
    landmarks : 5 x 2 (x, y): left eye, right eye, nose, left and right mouth corner (as the image
        shows them).
    score : detector confidence in [0, 1].
    detector : name of the detector that found it.
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray = field(repr=False)
    score: float = 1.0
    detector: str = ""

    def __post_init__(self):
        object.__setattr__(self, "box", tuple(float(v) for v in np.asarray(self.box, float).reshape(4)))
        lm = np.array(self.landmarks, dtype=np.float32).reshape(-1, 2)
        lm.setflags(write=False)
        object.__setattr__(self, "landmarks", lm)
        object.__setattr__(self, "score", float(self.score))

    @property
    def size(self) -> float:
        """Largest side of the box, pixels."""
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])

    def to_dict(self) -> dict:
        """Plain JSON types."""
        return {
            "box": list(self.box),
            "landmarks": self.landmarks.tolist(),
            "score": self.score,
            "detector": self.detector,
        }


@runtime_checkable
class Detector(Protocol):
    """Anything with ``detect(rgb: H x W x 3 uint8) -> list[Face]`` and a ``name``."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Face]: ...


def _faces(boxes, scores, landmarks, name: str, min_score: float) -> list[Face]:
    out = [
        Face(box=b, landmarks=lm, score=s, detector=name)
        for b, s, lm in zip(boxes, scores, landmarks)
        if s >= min_score
    ]
    return sorted(out, key=lambda f: -f.score)


class MTCNNDetector:
    """MTCNN (P/R/O-Net cascade) with the shipped pretrained weights.

    Parameters
    ----------
    weights : registry name or checkpoint file of a ``"faces.mtcnn"`` checkpoint.
    min_face : smallest face side searched for, pixels.
    min_score : faces below this O-Net probability are dropped.
    max_side : images are downscaled so their longer side is at most this (pixels) before detection;
        boxes and landmarks are returned in the original image's coordinates.
    device : ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """

    name = "mtcnn"

    def __init__(
        self,
        weights: str = MTCNN_WEIGHTS,
        *,
        min_face: int = 20,
        min_score: float = 0.9,
        max_side: int = 1024,
        device: str = "auto",
    ):
        from toolkit import weights as w

        self.net = w.load(weights, device=device, kind="faces.mtcnn")
        self.net.min_face = int(min_face)
        self.min_score, self.max_side = float(min_score), int(max_side)
        self.weights_name, self.weights_sha256 = self.net.weights_name, self.net.weights_sha256

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        img = rgb
        if scale < 1.0:
            from PIL import Image

            img = np.asarray(
                Image.fromarray(rgb).resize((max(1, round(w * scale)), max(1, round(h * scale))))
            )
        if min(img.shape[:2]) < 12:
            return []
        boxes, scores, lms = self.net.detect(img)
        return _faces(boxes / scale, scores, lms / scale, self.name, self.min_score)


class CascadeDetector:
    """scikit-image's LBP frontal-face cascade (no landmarks: all five are the box centre).

    Parameters
    ----------
    min_size, max_size : face side range searched, pixels (``max_size`` default: the image's shorter side).
    scale_factor, step_ratio, min_neighbor_number : settings of
        :meth:`skimage.feature.Cascade.detect_multi_scale`.
    """

    name = "lbp-cascade"

    def __init__(
        self,
        min_size: int = 40,
        max_size: int | None = None,
        scale_factor: float = 1.2,
        step_ratio: float = 1.0,
        min_neighbor_number: int = 3,
    ):
        from skimage import data
        from skimage.feature import Cascade

        self.cascade = Cascade(data.lbp_frontal_face_cascade_filename())
        self.min_size, self.max_size = int(min_size), max_size
        self.scale_factor, self.step_ratio = float(scale_factor), float(step_ratio)
        self.min_neighbor_number = int(min_neighbor_number)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        if min(h, w) < self.min_size:
            return []
        hits = self.cascade.detect_multi_scale(
            img=rgb,
            scale_factor=self.scale_factor,
            step_ratio=self.step_ratio,
            min_size=(self.min_size, self.min_size),
            max_size=(self.max_size or min(h, w),) * 2,
            min_neighbor_number=self.min_neighbor_number,
        )
        if hits:
            # the cascade reports each face at several overlapping windows: keep the largest of each group
            import torch
            from torchvision.ops import nms

            b = torch.tensor(
                [[d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]] for d in hits],
                dtype=torch.float32,
            )
            keep = nms(b, (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 0.3).tolist()
            hits = [hits[i] for i in keep]
        faces = []
        for d in hits:
            x0, y0, x1, y1 = d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]
            centre = [(x0 + x1) / 2, (y0 + y1) / 2]
            faces.append(Face(box=(x0, y0, x1, y1), landmarks=[centre] * 5, score=1.0, detector=self.name))
        return sorted(faces, key=lambda f: -f.size)


class RetinaFaceDetector:
    """The seed's RetinaFace detector from user-supplied weights.

    ``weights`` is a registry name or checkpoint file whose builder (registered by the user with
    :func:`toolkit.weights.register_builder`) returns a module with
    ``detect(rgb) -> (boxes K x 4, scores K, landmarks K x 5 x 2)`` in pixels. No RetinaFace
    weights ship with the toolkit.

    >>> RetinaFaceDetector("no/such/retinaface")
    Traceback (most recent call last):
    ...
    toolkit.weights.UnknownWeightsError: no weights registered under 'no/such/retinaface'; ...
    """

    name = "retinaface"

    def __init__(self, weights: str | os.PathLike, *, min_score: float = 0.9, device: str = "auto"):
        from toolkit import weights as w

        if isinstance(weights, str) and not os.path.exists(weights):
            w.spec(weights)  # UnknownWeightsError for an unregistered name
        self.net = w.load(weights, device=device)
        if not callable(getattr(self.net, "detect", None)):
            raise w.WeightsFormatError(f"{weights!r} does not build a model with a detect(rgb) method")
        self.min_score = float(min_score)
        self.weights_name = getattr(self.net, "weights_name", None)
        self.weights_sha256 = getattr(self.net, "weights_sha256", None)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        boxes, scores, lms = self.net.detect(rgb)
        return _faces(np.asarray(boxes), np.asarray(scores), np.asarray(lms), self.name, self.min_score)


#: detector names accepted by :func:`get_detector`
DETECTORS = ("mtcnn", "lbp-cascade")
_CACHE: dict = {}


def get_detector(detector: str | Detector = "mtcnn", device: str = "auto") -> Detector:
    """A detector from its name (``"mtcnn"``, ``"lbp-cascade"``), cached; a :class:`Detector` as is.

    >>> get_detector("lbp-cascade").name
    'lbp-cascade'
    """
    if not isinstance(detector, str):
        if not isinstance(detector, Detector):
            raise ValueError(f"detector must be one of {DETECTORS} or have detect(rgb), got {detector!r}")
        return detector
    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}; use one of {', '.join(DETECTORS)}")
    key = (detector, str(device))
    if key not in _CACHE:
        _CACHE[key] = MTCNNDetector(device=device) if detector == "mtcnn" else CascadeDetector()
    return _CACHE[key]


def detect(image, detector: str | Detector = "mtcnn", *, device: str = "auto") -> list[Face]:
    """Faces in ``image`` (path, array (grey, RGB, RGBA, 16-bit), PIL image), highest score first.

    Parameters
    ----------
    image : anything :func:`toolkit.image.load_image` reads; never modified.
    detector : ``"mtcnn"`` (default), ``"lbp-cascade"``, or a :class:`Detector`.

    Returns
    -------
    list of :class:`Face` (empty when no face is found).

    >>> from skimage import data
    >>> faces = detect(data.astronaut())
    >>> len(faces), faces[0].landmarks.shape
    (1, (5, 2))
    """
    from toolkit.image import load_image

    rgb = load_image(image)
    return get_detector(detector, device).detect(rgb)
