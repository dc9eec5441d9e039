import shutil

import numpy as np
import pytest

from toolkit.fsvm import FootprintSet, load_folder
from toolkit.fsvm.simulate import roi_of


def test_load_folder_labels_and_shapes(sim_set):
    assert len(sim_set) == 8 and sim_set.errors == []
    assert sim_set.footprints.shape == (8, 12, 3) and sim_set.X.shape == (8, 36)
    assert sorted(sim_set.labels.tolist()) == [0] * 4 + [1] * 4
    for p, lab in zip(sim_set.paths, sim_set.labels):
        assert ("/fake/" in p) == (lab == 1)
    np.testing.assert_allclose(sim_set.footprints.sum(axis=2), 1.0)
    t = sim_set.table()
    assert list(t.columns) == ["video", "class", "intra", "inter", "skip"]
    # the simulated fakes are less predictable: more intra MBs on average
    assert t[t["class"] == "fake"]["intra"].mean() > t[t["class"] == "real"]["intra"].mean()


def test_broken_file_is_reported_and_skipped(sim_root, tmp_path):
    root = tmp_path / "set"
    shutil.copytree(sim_root, root)
    (root / "fake" / "broken.mp4").write_bytes(b"\x00\x00\x00 not a video at all")
    shutil.copy(root / "real" / "real_000.mp4", root / "real" / "truncated.mp4")
    with open(root / "real" / "truncated.mp4", "r+b") as fh:
        fh.truncate(600)
    ds = load_folder(root, n_frames=12, progress=False)
    bad = {p.split("/")[-1] for p, _ in ds.errors}
    assert "broken.mp4" in bad and "truncated.mp4" in bad
    assert len(ds) == 8 and all(":" in msg for _, msg in ds.errors)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_folder(tmp_path / "nope")
    (tmp_path / "real").mkdir()
    with pytest.raises(ValueError, match="'real' and 'fake'"):
        load_folder(tmp_path)
    (tmp_path / "fake").mkdir()
    with pytest.raises(ValueError, match="no files"):
        load_folder(tmp_path)


def test_save_load_subset_plot(sim_set, tmp_path):
    p = sim_set.save(tmp_path / "fp.npz")
    back = FootprintSet.load(p)
    np.testing.assert_array_equal(back.footprints, sim_set.footprints)
    assert back.paths == sim_set.paths and back.params["n_frames"] == 12
    sub = sim_set.subset([0, 7])
    assert len(sub) == 2 and sub.labels.tolist() == [sim_set.labels[0], sim_set.labels[7]]
    fig = sim_set.plot(n_frames=6)
    assert [t.name for t in fig.data] == ["real", "fake"]
    assert sum(len(t.x) for t in fig.data) == 8 and "N = 6" in fig.layout.title.text


def test_roi_per_video(tmp_path):
    from toolkit.fsvm.simulate import make_dataset

    make_dataset(
        tmp_path,
        n_per_class=1,
        n_frames=12,
        size=(64, 96),
        kind="partial",
        seed=3,
        real_clips=False,
        progress=False,
    )
    vid = tmp_path / "fake" / "fake_000.mp4"
    box = roi_of(vid)
    assert box is not None and len(box) == 4
    ds = load_folder(tmp_path, n_frames=10, roi=roi_of, progress=False)
    assert len(ds) == 2 and ds.errors == []
    whole = load_folder(tmp_path, n_frames=10, progress=False)
    assert not np.allclose(ds.footprints, whole.footprints)
