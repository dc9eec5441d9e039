"""benchmarks/faces.py runs end to end in quick mode; its JSON and readme_rows agree."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_faces", ROOT / "benchmarks" / "faces.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_benchmark_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_QUICK", "1")
    bench = _bench()
    out_file = tmp_path / "faces_quick.json"
    out = bench.main(["--out", str(out_file)])
    saved = json.loads(out_file.read_text())
    assert saved == json.loads(json.dumps(out))
    shipped = saved["shipped"]
    assert shipped["name"] == "faces/fcn" and len(shipped["sha256"]) == 64
    for comp in ("raw", "c23", "c40"):
        cell = shipped["test"][comp]
        assert cell["n"] > 0 and 0.0 <= cell["accuracy"] <= 1.0 and 0.0 <= cell["pixel_accuracy"] <= 1.0
    assert 0 < saved["inference_cpu"]["batch1_s_per_crop"] < 10
    assert "table2_classification_c23" in saved["seed_tables"]


def test_readme_rows_of_the_shipped_results():
    res = json.loads((ROOT / "benchmarks" / "results" / "faces.json").read_text())
    text = _bench().readme_rows(res)
    assert text.count("\n") == 1 + len(res["models"])
    for key in res["models"]:
        assert f"| {key} |" in text
