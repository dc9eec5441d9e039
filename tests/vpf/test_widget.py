"""VPFExplorer: set its controls from Python and check what it shows."""

from __future__ import annotations

from datetime import UTC, datetime

from widgets import VPFExplorer


def test_explorer_table_figure_threshold_and_zoom(double_nob, single):
    ex = VPFExplorer(str(double_nob))
    r = ex.result
    assert r is not None and r.double_encoded is True
    assert [t.name for t in ex.figure.data] == [
        "I-MBs (fraction)",
        "S-MBs (fraction)",
        "VPF signal",
        "current I-frames",
        "previous GOP 15",
    ]
    assert "Yes" in ex.table.value and ">15<" in ex.table.value
    assert ex.threshold.value == r.threshold
    # move the threshold above the VPF value: the decision flips, without a new decode
    analysis = ex.analysis
    ex.threshold.value = r.vpf_value + 0.5
    assert ex.analysis is analysis
    assert ex.result.double_encoded is False
    assert "not_detected" in ex.status.value and "<td>No</td>" in ex.table.value
    ex.threshold.value = r.vpf_value - 0.5
    assert ex.result.double_encoded is True
    # zoom into a frame range
    ex.frames.value = (30, 60)
    assert tuple(ex.figure.layout.xaxis.range) == (29.5, 60.5)
    ex.show_signal.value = False
    assert [t.name for t in ex.figure.data] == [
        "I-MBs (fraction)",
        "S-MBs (fraction)",
        "current I-frames",
        "previous GOP 15",
    ]
    # pick another video
    ex.picker.value = str(single)
    assert ex.result.double_encoded is False and "<td>No</td>" in ex.table.value
    assert len(ex.figure.data[0].y) == ex.result.n_frames


def test_explorer_reports_bad_input_and_accepts_upload(tmp_path, double_nob):
    ex = VPFExplorer(str(double_nob))
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    ex.picker.value = str(bad)
    assert "VideoReadError" in ex.status.value
    assert ex.result is None and len(ex.figure.data) == 0 and ex.table.value == ""
    ex.picker.value = str(tmp_path / "missing.mp4")
    assert "FileNotFoundError" in ex.status.value
    # an upload is written to a temporary file and analysed
    ex.upload.value = (
        {
            "name": "up.mp4",
            "type": "video/mp4",
            "size": double_nob.stat().st_size,
            "last_modified": datetime.now(UTC),
            "content": memoryview(double_nob.read_bytes()),
        },
    )
    assert ex.picker.value.endswith("up.mp4")
    assert ex.result is not None and ex.result.previous_gop == 15


def _figure(ex):
    """The explorer's figure as a plain dict, without plotly's random trace uids."""
    d = ex.figure.to_dict()
    for t in d["data"]:
        t.pop("uid", None)
    return d


def test_explorer_from_a_result_draws_what_the_path_draws(double_nob, monkeypatch):
    import toolkit.methods as methods
    from toolkit.vpf import analyze

    calls = []
    run = methods.run
    monkeypatch.setattr(
        methods, "run", lambda name, path, **kw: calls.append((name, path)) or run(name, path)
    )
    from_path = VPFExplorer(str(double_nob))
    assert calls == [("vpf", str(double_nob))]  # a path goes through the registry
    r = analyze(double_nob)
    from_result = VPFExplorer(r)
    assert len(calls) == 1  # a result is drawn, not recomputed
    assert from_result.analysis is r and from_result.picker.value == str(double_nob)
    assert _figure(from_result) == _figure(from_path)
    assert from_result.table.value == from_path.table.value
    assert from_result.status.value == from_path.status.value
    # the older keyword form still works, and the controls act the same way
    kw = VPFExplorer(result=r)
    kw.frames.value = from_path.frames.value = (10, 40)
    assert _figure(kw) == _figure(from_path)


def test_explorer_refuses_what_is_neither_a_path_nor_a_result():
    import pytest

    with pytest.raises(TypeError, match="VPFResult"):
        VPFExplorer(42)
