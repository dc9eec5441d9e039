"""LDPTOPExplorer: the controls redraw the planes, the code image, the histogram and the votes."""

from __future__ import annotations

import numpy as np

from toolkit.ldptop import PARTS, LDPTOPEnsemble, analyze, ldp_codes
from widgets import LDPTOPExplorer


def _video(T=75, H=36, W=44):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (H, W + T), dtype=np.uint8)
    return np.stack([base[:, t : t + W] for t in range(T)])


def test_controls_redraw_and_votes_are_drawn():
    v = _video()
    boxes = {p: np.tile([[4 + 5 * i, 4 + 6 * i, 10, 10]], (75, 1)) for i, p in enumerate(PARTS)}
    rng = np.random.default_rng(1)
    X = rng.random((6, 5, 2, 3072))
    model = LDPTOPEnsemble(parts=PARTS, max_iter=3).fit(X, [0, 1] * 3)
    r = analyze(v, regions=boxes, model=model, max_windows=None)
    ex = LDPTOPExplorer(v, result=r, regions=boxes)
    assert ex.window.options == (0, 25) and ex.part.options == ("frame", *PARTS)
    xy = np.asarray(ex.slices_figure.data[0].z)
    assert xy.shape == (36, 44)
    codes0 = np.asarray(ex.code_figure.data[0].z)
    assert np.array_equal(codes0, ldp_codes(v[25], 0))
    ex.direction.value = 90
    assert np.array_equal(np.asarray(ex.code_figure.data[0].z), ldp_codes(v[25], 90))
    ex.plane.value = "YT"
    assert np.asarray(ex.code_figure.data[0].z).shape == (50 - 4, 36 - 4)
    ex.window.value = 25
    assert not np.array_equal(np.asarray(ex.slices_figure.data[0].z), xy)
    ex.part.value = "FC"
    assert np.asarray(ex.slices_figure.data[0].z).shape == (10, 10)
    ex.input.value = "flow"
    assert "flow" in ex.status.value and abs(sum(ex.hist_figure.data[0].y) - 1) < 1e-9
    assert "windows fake" in ex.votes.value and ex.votes_figure.data[0].type == "heatmap"


def test_without_result_it_says_how_to_get_votes():
    ex = LDPTOPExplorer(_video(T=50))
    assert "analyze" in ex.votes.value and ex.window.options == (0,)
