"""FaceFCNExplorer: driving the controls changes what is drawn."""

import numpy as np
from skimage import data

from toolkit.faces import load_model
from widgets import FaceFCNExplorer


def test_controls_redraw():
    img = data.astronaut()
    frames = np.stack([img, np.zeros_like(img)])
    ex = FaceFCNExplorer(frames, model=load_model(device="cpu"))
    assert len(ex.figure.data) == 3  # crop, map, landmarks
    assert "face" in ex.info.value and "λ" in ex.info.value
    assert 0.0 <= ex.probability <= 1.0
    # landmarks are drawn inside the 128 x 128 crop
    xs = np.asarray(ex.figure.data[2].x)
    assert ((xs > 0) & (xs < 128)).all()
    ex.opacity.value = 0.9
    assert ex.figure.data[1].opacity == 0.9
    ex.frame.value = 1  # a frame without a face
    assert "no face" in ex.info.value and len(ex.figure.data) == 1
    assert np.isnan(ex.probability)
    ex.frame.value = 0
    assert len(ex.figure.data) == 3
