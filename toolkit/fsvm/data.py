"""Labelled footprint sets from a folder ``root/real/*`` and ``root/fake/*``.

Point :func:`load_folder` at any dataset laid out this way, e.g. DeepStreets
(``Cityvid/real``, ``Cityvid/fake``) or FaceForensics++ (original sequences
copied or linked into ``real/``, one manipulation's videos into ``fake/``).
Every file PyAV can decode is used; a file that fails is listed in
``errors`` and skipped.

>>> import tempfile
>>> from toolkit.fsvm import load_folder
>>> from toolkit.fsvm.simulate import make_dataset
>>> root = tempfile.mkdtemp()
>>> _ = make_dataset(root, n_per_class=2, n_frames=12, size=(64, 96), real_clips=False, progress=False)
>>> ds = load_folder(root, n_frames=10, progress=False)   # e.g. "data/deepstreets/Cityvid"
>>> ds.footprints.shape, ds.labels.tolist(), ds.errors
((4, 10, 3), [0, 0, 1, 1], [])
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.fsvm._common import LABEL_NAMES, describe_roi

__all__ = ["FootprintSet", "load_folder", "pca_3d"]

CLASS_FOLDERS = {"real": 0, "fake": 1}


@dataclass(frozen=True)
class FootprintSet:
    """Footprints of a labelled set of videos.

    Attributes
    ----------
    paths : list of video paths (only those whose footprint was computed).
    labels : int array (0 real, 1 fake), one per path.
    footprints : float array ``n x N x 3`` (intra, inter, skip per frame).
    sha256 : SHA-256 of each video. ``errors``: ``(path, message)`` for each skipped file.
    params : settings of the footprint extraction.
    """

    paths: list
    labels: np.ndarray
    footprints: np.ndarray
    sha256: list
    errors: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def X(self) -> np.ndarray:
        """``n x 3N`` feature matrix."""
        return self.footprints.reshape(len(self), -1)

    @property
    def y(self) -> np.ndarray:
        return self.labels

    @property
    def names(self) -> list[str]:
        return [os.path.basename(p) for p in self.paths]

    def subset(self, index) -> FootprintSet:
        """The videos at positions ``index`` (a list or array of ints or a boolean mask)."""
        idx = np.arange(len(self))[np.asarray(index)]
        return FootprintSet(
            paths=[self.paths[i] for i in idx],
            labels=self.labels[idx],
            footprints=self.footprints[idx],
            sha256=[self.sha256[i] for i in idx],
            errors=list(self.errors),
            params=dict(self.params),
        )

    def footprint(self, i: int, n_frames: int | None = None):
        """The :class:`~toolkit.fsvm.Footprint` of video ``i`` (its first ``n_frames`` rows; all by default).

        The set keeps no frame types, so they read ``'?'``.

        >>> ds = FootprintSet(["a/real/v.mp4"], np.array([0]), np.full((1, 4, 3), 1 / 3), ["0" * 64])
        >>> ds.footprint(0, 2).shape
        (2, 3)
        """
        from toolkit.fsvm.footprint import Footprint

        n = self.footprints.shape[1] if n_frames is None else int(n_frames)
        if not 1 <= n <= self.footprints.shape[1]:
            raise ValueError(f"n_frames must be in 1..{self.footprints.shape[1]}, got {n_frames!r}")
        return Footprint(
            values=self.footprints[i, :n],
            frame_types=("?",) * n,
            n_valid=n,
            mb_used=0,
            path=self.paths[i],
            sha256=self.sha256[i],
            params={**self.params, "n_frames": n, "from": "FootprintSet"},
        )

    def table(self) -> pd.DataFrame:
        """One row per video: name, class and the mean intra / inter / skip fractions."""
        mean = self.footprints.mean(axis=1) if len(self) else np.zeros((0, 3))
        return pd.DataFrame(
            {
                "video": self.names,
                "class": [LABEL_NAMES[int(v)] for v in self.labels],
                "intra": mean[:, 0],
                "inter": mean[:, 1],
                "skip": mean[:, 2],
            }
        )

    def to_dict(self) -> dict:
        return {
            "paths": list(self.paths),
            "labels": self.labels.tolist(),
            "footprints": self.footprints.tolist(),
            "sha256": list(self.sha256),
            "errors": [list(e) for e in self.errors],
            "params": dict(self.params),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Cache the set as ``.npz`` (footprints, labels, paths, hashes, params)."""
        import json

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            p,
            footprints=self.footprints,
            labels=self.labels,
            paths=np.array(self.paths, dtype=str),
            sha256=np.array(self.sha256, dtype=str),
            meta=json.dumps({"errors": self.errors, "params": self.params}, default=str),
        )
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> FootprintSet:
        import json

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(
                paths=[str(s) for s in z["paths"]],
                labels=z["labels"],
                footprints=z["footprints"],
                sha256=[str(s) for s in z["sha256"]],
                errors=[tuple(e) for e in meta["errors"]],
                params=meta["params"],
            )

    def plot(self, n_frames: int | None = None):
        """3-D PCA scatter of the flattened footprints (the seed's Fig. 5.2), see :func:`pca_3d`."""
        return pca_3d(self, n_frames=n_frames)[1]


def pca_3d(ds: FootprintSet, n_frames: int | None = None, highlight: int | None = None):
    """PCA of the ``3N`` footprints to 3 dimensions and its plotly 3-D scatter.

    Returns ``(coords n x 3, figure)``; real and fake are separate traces
    (``customdata``/hover: file name). ``highlight`` marks one video.
    """
    import plotly.graph_objects as go
    from sklearn.decomposition import PCA

    n = ds.footprints.shape[1] if n_frames is None else int(n_frames)
    X = ds.footprints[:, :n, :].reshape(len(ds), -1)
    k = min(3, len(ds), X.shape[1])
    if k < 1:
        raise ValueError("PCA needs at least one video")
    pca = PCA(n_components=k, random_state=0).fit(X)
    coords = np.zeros((len(ds), 3))
    coords[:, :k] = pca.transform(X)
    fig = go.Figure()
    colours = {0: "#1f77b4", 1: "#d62728"}
    names = np.array(ds.names)
    for lab in (0, 1):
        m = ds.labels == lab
        fig.add_scatter3d(
            x=coords[m, 0],
            y=coords[m, 1],
            z=coords[m, 2],
            mode="markers",
            name=LABEL_NAMES[lab],
            text=names[m],
            customdata=np.flatnonzero(m),
            hovertemplate="%{text}<extra>" + LABEL_NAMES[lab] + "</extra>",
            marker=dict(size=4, color=colours[lab], opacity=0.8),
        )
    if highlight is not None:
        fig.add_scatter3d(
            x=[coords[highlight, 0]],
            y=[coords[highlight, 1]],
            z=[coords[highlight, 2]],
            mode="markers",
            name="selected",
            text=[names[highlight]],
            hovertemplate="%{text}<extra>selected</extra>",
            marker=dict(size=9, color="black", symbol="diamond-open"),
        )
    ev = pca.explained_variance_ratio_
    fig.update_layout(
        title=f"PCA of the {3 * n}-value footprints (N = {n})",
        height=480,
        scene=dict(
            xaxis_title=f"PC1 ({ev[0]:.0%})",
            yaxis_title=f"PC2 ({ev[1]:.0%})" if k > 1 else "PC2",
            zaxis_title=f"PC3 ({ev[2]:.0%})" if k > 2 else "PC3",
        ),
        margin=dict(l=0, r=0, t=40, b=0),
    )
    return coords, fig


def _list_videos(folder: Path) -> list[Path]:
    # every regular file except sidecars we write ourselves (ground truth JSON, masks)
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() not in (".json", ".png", ".txt", ".md", ".csv")
    )


def load_folder(
    root: str | os.PathLike,
    n_frames: int = 30,
    reencode: bool = True,
    roi=None,
    *,
    pad: bool = False,
    progress: bool = True,
) -> FootprintSet:
    """Footprints and labels of the videos in ``root/real/`` (label 0) and ``root/fake/`` (label 1).

    Parameters
    ----------
    root : folder with ``real`` and ``fake`` sub-folders (any video format PyAV reads).
    n_frames, reencode, pad : as in :func:`toolkit.fsvm.extract`.
    roi : None, one ROI for every video, a dict ``{file name: roi}`` or a
        callable ``roi(path) -> roi`` (e.g. :func:`toolkit.fsvm.simulate.roi_of`).
    progress : tqdm bar over the files.

    Returns
    -------
    FootprintSet; files that could not be analysed are skipped and listed in
    ``errors`` as ``(path, "ErrorType: message")`` — one bad file never aborts the run.

    A folder that is not there is said so (the module docstring has a full example):

    >>> load_folder("no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such folder: 'no/such/folder'
    """
    from tqdm.auto import tqdm

    from toolkit.fsvm.footprint import extract

    r = Path(root).expanduser()
    if not r.is_dir():
        raise FileNotFoundError(f"no such folder: {str(r)!r}")
    missing = [c for c in CLASS_FOLDERS if not (r / c).is_dir()]
    if missing:
        raise ValueError(
            f"{str(r)!r} must contain the sub-folders 'real' and 'fake' (videos of "
            f"each class); missing: {', '.join(missing)}"
        )
    files = [(p, lab) for c, lab in CLASS_FOLDERS.items() for p in _list_videos(r / c)]
    if not files:
        raise ValueError(f"{str(r)!r}: the 'real' and 'fake' folders hold no files")
    paths, labels, fps, hashes, errors = [], [], [], [], []
    for p, lab in tqdm(files, desc="footprints", unit="video", disable=not progress):
        try:
            this_roi = roi(p) if callable(roi) else (roi.get(p.name) if isinstance(roi, dict) else roi)
            fp = extract(p, n_frames=n_frames, reencode=reencode, roi=this_roi, pad=pad)
        except Exception as exc:  # noqa: BLE001 - a broken file is reported, never fatal
            errors.append((str(p), f"{type(exc).__name__}: {exc}"))
            continue
        paths.append(str(p))
        labels.append(lab)
        fps.append(fp.values)
        hashes.append(fp.sha256)
    footprints = np.stack(fps) if fps else np.zeros((0, n_frames, 3))
    return FootprintSet(
        paths=paths,
        labels=np.asarray(labels, dtype=np.int64),
        footprints=footprints,
        sha256=hashes,
        errors=errors,
        params={
            "root": str(r),
            "n_frames": n_frames,
            "reencode": reencode,
            "roi": "per-video" if (callable(roi) or isinstance(roi, dict)) else describe_roi(roi),
            "pad": pad,
        },
    )
