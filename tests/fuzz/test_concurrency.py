"""``macroblock_types`` and ``vpf.analyze`` called at once from several threads give the answers of one call.

The trace of a stream of 300+ frames runs in two worker processes. Started by ``fork`` while
another thread held the MB log lock, a worker inherited the lock held and waited forever (two
threads, a short and a long clip, never returned). Each scenario here runs in a subprocess with a
timeout, so a deadlock fails the test instead of hanging the suite: two threads on a short and a
long clip, two threads on the same long clip, and a Dask ``LocalCluster`` of threads running both
analyses on both clips at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHORT = "sample_data/single/single_h264.mp4"  # 150 frames: one process
LONG = "sample_data/real/person_gop10_head300.mp4"  # 300 frames: two worker processes
#: seconds a scenario may take (one pass over both clips takes about 5 s on one core)
TIMEOUT = 150

_SCENARIOS = r"""
import hashlib, json, sys
from concurrent.futures import ThreadPoolExecutor
import toolkit.video as video
import toolkit.vpf as vpf

def answer(kind, path):
    if kind == "mb":
        r = video.macroblock_types(path)
        digest = hashlib.sha256(r.counts.to_csv().encode()).hexdigest()
        return {"digest": digest, "frames": r.n_frames, "segments": r.params["segments"],
                "complete": r.complete}
    r = vpf.analyze(path)
    return {"verdict": r.verdict, "score": round(r.score, 9), "frames": r.n_frames}

def threads(jobs):
    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(lambda kp: answer(*kp), jobs))

def dask(jobs):
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=len(jobs), processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return client.gather([client.submit(answer, k, p, pure=False) for k, p in jobs])

out = {}
for name, mode, jobs in json.loads(sys.argv[1]):
    out[name] = [answer(k, p) for k, p in jobs] if mode == "serial" else globals()[mode](jobs)
    print("@@OUT@@" + json.dumps(out), flush=True)
"""

SCENARIOS = [
    ("serial", "serial", [["mb", SHORT], ["mb", LONG], ["vpf", SHORT], ["vpf", LONG]]),
    ("short_and_long", "threads", [["mb", LONG], ["mb", SHORT]]),
    ("same_clip_twice", "threads", [["mb", LONG], ["mb", LONG]]),
    ("dask", "dask", [["mb", LONG], ["vpf", LONG], ["mb", SHORT]]),
]


@pytest.fixture(scope="module")
def answers():
    """Every scenario's answers, run in order in one subprocess with one timeout."""
    scenarios = [s for s in SCENARIOS if s[1] != "dask" or importlib.util.find_spec("dask.distributed")]
    try:
        p = subprocess.run(
            [sys.executable, "-c", _SCENARIOS, json.dumps(scenarios)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=ROOT,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        stdout, rc, err = p.stdout, p.returncode, p.stderr
    except subprocess.TimeoutExpired as exc:
        stdout, rc, err = (exc.stdout or b"").decode(), "timeout", ""
    done = json.loads(stdout.rpartition("@@OUT@@")[2].strip() or "{}")
    serial = {tuple(j): a for j, a in zip(SCENARIOS[0][2], done.get("serial", []))}
    return {"done": done, "serial": serial, "rc": rc, "stderr": err[-3000:]}


def _check(answers, name):
    if name not in answers["done"]:
        if answers["rc"] == "timeout":
            pytest.fail(f"scenario {name!r} did not return within {TIMEOUT} s (deadlock)")
        pytest.fail(f"scenario {name!r} failed: {answers['stderr']}")
    jobs = next(j for n, _, j in SCENARIOS if n == name)
    got = answers["done"][name]
    assert got == [answers["serial"][tuple(j)] for j in jobs]
    return got


def test_one_call_at_a_time_reads_the_long_clip_with_two_processes(answers):
    got = _check(answers, "serial")
    assert got[1]["segments"] == 2 and got[0]["segments"] == 1
    assert all(a["frames"] in (150, 300) for a in got)


def test_two_threads_on_a_short_and_a_long_clip_return_the_serial_answers(answers):
    _check(answers, "short_and_long")


def test_two_threads_on_the_same_long_clip_return_the_serial_answers(answers):
    _check(answers, "same_clip_twice")


def test_a_dask_cluster_of_threads_runs_both_analyses_at_once(answers):
    pytest.importorskip("dask.distributed")
    _check(answers, "dask")
