"""MTCNN and the detector interface on real faces; no face is a result."""

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from toolkit import weights
from toolkit.faces import CascadeDetector, Detector, Face, RetinaFaceDetector, detect, get_detector
from toolkit.synth.sources import real_video_dir
from toolkit.video import read_frames

SIGNERS = ("book", "eat", "hungry", "milk", "night", "sister", "thanks", "walk")


def _inside(point, box, margin=0.0):
    x, y = point
    return box[0] - margin <= x <= box[2] + margin and box[1] - margin <= y <= box[3] + margin


def test_astronaut_face_and_landmarks():
    faces = detect(data.astronaut())
    assert len(faces) == 1
    f = faces[0]
    assert f.score > 0.99 and f.landmarks.shape == (5, 2)
    # the face of skimage's astronaut (Eileen Collins) is around x 180-270, y 60-175
    assert 160 < f.box[0] < 200 and 250 < f.box[2] < 290 and 40 < f.box[1] < 80 and 150 < f.box[3] < 195
    le, re, nose, lm, rm = f.landmarks
    assert le[0] < re[0] and lm[0] < rm[0]  # left / right as the image shows them
    assert max(le[1], re[1]) < nose[1] < min(lm[1], rm[1])  # eyes above nose above mouth
    assert all(_inside(p, f.box) for p in f.landmarks)


@pytest.mark.skipif(not real_video_dir().is_dir(), reason="the signer clips are not present")
def test_signer_clips_one_face_each():
    d = real_video_dir()
    frames = [
        read_frames(d / f"{n}.mkv", start=10, count=1, fmt="rgb")[0]
        for n in SIGNERS
        if (d / f"{n}.mkv").is_file()
    ]
    assert len(frames) == len(SIGNERS)
    for name, fr in zip(SIGNERS, frames):
        faces = detect(fr)
        assert len(faces) == 1, name
        f = faces[0]
        # the signer sits in the middle of a 640 x 480 frame, face in the upper half
        assert 200 < (f.box[0] + f.box[2]) / 2 < 440 and (f.box[1] + f.box[3]) / 2 < 240, name
        assert 40 < f.size < 160 and all(_inside(p, f.box, 5) for p in f.landmarks), name


def test_no_face_is_an_empty_list():
    rng = np.random.default_rng(0)
    assert detect(np.zeros((120, 160, 3), np.uint8)) == []
    assert detect(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)) == []
    assert detect(np.zeros((5, 5, 3), np.uint8)) == []  # smaller than P-Net's window


def test_input_kinds_grey_rgba_16bit():
    rgb = data.astronaut()[::2, ::2]  # 256 x 256: the face is still ~45 px
    grey = (rgb.mean(2)).astype(np.uint8)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    deep = rgb.astype(np.uint16) * 257
    for img in (grey, rgba, deep):
        before = img.copy()
        faces = detect(img)
        assert len(faces) == 1 and 80 < faces[0].box[0] < 100
        assert np.array_equal(img, before)


def test_huge_image_is_downscaled_for_detection():
    rgb = data.astronaut()[::2, ::2]
    big = np.kron(rgb, np.ones((6, 6, 1), np.uint8))  # 1536 x 1536, detected at 1024 x 1024
    f = detect(big)
    assert len(f) == 1 and 480 < f[0].box[0] < 600  # 6x the small astronaut's coordinates


def test_cascade_fallback_landmarks_are_box_centre():
    det = get_detector("lbp-cascade")
    assert isinstance(det, CascadeDetector) and isinstance(det, Detector)
    faces = detect(data.astronaut(), detector="lbp-cascade")
    assert faces, "the LBP cascade finds the astronaut"
    f = faces[0]
    centre = ((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2)
    assert np.allclose(f.landmarks, centre)
    assert 150 < centre[0] < 300 and 50 < centre[1] < 200


def test_unknown_detector_and_retinaface_weights():
    with pytest.raises(ValueError, match="unknown face detector"):
        get_detector("dlib")
    with pytest.raises(weights.UnknownWeightsError):
        RetinaFaceDetector("faces/retinaface-not-registered")


def test_retinaface_adapter_with_registered_weights(tmp_path: Path):
    """The adapter loads any registered checkpoint whose builder gives a module with detect()."""
    import torch

    from toolkit import weights as w

    file = w.save({"dummy": torch.zeros(1)}, tmp_path / "rf.pt", kind="test.retinaface")
    w.register_builder("test.retinaface", "tests.faces.test_detection:_fake_retinaface")
    det = RetinaFaceDetector(file, device="cpu")
    faces = det.detect(np.zeros((50, 50, 3), np.uint8))
    assert len(faces) == 1 and faces[0].detector == "retinaface" and faces[0].box == (1.0, 2.0, 30.0, 40.0)


class _FakeRetina(__import__("torch").nn.Module):
    def detect(self, rgb):
        return np.array([[1, 2, 30, 40]], float), np.array([0.95]), np.zeros((1, 5, 2))


def _fake_retinaface(ck):
    return _FakeRetina()


def test_face_is_frozen_and_json():
    f = Face(box=(1, 2, 3, 4), landmarks=np.zeros((5, 2)), score=0.5)
    assert f.to_dict()["box"] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError):
        f.landmarks[0, 0] = 1
