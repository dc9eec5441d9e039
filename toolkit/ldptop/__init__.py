"""LDP-TOP: local derivative patterns on three orthogonal planes, body parts, ten MLPs (seed 001, ch. 4).

* :func:`descriptor` — the 3072-value LDP-TOP of a ``T x H x W`` window (XY, XT, YT x 0°, 45°, 90°,
  135° x 256 bins), :func:`ldp_codes` / :func:`ldp_histogram` for one plane and direction
  (:mod:`toolkit.ldptop.descriptor` states the exact LDP rule; ``variant="zhang"`` for Zhang et al.'s);
* :mod:`toolkit.ldptop.flow` — V(o), the optical flow's gradient magnitude (scikit-image TV-L1);
* :mod:`toolkit.ldptop.regions` — body-part boxes (FC, LH, RH, LF, RF): from the generator's
  silhouettes, or MediaPipe Pose (optional);
* :class:`LDPTOPEnsemble` — one MLP per (part, input), eq. (4.1) fusion, majority votes
  (:func:`fuse_inputs`, :func:`vote_parts`, :func:`vote_windows`), :func:`fuse_detectors` for the
  LDP-TOP + CNN fusion;
* :func:`features` / :func:`analyze` — a video's window features and the decision (:class:`LDPTOPResult`,
  registry name ``"ldptop"``); ``python -m toolkit.ldptop.train`` trains and ships a model.

>>> import numpy as np
>>> descriptor(np.zeros((50, 16, 16), np.uint8)).shape
(3072,)
"""

from toolkit.ldptop.analyze import (
    DEFAULT_MODEL,
    LDPTOPResult,
    WindowFeatures,
    analyze,
    features,
    load_model,
    resolve_regions,
    window_planes,
)
from toolkit.ldptop.descriptor import (
    DIRECTIONS,
    N_FEATURES,
    PLANES,
    central_slices,
    descriptor,
    ldp_codes,
    ldp_histogram,
    slices_descriptor,
    window_starts,
)
from toolkit.ldptop.ensemble import (
    INPUTS,
    LDPTOPEnsemble,
    fuse_detectors,
    fuse_inputs,
    vote_parts,
    vote_windows,
)
from toolkit.ldptop.flow import flow_slices, flow_volume
from toolkit.ldptop.regions import PARTS, Regions, from_masks, from_pose, from_sidecar, part_volume

__all__ = [
    "descriptor",
    "slices_descriptor",
    "ldp_codes",
    "ldp_histogram",
    "central_slices",
    "window_starts",
    "PLANES",
    "DIRECTIONS",
    "N_FEATURES",
    "flow_volume",
    "flow_slices",
    "PARTS",
    "Regions",
    "from_masks",
    "from_sidecar",
    "from_pose",
    "part_volume",
    "INPUTS",
    "LDPTOPEnsemble",
    "fuse_inputs",
    "vote_parts",
    "vote_windows",
    "fuse_detectors",
    "features",
    "analyze",
    "load_model",
    "resolve_regions",
    "window_planes",
    "LDPTOPResult",
    "WindowFeatures",
    "DEFAULT_MODEL",
]
