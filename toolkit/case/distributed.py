"""The case analysis on a Dask cluster: one task per file, any scheduler.

:func:`run` maps :func:`toolkit.case.core.analyze_file` over the files of a
case with `dask.distributed <https://distributed.dask.org>`_ and gives back
the same :class:`~toolkit.case.core.FileRecord` list the serial loop of
:func:`toolkit.case.analyze` makes, in plan order. ``scheduler="local"``
starts a :class:`distributed.LocalCluster` sized to the machine
(:func:`local_cluster`: one worker process per core, one torch thread each)
and closes it afterwards; an address
(``"tcp://host:8786"``) connects to a running scheduler whose workers see the
case files under the same paths (``docs/scale-out.md``). A task that fails
(the function raised, a worker died) becomes a record with the error; the
case never aborts. Ctrl-C cancels the tasks still pending and returns the
records finished so far (``.interrupted`` is then ``True``).

Models named in ``models=`` are loaded once per worker process, by the
per-process cache of :func:`toolkit.case.models.get_model`; model objects are
sent to every worker once (scattered), not with every task.

Dask is imported only when :func:`run` is called: ``toolkit`` imports without it.

>>> from toolkit.case.distributed import run, default_workers
>>> run([], scheduler="local")  # nothing to do: no cluster is started
[]
>>> default_workers() >= 1
True
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Mapping

__all__ = [
    "run",
    "local_cluster",
    "Records",
    "default_workers",
    "DASK_MISSING",
    "WORKER_CONFIG",
    "WORKER_ENV",
]

#: the message of the ImportError raised when dask.distributed is not installed
DASK_MISSING = (
    'the Dask scheduler needs dask.distributed: pip install "dask[distributed]" '
    "(it is in requirements.txt); or run the case serially (scheduler=None)"
)


class Records(list):
    """The list :func:`run` returns: FileRecords in plan order, plus :attr:`interrupted`.

    >>> r = Records([1, 2]); r.interrupted
    False
    """

    #: True when Ctrl-C stopped the run: the list then holds only the files that finished
    interrupted: bool = False


def default_workers() -> int:
    """Worker processes ``scheduler="local"`` starts: the cores this process may use.

    >>> isinstance(default_workers(), int)
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _toolkit_version() -> str:
    import toolkit

    return toolkit.__version__


_BAD_SCHEDULER = (
    "scheduler must be 'local', a scheduler address such as 'tcp://host:8786', a distributed.Client "
    "or a Dask cluster; got {!r}"
)


def _check_scheduler(scheduler) -> None:
    """ValueError unless ``scheduler`` looks like one :func:`run` takes (without importing Dask).

    >>> _check_scheduler(42)
    Traceback (most recent call last):
    ...
    ValueError: scheduler must be 'local', a scheduler address such as 'tcp://host:8786', ...
    """
    if isinstance(scheduler, str) and scheduler.strip():
        return
    client_like = hasattr(scheduler, "submit") and hasattr(scheduler, "map")
    if client_like or hasattr(scheduler, "scheduler_address"):
        return
    raise ValueError(_BAD_SCHEDULER.format(scheduler))


#: Dask configuration of the workers :func:`local_cluster` starts. Dask's nanny sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers to hand freed memory back to the system sooner;
#: fixing that threshold also turns off glibc's adaptive mmap threshold, so every large array
#: torch or NumPy allocates is a fresh mmap: the FOCAL networks then ran 2-2.5x slower in a
#: worker than in a plain process (measured on the project's 2-core machine). The case's
#: workers keep glibc's default; ``OMP_NUM_THREADS=1`` (one torch thread per worker process)
#: stays as Dask sets it.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: environment of those workers: one OpenMP / MKL / OpenBLAS thread per worker process (one
#: process per core), whatever the client's environment says
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def local_cluster(n_workers: int | None = None, **kwargs):
    """The ``distributed.LocalCluster`` of ``scheduler="local"``: ``n_workers`` processes (default
    :func:`default_workers`), one thread each, with :data:`WORKER_CONFIG` and :data:`WORKER_ENV`;
    close it after use.

    ``kwargs`` go to ``LocalCluster`` (e.g. ``memory_limit="4GiB"``).

    >>> with local_cluster(1) as cluster:
    ...     len(cluster.workers), cluster.scheduler_address.startswith("tcp://")
    (1, True)
    """
    import dask
    from distributed import LocalCluster

    n = default_workers() if n_workers is None else int(n_workers)
    if n < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers!r}")
    options = dict(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
        env=dict(WORKER_ENV),
    )
    with dask.config.set(WORKER_CONFIG):
        return LocalCluster(**{**options, **kwargs})


def _connect(scheduler, n_workers: int | None):
    """``(client, cluster_or_None, owns_client)`` for a scheduler spec."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, None, False
    if isinstance(scheduler, str) and scheduler.strip().lower() == "local":
        cluster = local_cluster(n_workers)
        try:
            return Client(cluster), cluster, True
        except BaseException:
            cluster.close()
            raise
    if isinstance(scheduler, str) and scheduler.strip():
        return Client(scheduler.strip()), None, True
    if hasattr(scheduler, "scheduler_address"):  # a cluster object (LocalCluster, SSHCluster, ...)
        return Client(scheduler), None, True
    raise ValueError(_BAD_SCHEDULER.format(scheduler))


def _check_workers(client) -> None:
    """RuntimeError when a connected worker runs another toolkit version (or none)."""
    mine = _toolkit_version()
    try:
        theirs = client.run(_toolkit_version)
    except Exception as e:  # the worker cannot import toolkit
        raise RuntimeError(
            f"the Dask workers cannot run the toolkit ({type(e).__name__}: {e}); install the same "
            f"toolkit ({mine}) and requirements on every worker (docs/scale-out.md)"
        ) from e
    other = {w: v for w, v in theirs.items() if v != mine}
    if other:
        raise RuntimeError(
            f"Dask workers run another toolkit version than this client ({mine}): {other}; "
            "install the same version on every worker (docs/scale-out.md)"
        )


def _names_only(spec) -> bool:
    """True when a ``models=`` spec holds only weights names / files (cheap to send with each task).

    >>> _names_only({"fsvm": "fsvm/simulated", "focal.temporal": {"codec": "focal/codec"}})
    True
    >>> _names_only({"fsvm": object()})
    False
    """
    if spec is None or isinstance(spec, (str, os.PathLike)):
        return True
    if isinstance(spec, Mapping):
        return all(_names_only(v) for v in spec.values())
    return False


def _failed_record(path: str, error: BaseException, *, methods, root):
    """The FileRecord of a file whose Dask task failed."""
    from toolkit.case.core import failed_record

    return failed_record(path, error, methods=methods, root=root, stage="dask task")


def run(
    paths: Iterable[str | os.PathLike],
    methods="auto",
    params: Mapping | None = None,
    scheduler="local",
    progress: bool = True,
    *,
    models: Mapping | None = None,
    root: str | os.PathLike | None = None,
    n_workers: int | None = None,
) -> Records:
    """Analyse ``paths`` on a Dask cluster, one task per file, and return their records in plan order.

    Parameters
    ----------
    paths : file paths, in plan order (:func:`toolkit.case.core.plan`). Workers open
        them as given: on a remote cluster use paths every worker sees (a shared folder).
    methods, params, models, root : passed to :func:`toolkit.case.core.analyze_file`
        for every file (``models`` objects are scattered to the workers once).
    scheduler : ``"local"`` (a :class:`distributed.LocalCluster` of ``n_workers``
        processes, one thread each, closed afterwards), a scheduler address
        (``"tcp://host:8786"``), a :class:`distributed.Client` (used, left open) or a
        Dask cluster object.
    progress : show a tqdm bar (files done / total).
    n_workers : worker processes for ``"local"`` (default :func:`default_workers`).

    Returns
    -------
    Records
        A list of ``FileRecord``, one per path, in the order of ``paths``; a failed task
        gives a record with its error. After Ctrl-C it holds the finished files only
        (still in plan order) and ``.interrupted`` is ``True``.

    Raises
    ------
    ImportError
        dask.distributed is not installed (:data:`DASK_MISSING`).
    ValueError
        ``scheduler`` is none of the above.
    RuntimeError
        A worker cannot import the toolkit, or runs another version of it.

    Examples
    --------
    >>> from toolkit.case.distributed import run
    >>> recs = run(["sample_data/images/rocket.png"], scheduler="local", n_workers=1,
    ...            progress=False)  # doctest: +SKIP
    >>> [r.path for r in recs]  # doctest: +SKIP
    ['sample_data/images/rocket.png']
    """
    _check_scheduler(scheduler)
    paths = [os.fspath(p) for p in paths]
    out = Records()
    if not paths:
        return out
    try:
        from distributed import as_completed
    except ImportError as e:
        raise ImportError(DASK_MISSING) from e
    from tqdm.auto import tqdm

    from toolkit.case import core

    params = dict(params) if params is not None else None
    root = os.fspath(root) if root is not None else None
    client, cluster, owns = _connect(scheduler, n_workers)
    futures = []
    try:
        _check_workers(client)
        task_models = None if models is None else dict(models)
        if models is not None and not _names_only(task_models):
            # model objects: sent to every worker once (scattered), not pickled into every task
            [task_models] = client.scatter([task_models], broadcast=True, hash=False)
        futures = client.map(
            core.analyze_file,
            paths,
            pure=False,
            methods=methods,
            params=params,
            models=task_models,
            root=root,
        )
        index = {f.key: i for i, f in enumerate(futures)}
        done: list = [None] * len(paths)
        bar = tqdm(total=len(paths), desc="case (dask)", unit="file", disable=not progress)
        try:
            for fut in as_completed(futures):
                i = index[fut.key]
                try:
                    done[i] = fut.result()
                except (Exception, asyncio.CancelledError) as e:
                    done[i] = _failed_record(paths[i], e, methods=methods, root=root)
                fut.release()
                bar.update(1)
        except KeyboardInterrupt:
            out.interrupted = True
            client.cancel([f for f in futures if not f.done()])
        finally:
            bar.close()
        out.extend(r for r in done if r is not None)
        return out
    finally:
        if owns:
            client.close()
        if cluster is not None:
            cluster.close()
