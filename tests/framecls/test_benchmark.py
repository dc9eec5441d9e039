"""benchmarks/framecls.py runs end to end in quick mode; its JSON holds every study and readme_rows agrees."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_framecls", ROOT / "benchmarks" / "framecls.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_benchmark_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_QUICK", "1")
    bench = _bench()
    out_file = tmp_path / "framecls_quick.json"
    out = bench.main(["--out", str(out_file)])
    saved = json.loads(out_file.read_text())
    assert saved == json.loads(json.dumps(out))
    fams = ("cityvid", "citywcvid", "kittivid")
    assert set(saved["matched"]) == set(fams) and set(saved["cross_family_raw"]) == set(fams)
    for f in fams:
        for q in ("raw", "hq", "lq"):
            assert 0.0 <= saved["matched"][f][q]["accuracy"] <= 1.0 and saved["matched"][f][q]["n"] > 0
    for qtr in ("raw", "hq", "lq"):
        for qte in ("raw", "hq", "lq"):
            cell = saved["mismatch_pooled"][qtr][qte]
            assert (
                0.0 <= cell["accuracy_recalibrated"] <= 1.0 and 0.0 <= cell["threshold_recalibrated"] <= 1.0
            )
    sc = saved["scarcity"]
    assert [r["videos_per_class"] for r in sc["fsvm"]][:2] == [1, 2]
    assert sc["fsvm"][0]["parameters"] == 3 * sc["fsvm_n_frames"] + 1
    assert sc["tiny"] and sc["tiny_lstm"] and sc["tiny"][0]["parameters"] < 1e6
    full = saved["full_size_parameters"]
    assert full["resnet_lstm"]["parameters"] == 25_086_146
    assert full["xception"]["parameters_with_imagenet_head"] == 22_855_952
    # the README rows are the JSON's numbers
    rows = bench.readme_rows(saved)
    c = saved["matched"]["cityvid"]
    assert f"| matched cityvid | {100 * c['raw']['accuracy']:.1f} / {100 * c['hq']['accuracy']:.1f}" in rows
    assert rows.count("\n") == 1 + 3 + 3 + 3


@pytest.mark.parametrize("name", ["framecls.json"])
def test_committed_full_result_renders(name):
    f = ROOT / "benchmarks" / "results" / name
    if not f.is_file():
        pytest.skip(f"{name} not generated yet (python benchmarks/framecls.py)")
    r = json.loads(f.read_text())
    assert r["quick"] is False and "| matched kittivid |" in _bench().readme_rows(r)
