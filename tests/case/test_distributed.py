"""The case analysis on Dask (``toolkit.case.distributed``) gives the serial run's records.

A small case — a clip encoded once, a double-encoded clip, a manipulated PNG, a text file
renamed .mp4, a truncated clip and a note — is analysed serially and on a 2-worker
``LocalCluster``: the records must be equal, field for field, minus the timings. The serial
reference runs with one torch / BLAS thread, as Dask's worker processes do
(``OMP_NUM_THREADS=1``): with another thread count float32 sums are added in another order and
the last bits of some probabilities differ.

Further: a failing task (the function raised, a worker died) is a row with the error; Ctrl-C
returns the finished files and cancels the rest; weights load once per worker, not per task;
model objects travel to the workers; a worker with another toolkit version is refused;
``toolkit`` imports without Dask.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in requirements.txt")

from toolkit.case import core  # noqa: E402
from toolkit.case.distributed import DASK_MISSING, WORKER_CONFIG, Records, local_cluster, run  # noqa: E402

# the helpers below run on the workers (client.run), which cannot import this test module:
# send them by value
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


def _records(recs) -> list[dict]:
    return [r.to_dict(timings=False) for r in recs]


def _one_thread():
    """Context: one torch thread and one BLAS / OpenMP thread here, as in a Dask worker."""
    import contextlib

    import torch
    from threadpoolctl import threadpool_limits

    @contextlib.contextmanager
    def ctx():
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with threadpool_limits(1):
                yield
        finally:
            torch.set_num_threads(before)

    return ctx()


@pytest.fixture(scope="module")
def case(tmp_path_factory, moving_frames):
    """``(root, paths)``: a small case covering every kind of row."""
    from toolkit.synth import double_encode, encode

    root = tmp_path_factory.mktemp("dask_case")
    (root / "clips").mkdir()
    encode(moving_frames[:24], root / "clips" / "single.mp4", codec="h264", quality=22, gop=8)
    double_encode(
        moving_frames[:24],
        root / "clips" / "double.mp4",
        {"codec": "mpeg2", "quality": 3, "gop": 6},
        {"codec": "h264", "quality": 22, "gop": 8},
    )
    shutil.copy(SAMPLE / "images" / "rocket_median5.png", root / "rocket_median5.png")
    (root / "notes.mp4").write_text("this is a text file, not a video\n")
    data = (SAMPLE / "single" / "single_h264.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[:4000])
    (root / "README.txt").write_text("case notes\n")
    paths = core.plan(root)
    assert len(paths) == 7  # double_encode also writes double.mp4.json (a sidecar: skipped, not media)
    return root, paths


@pytest.fixture(scope="module")
def serial(case):
    root, paths = case
    with _one_thread():
        return [core.analyze_file(p, "auto", None, None, root) for p in paths]


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker LocalCluster reached by its address (the 'any running scheduler' path)."""
    from distributed import Client

    with local_cluster(2) as c:
        with Client(c) as client:
            client.wait_for_workers(2)
            yield c.scheduler_address, client


def test_local_cluster_equals_the_serial_run(case, serial):
    root, paths = case
    recs = run(paths, "auto", None, "local", False, root=root, n_workers=2)
    assert isinstance(recs, Records) and not recs.interrupted
    assert [r.path for r in recs] == paths  # plan order
    assert _records(recs) == _records(serial)
    # the case is not trivial: every kind of row is there
    by_name = {Path(r.path).name: r for r in recs}
    assert by_name["README.txt"].status == "skipped"
    assert by_name["notes.mp4"].status == "error" and by_name["notes.mp4"].error["type"] == "VideoReadError"
    assert by_name["truncated.mp4"].status == "error"
    assert by_name["rocket_median5.png"].method("residual.heatmap").verdict == "manipulated"
    assert by_name["double.mp4"].method("vpf").status == "ok"
    assert all(r.custody["unchanged"] for r in recs if r.custody)
    # the Results travel too (the report draws its figures from them)
    assert by_name["double.mp4"].method("vpf").result is not None


def _wait_idle(client, timeout: float = 60.0) -> None:
    """Until no worker executes a task (a cancelled task runs on to its end on its worker)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = client.run(lambda dask_worker: len(dask_worker.state.executing))
        if not any(busy.values()):
            return
        time.sleep(0.2)
    raise TimeoutError(f"workers still busy after {timeout} s: {busy}")


def test_address_scheduler_and_the_public_analyze(case, cluster):
    from toolkit.case import analyze

    root, paths = case
    address, _ = cluster
    with _one_thread():
        serial = analyze(root, progress=False)
    dist = analyze(root, progress=False, scheduler=address)
    assert not dist.interrupted and dist.pending == []
    assert _records(dist.files) == _records(serial.files)
    cols = ["path", "method", "verdict", "score", "threshold", "key_figure", "error"]
    assert dist.table()[cols].equals(serial.table()[cols])


def _fail_on(name: str, how: str):
    """A function for ``client.run``: make the worker's ``analyze_file`` fail on files called ``name``."""

    def patch():
        import os

        import toolkit.case.core as c

        original = getattr(c, "_original_analyze_file", c.analyze_file)
        c._original_analyze_file = original

        def analyze_file(path, *args, **kwargs):
            if os.path.basename(str(path)) == name:
                if how == "die":
                    os._exit(3)
                raise RuntimeError(f"injected failure on {name}")
            return original(path, *args, **kwargs)

        c.analyze_file = analyze_file

    return patch


def _restore():
    import toolkit.case.core as c

    if hasattr(c, "_original_analyze_file"):
        c.analyze_file = c._original_analyze_file


def test_a_failing_task_becomes_a_row(case, serial, cluster):
    root, paths = case
    address, client = cluster
    client.run(_fail_on("double.mp4", "raise"))
    try:
        recs = run(paths, "auto", None, address, False, root=root)
    finally:
        client.run(_restore)
    assert [r.path for r in recs] == paths
    bad = [r for r in recs if Path(r.path).name == "double.mp4"]
    assert len(bad) == 1 and bad[0].status == "error"
    assert bad[0].error["type"] == "RuntimeError" and bad[0].error["stage"] == "dask task"
    assert "injected failure on double.mp4" in bad[0].error["message"]
    assert bad[0].relpath == "clips/double.mp4"
    good = [(a, b) for a, b in zip(_records(recs), _records(serial)) if not a["path"].endswith("double.mp4")]
    assert len(good) == len(paths) - 1 and all(a == b for a, b in good)


def test_a_dead_worker_becomes_a_row(case):
    """A worker process that dies on a file (segfault, out of memory) gives that file an error row."""
    import dask
    from distributed import Client

    root, paths = case
    small = [p for p in paths if Path(p).name in ("README.txt", "notes.mp4", "truncated.mp4")]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with local_cluster(2, silence_logs=logging.CRITICAL) as c, Client(c) as client:
            client.wait_for_workers(2)
            client.run(_fail_on("notes.mp4", "die"))
            recs = run(small, "auto", None, client, False, root=root)
    assert [r.path for r in recs] == small
    dead = recs[[Path(p).name for p in small].index("notes.mp4")]
    assert dead.status == "error" and dead.error["type"] == "KilledWorker"
    assert {r.status for r in recs if r is not dead} == {"skipped", "error"}


def test_interrupt_returns_the_finished_files_and_cancels_the_rest(case, cluster, monkeypatch):
    root, paths = case
    address, client = cluster
    real = distributed.as_completed

    def first_then_interrupt(futures, *args, **kwargs):
        for i, fut in enumerate(real(futures, *args, **kwargs)):
            if i == 1:
                raise KeyboardInterrupt
            yield fut

    monkeypatch.setattr(distributed, "as_completed", first_then_interrupt)
    recs = run(paths, "auto", None, address, False, root=root)
    assert recs.interrupted and len(recs) == 1
    assert recs[0].path in paths and recs[0].status in ("analysed", "skipped", "error")
    # nothing of that run is left on the scheduler
    import time

    def n_tasks():
        return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))

    deadline = time.monotonic() + 20
    while n_tasks() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert n_tasks() == 0
    _wait_idle(client)  # the task running when Ctrl-C came finishes on its worker (for the next tests)


def _count_loads():
    import toolkit.case.models as cm
    import toolkit.weights as w

    cm.clear_cache()
    original = getattr(w, "_original_load", w.load)
    w._original_load = original
    w.loads_seen = []

    def load(name_or_path, *args, **kwargs):
        w.loads_seen.append(str(name_or_path))
        return original(name_or_path, *args, **kwargs)

    w.load = load


def _loads_seen():
    import toolkit.weights as w

    return list(getattr(w, "loads_seen", []))


def _uncount():
    import toolkit.weights as w

    if hasattr(w, "_original_load"):
        w.load = w._original_load


def test_weights_load_once_per_worker_not_per_task(case, cluster):
    root, paths = case
    address, client = cluster
    clips = [p for p in paths if p.endswith(("single.mp4", "double.mp4"))] * 4  # 8 tasks, 2 workers
    _wait_idle(client)
    client.run(_count_loads)
    try:
        recs = run(clips, ["focal.classify"], {"focal.classify": {"count": 1, "stride": 64}}, address, False)
        seen = client.run(_loads_seen)
    finally:
        client.run(_uncount)
    assert all(r.method("focal.classify").status == "ok" for r in recs)
    assert len(seen) == 2
    for worker, names in seen.items():
        assert names in ([], ["focal/codec"]), f"{worker} loaded {names}"
    assert 1 <= sum(len(n) for n in seen.values()) <= 2 < len(clips)


def test_model_objects_reach_the_workers(case, cluster):
    from toolkit.case.models import get_model

    root, paths = case
    address, _ = cluster
    clip = [p for p in paths if p.endswith("single.mp4")]
    model = get_model("focal/codec", kind="focal", prefix="focal")
    kw = dict(methods=["focal.classify"], params={"focal.classify": {"count": 1, "stride": 64}}, root=root)
    with _one_thread():
        want = core.analyze_file(clip[0], models={"focal.classify": model}, **kw)
    got = run(clip, scheduler=address, progress=False, models={"focal.classify": model}, **kw)
    assert _records(got) == _records([want])
    assert got[0].method("focal.classify").params["model"]["weights_name"] == "focal/codec"


def test_a_worker_with_another_toolkit_version_is_refused(case, cluster):
    root, paths = case
    address, client = cluster

    def set_version(v):
        import toolkit

        toolkit._saved_version = getattr(toolkit, "_saved_version", toolkit.__version__)
        toolkit.__version__ = v if v is not None else toolkit._saved_version

    client.run(set_version, "0.0.0-other")
    try:
        with pytest.raises(RuntimeError, match="another toolkit version"):
            run(paths[:1], scheduler=address, progress=False)
    finally:
        client.run(set_version, None)


def test_local_cluster_workers_keep_glibc_malloc_defaults(cluster):
    """Dask's MALLOC_TRIM_THRESHOLD_ made the FOCAL networks 2-2.5x slower in a worker; one torch
    thread per worker process (one process per core)."""
    import os

    _, client = cluster

    def probe():
        import torch

        return (
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("OMP_NUM_THREADS"),
            torch.get_num_threads(),
        )

    # the root conftest.py sets OMP_NUM_THREADS=2 here: the workers must not inherit it
    env = client.run(probe)
    assert WORKER_CONFIG == {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    assert set(env.values()) == {(None, "1", 1)}, env


def test_bad_schedulers_and_empty_cases():
    assert run([], scheduler="local") == [] and isinstance(run([], scheduler="local"), Records)
    for bad in (42, "", None, ["tcp://x:1"]):
        with pytest.raises(ValueError, match="scheduler must be"):
            run(["x.mp4"], scheduler=bad)
    with pytest.raises(ValueError, match="n_workers"):
        run(["x.mp4"], scheduler="local", n_workers=0)


def test_toolkit_imports_without_dask(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "import toolkit.case, toolkit.case.distributed as d\n"
        "assert d.run([], scheduler='local') == []\n"
        "try:\n"
        "    d.run(['x.mp4'], scheduler='local')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == DASK_MISSING
