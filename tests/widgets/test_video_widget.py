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
