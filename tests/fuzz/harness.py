"""Run one public entry point on one odd input in a fresh subprocess, with a timeout.

Each fuzz case calls :func:`call`; the child imports ``module:function``, calls it, and reports on
stdout, as one JSON line, whether it returned (and the result's type) or which exception it raised.
A child that outlives its budget is killed and reported as ``"timeout"``: a hang is a failure,
never a skipped case. :func:`untouched` checks that the input file and its folder are left as they
were (same SHA-256, no file created beside it).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from toolkit._util import sha256_file

_CHILD = r"""
import importlib, json, sys, traceback
spec = json.loads(sys.argv[1])
mod, _, fn = spec["target"].partition(":")
out = {"status": "returned"}
try:
    f = getattr(importlib.import_module(mod), fn)
    r = f(*spec["args"], **spec["kwargs"])
    out["type"] = type(r).__module__ + "." + type(r).__qualname__
    for attr in ("verdict", "reason", "complete"):
        v = getattr(r, attr, None)
        if isinstance(v, (str, bool, int, float)):
            out[attr] = v
except BaseException as e:
    out = {"status": "raised", "type": type(e).__module__ + "." + type(e).__qualname__,
           "message": str(e)[:500], "mro": [c.__qualname__ for c in type(e).__mro__],
           "traceback": traceback.format_exc()[-2000:]}
print("\n@@FUZZ@@" + json.dumps(out))
"""


@dataclass(frozen=True)
class Outcome:
    """What one call did: ``status`` is "returned", "raised" or "timeout"."""

    status: str
    type: str = ""
    message: str = ""
    mro: tuple[str, ...] = ()
    info: dict | None = None
    stderr: str = ""

    def raised(self, *names: str) -> bool:
        """True when the call raised an exception that is (a subclass of) one of ``names``."""
        return self.status == "raised" and any(n in self.mro for n in names)


def call(target: str, *args, timeout: float = 60.0, env: dict | None = None, **kwargs) -> Outcome:
    """Call ``target`` ("module:function") with JSON-able ``args``/``kwargs`` in a subprocess."""
    spec = json.dumps(
        {
            "target": target,
            "args": [str(a) if isinstance(a, Path) else a for a in args],
            "kwargs": {k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()},
        }
    )
    child_env = {**os.environ, "TOOLKIT_QUICK": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    try:
        p = subprocess.run(
            [sys.executable, "-c", _CHILD, spec],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env,
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired:
        return Outcome("timeout", message=f"{target} did not return within {timeout:g} s")
    line = p.stdout.rpartition("@@FUZZ@@")[2].strip()
    if not line:
        return Outcome("crashed", message=f"exit code {p.returncode}", stderr=p.stderr[-3000:])
    d = json.loads(line)
    info = {k: d[k] for k in ("verdict", "reason", "complete") if k in d}
    return Outcome(
        d["status"], d.get("type", ""), d.get("message", ""), tuple(d.get("mro", ())), info, p.stderr[-3000:]
    )


@contextlib.contextmanager
def untouched(path: str | os.PathLike):
    """Assert on exit that ``path`` keeps its SHA-256 and that its folder gains or loses no entry."""
    p = Path(path)
    digest = sha256_file(p) if p.is_file() else None
    before = sorted(os.listdir(p.parent)) if p.parent.is_dir() else None
    yield
    if digest is not None:
        assert sha256_file(p) == digest, f"{p} was modified"
    if before is not None:
        assert sorted(os.listdir(p.parent)) == before, f"files appeared or vanished beside {p}"


_BATCH_CHILD = r"""
import importlib, json, sys, traceback
spec = json.loads(sys.stdin.read())
mod, _, fn = spec["target"].partition(":")
f = getattr(importlib.import_module(mod), fn)
print("@@READY@@", flush=True)
for args, kwargs in spec["calls"]:
    print("@@START@@", flush=True)
    out = {"status": "returned"}
    try:
        r = f(*args, **kwargs)
        out["type"] = type(r).__module__ + "." + type(r).__qualname__
        for attr in ("verdict", "reason", "complete"):
            v = getattr(r, attr, None)
            if isinstance(v, (str, bool, int, float)):
                out[attr] = v
    except BaseException as e:
        out = {"status": "raised", "type": type(e).__module__ + "." + type(e).__qualname__,
               "message": str(e)[:500], "mro": [c.__qualname__ for c in type(e).__mro__],
               "traceback": traceback.format_exc()[-2000:]}
    print("@@FUZZ@@" + json.dumps(out), flush=True)
"""


def call_batch(
    target: str, calls: list, *, timeout: float = 60.0, startup: float = 60.0, env: dict | None = None
) -> list[Outcome]:
    """Call ``target`` once per ``(args, kwargs)`` of ``calls`` in one subprocess (imports paid once).

    Each call gets ``timeout`` seconds (the import ``startup`` more); a call that outlives it is
    reported ``"timeout"``, the child is killed and the remaining calls go on in a fresh child.
    Returns one :class:`Outcome` per call, in order.
    """
    import selectors
    import time

    def norm(v):
        return str(v) if isinstance(v, Path) else v

    todo = [([norm(a) for a in args], {k: norm(v) for k, v in kwargs.items()}) for args, kwargs in calls]
    child_env = {**os.environ, "TOOLKIT_QUICK": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    results: list[Outcome] = []
    while len(results) < len(todo):
        rest = todo[len(results) :]
        p = subprocess.Popen(
            [sys.executable, "-c", _BATCH_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=child_env,
            cwd=Path(__file__).resolve().parents[2],
        )
        p.stdin.write(json.dumps({"target": target, "calls": rest}))
        p.stdin.close()
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + startup + timeout
        done_here = 0
        try:
            while done_here < len(rest):
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    results.append(
                        Outcome("timeout", message=f"{target} did not return within {timeout:g} s")
                    )
                    break
                line = p.stdout.readline()
                if not line:  # the child died without reporting
                    results.append(Outcome("crashed", message=f"exit code {p.wait()}"))
                    break
                if line.startswith("@@START@@"):
                    deadline = time.monotonic() + timeout
                elif line.startswith("@@FUZZ@@"):
                    d = json.loads(line[len("@@FUZZ@@") :])
                    info = {k: d[k] for k in ("verdict", "reason", "complete") if k in d}
                    results.append(
                        Outcome(
                            d["status"],
                            d.get("type", ""),
                            d.get("message", ""),
                            tuple(d.get("mro", ())),
                            info,
                        )
                    )
                    done_here += 1
        finally:
            sel.close()
            p.kill()
            p.wait()
            p.stdout.close()
    return results


# ----------------------------------------------------------------------------------------------
# Different calls (targets, arguments) in one subprocess, each with its own budget: :func:`call_many`.

_MANY_CHILD = r"""
import importlib, json, sys, traceback
calls = json.loads(sys.stdin.read())

def attr(r, name):
    v = r
    for part in name.split("."):
        v = v.get(part) if isinstance(v, dict) else getattr(v, part, None)
    if isinstance(v, (list, tuple)):
        v = [list(x) if isinstance(x, tuple) else x for x in v]
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        v = repr(v)[:200]
    return v

for i, spec in enumerate(calls):
    print("@@START@@" + str(i), flush=True)
    mod, _, fn = spec["target"].partition(":")
    out = {"status": "returned"}
    try:
        f = getattr(importlib.import_module(mod), fn)
        r = f(*spec["args"], **spec["kwargs"])
        if spec.get("consume"):
            r = sum(1 for _ in r)
        out["type"] = type(r).__module__ + "." + type(r).__qualname__
        info = {}
        for a in ("verdict", "reason", "complete") + tuple(spec.get("attrs", ())):
            v = attr(r, a)
            if v is not None:
                info[a] = v
        if isinstance(r, int):
            info["value"] = r
        out["info"] = info
    except BaseException as e:
        out = {"status": "raised", "type": type(e).__module__ + "." + type(e).__qualname__,
               "message": str(e)[:500], "mro": [c.__qualname__ for c in type(e).__mro__],
               "traceback": traceback.format_exc()[-2000:]}
    print("@@FUZZ@@" + json.dumps(out), flush=True)
"""


@dataclass(frozen=True)
class Call:
    """One call for :func:`call_many`: ``target`` "module:function", JSON-able ``args``/``kwargs``;
    ``consume`` iterates a returned iterator to its end (its length is the result); ``attrs``
    names attributes (dotted: ``"params.stream"``) of the result to report in ``Outcome.info``."""

    target: str
    args: tuple = ()
    kwargs: dict | None = None
    consume: bool = False
    attrs: tuple[str, ...] = ()
    timeout: float = 60.0

    def spec(self) -> dict:
        return {
            "target": self.target,
            "args": [str(a) if isinstance(a, Path) else a for a in self.args],
            "kwargs": {k: str(v) if isinstance(v, Path) else v for k, v in (self.kwargs or {}).items()},
            "consume": self.consume,
            "attrs": list(self.attrs),
        }


def call_many(calls: list[Call], env: dict | None = None) -> list[Outcome]:
    """Run ``calls`` in order in as few subprocesses as possible, each call within its own timeout.

    A call that outlives its ``timeout`` is reported as ``"timeout"``; its subprocess is killed
    and the remaining calls go on in a fresh one. A child that dies reports ``"crashed"``.
    """
    import queue
    import threading
    import time

    child_env = {**os.environ, "TOOLKIT_QUICK": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    outcomes: list[Outcome | None] = [None] * len(calls)
    todo = list(range(len(calls)))
    while todo:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MANY_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env,
            cwd=Path(__file__).resolve().parents[2],
        )
        lines: queue.Queue = queue.Queue()

        def pump(stream, q=lines):
            for line in stream:
                q.put(line)
            q.put(None)

        threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
        err_tail: list[str] = []

        def drain(stream, out=err_tail):
            out.extend(stream.read().splitlines()[-40:])

        threading.Thread(target=drain, args=(proc.stderr,), daemon=True).start()
        proc.stdin.write(json.dumps([calls[i].spec() for i in todo]))
        proc.stdin.close()
        batch, todo = todo, []
        k = 0  # position in batch of the call running now
        deadline = None
        try:
            while k < len(batch):
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    line = lines.get(timeout=timeout if timeout is not None else 120.0)
                except queue.Empty:
                    i = batch[k]
                    if deadline is None:  # the interpreter did not even start the first call
                        outcomes[i] = Outcome("timeout", message="the child did not start within 120 s")
                    else:
                        budget = calls[i].timeout
                        outcomes[i] = Outcome(
                            "timeout", message=f"{calls[i].target} did not return within {budget:g} s"
                        )
                    todo = batch[k + 1 :]
                    break
                if line is None:  # the child died
                    i = batch[k]
                    proc.wait()
                    outcomes[i] = Outcome(
                        "crashed", message=f"exit code {proc.returncode}", stderr="\n".join(err_tail)
                    )
                    todo = batch[k + 1 :]
                    break
                if line.startswith("@@START@@"):
                    deadline = time.monotonic() + calls[batch[k]].timeout
                elif line.startswith("@@FUZZ@@"):
                    d = json.loads(line[len("@@FUZZ@@") :])
                    outcomes[batch[k]] = Outcome(
                        d["status"],
                        d.get("type", ""),
                        d.get("message", ""),
                        tuple(d.get("mro", ())),
                        d.get("info"),
                        d.get("traceback", ""),
                    )
                    k += 1
                    deadline = None
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return [o if o is not None else Outcome("crashed", message="not run") for o in outcomes]
