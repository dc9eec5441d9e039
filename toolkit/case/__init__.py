"""Case analysis: one call over a file or a folder of evidence, a self-contained HTML exhibit.

:func:`analyze` walks a folder (recursive, stable order), runs every applicable registered
method (:mod:`toolkit.methods`) on each file with bounded case defaults
(:data:`~toolkit.case.core.CASE_DEFAULTS`), keeps the chain of custody (SHA-256 before and
after, size, mtime, toolkit version, parameters, model hashes, machine, wall times) and returns
a :class:`CaseReport`: ``table()``, ``save_html(path)`` (one self-contained file that opens
offline), ``to_json(path)`` (schema ``toolkit/case/schema/case-report-v1.json``). A broken file
is a row with its typed error; Ctrl-C returns the files done so far. ``scheduler="local"`` or an
address runs one Dask task per file (:mod:`toolkit.case.distributed`). Command line:
``python -m toolkit analyze CASE_DIR --out report.html``.

Modules: :mod:`~toolkit.case.core` (plan, :func:`~toolkit.case.core.analyze_file`, records),
:mod:`~toolkit.case.models` (models loaded once per process), :mod:`~toolkit.case.report`
(:class:`CaseReport`, HTML, JSON schema), :mod:`~toolkit.case.distributed` (Dask).

>>> from toolkit.case import analyze
>>> report = analyze("sample_data/images/rocket.png", methods="residual.heatmap", progress=False)
>>> report.files[0].custody["unchanged"], report.table()["verdict"].tolist()
(True, ['not_detected'])
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from toolkit.case.core import (
    CASE_DEFAULTS,
    FileRecord,
    MethodRecord,
    analyze_file,
    case_params,
    machine,
    plan,
    relative_path,
    resolve_methods,
    resolve_params,
    utc_now,
    walk,
)
from toolkit.case.models import collect_models, describe_params
from toolkit.case.report import SCHEMA_VERSION, CaseReport, load_schema, validate

__all__ = [
    "analyze",
    "analyze_file",
    "plan",
    "CaseReport",
    "FileRecord",
    "MethodRecord",
    "CASE_DEFAULTS",
    "SCHEMA_VERSION",
    "load_schema",
    "validate",
]


def _scheduler_name(scheduler) -> str | None:
    """``None``, ``"local"``, an address, or the address of a given Dask client / cluster."""
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    address = getattr(getattr(scheduler, "scheduler", None), "address", None)
    address = address or getattr(scheduler, "scheduler_address", None)
    return str(address) if address else type(scheduler).__name__


def _distributed_run(paths, names, params, models, root, scheduler, progress):
    """Records (plan order) and the interrupted flag of :func:`toolkit.case.distributed.run`."""
    import inspect

    from toolkit.case import distributed

    kwargs = {}
    accepted = inspect.signature(distributed.run).parameters
    if "models" in accepted:
        kwargs["models"] = models
    elif models:
        raise NotImplementedError("toolkit.case.distributed.run takes no models=; run serially")
    if "root" in accepted:
        kwargs["root"] = str(root)
    records = distributed.run(paths, names, params, scheduler, progress, **kwargs)
    return list(records), bool(getattr(records, "interrupted", False))


def analyze(
    path_or_folder: str | os.PathLike,
    methods="auto",
    *,
    params: Mapping | None = None,
    models: Mapping | None = None,
    progress: bool = True,
    scheduler=None,
) -> CaseReport:
    """Analyse a file or a folder of evidence and return its :class:`CaseReport`.

    Parameters
    ----------
    path_or_folder : a file, or a folder walked recursively (:func:`plan`: sorted by relative
        path, hidden entries skipped, links leading outside the folder left out and listed).
    methods : ``"auto"`` (every registered method that applies to each file; F-SVM only with a
        model, city verification only with references) or registry names (a list or a
        comma-separated string; "-" for "."). See :func:`analyze_file`.
    params : method name -> parameters, over :data:`CASE_DEFAULTS`.
    models : method name -> model object or weights name (``{"fsvm": "fsvm/simulated"}``),
        loaded once per process / Dask worker.
    progress : show a tqdm bar.
    scheduler : ``None`` (serial, here), ``"local"`` (a Dask LocalCluster sized to the machine)
        or a Dask scheduler address (``"tcp://host:8786"``): one task per file
        (:func:`toolkit.case.distributed.run`), the same records as the serial run.

    Returns
    -------
    CaseReport
        Every file's record in plan order; after Ctrl-C (KeyboardInterrupt) the files done so
        far, with ``interrupted=True`` and the others listed in ``pending``.

    Raises
    ------
    FileNotFoundError
        ``path_or_folder`` does not exist.
    ValueError
        An unknown method name in ``methods`` or ``params``.

    Examples
    --------
    >>> report = analyze("sample_data/images", methods=["residual.heatmap"], progress=False)
    >>> report.table()[["path", "verdict"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['rocket.png', 'not_detected'], ['rocket_median5.mask.png', 'manipulated'],
     ['rocket_median5.png', 'manipulated']]
    """
    names = resolve_methods(methods)
    params = resolve_params(params)
    started = utc_now()
    root, paths, excluded = walk(path_or_folder)
    records: list[FileRecord] = []
    interrupted = False
    if scheduler is not None:
        try:
            records, interrupted = _distributed_run(paths, names, params, models, root, scheduler, progress)
        except KeyboardInterrupt:
            interrupted = True
        records = [r.with_root(root) for r in records]
    else:
        from tqdm.auto import tqdm

        bar = tqdm(paths, desc="case", unit="file", disable=not progress)
        try:
            for path in bar:
                bar.set_postfix_str(relative_path(path, root)[-40:], refresh=False)
                records.append(analyze_file(path, names, params, models, root))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar.close()
    done = {r.path for r in records}
    import toolkit.methods as registry

    ran = registry.names() if names == "auto" else list(names)
    return CaseReport(
        files=records,
        root=str(root),
        methods=names if names == "auto" else list(names),
        parameters={name: describe_params(case_params(name, params)) for name in ran},
        models=collect_models(records),
        scheduler=_scheduler_name(scheduler),
        started_utc=started,
        finished_utc=utc_now(),
        interrupted=interrupted,
        excluded=excluded,
        pending=[relative_path(p, root) for p in paths if p not in done],
        machine=machine(),
    )
