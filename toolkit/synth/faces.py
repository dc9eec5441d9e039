"""Face manipulations with exact masks, from real faces (seed 003's training data, generated here).

Four families, each returning the manipulated frame and the boolean mask of the pixels it changed
(the region a blend weight above 0.5 covers):

* :func:`face_swap` — FaceSwap-like: another identity's face, aligned on the five landmarks by a
  similarity transform, colour-matched (per-channel mean / std inside the face) and blended with a
  feathered ellipse;
* :func:`deepfake` — Deepfakes-like: a shared-encoder / per-identity-decoder autoencoder
  (:class:`SwapAutoencoder`, trained here on the signers' 64 x 64 face crops) renders the face with
  another identity's decoder; the output is blended back with a feathered ellipse;
* :func:`face2face` — Face2Face-like: a piecewise-affine warp that moves the mouth corners and eyes
  (expression change), the rest of the frame untouched;
* :func:`local_edit` — blur, noise or JPEG re-compression inside the face ellipse.

:func:`build_dataset` turns the signer clips of ``../shared/real_video`` into labelled 128 x 128
crops (pristine and manipulated, with their masks), every sequence also encoded with H.264 at QP 23
and QP 40 (the seed's c23 / c40) through :func:`toolkit.synth.encode`.

>>> import numpy as np
>>> from toolkit.faces.detection import Face
>>> img = np.random.default_rng(0).integers(0, 255, (120, 120, 3), dtype=np.uint8)
>>> f = Face(box=(40, 30, 80, 80), landmarks=[[52, 50], [68, 50], [60, 60], [54, 70], [66, 70]])
>>> out, mask = local_edit(img, f, "blur", rng=np.random.default_rng(0))
>>> out.shape == img.shape, bool(mask.any()), bool(mask[0, 0])
(True, True, False)
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "IDENTITIES",
    "MANIPULATIONS",
    "COMPRESSIONS",
    "face_ellipse",
    "face_swap",
    "face2face",
    "local_edit",
    "deepfake",
    "SwapAutoencoder",
    "train_autoencoder",
    "FaceClip",
    "load_clips",
    "FaceDataset",
    "build_dataset",
]

#: who is in which signer clip (looked at by eye; the splits are identity-disjoint)
IDENTITIES = {
    "book": "A",
    "walk": "A",
    "eat": "B",
    "night": "B",
    "sister": "B",
    "hungry": "C",
    "milk": "D",
    "thanks": "D",
}
#: manipulation families (``"pristine"`` is label 0, every other is label 1)
MANIPULATIONS = ("faceswap", "deepfake", "face2face", "local")
#: compression levels: raw frames, H.264 QP 23, H.264 QP 40
COMPRESSIONS = {"raw": None, "c23": 23, "c40": 40}


def face_ellipse(shape: tuple[int, int], face, feather: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """Weight map (H x W float32 in [0, 1]) of an ellipse over the face: centre between the box centre
    and the landmarks' mean, semi-axes 0.5 / 0.6 of the box width / height times ``scale``;
    ``feather`` > 0 blurs the edge by that fraction of the box size.

    >>> from toolkit.faces.detection import Face
    >>> f = Face(box=(10, 10, 30, 30), landmarks=[[20, 20]] * 5)
    >>> m = face_ellipse((40, 40), f); float(m[20, 20]), float(m[0, 0])
    (1.0, 0.0)
    """
    from scipy.ndimage import gaussian_filter

    h, w = shape
    x0, y0, x1, y1 = face.box
    cx = 0.5 * ((x0 + x1) / 2 + face.landmarks[:, 0].mean())
    cy = 0.5 * ((y0 + y1) / 2 + face.landmarks[:, 1].mean())
    ax, ay = 0.5 * (x1 - x0) * scale, 0.6 * (y1 - y0) * scale
    yy, xx = np.mgrid[0:h, 0:w]
    m = (((xx - cx) / max(ax, 1)) ** 2 + ((yy - cy) / max(ay, 1)) ** 2 <= 1.0).astype(np.float32)
    if feather > 0:
        m = gaussian_filter(m, sigma=max(0.5, feather * max(x1 - x0, y1 - y0)))
    return m


def _blend(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = alpha[..., None]
    out = np.clip(np.rint(src.astype(np.float32) * a + dst.astype(np.float32) * (1 - a)), 0, 255)
    out = out.astype(np.uint8)
    return out, (alpha > 0.5) & np.any(out != dst, axis=2)


def _colour_transfer(src: np.ndarray, dst: np.ndarray, region: np.ndarray) -> np.ndarray:
    """``src`` with its per-channel mean / std inside ``region`` matched to ``dst``'s (Reinhard-style)."""
    s, d = src.astype(np.float32), dst.astype(np.float32)
    sel = region > 0.5
    if sel.sum() < 4:
        return src
    out = s.copy()
    for c in range(3):
        ms, ss = s[..., c][sel].mean(), s[..., c][sel].std() + 1e-3
        md, sd = d[..., c][sel].mean(), d[..., c][sel].std() + 1e-3
        out[..., c] = (s[..., c] - ms) * (sd / ss) + md
    return np.clip(out, 0, 255).astype(np.uint8)


def face_swap(
    target: np.ndarray, target_face, source: np.ndarray, source_face
) -> tuple[np.ndarray, np.ndarray]:
    """FaceSwap-like: ``source``'s face warped onto ``target``'s landmarks, colour-matched, blended.

    Returns ``(frame, mask)``: H x W x 3 uint8 and H x W bool. Inputs are not modified.
    """
    from skimage.transform import SimilarityTransform, warp

    tf = SimilarityTransform.from_estimate(
        np.asarray(target_face.landmarks, float), np.asarray(source_face.landmarks, float)
    )
    if not tf:
        raise ValueError("the landmarks do not define a similarity transform")
    warped = warp(source, tf, output_shape=target.shape[:2], preserve_range=True, order=1).astype(np.uint8)
    alpha = face_ellipse(target.shape[:2], target_face, feather=0.06, scale=0.9)
    warped = _colour_transfer(warped, target, alpha)
    return _blend(target, warped, alpha)


def face2face(
    frame: np.ndarray, face, rng: np.random.Generator, strength: float = 0.06
) -> tuple[np.ndarray, np.ndarray]:
    """Face2Face-like expression change: a piecewise-affine warp moving the eyes and mouth corners by up to
    ``strength`` x the box size (random, seeded by ``rng``); only the face's neighbourhood is resampled.

    Returns ``(frame, mask)``; the mask is where the warp moved the pixels by 1 px or more.
    """
    from skimage.transform import PiecewiseAffineTransform, warp

    h, w = frame.shape[:2]
    x0, y0, x1, y1 = face.box
    size = max(x1 - x0, y1 - y0)
    pad = 0.35 * size
    cx0, cy0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    cx1, cy1 = int(min(w, x1 + pad)), int(min(h, y1 + pad))
    sub = frame[cy0:cy1, cx0:cx1]
    sh, sw = sub.shape[:2]
    lm = np.asarray(face.landmarks, float) - [cx0, cy0]
    # fixed frame of the patch + the nose; moved eyes and mouth corners
    border = np.array(
        [
            [0, 0],
            [sw - 1, 0],
            [0, sh - 1],
            [sw - 1, sh - 1],
            [sw / 2, 0],
            [sw / 2, sh - 1],
            [0, sh / 2],
            [sw - 1, sh / 2],
        ]
    )
    moves = np.zeros_like(lm)
    moves[[0, 1]] = rng.uniform(-0.5, 0.5, (2, 2)) * strength * size  # eyes
    mouth = rng.uniform(0.4, 1.0) * strength * size
    moves[3] = [-mouth, rng.uniform(-1, 1) * mouth]  # mouth corners apart (smile / open)
    moves[4] = [mouth, rng.uniform(-1, 1) * mouth]
    src_pts = np.vstack([border, lm])
    dst_pts = np.vstack([border, lm + moves])
    tf = PiecewiseAffineTransform.from_estimate(dst_pts, src_pts)  # warp() needs output -> input
    warped = warp(sub, tf, preserve_range=True, order=1)
    yy, xx = np.mgrid[0:sh, 0:sw]
    coords = np.stack([xx.ravel(), yy.ravel()], 1).astype(float)
    disp = np.linalg.norm(tf(coords) - coords, axis=1).reshape(sh, sw)
    out = frame.copy()
    out[cy0:cy1, cx0:cx1] = np.clip(np.rint(warped), 0, 255).astype(np.uint8)
    mask = np.zeros((h, w), bool)
    mask[cy0:cy1, cx0:cx1] = disp >= 1.0
    return out, mask


def local_edit(frame: np.ndarray, face, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blur (``"blur"``), Gaussian noise (``"noise"``) or JPEG re-compression (``"jpeg"``) inside the face
    ellipse, feathered. Returns ``(frame, mask)``.
    """
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    f = frame.astype(np.float32)
    if kind == "blur":
        edited = gaussian_filter(f, sigma=(rng.uniform(1.2, 2.5),) * 2 + (0,))
    elif kind == "noise":
        edited = f + rng.normal(0, rng.uniform(5, 10), f.shape)
    elif kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, "JPEG", quality=int(rng.integers(15, 35)))
        edited = np.asarray(Image.open(buf).convert("RGB")).astype(np.float32)
    else:
        raise ValueError(f"unknown local edit {kind!r}; use blur, noise or jpeg")
    edited = np.clip(np.rint(edited), 0, 255).astype(np.uint8)
    return _blend(frame, edited, face_ellipse(frame.shape[:2], face, feather=0.05, scale=0.9))


# --- Deepfakes-like autoencoder ---------------------------------------------------------------
def _ae_modules(n_ids: int, size: int = 64):
    from torch import nn

    def down(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 4, 2, 1), nn.LeakyReLU(0.1))

    def up(i, o):
        return nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.LeakyReLU(0.1))

    enc = nn.Sequential(down(3, 32), down(32, 64), down(64, 128), down(128, 128))  # 64 -> 4
    decs = nn.ModuleList(
        nn.Sequential(up(128, 128), up(128, 64), up(64, 32), nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())
        for _ in range(n_ids)
    )
    return enc, decs


class SwapAutoencoder:
    """Shared encoder + one decoder per identity on ``size x size`` face crops (the Deepfakes scheme).

    ``swap(crop, identity)`` renders a crop's pose / light with ``identity``'s decoder.
    """

    def __init__(self, identities: list[str], size: int = 64):
        import torch

        self.identities, self.size = list(identities), int(size)
        self.enc, self.decs = _ae_modules(len(identities), size)
        self.torch = torch

    def parameters(self):
        return list(self.enc.parameters()) + list(self.decs.parameters())

    def _tensor(self, crops: np.ndarray):
        return self.torch.as_tensor(np.array(crops)).permute(0, 3, 1, 2).float() / 255.0

    def swap(self, crops: np.ndarray, identity: str) -> np.ndarray:
        """N x size x size x 3 uint8 crops rendered by ``identity``'s decoder (uint8, same shape)."""
        with self.torch.no_grad():
            y = self.decs[self.identities.index(identity)](self.enc(self._tensor(crops)))
        return (y.permute(0, 2, 3, 1).numpy() * 255).round().clip(0, 255).astype(np.uint8)


def train_autoencoder(
    crops_by_id: dict[str, np.ndarray],
    steps: int = 400,
    seed: int = 0,
    batch: int = 16,
    progress: bool = False,
) -> SwapAutoencoder:
    """Train a :class:`SwapAutoencoder` (Adam, L1 reconstruction of each identity by its own decoder).

    ``crops_by_id``: identity -> N x 64 x 64 x 3 uint8 crops. Seeded; ``steps`` updates in all.
    """
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ids = sorted(crops_by_id)
    ae = SwapAutoencoder(ids, size=crops_by_id[ids[0]].shape[1])
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    for step in tqdm(range(steps), disable=not progress, desc="autoencoder"):
        k = step % len(ids)
        data = crops_by_id[ids[k]]
        idx = rng.integers(0, len(data), min(batch, len(data)))
        x = ae._tensor(data[idx])
        if rng.random() < 0.5:
            x = x.flip(3)
        loss = (ae.decs[k](ae.enc(x)) - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ae


def _ae_box(face, size_factor: float = 1.0) -> tuple[int, int, int]:
    x0, y0, x1, y1 = face.box
    side = int(round(max(x1 - x0, y1 - y0) * size_factor))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(side, 2)


def ae_crop(frame: np.ndarray, face, size: int = 64) -> np.ndarray:
    """The autoencoder's input: the detector's box (squared), resized to ``size`` x ``size``."""
    from PIL import Image

    from toolkit.faces.geometry import crop_array

    x0, y0, side = _ae_box(face)
    return np.asarray(
        Image.fromarray(crop_array(frame, x0, y0, side)).resize((size, size), Image.Resampling.BILINEAR)
    )


def deepfake(frame: np.ndarray, face, ae: SwapAutoencoder, identity: str) -> tuple[np.ndarray, np.ndarray]:
    """Deepfakes-like: ``face`` re-rendered by ``identity``'s decoder of ``ae``, colour-matched and blended
    back with a feathered ellipse. Returns ``(frame, mask)``."""
    from PIL import Image

    x0, y0, side = _ae_box(face)
    fake = ae.swap(ae_crop(frame, face, ae.size)[None], identity)[0]
    fake = np.asarray(Image.fromarray(fake).resize((side, side), Image.Resampling.BILINEAR))
    h, w = frame.shape[:2]
    layer = frame.copy()
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    layer[ya:yb, xa:xb] = fake[ya - y0 : yb - y0, xa - x0 : xb - x0]
    alpha = face_ellipse((h, w), face, feather=0.05, scale=0.85)
    inside = np.zeros((h, w), np.float32)
    inside[ya:yb, xa:xb] = 1
    alpha = alpha * inside
    layer = _colour_transfer(layer, frame, alpha)
    return _blend(frame, layer, alpha)


# --- the dataset ---------------------------------------------------------------------------
@dataclass
class FaceClip:
    """Frames of one real clip with the face found in each (frames without a face are dropped)."""

    name: str
    identity: str
    frames: list[np.ndarray]
    faces: list


def load_clips(
    names=None,
    step: int = 2,
    max_frames: int | None = None,
    progress: bool = False,
    folder: str | os.PathLike | None = None,
) -> list[FaceClip]:
    """The signer clips (``IDENTITIES``) read every ``step``-th frame, with MTCNN faces.

    ``max_frames`` caps the frames kept per clip. Missing clips are skipped.
    """
    from tqdm.auto import tqdm

    from toolkit.faces.detection import detect
    from toolkit.synth.sources import real_video_dir
    from toolkit.video import FrameSource

    folder = Path(folder) if folder else real_video_dir()
    out = []
    for name in tqdm(list(names or IDENTITIES), disable=not progress, desc="clips"):
        p = folder / f"{name}.mkv"
        if not p.is_file():
            continue
        frames, faces = [], []
        for _, fr in FrameSource(p, 0, None, step, fmt="rgb"):
            f = detect(fr)
            if f:
                frames.append(fr)
                faces.append(f[0])
            if max_frames and len(frames) >= max_frames:
                break
        out.append(FaceClip(name, IDENTITIES.get(name, name), frames, faces))
    return out


@dataclass
class FaceDataset:
    """128 x 128 crops with labels, masks and provenance (one row per crop).

    Attributes
    ----------
    crops : N x 128 x 128 x 3 uint8; masks : N x 128 x 128 bool (crop coordinates);
    labels : N int64 (1 = manipulated); kinds : N str (``"pristine"`` or a :data:`MANIPULATIONS` name);
    compression : N str (``"raw"``, ``"c23"``, ``"c40"``); identity, clip : N str.
    """

    crops: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray
    compression: np.ndarray
    identity: np.ndarray
    clip: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, keep: np.ndarray) -> FaceDataset:
        """The rows where ``keep`` (bool N) is true."""
        return FaceDataset(*(getattr(self, k)[keep] for k in self.__dataclass_fields__))

    def save(self, file: str | os.PathLike) -> Path:
        """Write the arrays to an ``.npz`` file (no pickle)."""
        np.savez_compressed(file, **{k: np.asarray(getattr(self, k)) for k in self.__dataclass_fields__})
        return Path(file)

    @classmethod
    def load(cls, file: str | os.PathLike) -> FaceDataset:
        """Read a dataset written by :meth:`save` (``allow_pickle=False``)."""
        with np.load(file, allow_pickle=False) as z:
            return cls(*(z[k] for k in cls.__dataclass_fields__))


def _encode_roundtrip(frames: list[np.ndarray], qp: int, workdir: Path, tag: str) -> list[np.ndarray]:
    from toolkit.synth.encode import encode
    from toolkit.video import read_frames

    h, w = frames[0].shape[:2]
    even = [f[: h // 2 * 2, : w // 2 * 2] for f in frames]
    out = encode(
        even,
        workdir / f"{tag}_qp{qp}.mp4",
        codec="h264",
        quality=qp,
        gop=30,
        bframes=0,
        preset="veryfast",
        threads=1,
    )
    dec = read_frames(out, fmt="rgb")
    result = []
    for f, d in zip(frames, dec):
        g = f.copy()
        g[: d.shape[0], : d.shape[1]] = d
        result.append(g)
    return result


def build_dataset(
    clips: list[FaceClip],
    *,
    seed: int = 0,
    ae_steps: int = 400,
    compressions=tuple(COMPRESSIONS),
    workdir: str | os.PathLike | None = None,
    progress: bool = False,
) -> FaceDataset:
    """Pristine and manipulated crops of every clip frame, at every compression level.

    Each frame gives one pristine crop and one manipulated crop; the manipulation family cycles
    through :data:`MANIPULATIONS` frame by frame (so the classes are balanced and every family is
    present in every clip). Swap sources come from another identity. Whole manipulated and pristine
    frame sequences are H.264-encoded at QP 23 / 40 and decoded again before cropping; masks are
    those of the raw manipulation. Seeded.
    """
    import tempfile

    from tqdm.auto import tqdm

    from toolkit.faces.geometry import crop

    rng = np.random.default_rng(seed)
    ids = sorted({c.identity for c in clips})
    by_id = {i: [c for c in clips if c.identity == i] for i in ids}
    ae = None
    if len(ids) > 1:
        ae_data = {
            i: np.stack([ae_crop(fr, f) for c in by_id[i] for fr, f in zip(c.frames, c.faces)]) for i in ids
        }
        ae = train_autoencoder(ae_data, steps=ae_steps, seed=seed, progress=progress)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="faces_"))
    rows: dict[str, list] = {k: [] for k in FaceDataset.__dataclass_fields__}
    local_kinds = ("blur", "noise", "jpeg")
    for ci, c in enumerate(tqdm(clips, disable=not progress, desc="manipulate")):
        others = [o for o in clips if o.identity != c.identity] or [o for o in clips if o is not c] or [c]
        fake_frames, masks, kinds = [], [], []
        for k, (fr, face) in enumerate(zip(c.frames, c.faces)):
            kind = MANIPULATIONS[(k + ci) % len(MANIPULATIONS)]
            if kind == "faceswap":
                o = others[int(rng.integers(len(others)))]
                j = int(rng.integers(len(o.frames)))
                out, m = face_swap(fr, face, o.frames[j], o.faces[j])
            elif kind == "deepfake" and ae is not None:
                target = [i for i in ids if i != c.identity][int(rng.integers(len(ids) - 1))]
                out, m = deepfake(fr, face, ae, target)
            elif kind == "face2face":
                out, m = face2face(fr, face, rng)
            else:
                kind = "local" if kind == "local" else kind
                out, m = local_edit(fr, face, local_kinds[int(rng.integers(3))], rng)
            fake_frames.append(out)
            masks.append(m)
            kinds.append(kind)
        for comp in compressions:
            qp = COMPRESSIONS[comp]
            real = c.frames if qp is None else _encode_roundtrip(c.frames, qp, workdir, f"{c.name}_real")
            fake = (
                fake_frames if qp is None else _encode_roundtrip(fake_frames, qp, workdir, f"{c.name}_fake")
            )
            for fr_r, fr_f, face, m, kind in zip(real, fake, c.faces, masks, kinds):
                for img, mask, label, kd in ((fr_r, np.zeros_like(m), 0, "pristine"), (fr_f, m, 1, kind)):
                    rows["crops"].append(crop(img, face))
                    rows["masks"].append(crop(mask, face, mask=True))
                    rows["labels"].append(label)
                    rows["kinds"].append(kd)
                    rows["compression"].append(comp)
                    rows["identity"].append(c.identity)
                    rows["clip"].append(c.name)
    return FaceDataset(
        crops=np.stack(rows["crops"]),
        masks=np.stack(rows["masks"]).astype(bool),
        labels=np.asarray(rows["labels"], np.int64),
        kinds=np.asarray(rows["kinds"]),
        compression=np.asarray(rows["compression"]),
        identity=np.asarray(rows["identity"]),
        clip=np.asarray(rows["clip"]),
    )
