"""The report of a case: table, notebook view, one self-contained HTML exhibit, versioned JSON.

:class:`CaseReport` holds every file's :class:`~toolkit.case.core.FileRecord` and the custody
header (toolkit version, machine, times, methods, parameters, model hashes).

* :meth:`CaseReport.table` — one row per file x method (a file no method ran on: one row);
* :meth:`CaseReport._repr_html_` — summary counts, the table, links to each file's section;
* :meth:`CaseReport.save_html` — ONE file that opens offline: plotly.js inlined once from the
  installed ``plotly`` package, figures as inline JSON (images as data URIs), geolocation maps
  drawn with plotly from the shipped country outlines (lighter than a folium map per file),
  no URL the browser would fetch; each result beside the method's explanation and citation;
* :meth:`CaseReport.to_json` — the documented schema ``toolkit/case/schema/case-report-v1.json``
  (JSON Schema draft 2020-12, ``"schema_version": "1"``), checked by :func:`validate`.

>>> from toolkit.case import analyze
>>> report = analyze("sample_data/images/rocket.png", methods="residual.heatmap", progress=False)
>>> import json; data = json.loads(report.to_json())
>>> data["schema_version"], data["files"][0]["path"], data["files"][0]["custody"]["unchanged"]
('1', 'rocket.png', True)
>>> validate(data)
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, POSITIVE_VERDICTS, json_safe

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMA_FILE",
    "TIMING_KEYS",
    "CaseReport",
    "FileSection",
    "load_schema",
    "validate",
    "without_timings",
    "method_info",
    "figure_html",
]

#: version of the JSON layout (``"schema_version"`` of every report)
SCHEMA_VERSION = "1"
#: the JSON Schema (draft 2020-12) every :meth:`CaseReport.to_json` follows
SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "case-report-v1.json"
#: keys of the report, file and method objects that hold times (dropped by :func:`without_timings`)
TIMING_KEYS = ("started_utc", "finished_utc", "seconds")

#: table columns
COLUMNS = [
    "path",
    "kind",
    "status",
    "method",
    "verdict",
    "score",
    "threshold",
    "key_figure",
    "seconds",
    "error",
]


def load_schema() -> dict:
    """The JSON Schema of the report (``toolkit/case/schema/case-report-v1.json``).

    >>> load_schema()["properties"]["schema_version"]["const"]
    '1'
    """
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(data: Mapping | str) -> None:
    """Check a report (its dict or JSON text) against the schema; ``jsonschema.ValidationError``
    saying where it differs otherwise.

    >>> validate({"schema_version": "2"})
    Traceback (most recent call last):
    ...
    jsonschema.exceptions.ValidationError: ...
    """
    import jsonschema

    if isinstance(data, str):
        data = json.loads(data)
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    jsonschema.validate(data, schema, cls=cls, format_checker=cls.FORMAT_CHECKER)


def without_timings(data: Mapping) -> dict:
    """A report dict (from :meth:`CaseReport.to_dict` or the JSON) without :data:`TIMING_KEYS` at
    the report, file and method levels: two runs of the same case then compare equal.

    >>> without_timings({"seconds": 1.0, "files": [{"path": "a", "methods": [{"seconds": 2}]}]})
    {'files': [{'path': 'a', 'methods': [{}]}]}
    """
    out = {k: v for k, v in data.items() if k not in TIMING_KEYS}
    if "files" in out:
        files = []
        for f in out["files"]:
            f = {k: v for k, v in f.items() if k not in TIMING_KEYS}
            if "methods" in f:
                f["methods"] = [{k: v for k, v in m.items() if k not in TIMING_KEYS} for m in f["methods"]]
            files.append(f)
        out["files"] = files
    return out


def method_info(names) -> dict:
    """``{name: {'title', 'seed', 'citation', 'explanation', 'input_kind'}}`` from the registry.

    >>> method_info(["vpf"])["vpf"]["seed"]
    'seed 002'
    """
    import toolkit.methods as registry

    out = {}
    for name in names:
        try:
            m = registry.get(name)
        except ValueError:
            continue
        out[name] = {
            "title": m.title,
            "seed": m.seed,
            "citation": m.citation,
            "explanation": m.explanation,
            "input_kind": m.input_kind,
        }
    return out


# --- figures ------------------------------------------------------------------------------
def _is_plotly(fig) -> bool:
    return hasattr(fig, "to_plotly_json") and hasattr(fig, "to_html")


def _is_map(fig) -> bool:
    return type(fig).__module__.startswith("folium") or hasattr(fig, "get_root") and hasattr(fig, "location")


def _geo_figure(result):
    """A plotly outline map of a country prediction's top-k classes (offline: the shipped country
    outlines as plain shapes, no tiles, no geo topojson fetched), or ``None`` for another result."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    t = result.table()
    if not {"codes", "probability"} <= set(t.columns):
        return None
    from toolkit.geo import groups

    by_code = {f["id"]: f for f in groups.countries_geojson()["features"]}

    def rings(codes):
        xs, ys = [], []
        for c in codes:
            g = by_code.get(c, {}).get("geometry")
            if not g:
                continue
            polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
            for poly in polys:
                for ring in poly:
                    xs += [pt[0] for pt in ring] + [None]
                    ys += [pt[1] for pt in ring] + [None]
        return xs, ys

    fig = go.Figure()
    x, y = rings(sorted(by_code))
    fig.add_trace(
        go.Scatter(
            x=x, y=y, mode="lines", line={"color": "#bbbbbb", "width": 0.5}, hoverinfo="skip", name="world"
        )
    )
    pmax = float(t["probability"].max()) or 1.0
    for _, row in t.iterrows():
        p = float(row["probability"])
        x, y = rings(list(row["codes"]))
        label = (
            f"{int(row['rank'])}. {row['class']} (p {p:.3f})" if "rank" in t.columns else str(row["class"])
        )
        color = sample_colorscale("YlOrRd", [0.15 + 0.85 * p / pmax])[0]
        if not x:
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                fill="toself",
                fillcolor=color,
                line={"color": "#444444", "width": 0.6},
                name=label,
                text=label,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title="top-k country classes (offline outline map)",
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h"},
    )
    fig.update_xaxes(range=[-180, 180], visible=False)
    fig.update_yaxes(range=[-60, 85], visible=False, scaleanchor="x")
    return fig


def _plotly_div(fig, div_id: str, include_plotlyjs: bool | str = False) -> str:
    import plotly.io as pio

    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def figure_html(result, div_id: str = "fig", include_plotlyjs: bool | str = False) -> tuple[str, str | None]:
    """``(html, note)`` of a result's figure for an offline page: a plotly ``<div>`` (plotly.js not
    included unless ``include_plotlyjs``), a folium map redrawn with plotly (see :func:`_geo_figure`),
    or ``""`` and a note saying why there is no figure.

    >>> from toolkit.methods import run
    >>> html_text, note = figure_html(run("vpf", "sample_data/double/double_mpeg2_h264.mp4"))
    >>> 'class="plotly-graph-div' in html_text, note
    (True, None)
    """
    if result is None:
        return "", "no result to draw"
    try:
        fig = result.plot()
    except NotImplementedError:
        return "", None
    except Exception as e:  # a view must never hide the result
        return "", f"figure unavailable ({type(e).__name__}: {e})"
    note = None
    if not _is_plotly(fig) and _is_map(fig):
        try:
            fig = _geo_figure(result)
        except Exception as e:
            return "", f"map not drawn offline ({type(e).__name__}: {e})"
        if fig is None:
            return "", "the interactive map needs online scripts; see the table"
        note = "drawn offline with plotly from the shipped country outlines (the notebook view uses folium)"
    if not _is_plotly(fig):
        return "", f"figure of type {type(fig).__name__} is not drawn in the exhibit"
    return _plotly_div(fig, div_id, include_plotlyjs), note


# --- the report --------------------------------------------------------------------------------
def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _verdict_class(status: str, verdict: str | None) -> str:
    if status == "error":
        return "v-error"
    if verdict in POSITIVE_VERDICTS:
        return "v-positive"
    if verdict == NOT_DETECTED:
        return "v-negative"
    if verdict == INCONCLUSIVE:
        return "v-inconclusive"
    return "v-none"


#: style of the exhibit page (``body``) and of every report block (scoped to ``.case-report``, so
#: that a notebook's own page keeps its look)
_PAGE_CSS = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#222}"
_CSS = """
.case-report{max-width:1300px}
.case-report h1{font-size:1.5em}
.case-report h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.case-report h3{font-size:1.05em;margin-bottom:.3em}
.case-report table.case{border-collapse:collapse;font-size:90%}
.case-report table.case td,.case-report table.case th{border:1px solid #ddd;padding:2px 6px;text-align:left;
vertical-align:top}
.case-report table.case th{background:#f4f4f4}
.case-report .v-positive{color:#b00020;font-weight:bold} .case-report .v-negative{color:#1b7a1b}
.case-report .v-inconclusive{color:#b36b00} .case-report .v-error{color:#666;font-style:italic}
.case-report .method{border-left:3px solid #ddd;padding-left:.8em;margin:1em 0}
.case-report .explain{color:#444;font-size:92%} .case-report .custody td:first-child{color:#555}
.case-report .ok{color:#1b7a1b;font-weight:bold} .case-report .bad{color:#b00020;font-weight:bold}
.case-report pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:85%}
.case-report .note{color:#666;font-size:90%}
"""


@dataclass(frozen=True)
class CaseReport:
    """The result of :func:`toolkit.case.analyze`: every file's record and the custody header.

    Attributes
    ----------
    files : list of :class:`~toolkit.case.core.FileRecord`, in plan order.
    root : the case folder (absolute).
    methods : ``"auto"`` or the method names asked for.
    parameters : method -> the parameters it ran with (case defaults + overrides).
    models : method -> the weights its models came from (name, SHA-256).
    scheduler : ``None`` (serial) or the Dask scheduler.
    started_utc, finished_utc : ISO 8601 times of the run.
    interrupted : True when Ctrl-C stopped the run (``pending`` lists the files not analysed).
    excluded : entries the walk left out (``{'path', 'reason'}``: links leading outside the case).
    machine : host, OS, Python, CPU, GPU, torch version.
    toolkit_version : the toolkit that made the report.
    """

    files: list = field(default_factory=list)
    root: str = ""
    methods: Any = "auto"
    parameters: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    scheduler: str | None = None
    started_utc: str = ""
    finished_utc: str = ""
    interrupted: bool = False
    excluded: list = field(default_factory=list)
    pending: list = field(default_factory=list)
    machine: dict = field(default_factory=dict)
    toolkit_version: str = __version__

    # --- look-ups ---------------------------------------------------------------------------
    def file(self, path: str | os.PathLike):
        """The record of ``path`` (relative to the root, or absolute); ``KeyError`` when absent."""
        p = os.fspath(path)
        for r in self.files:
            if p in (r.relpath, r.path) or os.path.abspath(p) == r.path:
                return r
        raise KeyError(f"no file {p!r} in this case ({len(self.files)} files)")

    def method_names(self) -> list[str]:
        """Every method that has a row, in registry order."""
        import toolkit.methods as registry

        seen = {m.method for r in self.files for m in r.methods}
        return [n for n in registry.names() if n in seen] + sorted(seen - set(registry.names()))

    def counts(self) -> dict:
        """Summary counts: files by status, method rows by status and verdict, custody.

        >>> CaseReport().counts()["files"]
        0
        """
        rows = [m for r in self.files for m in r.methods]
        return {
            "files": len(self.files),
            "analysed": sum(r.status == "analysed" for r in self.files),
            "skipped": sum(r.status == "skipped" for r in self.files),
            "errors": sum(r.status == "error" for r in self.files),
            "unchanged": sum(bool(r.custody.get("unchanged")) for r in self.files),
            "changed": sum(r.custody.get("unchanged") is False for r in self.files),
            "method_runs": sum(m.status == "ok" for m in rows),
            "method_errors": sum(m.status == "error" for m in rows),
            "not_applicable": sum(m.status == "not_applicable" for m in rows),
            "verdicts": dict(sorted(Counter(m.verdict for m in rows if m.verdict).items())),
            "pending": len(self.pending),
            "damaged": sum(bool(r.damage) for r in self.files),
        }

    # --- views ----------------------------------------------------------------------------
    def table(self):
        """pandas table, one row per file x method: ``path`` (relative to the root), ``kind``,
        ``status`` (the method's, or the file's when no method ran), ``method``, ``verdict``,
        ``score``, ``threshold``, ``key_figure`` (the result's one-line summary), ``seconds``,
        ``error`` (type and reason).

        >>> list(CaseReport().table().columns)[:4]
        ['path', 'kind', 'status', 'method']
        """
        import pandas as pd

        rows = []
        for r in self.files:
            if not r.methods:
                err = f"{r.error['type']}: {r.error['message']}" if r.error else None
                rows.append(
                    [r.relpath, r.kind, r.status, None, None, None, None, r.note or "", r.seconds, err]
                )
            for m in r.methods:
                err = f"{m.error['type']}: {m.error['message']}" if m.error else None
                if m.status == "not_applicable":
                    err = f"not applicable: {m.reason}"
                rows.append(
                    [
                        r.relpath,
                        r.kind,
                        m.status,
                        m.method,
                        m.verdict,
                        m.score,
                        m.threshold,
                        m.summary,
                        m.seconds,
                        err,
                    ]
                )
        return pd.DataFrame(rows, columns=COLUMNS)

    def to_dict(self, *, timings: bool = True) -> dict:
        """The JSON-safe dict of the schema; ``timings=False`` drops :data:`TIMING_KEYS`.

        >>> CaseReport().to_dict()["schema_version"]
        '1'
        """
        out = {
            "schema_version": SCHEMA_VERSION,
            "toolkit_version": self.toolkit_version,
            "root": self.root,
            "started_utc": self.started_utc,
            "finished_utc": self.finished_utc,
            "interrupted": bool(self.interrupted),
            "scheduler": self.scheduler,
            "machine": json_safe(self.machine),
            "methods": self.methods if self.methods == "auto" else list(self.methods),
            "parameters": json_safe(self.parameters),
            "models": json_safe(self.models),
            "method_info": method_info(self.method_names()),
            "summary": self.counts(),
            "excluded": json_safe(self.excluded),
            "pending": list(self.pending),
            "files": [r.to_dict(timings=timings) for r in self.files],
        }
        return out if timings else without_timings(out)

    def to_json(
        self, path: str | os.PathLike | None = None, *, timings: bool = True, indent: int | None = 1
    ) -> str:
        """JSON text of :meth:`to_dict` (strict JSON), written to ``path`` when given.

        >>> json.loads(CaseReport().to_json())["files"]
        []
        """
        text = json.dumps(self.to_dict(timings=timings), allow_nan=False, indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def _anchor(self, i: int, method: str | None = None) -> str:
        return f"file-{i}" if method is None else f"file-{i}-{re.sub(r'[^A-Za-z0-9]+', '-', method)}"

    def _summary_html(self) -> str:
        c = self.counts()
        verdicts = ", ".join(f"{v}: {n}" for v, n in c["verdicts"].items()) or "none"
        custody = (
            f"<span class='ok'>all {c['unchanged']} inputs unchanged</span>"
            if c["unchanged"] == c["files"] - sum(not r.custody for r in self.files) and not c["changed"]
            else f"<span class='bad'>{c['changed']} input(s) CHANGED during the analysis</span>"
        )
        parts = [
            f"<p><b>{c['files']} file(s)</b>: {c['analysed']} analysed, {c['skipped']} skipped (not media), "
            f"{c['errors']} unreadable · {c['method_runs']} method results, "
            f"{c['method_errors']} method errors"
            f" · verdicts: {html.escape(verdicts)} · {custody}</p>"
        ]
        if c["damaged"]:
            parts.append(
                f"<p class='bad'>{c['damaged']} file(s) with a damaged stream: the methods that need an "
                "intact stream are inconclusive there, the others describe only what decoded</p>"
            )
        if self.interrupted:
            parts.append(
                f"<p class='bad'>Interrupted: {len(self.pending)} file(s) not analysed "
                f"({html.escape(', '.join(self.pending[:10]))}{' …' if len(self.pending) > 10 else ''})</p>"
            )
        return "\n".join(parts)

    def _table_html(self) -> str:
        head = "".join(
            f"<th>{h}</th>" for h in ("file", "method", "verdict", "score", "threshold", "key figure", "s")
        )
        body = []
        for i, r in enumerate(self.files):
            link = f"<a href='#{self._anchor(i)}'>{html.escape(r.relpath)}</a>"
            if not r.methods:
                what = r.note or (f"{r.error['type']}: {r.error['message']}" if r.error else "")
                body.append(
                    f"<tr><td>{link}</td><td class='{_verdict_class(r.status, None)}'>{html.escape(r.status)}"
                    f"</td><td></td><td></td><td></td><td>{html.escape(what)}</td><td>{r.seconds:.2f}</td></tr>"
                )
            for m in r.methods:
                cls = _verdict_class(m.status, m.verdict)
                shown = m.verdict or ("error" if m.status == "error" else "n/a" if m.status != "ok" else "")
                text = m.summary if m.status == "ok" else (m.reason or "")
                body.append(
                    f"<tr><td>{link}</td>"
                    f"<td><a href='#{self._anchor(i, m.method)}'>{html.escape(m.method)}</a>"
                    f"</td><td class='{cls}'>{html.escape(shown)}</td><td>{_fmt(m.score)}</td>"
                    f"<td>{_fmt(m.threshold)}</td><td>{html.escape(text)}</td><td>{m.seconds:.2f}</td></tr>"
                )
        return f"<table class='case'><tr>{head}</tr>{''.join(body)}</table>"

    def _header_html(self) -> str:
        mach = self.machine or {}
        gpu = ", ".join(mach.get("gpus") or []) or "none"
        rows = [
            ("case folder", self.root),
            ("toolkit", self.toolkit_version),
            ("started / finished (UTC)", f"{self.started_utc} / {self.finished_utc}"),
            (
                "machine",
                f"{mach.get('hostname', '')} · {mach.get('platform', '')} · Python {mach.get('python', '')}",
            ),
            ("CPU", f"{mach.get('cpu', '')} ({mach.get('cpu_count', '?')} cores)"),
            ("GPU", gpu),
            ("torch", mach.get("torch") or ""),
            ("scheduler", self.scheduler or "serial"),
            ("methods", self.methods if self.methods == "auto" else ", ".join(self.methods)),
        ]
        trs = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        extra = ""
        if self.excluded:
            items = "".join(
                f"<li>{html.escape(e['path'])}: {html.escape(e['reason'])}</li>" for e in self.excluded
            )
            extra = f"<p>Left out of the case:</p><ul>{items}</ul>"
        params = html.escape(json.dumps(json_safe(self.parameters), indent=1))
        models = html.escape(json.dumps(json_safe(self.models), indent=1))
        return (
            f"<table class='case custody'>{trs}</table>{extra}"
            f"<details><summary>parameters of every method</summary><pre>{params}</pre></details>"
            f"<details><summary>models (weights and SHA-256)</summary><pre>{models}</pre></details>"
        )

    def _file_html(self, i: int, r, *, figures: bool, js: list | None = None) -> str:
        info = method_info([m.method for m in r.methods])
        cu = r.custody or {}
        if cu:
            ok = cu.get("unchanged")
            mark = "<span class='ok'>unchanged</span>" if ok else "<span class='bad'>CHANGED</span>"
            custody = (
                f"<tr><td>SHA-256 before</td><td><code>{cu.get('sha256_before')}</code></td></tr>"
                f"<tr><td>SHA-256 after</td><td><code>{cu.get('sha256_after')}</code> {mark}</td></tr>"
                f"<tr><td>size / mtime</td><td>{cu.get('size_bytes')} bytes · {cu.get('mtime_utc')}</td></tr>"
            )
        else:
            custody = "<tr><td>custody</td><td>not read</td></tr>"
        media = ", ".join(
            f"{k} {v}"
            for k, v in (r.media or {}).items()
            if k not in ("kind", "reason") and v not in ("", None, 0)
        )
        if media:
            custody += f"<tr><td>media</td><td>{html.escape(media)}</td></tr>"
        parts = [
            f"<section class='file' id='{self._anchor(i)}'>",
            f"<h2>{i + 1}. {html.escape(r.relpath)} "
            f"<small>({html.escape(r.kind)}, {html.escape(r.status)})</small></h2>",
            f"<table class='case custody'>{custody}</table>",
        ]
        if r.note:
            parts.append(f"<p class='note'>Skipped: {html.escape(r.note)}</p>")
        if r.damage:
            parts.append(f"<p class='bad'>Stream damaged: {html.escape('; '.join(r.damage))}</p>")
        if r.error:
            parts.append(
                f"<p class='v-error'>{html.escape(r.error['type'])}: {html.escape(r.error['message'])}</p>"
            )
        if r.not_applicable:
            by_reason: dict[str, list[str]] = {}
            for k, v in r.not_applicable.items():
                by_reason.setdefault(v, []).append(k)
            items = "; ".join(f"{', '.join(ks)} ({v})" for v, ks in by_reason.items())
            parts.append(f"<p class='note'>Not run: {html.escape(items)}</p>")
        for m in r.methods:
            parts.append(self._method_html(i, m, info.get(m.method, {}), figures=figures, js=js))
        parts.append("</section>")
        return "\n".join(parts)

    def _method_html(self, i: int, m, info: dict, *, figures: bool, js: list | None) -> str:
        cls = _verdict_class(m.status, m.verdict)
        title = html.escape(info.get("title", ""))
        parts = [
            f"<div class='method' id='{self._anchor(i, m.method)}'>",
            f"<h3>{html.escape(m.method)} — {title}</h3>",
        ]
        if m.status == "ok":
            parts.append(f"<p class='{cls}'>{html.escape(m.summary)}</p>")
            bits = [f"verdict <b>{html.escape(m.verdict)}</b>" if m.verdict else "describes, does not decide"]
            if m.score is not None:
                bits.append(f"score {_fmt(m.score)}")
            if m.threshold is not None:
                bits.append(f"threshold {_fmt(m.threshold)}")
            bits.append(f"{m.seconds:.2f} s")
            parts.append(f"<p>{' · '.join(bits)}</p>")
            if m.reason:
                parts.append(f"<p class='note'>{html.escape(m.reason)}</p>")
        elif m.status == "error":
            parts.append(
                f"<p class='v-error'>error {html.escape(m.error['type'])}: "
                f"{html.escape(m.error['message'])}</p>"
            )
        else:
            parts.append(f"<p class='note'>not applicable: {html.escape(m.reason or '')}</p>")
        if info:
            parts.append(
                f"<p class='explain'><b>What it means.</b> {html.escape(info['explanation'])}<br>"
                f"<b>Source.</b> {html.escape(info['citation'])} ({html.escape(info['seed'])})</p>"
            )
        for w in m.warnings:
            parts.append(f"<p class='note'>warning: {html.escape(w)}</p>")
        if figures and m.result is not None:
            include = False
            if js is not None and not js:
                include, _ = True, js.append(True)
            div, note = figure_html(
                m.result, div_id=f"fig-{self._anchor(i, m.method)}", include_plotlyjs=include
            )
            if not div and include:
                js.clear()
            parts.append(div)
            if note:
                parts.append(f"<p class='note'>({html.escape(note)})</p>")
        if m.result is not None:
            try:
                parts.append(m.result.table().to_html(max_rows=12, max_cols=12, classes="case", border=0))
            except Exception as e:
                parts.append(f"<p class='note'>(table unavailable: {html.escape(str(e))})</p>")
        params = html.escape(json.dumps(m.params, default=str))
        parts.append(f"<details><summary>parameters</summary><pre>{params}</pre></details></div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        sections = "\n".join(self._file_html(i, r, figures=False) for i, r in enumerate(self.files))
        return (
            f"<div class='case-report'><style>{_CSS}</style><h3>Case {html.escape(self.root)}</h3>"
            f"{self._summary_html()}{self._table_html()}"
            f"<details><summary>custody header</summary>{self._header_html()}</details>"
            f"<p class='note'>Figures: <code>report.section(path)</code> in a notebook, or "
            f"<code>report.save_html(file)</code>.</p>{sections}</div>"
        )

    def section(self, path: str | os.PathLike) -> FileSection:
        """One file's section with its figures, for a notebook cell (``KeyError`` for an unknown file).

        >>> from toolkit.case import analyze
        >>> rep = analyze("sample_data/images/rocket.png", methods="residual.heatmap", progress=False)
        >>> "residual.heatmap" in rep.section("rocket.png")._repr_html_()
        True
        """
        rec = self.file(path)
        return FileSection(self, self.files.index(rec))

    def to_html(self) -> str:
        """The whole exhibit as one self-contained HTML document (see :meth:`save_html`)."""
        import plotly.offline

        sections = [self._file_html(i, r, figures=True, js=None) for i, r in enumerate(self.files)]
        body = "\n".join(sections)
        bundle = ""
        if "plotly-graph-div" in body:  # plotly.js once, in the head, from the installed package
            bundle = f"<script type='text/javascript'>{plotly.offline.get_plotlyjs()}</script>"
        title = f"Case report: {html.escape(os.path.basename(self.root) or self.root)}"
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{title}</title>"
            f"<style>{_PAGE_CSS}{_CSS}</style>{bundle}</head><body><div class='case-report'>"
            f"<h1>{title}</h1>{self._header_html()}<h2>Summary</h2>{self._summary_html()}{self._table_html()}"
            f"{body}<p class='note'>Made by forensics-toolkit {html.escape(self.toolkit_version)} · schema "
            f"{SCHEMA_VERSION}</p></div></body></html>\n"
        )

    def save_html(self, path: str | os.PathLike) -> Path:
        """Write the exhibit: ONE self-contained HTML file that opens offline (plotly.js inlined once
        from the installed package, no CDN, no remote URL); returns the path.

        >>> import tempfile
        >>> from toolkit.case import analyze
        >>> rep = analyze("sample_data/images/rocket.png", methods="residual.heatmap", progress=False)
        >>> out = rep.save_html(Path(tempfile.mkdtemp()) / "case.html")
        >>> page = out.read_text()
        >>> page.count("plotly-graph-div"), "<script src=" in page, "<iframe" in page
        (1, False, False)
        """
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.to_html(), encoding="utf-8")
        return out


class FileSection:
    """One file's section of a :class:`CaseReport` (figures included), shown by a notebook cell."""

    _js_sent = False

    def __init__(self, report: CaseReport, index: int):
        self.report, self.index = report, index
        self.record = report.files[index]

    def _repr_html_(self) -> str:
        js = [] if not FileSection._js_sent else [True]
        text = self.report._file_html(self.index, self.record, figures=True, js=js)
        if js:
            FileSection._js_sent = True
        return f"<div class='case-report'><style>{_CSS}</style>{text}</div>"
