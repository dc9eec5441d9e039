"""FaceForensics++ (Rössler et al. 2019) as a :class:`~toolkit.synth.faces.FaceDataset`, to train the seed's
experiment on the real data with one command.

Expected layout (the one FaceForensics++'s download script writes)::

    ROOT/
      original_sequences/youtube/<c23|c40|raw>/videos/000.mp4 ...
      manipulated_sequences/<Deepfakes|Face2Face|FaceSwap|NeuralTextures>/<c23|c40|raw>/videos/000_003.mp4 ...
      manipulated_sequences/<method>/masks/videos/000_003.mp4 ...   (masks: white = manipulated)
      splits/train.json, splits/val.json, splits/test.json          (lists of ["000", "003"] pairs)

Every ``every``-th frame is read (the seed takes one in five), the largest face detected (MTCNN by
default) and cropped as the seed does; a manipulated frame's mask comes from its mask video (grey
> 127). The dataset's ``identity`` column holds the split name, so
``python -m toolkit.faces.train --ffpp ROOT --ffpp-method Face2Face`` trains on ``train``, selects on
``val`` and reports on ``test``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["load_ffpp", "FFPP_METHODS", "ffpp_videos"]

#: manipulation folders of FaceForensics++
FFPP_METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")


def ffpp_videos(root: str | os.PathLike, method: str, compression: str = "c23") -> dict:
    """``{split: [(original video, manipulated video, mask video or None), ...]}`` of one method.

    ``FileNotFoundError`` naming the missing folder when the layout is not FaceForensics++'s.
    """
    root = Path(root)
    orig = root / "original_sequences" / "youtube" / compression / "videos"
    fake = root / "manipulated_sequences" / method / compression / "videos"
    masks = root / "manipulated_sequences" / method / "masks" / "videos"
    for d in (orig, fake, root / "splits"):
        if not d.is_dir():
            raise FileNotFoundError(
                f"FaceForensics++ folder {d} is missing (see toolkit.faces.ffpp for the layout)"
            )
    out = {}
    for split in ("train", "val", "test"):
        f = root / "splits" / f"{split}.json"
        pairs = json.loads(f.read_text()) if f.is_file() else []
        rows = []
        for a, b in pairs:
            for t, s in ((a, b), (b, a)):
                o, m = orig / f"{t}.mp4", fake / f"{t}_{s}.mp4"
                if o.is_file() and m.is_file():
                    mk = masks / f"{t}_{s}.mp4"
                    rows.append((o, m, mk if mk.is_file() else None))
        out[split] = rows
    return out


def _frames(path, every, max_frames):
    from toolkit.video import FrameSource

    return FrameSource(path, 0, max_frames, every, fmt="rgb")


def load_ffpp(
    root: str | os.PathLike,
    methods=("Deepfakes",),
    compression: str = "c23",
    *,
    every: int = 5,
    max_frames: int | None = None,
    detector="mtcnn",
    progress: bool = False,
):
    """Crops of FaceForensics++ originals (label 0) and manipulated videos (label 1) with their masks.

    Parameters
    ----------
    root : the FaceForensics++ folder (layout above).
    methods : manipulation folders to read.
    compression : ``"raw"``, ``"c23"`` or ``"c40"``.
    every : frame step; max_frames : frames read per video (None: all).
    detector : a :func:`toolkit.faces.get_detector` name or a :class:`~toolkit.faces.Detector`.

    Returns
    -------
    toolkit.synth.faces.FaceDataset (``identity`` = split, ``clip`` = video name, ``kinds`` = method).
    """
    from tqdm.auto import tqdm

    from toolkit.faces.detection import get_detector
    from toolkit.faces.geometry import crop
    from toolkit.synth.faces import FaceDataset

    det = get_detector(detector)
    rows: dict[str, list] = {k: [] for k in FaceDataset.__dataclass_fields__}

    def add(img, mask, label, kind, split, name):
        faces = det.detect(img)
        if not faces:
            return
        f = max(faces, key=lambda x: x.size)
        rows["crops"].append(crop(img, f))
        rows["masks"].append(crop(mask, f, mask=True))
        rows["labels"].append(label)
        rows["kinds"].append(kind)
        rows["compression"].append(compression)
        rows["identity"].append(split)
        rows["clip"].append(name)

    seen_orig = set()
    for method in methods:
        for split, videos in ffpp_videos(root, method, compression).items():
            for orig, fake, mask_video in tqdm(videos, disable=not progress, desc=f"{method} {split}"):
                if orig not in seen_orig:
                    seen_orig.add(orig)
                    for _, fr in _frames(orig, every, max_frames):
                        add(fr, np.zeros(fr.shape[:2], bool), 0, "pristine", split, orig.stem)
                masks = _frames(mask_video, every, max_frames) if mask_video else None
                mask_iter = iter(masks) if masks is not None else None
                for _, fr in _frames(fake, every, max_frames):
                    m = next(mask_iter, None) if mask_iter is not None else None
                    mk = (m[1].mean(axis=2) > 127) if m is not None else np.zeros(fr.shape[:2], bool)
                    if mk.shape != fr.shape[:2]:
                        mk = np.zeros(fr.shape[:2], bool)
                    add(fr, mk, 1, method, split, fake.stem)
    if not rows["labels"]:
        raise ValueError(f"no face crop could be read from {root} ({', '.join(methods)}, {compression})")
    return FaceDataset(
        crops=np.stack(rows["crops"]),
        masks=np.stack(rows["masks"]).astype(bool),
        labels=np.asarray(rows["labels"], np.int64),
        kinds=np.asarray(rows["kinds"]),
        compression=np.asarray(rows["compression"]),
        identity=np.asarray(rows["identity"]),
        clip=np.asarray(rows["clip"]),
    )
