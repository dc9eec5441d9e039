import numpy as np
import pytest

from toolkit.faces import Face


class FixedDetector:
    """A stub detector: one face at a fixed place (keeps tests of the data plumbing fast)."""

    name = "fixed"

    def __init__(self, box=(20, 16, 44, 48)):
        self.box = box

    def detect(self, rgb):
        x0, y0, x1, y1 = self.box
        lm = [
            [x0 + 7, y0 + 10],
            [x1 - 7, y0 + 10],
            [(x0 + x1) / 2, y0 + 17],
            [x0 + 8, y1 - 7],
            [x1 - 8, y1 - 7],
        ]
        return [Face(box=self.box, landmarks=lm, score=1.0, detector=self.name)]


@pytest.fixture
def fixed_detector():
    return FixedDetector()


@pytest.fixture(scope="session")
def face_image():
    """The astronaut's face region, 128 x 128 RGB, and its MTCNN face."""
    from skimage import data

    from toolkit.faces import detect

    img = data.astronaut()
    return img, detect(img)[0]


def textured(h=64, w=64, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(128, 40, (h, w, 3)), 0, 255).astype(np.uint8)
