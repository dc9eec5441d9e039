import numpy as np
import pytest

from toolkit.fsvm import FSVM, FootprintSet
from widgets import FootprintPCAExplorer


@pytest.fixture()
def small_set(separable):
    X, y = separable
    names = [f"/data/{'fake' if v else 'real'}/v{i}.mp4" for i, v in enumerate(y)]
    return FootprintSet(paths=names, labels=y, footprints=X, sha256=["0" * 64] * len(y))


def test_explorer_pca_curves_and_decision(small_set):
    ex = FootprintPCAExplorer(small_set)
    assert [t.name for t in ex.pca_figure.data] == ["real", "fake", "selected"]
    assert len(ex.pca_figure.data[0].x) == 6 and len(ex.pca_figure.data[1].x) == 6
    assert list(ex.pca_figure.data[0].text) == [f"v{i}.mp4" for i in range(6)]
    assert len(ex.curve_figure.data) == 3 and len(ex.curve_figure.data[0].y) == 10
    row = ex.decision_table.iloc[0]
    assert row["truth"] == "real" and row["decision"] == "real" and row["correct"]
    assert "leave-one-out" in row["model"]

    ex.n_frames.value = 4
    assert len(ex.curve_figure.data[0].y) == 4 and ex.decision_table.iloc[0]["n_frames"] == 4
    assert "N = 4" in ex.pca_figure.layout.title.text

    ex.video.value = 9
    np.testing.assert_allclose(ex.curve_figure.data[0].y, small_set.footprints[9, :4, 0])
    assert list(ex.pca_figure.data[2].text) == ["v9.mp4"]
    ex.n_frames.value = 10  # (with N = 4 the C = 0.1 SVM is too regularised on 11 videos)
    row = ex.decision_table.iloc[0]
    assert row["video"] == "v9.mp4" and row["truth"] == "fake" and row["decision"] == "fake"
    assert row["score"] > 0 and "v9.mp4" in ex.decision.value


def test_explorer_uses_given_model_when_n_matches(small_set):
    m = FSVM(n_frames=10, C=5).fit(small_set.footprints, small_set.labels)
    ex = FootprintPCAExplorer(small_set, model=m)
    assert ex.decision_table.iloc[0]["model"] == "the given model"
    assert ex.decision_table.iloc[0]["score"] == pytest.approx(
        float(m.decision_function(small_set.footprints[:1])[0])
    )
    ex.n_frames.value = 5
    assert "leave-one-out" in ex.decision_table.iloc[0]["model"]


def test_explorer_rejects_bad_input(small_set):
    with pytest.raises(ValueError, match="FootprintSet"):
        FootprintPCAExplorer(small_set.footprints)
    with pytest.raises(ValueError, match="both classes"):
        FootprintPCAExplorer(small_set.subset(np.arange(6)))


def test_explorer_draws_toolkit_leave_one_out_once_per_n(small_set, monkeypatch):
    import widgets.fsvm as wf
    from toolkit.fsvm import leave_one_out

    calls = []

    def counting(ds, n_frames=None, C=0.1):
        calls.append(n_frames)
        return leave_one_out(ds, n_frames=n_frames, C=C)

    monkeypatch.setattr(wf, "leave_one_out", counting)
    ex = FootprintPCAExplorer(small_set)
    for v in (3, 9, 0):
        ex.video.value = v  # another video: no refit
    ex.n_frames.value = 6
    ex.video.value = 9
    ex.n_frames.value = 10  # back to a known N: the cached decisions
    assert calls == [10, 6]
    ref = leave_one_out(small_set, n_frames=10)
    assert ex.decision_table.iloc[0]["score"] == pytest.approx(ref[9].score)
    assert sorted(ex.loo) == [6, 10]
