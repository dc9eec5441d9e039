"""benchmarks/ldptop.py --quick produces every table (speed, Table 4.2, compression, splice, scarcity)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_ldptop", ROOT / "benchmarks" / "ldptop.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_quick_benchmark_tables(tmp_path):
    bench = _bench()
    out = tmp_path / "ldptop_quick.json"
    res = bench.main(["--quick", "--data", str(tmp_path / "data"), "--out", str(out), "--no-cnn"])
    assert json.loads(out.read_text()) == json.loads(json.dumps(res))
    assert res["speed"]["descriptor_s_per_window_50x256x256"] < 0.5
    assert (
        0 < res["quality_table_4_2"]["fit_ssim"] < 1 and 0 < res["quality_table_4_2"]["splice_mask_ssim"] < 1
    )
    comp = res["compression_fit"]["train_quality -> test_quality"]
    assert set(comp) == {"raw", "hq", "lq"} and all(set(r) == {"raw", "hq", "lq"} for r in comp.values())
    for row in comp.values():
        for m in row.values():
            assert m["n"] > 0 and 0 <= m["acc"] <= 1
    assert set(res["splice_table_4_10"]["test"]) == {"raw", "hq", "lq"}
    sc = res["scarcity_table_4_11"]
    assert sc["sizes"] == [1, 2] and set(sc["ldptop"]) == {"1", "2"} and set(sc["fsvm"]) == {"1", "2"}
    assert sc["cnn"] == "not run: --no-cnn" and res["fusion_tables_4_12_14"] == "not run: --no-cnn"
    assert "LDP-TOP" in bench.readme_rows(res)
