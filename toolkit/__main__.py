"""Command line of the toolkit.

``python -m toolkit analyze CASE_DIR --out report.html [--json report.json] [--methods vpf,focal-temporal]
[--scheduler local|tcp://HOST:8786] [--model fsvm=fsvm/simulated] [--params JSON] [--no-progress]``
analyses a file or a folder of evidence (:func:`toolkit.case.analyze`) and writes the
self-contained HTML exhibit (and the JSON report); ``python -m toolkit methods`` lists the
registered methods. Method names accept "-" for "." (``focal-temporal`` is ``focal.temporal``).

Exit status: 2 for a usage error (unknown option or method, missing case folder, unusable
scheduler), 0 otherwise, even when files of the case fail (they are rows of the report).

>>> main(["methods"])  # doctest: +ELLIPSIS
video.macroblocks  video  ...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m toolkit``.

    >>> build_parser().parse_args(["analyze", "case", "--out", "r.html"]).methods
    'auto'
    """
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Multimedia forensics toolkit: analyse a case folder, list the methods.",
    )
    from toolkit import __version__

    parser.add_argument("--version", action="version", version=f"forensics-toolkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{analyze,methods}")
    a = sub.add_parser(
        "analyze",
        help="analyse a file or a folder of evidence, write the HTML exhibit (and JSON)",
        description=(
            "Run every applicable registered method on each file of CASE_DIR (recursively) and write "
            "one self-contained HTML exhibit; broken files become rows with their error."
        ),
    )
    a.add_argument("case", metavar="CASE_DIR", help="a folder of evidence (walked recursively) or one file")
    a.add_argument("--out", required=True, metavar="report.html", help="the HTML exhibit to write")
    a.add_argument("--json", metavar="report.json", help="also write the JSON report (schema version 1)")
    a.add_argument(
        "--methods",
        default="auto",
        metavar="NAMES",
        help="'auto' (default) or comma-separated method names, e.g. vpf,focal-temporal",
    )
    a.add_argument(
        "--scheduler",
        default=None,
        metavar="local|tcp://HOST:8786",
        help="run one Dask task per file: 'local' (a LocalCluster on this machine) or a scheduler address",
    )
    a.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="METHOD=WEIGHTS",
        help="model of a method, e.g. fsvm=fsvm/simulated or fsvm=my_fsvm.pt (repeatable)",
    )
    a.add_argument(
        "--params",
        default=None,
        metavar="JSON",
        help='parameters per method over the case defaults, e.g. \'{"focal-temporal": {"count": 32}}\'',
    )
    a.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub.add_parser("methods", help="list the registered methods")
    parser.analyze_parser = a  # usage errors of ``analyze`` print its own usage line
    return parser


def _methods_text() -> str:
    import toolkit.methods as registry

    rows = [(m.name, m.input_kind, m.seed, m.title) for m in map(registry.get, registry.names())]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}" for a, b, c, d in rows)


def _models(parser, items: list[str]) -> dict | None:
    from toolkit.case.core import resolve_methods

    out = {}
    for item in items:
        name, sep, weights = item.partition("=")
        if not sep or not name.strip() or not weights.strip():
            parser.error(f"--model takes METHOD=WEIGHTS, got {item!r}")
        try:
            (method,) = resolve_methods(name)
        except ValueError as e:
            parser.error(str(e))
        out[method] = weights.strip()
    return out or None


def _params(parser, text: str | None) -> dict | None:
    from toolkit.case.core import resolve_params

    if not text:
        return None
    try:
        value = json.loads(Path(text).read_text(encoding="utf-8") if Path(text).is_file() else text)
        return resolve_params(value)
    except (json.JSONDecodeError, ValueError) as e:
        parser.error(f"--params: {e}")
    return None  # pragma: no cover


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits with 2 on a usage error).

    >>> main(["analyze", "sample_data/no_such_case", "--out", "x.html"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "methods":
        print(_methods_text())
        return 0

    from toolkit.case import analyze
    from toolkit.case.core import resolve_methods

    parser = getattr(parser, "analyze_parser", parser)
    case = Path(args.case).expanduser()
    if not case.exists():
        parser.error(f"no such case folder or file: {args.case!r}")
    try:
        methods = resolve_methods(args.methods)
    except ValueError as e:
        parser.error(f"--methods: {e}")
    models = _models(parser, args.model)
    params = _params(parser, args.params)
    try:
        report = analyze(
            case,
            methods,
            params=params,
            models=models,
            progress=not args.no_progress,
            scheduler=args.scheduler,
        )
    except (ImportError, OSError, ValueError, RuntimeError, TimeoutError) as e:
        if args.scheduler is None:
            raise
        parser.error(f"--scheduler {args.scheduler}: {type(e).__name__}: {e}")
    out = report.save_html(args.out)
    written = [str(out)]
    if args.json:
        report.to_json(args.json)
        written.append(str(args.json))
    c = report.counts()
    print(
        f"{c['files']} file(s): {c['analysed']} analysed, {c['skipped']} skipped, {c['errors']} unreadable; "
        f"{c['method_runs']} results, {c['method_errors']} method errors; "
        f"{'all inputs unchanged' if not c['changed'] else str(c['changed']) + ' input(s) CHANGED'}"
        f"{'; INTERRUPTED' if report.interrupted else ''}. Wrote {', '.join(written)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
