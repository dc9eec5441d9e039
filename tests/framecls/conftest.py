"""Small hand-made videos for the frame-classifier tests: smooth 'real' clips and noisy 'fake' ones."""

import numpy as np
import pytest
import torch

from toolkit.synth import encode


def clip(label: int, seed: int, n: int = 8, size=(32, 64)) -> np.ndarray:
    """A moving gradient (real) or the same gradient with strong fresh per-frame noise (fake): a real
    video and its fake share ``seed``, hence their content, as a generator's output shares its source's."""
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng([seed, 1])
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(60, 190, 3)
    frames = []
    for t in range(n):
        f = np.stack([base[c] + 40 * np.sin((xx + 2 * t) / (7 + c) + yy / 9) for c in range(3)], -1)
        if label:
            f = f + noise.normal(0, 25, f.shape)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return np.stack(frames)


@pytest.fixture(scope="session")
def toy_videos(tmp_path_factory):
    """{'train': [(path, label)] * 8, 'val': 4, 'test': 4}: lossless H.264 toy videos, 8 frames each."""
    root = tmp_path_factory.mktemp("framecls_toy")
    out = {}
    seed = 0
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        out[split] = []
        for i in range(n):
            for label in (0, 1):
                p = encode(
                    list(clip(label, seed)),
                    root / f"{split}_{i}_{label}.mp4",
                    codec="h264",
                    rate_control="crf",
                    quality=0,
                    gop=30,
                    threads=1,
                )
                out[split].append((str(p), label))
            seed += 1
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
