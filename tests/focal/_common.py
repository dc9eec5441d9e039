"""Helpers shared by the FOCAL tests: stand-in extractors, frames, a toy training split."""

from __future__ import annotations

import numpy as np

from toolkit.focal.data import Split
from toolkit.focal.features import extract_patches


class PatchMean:
    """Deterministic stand-in extractor: mean luma of each patch and its complement (fast)."""

    num_classes = 2
    classes = ("bright", "dark")

    def __call__(self, luma, stride):
        m = np.stack([extract_patches(y, stride).mean(axis=(2, 3)) / 255.0 for y in luma])
        return np.stack([m, 1 - m], axis=-1)


def random_frames(n=3, seed=0, shape=(96, 128)):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def spliced_frames(n=12, cut=6):
    """Noisy frames whose brightness jumps between frame cut-1 and cut."""
    rng = np.random.default_rng(4)
    level = np.where(np.arange(n) < cut, 100.0, 160.0)
    a = level[:, None, None] + rng.normal(0, 20, (n, 96, 128))
    return np.clip(a, 0, 255).astype(np.uint8)


def toy_split(seed: int, n: int = 8) -> Split:
    """4 classes told apart by a checkerboard of period 2, 4, 8, 16 px under noise
    (a task any working trainer learns in a few steps)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:80, 0:96]
    frames, labels = [], []
    for k in range(4):
        per = 2 ** (k + 1)
        pattern = ((yy // per + xx // per) % 2) * 60
        for _ in range(n):
            frames.append((rng.integers(90, 130, (80, 96)) + pattern).astype(np.uint8))
            labels.append(k)
    valid = np.ones((len(frames), 3, 5), bool)
    return Split(
        task="toy",
        frames=np.stack(frames),
        labels=np.asarray(labels),
        valid=valid,
        video=np.arange(len(frames)),
        frame_index=np.zeros(len(frames), int),
        videos=[{"source": f"toy{seed}"}] * len(frames),
        classes=("a", "b", "c", "d"),
    )
