"""The Result base: frozen, JSON-safe, self-rendering, fixed verdict vocabulary."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import pytest

from toolkit import __version__
from toolkit.result import VERDICTS, ArrayLike, Result, check_verdict, json_safe


@dataclass(frozen=True)
class Decided(Result):
    method = "test.decided"
    score: float = 0.0
    threshold: float = 0.5
    curve: np.ndarray = dataclasses.field(default_factory=lambda: np.array([0.1, np.nan, 0.3]))

    @property
    def verdict(self) -> str:
        return "forged" if self.score > self.threshold else "not_detected"

    @property
    def reason(self) -> str:
        return f"score {self.score} against {self.threshold}"

    def plot(self):
        import plotly.graph_objects as go

        return go.Figure(go.Scatter(y=self.curve))


def test_common_fields_decision_and_json_round_trip():
    r = Decided(score=0.9, sha256="a" * 64, path="/x/clip.mp4", params={"k": (1, 2)})
    d = r.to_dict()
    assert d["verdict"] == "forged" and d["score"] == 0.9 and d["threshold"] == 0.5
    assert d["curve"] == [0.1, None, 0.3]  # strict JSON: NaN becomes null
    assert d["params"] == {"k": [1, 2]} and d["toolkit_version"] == __version__
    assert json.loads(r.to_json()) == d
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.score = 0.0


def test_summary_table_and_html():
    r = Decided(score=0.2, path="/x/clip.mp4")
    s = r.summary()
    assert s.startswith("test.decided on clip.mp4: not_detected") and "\n" not in s
    assert "field" in r.table().index.name or "score" in r.table().index
    html = r._repr_html_()
    assert "not_detected" in html and "<table" in html and "plotly" in html.lower()


def test_a_view_that_fails_does_not_hide_the_result():
    @dataclass(frozen=True)
    class Broken(Result):
        method = "test.broken"

        def plot(self):
            raise RuntimeError("no figure today")

    html = Broken()._repr_html_()
    assert "figure unavailable: no figure today" in html and "test.broken" in html


def test_verdict_vocabulary_is_enforced():
    assert set(VERDICTS) >= {"forged", "double_encoded", "not_detected", "inconclusive"}

    @dataclass(frozen=True)
    class Odd(Result):
        verdict: str = "probably fake"

    with pytest.raises(ValueError, match="unknown verdict"):
        Odd().to_dict()
    assert check_verdict(None) is None


def test_json_safe_covers_the_types_results_hold(tmp_path):
    out = json_safe(
        {
            "a": np.int64(3),
            "b": np.bool_(True),
            "c": {1, 2},
            "p": tmp_path,
            "r": Decided(score=1.0),
            "inf": float("inf"),
        }
    )
    assert out["a"] == 3 and out["b"] is True and out["c"] == [1, 2] and out["p"] == str(tmp_path)
    assert out["r"]["verdict"] == "forged" and out["inf"] is None
    json.dumps(out, allow_nan=False)


def test_array_like_results_are_read_only_copies():
    @dataclass(frozen=True, eq=False)
    class Grid(ArrayLike, Result):
        values: np.ndarray = None

    src = np.arange(4.0)
    g = Grid(src)
    src[0] = 99.0  # the result holds its own copy
    assert g[0] == 0.0 and g.shape == (4,) and float(g.max()) == 3.0
    with pytest.raises(ValueError):
        np.asarray(g)[0] = 1.0
    assert np.array_equal(g + 1, np.arange(1.0, 5.0))
