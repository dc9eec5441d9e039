"""Case analysis, serial: plan, one row per file x method, typed errors, custody, interruption,
the JSON schema, the self-contained exhibit, the model cache and the command line."""

from __future__ import annotations

import html
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

import toolkit.methods as registry
from toolkit._util import sha256_file
from toolkit.case import CASE_DEFAULTS, CaseReport, FileRecord, analyze, analyze_file, plan, validate
from toolkit.case.core import walk
from toolkit.case.models import get_model, method_models
from toolkit.case.report import SCHEMA_FILE, load_schema, without_timings
from toolkit.weights import WeightsFormatError

from .conftest import ROOT, SAMPLE, snapshot


@pytest.fixture(scope="module")
def bad(bad_case):
    """(report, bytes before) of the acceptance folder, methods 'auto'."""
    before = snapshot(bad_case)
    return analyze(bad_case, progress=False), before


# --- plan -------------------------------------------------------------------------------
def test_plan_is_sorted_recursive_and_skips_hidden_and_outside_links(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.mp4").write_bytes(b"x")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "y.mp4").write_bytes(b"y")
    (tmp_path / ".dot.png").write_bytes(b"z")
    outside = tmp_path.parent / f"{tmp_path.name}_outside.txt"
    outside.write_text("elsewhere")
    (tmp_path / "link_out.txt").symlink_to(outside)
    (tmp_path / "link_in.txt").symlink_to(tmp_path / "a.txt")
    root, files, excluded = walk(tmp_path)
    rel = [Path(f).relative_to(root).as_posix() for f in files]
    assert rel == ["a.txt", "b/x.mp4", "link_in.txt"]
    assert [e["path"] for e in excluded] == ["link_out.txt"] and "outside" in excluded[0]["reason"]
    assert plan(tmp_path) == files
    with pytest.raises(ValueError, match="unknown method"):
        plan(tmp_path, methods="vpf,no-such-method")
    with pytest.raises(ValueError, match="unknown method"):
        plan(tmp_path, params={"nope": {}})
    with pytest.raises(FileNotFoundError):
        plan(tmp_path / "missing")


def test_one_file_is_a_case_rooted_at_its_folder():
    f = SAMPLE / "images" / "rocket.png"
    root, files, _ = walk(f)
    assert root == f.parent.absolute() and files == [str(f.absolute())]


# --- the acceptance folder ----------------------------------------------------------------
def test_bad_folder_gives_one_row_per_file_with_verdict_or_typed_error(bad):
    report, _ = bad
    by = {r.relpath: r for r in report.files}
    assert sorted(by) == ["clips/hevc.mp4", "notes.mp4", "photo.png", "readme.txt", "truncated.mp4"]
    assert not report.interrupted and report.pending == []
    for name in ("notes.mp4", "truncated.mp4"):  # text renamed .mp4; MP4 cut before its index
        r = by[name]
        assert r.status == "error" and r.error["type"] == "VideoReadError", r.error
        assert "not a decodable video" in r.error["message"] and r.methods == ()
    assert (
        by["readme.txt"].status == "skipped" and by["readme.txt"].note == "not a video or image file (.txt)"
    )

    hevc = by["clips/hevc.mp4"]
    assert hevc.status == "analysed" and hevc.kind == "video" and hevc.media["codec"] == "hevc"
    assert [m.method for m in hevc.methods] == [
        "focal.classify",
        "focal.temporal",
        "focal.spatial",
        "framecls",
    ]
    assert all(m.status == "ok" and m.error is None for m in hevc.methods)
    assert "h265" in hevc.method("focal.classify").summary  # the codec classifier recognises HEVC
    assert hevc.method("focal-temporal").verdict in ("forged", "not_detected")
    assert "not supported" in hevc.not_applicable["vpf"] and "hevc" in hevc.not_applicable["vpf"]

    photo = by["photo.png"]
    assert [m.method for m in photo.methods] == ["residual.heatmap", "geo.country", "faces"]
    assert photo.method("residual.heatmap").verdict == "not_detected"  # the pristine sample photo
    assert photo.method("geo.country").data["type"] == "CountryPrediction"
    assert "references" in photo.not_applicable["geo.city"]

    t = report.table()
    assert isinstance(t, pd.DataFrame) and len(t) == 3 + 3 + 4  # 3 one-row files, photo 3, hevc 4
    assert set(t["path"]) == set(by)
    assert t.loc[t["path"] == "notes.mp4", "error"].item().startswith("VideoReadError:")
    c = report.counts()
    assert (c["files"], c["analysed"], c["skipped"], c["errors"], c["method_errors"]) == (5, 2, 1, 2, 0)


def test_custody_is_unchanged_and_inputs_byte_identical(bad, bad_case):
    report, before = bad
    assert snapshot(bad_case) == before
    for r in report.files:
        cu = r.custody
        assert cu["unchanged"] is True and cu["sha256_before"] == cu["sha256_after"]
        assert cu["sha256_before"] == sha256_file(r.path) and cu["size_bytes"] == os.path.getsize(r.path)
        assert cu["mtime_utc"].endswith("+00:00")
    assert report.counts()["unchanged"] == 5
    for m in report.file("photo.png").methods:  # each result is of the very file whose custody is kept
        assert m.data["sha256"] == report.file("photo.png").custody["sha256_before"]


def test_custody_flags_a_file_changed_during_the_analysis(tmp_path, monkeypatch):
    f = tmp_path / "clip.png"
    f.write_bytes((SAMPLE / "images" / "rocket.png").read_bytes())
    real = registry.get("residual.heatmap").function()

    def tampering(image, **kw):
        r = real(image, **kw)
        with open(image, "ab") as fh:
            fh.write(b"tampered")
        return r

    monkeypatch.setattr("toolkit.residual.heatmap", tampering, raising=True)
    rec = analyze_file(f, methods="residual.heatmap")
    assert rec.custody["unchanged"] is False and rec.custody["size_after"] == rec.custody["size_bytes"] + 8


def test_sample_data_as_a_case_matches_the_manifest():
    manifest = json.loads((SAMPLE / "manifest.json").read_text())["files"]
    report = analyze(SAMPLE, methods=["vpf", "residual-heatmap"], progress=False)
    by = {r.relpath: r for r in report.files}
    assert set(manifest) <= set(by)
    for rel, entry in manifest.items():  # custody hashes are the published ones, unchanged
        assert by[rel].custody["sha256_before"] == entry["sha256"] and by[rel].custody["unchanged"]
    assert by["double/double_mpeg2_h264.mp4"].method("vpf").verdict == "double_encoded"
    assert by["single/single_h264.mp4"].method("vpf").verdict == "not_detected"
    assert by["images/rocket_median5.png"].method("residual.heatmap").verdict == "manipulated"
    assert by["images/rocket.png"].method("residual.heatmap").verdict == "not_detected"
    assert by["manifest.json"].status == "skipped" and by["README.md"].status == "skipped"
    assert by["real/LICENSE-CC-BY-4.0.txt"].status == "skipped"  # FFmpeg would read it as ANSI art
    assert by["images/rocket.png"].method("vpf").status == "not_applicable"  # asked for, does not apply
    assert report.parameters["vpf"] == CASE_DEFAULTS["vpf"] and report.root == str(SAMPLE.absolute())
    validate(report.to_json())


# --- failures and interruption ---------------------------------------------------------------
def test_a_failing_method_is_a_row_and_the_others_still_run(make_clip, monkeypatch):
    clip = make_clip("case_fail.mp4", codec="h264", quality=24, gop=10)

    def broken(path, **kw):
        return [][3]  # a deep, untyped failure inside a method

    monkeypatch.setattr("toolkit.vpf.analyze", broken)
    rec = analyze_file(clip, methods="video-macroblocks,vpf")
    mb, vpf = rec.methods
    assert rec.status == "analysed" and mb.status == "ok" and mb.data["type"] == "MacroblockTypes"
    assert vpf.status == "error" and vpf.error["type"] == "IndexError" and vpf.result is None
    assert "in broken" in vpf.error["where"] and vpf.reason.startswith("IndexError")


def test_analyze_file_never_raises_for_a_missing_file_or_a_folder(tmp_path):
    rec = analyze_file(tmp_path / "gone.mp4")
    assert rec.status == "error" and rec.error["type"] == "FileNotFoundError" and rec.custody == {}
    assert analyze_file(tmp_path).error["type"] == "IsADirectoryError"
    with pytest.raises(ValueError, match="unknown method"):
        analyze_file(tmp_path / "gone.mp4", methods="nope")  # a usage error is raised


def test_interrupt_returns_the_partial_report(make_clip, tmp_path, monkeypatch):
    clip = make_clip("case_int.mp4", codec="h264", quality=24, gop=10)
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (tmp_path / name).write_bytes(clip.read_bytes())
    real = registry.get("vpf").function()
    calls = []

    def interrupted_on_second(path, **kw):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, **kw)

    monkeypatch.setattr("toolkit.vpf.analyze", interrupted_on_second)
    report = analyze(tmp_path, methods="vpf", progress=False)
    assert report.interrupted is True
    assert [r.relpath for r in report.files] == ["a.mp4"] and report.files[0].method("vpf").status == "ok"
    assert report.pending == ["b.mp4", "c.mp4"]
    data = json.loads(report.to_json())
    assert data["interrupted"] is True and data["summary"]["pending"] == 2
    validate(data)
    assert "Interrupted" in report._repr_html_()


# --- the JSON -----------------------------------------------------------------------------
def test_json_validates_and_the_schema_refuses_a_wrong_report(bad, tmp_path):
    report, _ = bad
    out = tmp_path / "case.json"
    text = report.to_json(out)
    data = json.loads(out.read_text())
    assert data == json.loads(text) and data["schema_version"] == "1"
    validate(data)
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_FILE.parent.name == "schema" and SCHEMA_FILE.parent.parent.name == "case"
    photo = next(f for f in data["files"] if f["path"] == "photo.png")
    assert photo["methods"][0]["result"]["method"] == "residual.heatmap"
    assert set(data["method_info"]) == {"focal.classify", "focal.temporal", "focal.spatial", "framecls"} | {
        "residual.heatmap",
        "geo.country",
        "faces",
    }
    assert data["models"]["focal.temporal"]["models"]["codec"]["weights_name"] == "focal/codec"
    wrong = json.loads(text)
    wrong["files"][0]["methods"][0]["verdict"] = "probably fake"
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong)
    wrong = json.loads(text)
    wrong["files"][0]["custody"]["sha256_before"] = "not a hash"
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong)
    wrong = json.loads(text)
    del wrong["machine"]
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong)


def test_records_pickle_for_dask(bad):
    report, _ = bad
    for rec in report.files:
        back = pickle.loads(pickle.dumps(rec))
        assert isinstance(back, FileRecord) and back == rec
        assert back.to_dict() == rec.to_dict()
    again = without_timings(report.to_dict())
    assert again == report.to_dict(timings=False) and "seconds" not in again["files"][0]


# --- views ---------------------------------------------------------------------------------
def _fetchable(page: str) -> list[str]:
    """URLs a browser would fetch: src=, <link href=, CSS url() and @import, outside plotly.js."""
    import plotly.offline

    page = page.replace(plotly.offline.get_plotlyjs(), "")
    pats = [
        r"""\bsrc\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
        r"""<link[^>]+href\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
        r"""url\(\s*["']?\s*((?:https?:)?//[^"')\s]+)""",
        r"""@import\s+["']?((?:https?:)?//[^"';\s]+)""",
    ]
    return [m for p in pats for m in re.findall(p, html.unescape(page), flags=re.I)]


def test_exhibit_is_one_self_contained_file(bad, tmp_path):
    import plotly.offline

    report, _ = bad
    out = report.save_html(tmp_path / "exhibit.html")
    page = out.read_text(encoding="utf-8")
    assert page.count(plotly.offline.get_plotlyjs()) == 1  # inlined once, from the installed plotly
    assert _fetchable(page) == []
    assert "<iframe" not in page  # folium's map (CDN scripts) is redrawn with plotly
    ok = [(i, m) for i, r in enumerate(report.files) for m in r.methods if m.status == "ok"]
    assert page.count('class="plotly-graph-div') == len(ok) == 7
    for i, m in ok:  # every result: its anchor, figure, explanation and citation
        anchor = report._anchor(i, m.method)
        assert f"id='{anchor}'" in page and f'id="fig-{anchor}"' in page
        info = registry.get(m.method)
        assert html.escape(info.explanation) in page and html.escape(info.citation) in page
    assert "VideoReadError" in page and "unchanged" in page
    # the check itself finds a CDN script
    assert _fetchable("<script src='https://cdn.example.org/x.js'></script>") == [
        "https://cdn.example.org/x.js"
    ]


def test_repr_html_has_counts_table_and_links_to_file_sections(bad):
    report, _ = bad
    text = report._repr_html_()
    assert "5 file(s)" in text and "all 5 inputs unchanged" in text
    for i in range(len(report.files)):
        assert f"href='#file-{i}'" in text and f"id='file-{i}'" in text
    section = report.section("clips/hevc.mp4")._repr_html_()
    assert "focal.spatial" in section and "plotly-graph-div" in section
    with pytest.raises(KeyError):
        report.section("no/such/file.mp4")
    empty = CaseReport()
    assert empty.table().empty and "0 file(s)" in empty._repr_html_()


# --- models ----------------------------------------------------------------------------------
def test_models_load_once_per_process_and_match_the_methods_defaults():
    from toolkit import methods
    from toolkit.focal.models import MODEL_NAMES
    from toolkit.fsvm.model import DEFAULT_MODEL as FSVM_DEFAULT
    from toolkit.geo.city import DEMO_WEIGHTS as CITY_DEFAULT
    from toolkit.geo.country import DEMO_WEIGHTS as COUNTRY_DEFAULT
    from toolkit.residual.svm import DEFAULT_MODEL as RESIDUAL_DEFAULT

    DEFAULT_MODELS = {name: methods.get(name).default_model for name in methods.names()}
    assert DEFAULT_MODELS["focal.classify"] == MODEL_NAMES["codec"]
    assert DEFAULT_MODELS["focal.temporal"] == DEFAULT_MODELS["focal.spatial"] == MODEL_NAMES
    assert DEFAULT_MODELS["residual.heatmap"] == RESIDUAL_DEFAULT and DEFAULT_MODELS["fsvm"] == FSVM_DEFAULT
    assert DEFAULT_MODELS["geo.country"] == COUNTRY_DEFAULT and DEFAULT_MODELS["geo.city"] == CITY_DEFAULT
    a = method_models("focal.temporal", {})["models"]
    b = method_models("focal.spatial", {})["models"]
    assert (
        a["codec"]
        is b["codec"]
        is get_model("focal/codec")
        is get_model("codec", kind="focal", prefix="focal")
    )
    assert method_models("residual.heatmap", {"window": 64}) == {}  # the shipped model is for 128 px
    with pytest.raises(WeightsFormatError):  # a cached model is still checked for its kind
        get_model("fsvm/simulated", kind="focal")
    with pytest.raises(ValueError, match="takes no model"):
        method_models("vpf", {}, models={"vpf": "fsvm/simulated"})
    with pytest.raises(ValueError, match="mapping of models"):
        method_models("focal.temporal", {}, models={"focal.temporal": "focal/codec"})


def test_fsvm_runs_in_auto_only_with_a_model(make_clip):
    from toolkit import weights

    clip = make_clip("case_fsvm.mp4", codec="h264", quality=24, gop=10)
    few = {"focal.classify": {"count": 2}, "focal.temporal": {"count": 4}, "focal.spatial": {"max_frames": 1}}
    plain = analyze_file(clip, params=few)
    assert plain.method("fsvm") is None and "model" in plain.not_applicable["fsvm"]
    given = analyze_file(clip, methods="fsvm", models={"fsvm": "fsvm/simulated"})
    m = given.method("fsvm")
    assert m.status == "ok" and m.verdict in ("synthetic", "not_detected")
    assert m.params["model"] == {
        "weights_name": "fsvm/simulated",
        "weights_sha256": weights.spec("fsvm/simulated").sha256,
    }


# --- command line ----------------------------------------------------------------------------
def test_cli_and_api_give_the_same_json(small_case, tmp_path):
    methods = "video-macroblocks,vpf,residual-heatmap"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "toolkit", "analyze", str(small_case), "--out", str(tmp_path / "r.html")]
    cmd += ["--json", str(tmp_path / "r.json"), "--methods", methods, "--no-progress"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 file(s)" in done.stdout and (tmp_path / "r.html").stat().st_size > 100_000
    cli = json.loads((tmp_path / "r.json").read_text())
    validate(cli)
    api = json.loads(analyze(small_case, methods, progress=False).to_json())
    assert without_timings(cli) == without_timings(api)
    assert [m["verdict"] for f in api["files"] for m in f["methods"]][-1] == "manipulated"


def test_cli_usage_errors_exit_2_and_methods_lists_the_registry(capsys, tmp_path):
    from toolkit.__main__ import main

    assert main(["methods"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == registry.names()
    for argv in (
        ["analyze", str(tmp_path), "--out", "x.html", "--methods", "vpf,nope"],
        ["analyze", str(tmp_path / "missing"), "--out", "x.html"],
        ["analyze", str(tmp_path)],  # --out is required
        ["analyze", str(tmp_path), "--out", "x.html", "--model", "fsvm"],
        ["frobnicate"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "empty.html"), "--no-progress"]) == 0
    assert "0 file(s)" in capsys.readouterr().out
