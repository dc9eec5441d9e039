from pathlib import Path

from toolkit.synth import encode
from widgets import MacroblockExplorer
from widgets._common import sample_videos


def test_explorer_draws_selected_classes_and_range(make_clip):
    path = make_clip("widget.mp4", codec="h264", quality=20, gop=10)
    ex = MacroblockExplorer(str(path))
    assert [t.name for t in ex.figure.data] == ["intra MBs", "inter MBs", "skip MBs"]
    assert len(ex.figure.data[0].y) == 40
    ex.classes.value = ("intra",)
    assert [t.name for t in ex.figure.data] == ["intra MBs"]
    ex.frames.value = (10, 19)
    assert list(ex.figure.data[0].x) == list(range(10, 20))
    # frame 10 is an I-frame: all its MBs are intra
    assert ex.figure.data[0].y[0] == ex.result.mb_per_frame
    ex.as_fraction.value = True
    assert ex.figure.data[0].y[0] == 1.0
    assert "GOP 10" in ex.status.value


def test_explorer_reports_bad_input(tmp_path, make_clip):
    ex = MacroblockExplorer(str(make_clip("widget2.mp4", codec="h264", quality=20, gop=10)))
    bad = tmp_path / "x.mp4"
    bad.write_text("not a video")
    ex.picker.value = str(bad)
    assert "VideoReadError" in ex.status.value and len(ex.figure.data) == 0
    ex.picker.value = str(make_clip("hevc_w.mp4", codec="h265", quality=30, gop=10))
    assert "UnsupportedCodecError" in ex.status.value


def test_sample_videos_listed():
    vids = sample_videos()
    assert any(Path(v).name == "double_mpeg2_h264.mp4" for v in vids)
    assert encode  # the generator is what made them


def _figure(ex):
    d = ex.figure.to_dict()
    for t in d["data"]:
        t.pop("uid", None)
    return d


def test_explorer_from_a_result_draws_what_the_path_draws(make_clip, monkeypatch):
    import pytest

    import widgets.video
    from toolkit.video import macroblock_types

    path = make_clip("widget.mp4", codec="h264", quality=20, gop=10)
    from_path = MacroblockExplorer(str(path))
    mb = macroblock_types(path)

    def no_decode(*a, **k):
        raise AssertionError("an explorer given a result must not decode the video again")

    monkeypatch.setattr(widgets.video, "macroblock_types", no_decode)
    from_result = MacroblockExplorer(mb)
    assert from_result.result is mb
    assert _figure(from_result) == _figure(from_path)
    assert from_result.status.value == from_path.status.value and "GOP 10" in from_result.status.value
    assert from_result.info.value == from_path.info.value != ""
    for ex in (from_result, from_path):
        ex.classes.value = ("skip", "intra")
        ex.frames.value = (5, 25)
        ex.as_fraction.value = True
    assert _figure(from_result) == _figure(from_path)
    assert [t.name for t in from_result.figure.data] == ["skip MBs", "intra MBs"]
    assert MacroblockExplorer(result=mb).result is mb
    with pytest.raises(TypeError, match="MacroblockTypes"):
        MacroblockExplorer(3.5)
