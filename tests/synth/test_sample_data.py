import json
from pathlib import Path

from toolkit._util import sha256_file
from toolkit.video import gop_structure, probe

ROOT = Path(__file__).resolve().parents[2] / "sample_data"


def test_manifest_matches_files_and_ground_truth():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert manifest["rebuild"] == "python -m toolkit.synth.sample_data"
    total = 0
    for name, entry in manifest["files"].items():
        path = ROOT / name
        assert sha256_file(path) == entry["sha256"], f"{name} changed: rebuild sample_data"
        total += entry["bytes"]
    assert total < 20e6
    assert (ROOT / "real" / "ATTRIBUTION.md").is_file()


def test_double_encoded_sample_has_its_ground_truth():
    truth = json.loads((ROOT / "double" / "double_mpeg2_h264.mp4.json").read_text())
    assert truth["first"]["gop"] == 12 and truth["second"]["gop"] == 33
    assert gop_structure(ROOT / "double" / "double_mpeg2_h264.mp4").gop == 33
    spatial = json.loads((ROOT / "spatial" / "spatial_splice.mp4.json").read_text())
    assert (ROOT / "spatial" / spatial["mask"]).is_file()
    temporal = json.loads((ROOT / "temporal" / "temporal_splice.mp4.json").read_text())
    assert temporal["cut"] == 60 and probe(ROOT / "temporal" / "temporal_splice.mp4").n_frames == 120
