"""Manipulated faces: the joint classification + segmentation FCN of seed 003 (Tarasiou & Zafeiriou 2019).

* :func:`detect` — faces with five landmarks (:class:`Face`); MTCNN with pretrained weights by default,
  scikit-image's LBP cascade as a no-landmark fallback, a RetinaFace adapter for user weights;
* :func:`crop` — the seed's square crop (side 2.2 x the box's larger side, centred on the landmarks'
  mean, zero-padded) resized to 128 x 128;
* :class:`FaceFCN` / :func:`load_model` — the Table I network: classification logits (N x 2) and a
  49 x 49 segmentation map (N x 2 x 49 x 49);
* :func:`analyze` — the decision on an image or a few video frames (:class:`FaceResult`);
* ``python -m toolkit.faces.train`` — the λ sweep on the project's generated manipulations
  (:mod:`toolkit.synth.faces`) or on FaceForensics++ (:mod:`toolkit.faces.ffpp`).

>>> from skimage import data
>>> faces = detect(data.astronaut())
>>> crop(data.astronaut(), faces[0]).shape
(128, 128, 3)
"""

from toolkit.faces.analyze import DEFAULT_MODEL, THRESHOLD, FaceResult, analyze, analyze_faces, load_model
from toolkit.faces.detection import (
    CascadeDetector,
    Detector,
    Face,
    MTCNNDetector,
    RetinaFaceDetector,
    detect,
    get_detector,
)
from toolkit.faces.geometry import crop, crop_box, crop_points, mask_labels, paste_map
from toolkit.faces.model import FaceFCN, output_centres, receptive_field, to_tensor

__all__ = [
    "Face",
    "Detector",
    "MTCNNDetector",
    "CascadeDetector",
    "RetinaFaceDetector",
    "detect",
    "get_detector",
    "crop",
    "crop_box",
    "crop_points",
    "mask_labels",
    "paste_map",
    "FaceFCN",
    "receptive_field",
    "output_centres",
    "to_tensor",
    "load_model",
    "analyze",
    "analyze_faces",
    "FaceResult",
    "DEFAULT_MODEL",
    "THRESHOLD",
]
