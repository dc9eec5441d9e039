"""Generated manipulations: masks are exact (pixels outside never change), inputs untouched."""

import numpy as np
import pytest

from toolkit.synth import faces as sf

from .conftest import FixedDetector, textured


@pytest.fixture
def scene():
    img = textured(64, 64, 1)
    face = FixedDetector().detect(img)[0]
    return img, face


def _check(img, before, out, mask):
    assert np.array_equal(img, before), "input modified"
    assert out.shape == img.shape and out.dtype == np.uint8 and mask.shape == img.shape[:2]
    assert mask.any() and not mask.all()
    changed = np.any(out != img, axis=2)
    # what the mask marks is changed; what changes outside the mask is only the feathered rim (< 0.5 weight)
    assert changed[mask].mean() > 0.9
    assert changed[~mask].mean() < 0.2


@pytest.mark.parametrize("kind", ["blur", "noise", "jpeg"])
def test_local_edits(scene, kind):
    img, face = scene
    before = img.copy()
    out, mask = sf.local_edit(img, face, kind, np.random.default_rng(0))
    _check(img, before, out, mask)
    with pytest.raises(ValueError):
        sf.local_edit(img, face, "sharpen", np.random.default_rng(0))


def test_face_swap(scene):
    img, face = scene
    src = textured(64, 64, 2)
    before = img.copy()
    out, mask = sf.face_swap(img, face, src, face)
    _check(img, before, out, mask)
    # inside the mask the content comes from the (colour-matched) source, not the target
    assert np.corrcoef(out[mask][:, 0].astype(float), img[mask][:, 0].astype(float))[0, 1] < 0.5


def test_face2face_moves_only_the_face_neighbourhood(scene):
    img, face = scene
    big = np.zeros((128, 128, 3), np.uint8)
    big[32:96, 32:96] = img
    f = FixedDetector((52, 48, 76, 80)).detect(big)[0]
    out, mask = sf.face2face(big, f, np.random.default_rng(3), strength=0.1)
    assert mask.any() and not mask[:5].any() and not mask[:, :5].any()
    assert np.array_equal(out[:10], big[:10])  # far from the face nothing moves


def test_deepfake_autoencoder_and_blend(scene):
    img, face = scene
    crops = {
        "A": np.stack([sf.ae_crop(img, face)] * 4),
        "B": np.stack([sf.ae_crop(textured(64, 64, 5), face)] * 4),
    }
    ae = sf.train_autoencoder(crops, steps=4, batch=2)
    assert ae.swap(crops["A"][:1], "B").shape == (1, 64, 64, 3)
    before = img.copy()
    out, mask = sf.deepfake(img, face, ae, "B")
    _check(img, before, out, mask)


def test_dataset_roundtrip(tmp_path, scene):
    img, face = scene
    n = 3
    ds = sf.FaceDataset(
        crops=np.zeros((n, 128, 128, 3), np.uint8),
        masks=np.zeros((n, 128, 128), bool),
        labels=np.array([0, 1, 1]),
        kinds=np.array(["pristine", "faceswap", "local"]),
        compression=np.array(["raw", "c23", "c40"]),
        identity=np.array(["A", "B", "C"]),
        clip=np.array(["x", "y", "z"]),
    )
    ds2 = sf.FaceDataset.load(ds.save(tmp_path / "d.npz"))
    assert len(ds2) == 3 and list(ds2.kinds) == list(ds.kinds)
    assert len(ds2.select(ds2.labels == 1)) == 2


def test_build_dataset_balanced_with_compression(fixed_detector):
    frames = [textured(64, 64, s) for s in range(4)]
    faces = [fixed_detector.detect(f)[0] for f in frames]
    clips = [sf.FaceClip("c1", "A", frames[:2], faces[:2]), sf.FaceClip("c2", "B", frames[2:], faces[2:])]
    ds = sf.build_dataset(clips, ae_steps=2, compressions=("raw", "c40"))
    assert len(ds) == 2 * 2 * 2 * 2  # (pristine + manipulated) x 2 frames x 2 clips x 2 levels
    assert set(ds.compression) == {"raw", "c40"} and (ds.labels == 1).sum() == (ds.labels == 0).sum()
    assert not ds.masks[ds.labels == 0].any() and all(ds.masks[ds.labels == 1].any(axis=(1, 2)))
    raw, c40 = ds.select(ds.compression == "raw"), ds.select(ds.compression == "c40")
    assert np.array_equal(raw.masks, c40.masks)
    assert not np.array_equal(raw.crops, c40.crops)  # H.264 QP 40 changed the pixels
