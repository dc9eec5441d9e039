"""Render README's methods table from ``benchmarks/results/*.json``.

Every number README states lives between the markers
``<!-- BEGIN GENERATED: methods -->`` and ``<!-- END GENERATED: methods -->``
and is read here from a benchmark result; nothing is typed by hand.

    python benchmarks/readme_tables.py           # rewrite README.md in place
    python benchmarks/readme_tables.py --check   # exit 1 when README differs from the JSON
    python benchmarks/readme_tables.py --sources # list each number with its JSON key
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BEGIN = "<!-- BEGIN GENERATED: methods -->"
END = "<!-- END GENERATED: methods -->"

Key = tuple[str, ...]


@dataclass(frozen=True)
class Number:
    """One number README states: where it comes from and how it is written."""

    file: str
    key: Key
    fmt: str = "{:.3f}"
    reduce: Callable[[Any], float] | None = None
    how: str = ""

    def show(self, value: Any) -> str:
        """``value`` written with ``fmt``; a percentage gets a space before its sign (``75 %``)."""
        text = self.fmt.format(value)
        return text[:-1] + " %" if text.endswith("%") and not text.endswith(" %") else text

    def source(self) -> str:
        """``file.json: a.b.c`` (plus how the value is derived, if it is)."""
        path = ""
        for k in self.key:
            if isinstance(k, int):
                path += f"[{k}]"
            elif "." in k or " " in k or "/" in k:
                path += f'["{k}"]'
            else:
                path += f".{k}" if path else k
        return f"{self.file}.json: {path}" + (f" ({self.how})" if self.how else "")


def load_results(results_dir: str | Path = RESULTS_DIR) -> dict[str, Any]:
    """Every benchmark result, by file stem.

    Parameters
    ----------
    results_dir : str or Path
        Folder of ``*.json`` results (default ``benchmarks/results``).

    Returns
    -------
    dict
        ``{"vpf_accuracy": {...}, ...}``.
    """
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(results_dir).glob("*.json"))
    }


def lookup(results: dict[str, Any], file: str, key: Sequence[Any]) -> Any:
    """The value at ``key`` (a path of dict keys / list indices) in result ``file``.

    Parameters
    ----------
    results : dict
        As returned by :func:`load_results`.
    file : str
        Result file stem, e.g. ``"vpf_accuracy"``.
    key : sequence
        Path inside that JSON, e.g. ``("results", "no_b", "auc")``.

    Returns
    -------
    Any
        The stored value.

    Raises
    ------
    KeyError
        With the file and the missing key named.
    """
    if file not in results:
        raise KeyError(f"benchmarks/results/{file}.json is missing")
    value = results[file]
    for i, k in enumerate(key):
        try:
            value = value[k]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{file}.json has no key {'.'.join(map(str, key[: i + 1]))}") from None
    return value


def _curve_point(curve_key: Key, videos_per_class: int, field: str) -> Callable[[Any], float]:
    def pick(curve):
        for row in curve:
            if row["videos_per_class"] == videos_per_class:
                return row[field]
        raise KeyError(f"no curve point with videos_per_class={videos_per_class} in {curve_key}")

    return pick


def _percent(pick: Callable[[Any], float]) -> Callable[[Any], float]:
    return lambda value: 100.0 * pick(value)


def _mean_of(field: str) -> Callable[[Any], float]:
    return lambda rows: sum(r[field] for r in rows) / len(rows)


def _n(file: str, *key: Any, fmt: str = "{:.3f}", reduce=None, how: str = "") -> Number:
    return Number(file, tuple(key), fmt, reduce, how)


SHIPPED_CODEC = ("models", "shipped focal/codec")
FSVM_CURVE = ("full", "curve")
FSVM_VPC = 4  # the training size the seed reports (videos per class)

#: the case-analysis line under the table: serial vs Dask throughput
CASE_TEXT = (
    "Case analysis (`toolkit.case.analyze`, every applicable method on {0} sample_data-sized clips): "
    "serial {1} files/min, Dask LocalCluster with 2 workers {2} files/min ({3}x), "
    "{4} MiB peak memory per worker, records identical. An hour of 1080p (90,000 frames) with its "
    "exhibit: peak RSS {5} MB, {6} s."
)
CASE_NUMBERS = [
    _n("case_throughput", "case", "files", fmt="{:d}"),
    _n("case_throughput", "serial", "files_per_min", fmt="{:.1f}"),
    _n("case_throughput", "dask_local", "files_per_min", fmt="{:.1f}"),
    _n("case_throughput", "ratio_dask_vs_serial", fmt="{:.2f}"),
    _n("case_throughput", "dask_local", "peak_rss_mib_per_worker", 0, fmt="{:.0f}"),
    _n("memory_case", "peak_rss_mb", "case.analyze", "60.0", fmt="{:.0f}"),
    _n("memory_case", "seconds", "case.analyze", "60.0", fmt="{:.0f}"),
]

#: one row per registered method: (method, registry name, seed, what it decides,
#: measured text, seed text, doc), texts with ``{0}``, ``{1}``... filled by the numbers
ROWS: list[dict[str, Any]] = [
    {
        "method": "Frame and macroblock types",
        "name": "video.macroblocks",
        "seed": "002",
        "decides": "nothing: intra / inter / skip counts per frame",
        "measured": "1080p H.264, 60 s: {0}x the time of a plain threaded decode",
        "numbers": [_n("mb_types_speed", "ratio_mb_types_vs_plain_threaded", fmt="{:.2f}")],
        "seed_text": "none reported",
        "seed_numbers": [],
        "doc": "docs/methods/video.md",
    },
    {
        "method": "VPF double encoding + previous GOP",
        "name": "vpf",
        "seed": "002",
        "decides": "double encoded? GOP of the first encoding",
        "measured": "re-saves without B-frames (H.264 QP / CRF / CBR): TPR {0} at FPR {1} (calibrated "
        "threshold), GOP exact for {2} of detected; plain ffmpeg re-save (CRF 23, adaptive B-frames, scene "
        "cuts, keyint 250): TPR {3} at FPR {4}; MPEG-2 / MPEG-4 re-saves: TPR {5} / {6}; variable-GOP "
        "originals: {7} false alarms",
        "numbers": [
            _n(
                "vpf_accuracy",
                "results",
                "no_b_pooled",
                "shipped",
                "tpr_at_calibrated_threshold",
                fmt="{:.0%}",
            ),
            _n(
                "vpf_accuracy",
                "results",
                "no_b_pooled",
                "shipped",
                "fpr_at_calibrated_threshold",
                fmt="{:.0%}",
            ),
            _n("vpf_accuracy", "results", "no_b_pooled", "shipped", "gop_exact_among_detected", fmt="{:.0%}"),
            _n(
                "vpf_accuracy",
                "results",
                "ffmpeg_default",
                "shipped",
                "tpr_at_calibrated_threshold",
                fmt="{:.0%}",
            ),
            _n(
                "vpf_accuracy",
                "results",
                "ffmpeg_default",
                "shipped",
                "fpr_at_calibrated_threshold",
                fmt="{:.0%}",
            ),
            _n("vpf_accuracy", "results", "mpeg2", "shipped", "tpr_at_calibrated_threshold", fmt="{:.0%}"),
            _n("vpf_accuracy", "results", "mpeg4", "shipped", "tpr_at_calibrated_threshold", fmt="{:.0%}"),
            _n("vpf_accuracy", "variable_gop", "shipped", "false_alarm_rate", fmt="{:.0%}"),
        ],
        "seed_text": "TPR {0} (no B) / {1} (B) at {2} FPR",
        "seed_numbers": [
            _n("vpf_accuracy", "seed_reference", "tpr_at_3pct_fpr_no_b", fmt="{:.0%}"),
            _n("vpf_accuracy", "seed_reference", "tpr_at_3pct_fpr_b", fmt="{:.0%}"),
            _n("vpf_accuracy", "threshold_provenance", "target_fpr", fmt="{:.0%}"),
        ],
        "doc": "docs/methods/vpf.md",
    },
    {
        "method": "FOCAL codec / quality CNNs",
        "name": "focal.classify",
        "seed": "000",
        "decides": "codec and quantisation step of each patch and frame",
        "measured": "codec, held-out sources: frame accuracy {0} (95 % interval over sources {1}–{2}), "
        "patch {3}",
        "numbers": [
            _n("focal_codec_errors", *SHIPPED_CODEC, "frame_accuracy_mean"),
            _n("focal_codec_errors", *SHIPPED_CODEC, "frame_accuracy_ci95_over_sources", 0, fmt="{:.2f}"),
            _n("focal_codec_errors", *SHIPPED_CODEC, "frame_accuracy_ci95_over_sources", 1, fmt="{:.2f}"),
            _n("focal_codec_errors", *SHIPPED_CODEC, "patch_accuracy"),
        ],
        "seed_text": "none reported",
        "seed_numbers": [],
        "doc": "docs/methods/focal.md",
    },
    {
        "method": "FOCAL temporal splicing",
        "name": "focal.temporal",
        "seed": "000",
        "decides": "where a temporal splice is",
        "measured": "AUC {0} (splice replica); {1} false cuts in {2} min of untouched camera clips",
        "numbers": [
            _n("focal_temporal_real", "splice_replica", "auc"),
            _n("focal_temporal_real", "real_clips", "summary", "step1_floor", "false_cuts", fmt="{:d}"),
            _n("focal_temporal_real", "real_clips", "minutes", fmt="{:.1f}"),
        ],
        "seed_text": "AUC {0}",
        "seed_numbers": [_n("focal_localization", "seed_000", "temporal_auc", "both")],
        "doc": "docs/methods/focal.md",
    },
    {
        "method": "FOCAL spatial splicing",
        "name": "focal.spatial",
        "seed": "000",
        "decides": "which pixels are spliced (heat map)",
        "measured": "pixel AUC {0}, patch AUC {1}",
        "numbers": [
            _n("focal_localization", "replica", "spatial", "pixel_auc_multi_frame", "both"),
            _n("focal_localization", "replica", "spatial", "patch_auc_multi_frame", "both"),
        ],
        "seed_text": "patch AUC {0}",
        "seed_numbers": [_n("focal_localization", "seed_000", "spatial_auc_patch_level", fmt="{:.2f}")],
        "doc": "docs/methods/focal.md",
    },
    {
        "method": "Residual co-occurrences (SRM) + SVM, recast as a CNN",
        "name": "residual.heatmap",
        "seed": "004",
        "decides": "manipulated? per window (heat map)",
        "measured": "Table II mean accuracy ({0} test patches per manipulation): SVM {1}, recast CNN {2} "
        "before / {3} after fine-tuning, Bayar2016 {4}",
        "numbers": [
            _n(
                "residual_table2",
                "rows",
                fmt="{:.0f}",
                reduce=_mean_of("n_test_patches"),
                how="mean of n_test_patches",
            ),
            _n("residual_table2", "mean_svm_acc", fmt="{:.1f}%"),
            _n("residual_table2", "mean_cnn_before_acc", fmt="{:.1f}%"),
            _n("residual_table2", "mean_cnn_after_acc", fmt="{:.1f}%"),
            _n("residual_table2", "mean_bayar_acc", fmt="{:.1f}%"),
        ],
        "seed_text": "SVM {0}, CNN {1}",
        "seed_numbers": [
            _n("residual_table2", "rows", fmt="{:.1f}%", reduce=_mean_of("seed_svm"), how="mean of seed_svm"),
            _n("residual_table2", "rows", fmt="{:.1f}%", reduce=_mean_of("seed_cnn"), how="mean of seed_cnn"),
        ],
        "doc": "docs/methods/residual.md",
    },
    {
        "method": "F-SVM synthetic-video detection",
        "name": "fsvm",
        "seed": "001 ch. 5",
        "decides": "synthetic video?",
        "measured": "simulated data, {0} videos per class: {1} ± {2} %",
        "numbers": [
            _n(
                "fsvm",
                *FSVM_CURVE,
                fmt="{:d}",
                reduce=_curve_point(FSVM_CURVE, FSVM_VPC, "videos_per_class"),
                how=f"videos_per_class of the point with videos_per_class={FSVM_VPC}",
            ),
            _n(
                "fsvm",
                *FSVM_CURVE,
                fmt="{:.1f}",
                reduce=_percent(_curve_point(FSVM_CURVE, FSVM_VPC, "accuracy_mean")),
                how=f"100 x accuracy_mean where videos_per_class={FSVM_VPC}",
            ),
            _n(
                "fsvm",
                *FSVM_CURVE,
                fmt="{:.1f}",
                reduce=_percent(_curve_point(FSVM_CURVE, FSVM_VPC, "accuracy_std")),
                how=f"100 x accuracy_std where videos_per_class={FSVM_VPC}",
            ),
        ],
        "seed_text": "≈ {0} (DeepStreets)",
        "seed_numbers": [_n("fsvm", "seed_paper", "accuracy_4_per_class", fmt="{:.0%}")],
        "doc": "docs/methods/fsvm.md",
    },
    {
        "method": "Frame-level CNN synthetic-video detection",
        "name": "framecls",
        "seed": "001 ch. 3, 5",
        "decides": "synthetic video? (frame scores, soft vote)",
        "measured": "tiny CNN on simulated families: matched RAW {0}, RAW→LQ {1}",
        "numbers": [
            _n("framecls", "matched", "cityvid", "raw", "accuracy", fmt="{:.0%}"),
            _n("framecls", "mismatch_pooled", "raw", "lq", "accuracy", fmt="{:.0%}"),
        ],
        "seed_text": "Xception: {0} %, {1} %",
        "seed_numbers": [
            _n("framecls", "seed_paper", "table_3_2_matched", "cityvid", "raw", fmt="{:.1f}"),
            _n("framecls", "seed_paper", "table_3_3_mismatch", "raw", "lq", fmt="{:.1f}"),
        ],
        "doc": "docs/methods/framecls.md",
    },
    {
        "method": "LDP-TOP + MLPs (body parts, optical flow)",
        "name": "ldptop",
        "seed": "001 ch. 4",
        "decides": "synthetic person video?",
        "measured": "simulation, {6} test windows: matched RAW / HQ / LQ {0} / {1} / {2}; RAW-trained: "
        "Splice-like {3}, LQ {4}; 2 training videos {5}; descriptor {7} ms per window",
        "numbers": [
            *(
                _n("ldptop", "compression_fit", "matched", q, "acc", fmt="{:.2f}")
                for q in ("raw", "hq", "lq")
            ),
            _n("ldptop", "splice_table_4_10", "test", "raw", "acc", fmt="{:.2f}"),
            _n(
                "ldptop", "compression_fit", "train_quality -> test_quality", "raw", "lq", "acc", fmt="{:.2f}"
            ),
            _n("ldptop", "scarcity_table_4_11", "ldptop", "2", "fit", "acc", fmt="{:.2f}"),
            _n("ldptop", "compression_fit", "matched", "raw", "n", fmt="{:d}"),
            _n(
                "ldptop",
                "speed",
                "descriptor_s_per_window_50x256x256",
                fmt="{:.1f}",
                reduce=lambda v: 1000 * v,
                how="seconds to ms",
            ),
        ],
        "seed_text": "FakeDance (Fit): {0} / {1} / {2}; Splice {3}; 2 videos {4}",
        "seed_numbers": [
            *(_n("ldptop", "seed_numbers", "matched_fit_acc", q, fmt="{:.2f}") for q in ("raw", "hq", "lq")),
            _n("ldptop", "seed_numbers", "splice_from_raw_acc", "raw", fmt="{:.2f}"),
            _n("ldptop", "seed_numbers", "scarcity_fit_acc_ldptop", "2", fmt="{:.2f}"),
        ],
        "doc": "docs/methods/ldptop.md",
    },
    {
        "method": "Manipulated faces: FCN, classification + segmentation",
        "name": "faces",
        "seed": "003",
        "decides": "manipulated face? (+ 49×49 map)",
        "measured": "held-out person, c23: accuracy {0} (demo model, λ {1})",
        "numbers": [
            _n("faces", "shipped", "test", "c23", "accuracy", fmt="{:.2f}"),
            _n("faces", "shipped", "lam", fmt="{:g}"),
        ],
        "seed_text": "FF++ c23, λ 0: {0} %",
        "seed_numbers": [
            _n(
                "faces",
                "seed_tables",
                "table2_classification_c23",
                "0.0",
                fmt="{:.1f}",
                reduce=lambda v: sum(v) / len(v),
                how="mean of the three methods",
            )
        ],
        "doc": "docs/methods/faces.md",
    },
    {
        "method": "Country recognition",
        "name": "geo.country",
        "seed": "001 ch. 7",
        "decides": "top-k countries of a photo",
        "measured": "demo model on demo data (not geolocation): top-1 {0}, top-3 {1}",
        "numbers": [
            _n("geo_country", "fusions", "mean", "top1"),
            _n("geo_country", "fusions", "mean", "top3"),
        ],
        "seed_text": "VIPPGeo: top-1 {0}, top-3 {1}",
        "seed_numbers": [
            _n("geo_country", "seed_table_7_3_vippgeo", "mean", 0, fmt="{:.2f}"),
            _n("geo_country", "seed_table_7_3_vippgeo", "mean", 1, fmt="{:.2f}"),
        ],
        "doc": "docs/methods/geo.md",
    },
    {
        "method": "City verification",
        "name": "geo.city",
        "seed": "001 ch. 8",
        "decides": "same city as the references?",
        "measured": "demo model, with country gate: TP {0}, FP {1}",
        "numbers": [
            _n("geo_city", "results", "gate", "TP"),
            _n("geo_city", "results", "gate", "FP"),
        ],
        "seed_text": "closed set: TP {0}, FP {1}",
        "seed_numbers": [
            _n("geo_city", "seed", "closed_set", "TP", fmt="{:.2f}"),
            _n("geo_city", "seed", "closed_set", "FP", fmt="{:.2f}"),
        ],
        "doc": "docs/methods/geo.md",
    },
]


def value_of(results: dict[str, Any], number: Number) -> Any:
    """The raw value of ``number`` in ``results`` (after its ``reduce``, if any).

    Parameters
    ----------
    results : dict
        As returned by :func:`load_results`.
    number : Number
        Where the value lives.

    Returns
    -------
    Any
        The value before formatting.
    """
    value = lookup(results, number.file, number.key)
    return number.reduce(value) if number.reduce is not None else value


def _text(results: dict[str, Any], template: str, numbers: Sequence[Number]) -> str:
    return template.format(*(n.show(value_of(results, n)) for n in numbers))


def render_methods(results: dict[str, Any] | None = None) -> str:
    """The generated block: the methods table, markers excluded.

    Parameters
    ----------
    results : dict, optional
        As returned by :func:`load_results` (default: read ``benchmarks/results``).

    Returns
    -------
    str
        Markdown, ending with a newline.
    """
    results = load_results() if results is None else results
    lines = [
        "| method | registry name | seed | decides | measured here | seed reports | doc |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        measured = _text(results, row["measured"], row["numbers"])
        seed = _text(results, row["seed_text"], row["seed_numbers"])
        doc = f"[{Path(row['doc']).stem}]({row['doc']})"
        cells = [row["method"], f"`{row['name']}`", row["seed"], row["decides"], measured, seed, doc]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(_text(results, CASE_TEXT, CASE_NUMBERS))
    lines.append("")
    lines.append(
        "Numbers: `benchmarks/results/*.json`, written here by `python benchmarks/readme_tables.py`."
    )
    return "\n".join(lines) + "\n"


def sources(results: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """Every number the table states: ``(registry name, text as shown, JSON source)``.

    Parameters
    ----------
    results : dict, optional
        As returned by :func:`load_results`.

    Returns
    -------
    list of tuple
        One entry per number, in table order.
    """
    results = load_results() if results is None else results
    out = []
    for row in ROWS:
        for n in list(row["numbers"]) + list(row["seed_numbers"]):
            shown = n.show(value_of(results, n))
            out.append((row["name"], shown, n.source()))
    for n in CASE_NUMBERS:
        out.append(("toolkit.case", n.show(value_of(results, n)), n.source()))
    return out


def generated_block(text: str) -> str:
    """The text between README's markers (markers excluded).

    Parameters
    ----------
    text : str
        README's text.

    Returns
    -------
    str
        The block, without the newline that follows ``BEGIN``.

    Raises
    ------
    ValueError
        When a marker is missing or they are out of order.
    """
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < 0 or stop < start:
        raise ValueError(f"README must contain {BEGIN!r} followed by {END!r}")
    return text[start + len(BEGIN) : stop].removeprefix("\n")


def render_readme(text: str, results: dict[str, Any] | None = None) -> str:
    """``text`` with its generated block replaced by :func:`render_methods`.

    Parameters
    ----------
    text : str
        README's current text (must contain both markers).
    results : dict, optional
        As returned by :func:`load_results`.

    Returns
    -------
    str
        The new README text.
    """
    generated_block(text)  # checks the markers
    start, stop = text.find(BEGIN) + len(BEGIN), text.find(END)
    return text[:start] + "\n" + render_methods(results) + text[stop:]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rewrite README (default), ``--check`` it, or list ``--sources``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when README is (now) current, 1 when ``--check`` finds it differs.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when README differs from the JSON")
    ap.add_argument("--sources", action="store_true", help="print each number and its JSON key")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--results", type=Path, default=RESULTS_DIR)
    a = ap.parse_args(argv)
    results = load_results(a.results)
    if a.sources:
        for name, shown, src in sources(results):
            print(f"{name:18s} {shown:>8s}  {src}")
        return 0
    old = a.readme.read_text(encoding="utf-8")
    new = render_readme(old, results)
    if a.check:
        if new != old:
            print(f"{a.readme} differs from benchmarks/results: run python benchmarks/readme_tables.py")
            return 1
        print(f"{a.readme} is current")
        return 0
    if new != old:
        a.readme.write_text(new, encoding="utf-8")
        print(f"{a.readme} rewritten")
    else:
        print(f"{a.readme} already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
