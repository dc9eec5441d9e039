"""The case engine: plan the files of a case, analyse one file.

* :func:`plan` — the files of a folder (recursive, stable order, hidden entries skipped);
* :func:`analyze_file` — THE unit of work (one Dask task = one call): chain of custody
  before and after, :func:`toolkit.methods.inspect`, every applicable registered method with
  the bounded :data:`CASE_DEFAULTS`, a typed error per failing method; it never raises for a
  bad file and returns a picklable :class:`FileRecord`.

:func:`toolkit.case.analyze` loops over the plan (serially, or through
:func:`toolkit.case.distributed.run`, which maps :func:`analyze_file` on Dask) and gathers the
records into a :class:`~toolkit.case.report.CaseReport`. It lives in the package's
``__init__`` so that this module and ``distributed`` do not import each other.

>>> rec = analyze_file("sample_data/images/rocket.png", methods=["residual.heatmap"])
>>> rec.status, rec.custody["unchanged"], [m.method for m in rec.methods]
('analysed', True, ['residual.heatmap'])
>>> rec.methods[0].verdict
'not_detected'
"""

from __future__ import annotations

import dataclasses
import os
import platform
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from toolkit import __version__
from toolkit.image import IMAGE_SUFFIXES
from toolkit.result import json_safe

__all__ = [
    "CASE_DEFAULTS",
    "AUTO_REQUIRES",
    "VIDEO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "TEXT_CODECS",
    "FileRecord",
    "MethodRecord",
    "plan",
    "walk",
    "analyze_file",
    "failed_record",
    "relative_path",
    "machine",
    "resolve_methods",
    "resolve_params",
    "case_params",
    "utc_now",
]

#: Bounded parameters the case runs each method with (``params=`` overrides them per method).
#: They keep a 300-frame 352x288 clip to a few seconds per method on a CPU:
#:
#: * ``video.macroblocks`` — the first 300 frames;
#: * ``vpf`` — its own defaults (it reads the macroblock types of every frame, fast);
#: * ``focal.classify`` — 8 frames, patches every 16 pixels;
#: * ``focal.temporal`` — the first 16 frames, patches every 64 pixels (the frame descriptor is a
#:   mean over patches, so a coarse stride changes it little);
#: * ``focal.spatial`` — 2 frames, patches every 16 pixels;
#: * ``residual.heatmap``, ``fsvm``, ``geo.city`` — their own defaults; ``geo.country`` — top 5.
CASE_DEFAULTS: dict[str, dict[str, Any]] = {
    "video.macroblocks": {"max_frames": 300},
    "vpf": {},
    "focal.classify": {"count": 8, "stride": 16},
    "focal.temporal": {"count": 16, "stride": 64},
    "focal.spatial": {"max_frames": 2, "stride": 16},
    "residual.heatmap": {},
    "fsvm": {},
    "geo.country": {"k": 5},
    "geo.city": {},
}

#: Methods ``methods="auto"`` runs only when the caller gives what they need: F-SVM a model
#: trained on material like the evidence (the shipped one saw simulated videos only), city
#: verification reference images. Each value: (parameter, sentence for the record).
AUTO_REQUIRES: dict[str, tuple[str, str]] = {
    "fsvm": (
        "model",
        "runs in 'auto' only when a model is given (models={'fsvm': ...}): the shipped model saw "
        "simulated videos only",
    ),
    "geo.city": (
        "references",
        "runs only with reference images (params={'geo.city': {'references': [...]}})",
    ),
}

#: file suffixes of videos: a file with one of these that no reader opens is an error row
VIDEO_SUFFIXES = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .mpg .mpeg .m2v .m2ts .mts .ts .3gp .3g2 .flv .wmv .asf .ogv "
    ".264 .h264 .265 .h265 .hevc .y4m .mjpeg .mj2 .dv .vob .mxf".split()
)
#: FFmpeg "video" decoders of text files (FFmpeg renders a .txt file as ANSI art): not evidence video
TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf", "tty"})

#: statuses of a file and of a method
FILE_STATUSES = ("analysed", "skipped", "error")
METHOD_STATUSES = ("ok", "error", "not_applicable")


def utc_now() -> str:
    """The current time, UTC, ISO 8601 with seconds (``'2026-01-02T03:04:05+00:00'``).

    >>> utc_now().endswith("+00:00")
    True
    """
    return datetime.now(UTC).isoformat(timespec="seconds")


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


# --- records ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodRecord:
    """What one method did on one file (plain data, picklable).

    Attributes
    ----------
    method : registry name; status : 'ok', 'error' or 'not_applicable'.
    verdict, score, threshold, reason : the method's decision (``None`` where it does not decide).
    summary : the result's one-line :meth:`~toolkit.result.Result.summary` (the "key figure").
    seconds : wall time of the call (s).
    params : the parameters it ran with, JSON-safe (models as their weights name and SHA-256).
    data : the result's :meth:`~toolkit.result.Result.to_dict` (``None`` without a result).
    error : ``{'type', 'message', 'where'}`` when it failed (typed error and its reason), else ``None``.
    warnings : warnings the method emitted.
    result : the :class:`~toolkit.result.Result` itself (for figures; not compared, not in JSON).
    """

    method: str
    status: str
    verdict: str | None = None
    score: float | None = None
    threshold: float | None = None
    reason: str | None = None
    summary: str = ""
    seconds: float = 0.0
    params: dict = field(default_factory=dict)
    data: dict | None = None
    error: dict | None = None
    warnings: tuple[str, ...] = ()
    result: Any = field(default=None, compare=False, repr=False)

    def to_dict(self, *, timings: bool = True) -> dict:
        """JSON-safe dict (the schema's ``method`` object); ``timings=False`` drops ``seconds``.

        >>> MethodRecord("vpf", "not_applicable", reason="takes a video").to_dict()["status"]
        'not_applicable'
        """
        out = {
            "method": self.method,
            "status": self.status,
            "verdict": self.verdict,
            "score": json_safe(self.score),
            "threshold": json_safe(self.threshold),
            "reason": self.reason,
            "summary": self.summary,
            "seconds": round(float(self.seconds), 4),
            "params": json_safe(self.params),
            "error": json_safe(self.error),
            "warnings": list(self.warnings),
            "result": json_safe(self.data),
        }
        if not timings:
            del out["seconds"]
        return out


@dataclass(frozen=True)
class FileRecord:
    """Everything the case learnt about one file (plain data, picklable: one Dask task's output).

    Attributes
    ----------
    path : absolute path of the file; relpath : its path inside the case root (POSIX).
    status : 'analysed' (methods ran), 'skipped' (not media, with ``note``) or 'error'
        (unreadable: ``error`` says why).
    kind : 'video', 'image' or 'unknown'; media : container / codec metadata (PyAV).
    custody : ``sha256_before``, ``sha256_after``, ``size_bytes``, ``size_after``,
        ``mtime_utc``, ``mtime_after_utc``, ``unchanged`` (same SHA-256 and size after the analysis).
    methods : one :class:`MethodRecord` per method run (or requested).
    not_applicable : method -> why ``"auto"`` did not run it.
    note : why the file was skipped; error : ``{'type', 'message', 'where', 'stage'}``.
    damage : (property) what is damaged in its stream, in words (empty when intact).
    started_utc, finished_utc : when its analysis ran; seconds : its wall time (s).
    """

    path: str
    relpath: str
    status: str
    kind: str = "unknown"
    media: dict = field(default_factory=dict)
    custody: dict = field(default_factory=dict)
    methods: tuple[MethodRecord, ...] = ()
    not_applicable: dict = field(default_factory=dict)
    note: str | None = None
    error: dict | None = None
    started_utc: str = ""
    finished_utc: str = ""
    seconds: float = 0.0

    @property
    def damage(self) -> tuple[str, ...]:
        """What is damaged in the file's stream, in words (empty when nothing was found).

        Gathered from what the probe found (``media["complete"]`` False: fewer packets than
        declared, demuxing stopped, lost frames) and from the methods' decodes (a damaged-stream
        warning, a macroblock trace with ``complete`` False). The methods that need an intact
        stream (VPF, F-SVM, FOCAL temporal) are then inconclusive on their own.

        >>> FileRecord("/x.mp4", "x.mp4", "analysed", media={"complete": False,
        ...     "problems": ["90 packets, but the header declares 300 frames (truncated?)"]}).damage
        ('90 packets, but the header declares 300 frames (truncated?)',)
        """
        found: list[str] = []
        if self.media.get("complete") is False:
            found += [str(p) for p in self.media.get("problems") or ()] or [
                "the probe found the stream incomplete"
            ]
        for m in self.methods:
            for w in m.warnings:
                if "stream damaged" in w:
                    found.append(w.split(": ", 1)[-1])
            if m.data and m.data.get("complete") is False and m.data.get("error"):
                found.append(f"{m.method}: {m.data['error']}")
        return tuple(dict.fromkeys(found))

    def method(self, name: str) -> MethodRecord | None:
        """The record of method ``name`` ("-" accepted for "."), ``None`` when it did not run.

        >>> FileRecord("/x.txt", "x.txt", "skipped").method("vpf") is None
        True
        """
        name = str(name).replace("-", ".") if "-" in str(name) else str(name)
        return next((m for m in self.methods if m.method == name), None)

    def with_root(self, root: str | os.PathLike) -> FileRecord:
        """The same record with :attr:`relpath` taken relative to ``root``.

        >>> FileRecord("/case/a/b.mp4", "b.mp4", "analysed").with_root("/case").relpath
        'a/b.mp4'
        """
        return dataclasses.replace(self, relpath=relative_path(Path(self.path), Path(root)))

    def to_dict(self, *, timings: bool = True) -> dict:
        """JSON-safe dict (the schema's ``file`` object); ``timings=False`` drops the times.

        >>> d = FileRecord("/x.txt", "x.txt", "skipped", note="not media").to_dict(timings=False)
        >>> d["status"], "seconds" in d
        ('skipped', False)
        """
        out = {
            "path": self.relpath,
            "abs_path": self.path,
            "status": self.status,
            "kind": self.kind,
            "note": self.note,
            "error": json_safe(self.error),
            "custody": json_safe(self.custody),
            "media": json_safe(self.media),
            "methods": [m.to_dict(timings=timings) for m in self.methods],
            "not_applicable": json_safe(self.not_applicable),
            "damage": list(self.damage),
            "started_utc": self.started_utc,
            "finished_utc": self.finished_utc,
            "seconds": round(float(self.seconds), 4),
        }
        if not timings:
            for key in ("started_utc", "finished_utc", "seconds"):
                del out[key]
        return out


# --- names and parameters --------------------------------------------------------------------
def _canonical(name: str) -> str:
    import toolkit.methods as registry

    name = str(name).strip()
    known = registry.names()
    if name in known:
        return name
    dotted = name.replace("-", ".")
    if dotted in known:
        return dotted
    registry.get(name)  # ValueError listing the registered names
    raise AssertionError("unreachable")  # pragma: no cover


def resolve_methods(methods="auto") -> str | tuple[str, ...]:
    """``"auto"``, or the registry names of ``methods`` (a list, or one comma-separated string;
    "-" may stand for "."). ``ValueError`` for an unknown name.

    >>> resolve_methods("vpf,focal-temporal")
    ('vpf', 'focal.temporal')
    >>> resolve_methods(None)
    'auto'
    """
    if methods is None or (isinstance(methods, str) and methods.strip().lower() in ("", "auto")):
        return "auto"
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    out: list[str] = []
    for m in methods:
        name = _canonical(m)
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("methods is empty: give 'auto' or at least one registered method name")
    return tuple(out)


def resolve_params(params: Mapping | None) -> dict[str, dict]:
    """``params`` with registry names as keys ("-" accepted) and dict values; ``ValueError`` otherwise.

    >>> resolve_params({"focal-temporal": {"count": 8}})
    {'focal.temporal': {'count': 8}}
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ValueError(f"params must map method names to dicts of parameters, got {type(params).__name__}")
    out = {}
    for name, value in params.items():
        if not isinstance(value, Mapping):
            raise ValueError(f"params[{name!r}] must be a dict of parameters, got {type(value).__name__}")
        out[_canonical(name)] = dict(value)
    return out


def case_params(name: str, params: Mapping | None = None) -> dict:
    """The parameters the case runs method ``name`` with: :data:`CASE_DEFAULTS` updated by
    ``params[name]``.

    >>> case_params("focal.classify", {"focal.classify": {"count": 2}})
    {'count': 2, 'stride': 16}
    """
    return {**CASE_DEFAULTS.get(name, {}), **resolve_params(params).get(name, {})}


# --- the plan ------------------------------------------------------------------------------
def relative_path(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` (POSIX separators), or its name when it lies outside.

    >>> relative_path("/case/a/b.mp4", "/case"), relative_path("/else/c.mp4", "/case")
    ('a/b.mp4', 'c.mp4')
    """
    path, root = Path(path), Path(root)
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.name


def walk(path_or_folder: str | os.PathLike) -> tuple[Path, list[str], list[dict]]:
    """``(root, files, excluded)`` of a case: its root folder (absolute), the files to analyse
    (absolute paths, sorted by relative POSIX path) and the entries left out
    (``{'path', 'reason'}``: a symbolic link leading outside the root, a broken link).

    Hidden files and folders (a name starting with ".") are skipped; folders are not followed
    through symbolic links. A file gives a one-file case rooted at its folder.

    >>> root, files, excluded = walk("sample_data/images")
    >>> [Path(f).name for f in files][:2], excluded
    (['rocket.png', 'rocket_median5.mask.png'], [])
    """
    p = Path(path_or_folder).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"no such file or folder: {str(p)!r}")
    if not p.is_dir():
        return p.absolute().parent, [str(p.absolute())], []
    root = p.absolute()
    real_root = root.resolve()
    found: list[tuple[str, str]] = []
    excluded: list[dict] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            f = Path(folder) / name
            rel = f.relative_to(root).as_posix()
            if f.is_symlink():
                target = f.resolve()
                if not target.exists():
                    excluded.append({"path": rel, "reason": "broken symbolic link"})
                    continue
                if not target.is_relative_to(real_root):
                    excluded.append({"path": rel, "reason": f"symbolic link to {target}, outside the case"})
                    continue
            if f.is_file():
                found.append((rel, str(f)))
    found.sort()
    return root, [full for _, full in found], excluded


def plan(path_or_folder: str | os.PathLike, methods="auto", params: Mapping | None = None) -> list[str]:
    """The files a case analyses, in its stable order (see :func:`walk`).

    ``methods`` and ``params`` are checked here (``ValueError`` for an unknown method name),
    so that a typo fails before hours of analysis.

    >>> [Path(f).relative_to(Path("sample_data").absolute()).as_posix()
    ...  for f in plan("sample_data", methods="vpf")][:3]
    ['README.md', 'double/double_mpeg2_h264.mp4', 'double/double_mpeg2_h264.mp4.json']
    """
    resolve_methods(methods)
    resolve_params(params)
    return walk(path_or_folder)[1]


# --- one file ---------------------------------------------------------------------------
#: longest error message a record keeps (characters)
MAX_MESSAGE = 2000


def _frame_name(f) -> str:
    parts = Path(f.filename).parts
    name = (
        "/".join(parts[len(parts) - 1 - parts[::-1].index("toolkit") :]) if "toolkit" in parts else parts[-1]
    )
    return f"{name}:{f.lineno} in {f.name}"


def _where(e: BaseException) -> str | None:
    """``file:line in function`` of the innermost frame of ``e``; when that frame is outside the
    toolkit (numpy, PyAV, ...), the innermost method frame that called it is added."""
    tb = traceback.extract_tb(e.__traceback__) if e.__traceback__ is not None else []
    if not tb:
        return None
    where = _frame_name(tb[-1])
    plumbing = (f"toolkit{os.sep}methods.py", f"toolkit{os.sep}case{os.sep}")
    inside = [
        f
        for f in tb
        if f"{os.sep}toolkit{os.sep}" in f.filename and not any(p in f.filename for p in plumbing)
    ]
    if inside and inside[-1] is not tb[-1]:
        where += f" (via {_frame_name(inside[-1])})"
    return where


def _error(e: BaseException, stage: str | None = None) -> dict:
    message = str(e).strip() or type(e).__name__
    if isinstance(e, KeyError) and len(e.args) == 1 and isinstance(e.args[0], str):
        message = e.args[0]
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    where = _where(e)
    out = {"type": type(e).__name__, "message": message, "where": where}
    if stage is not None:
        out["stage"] = stage
    return out


def _custody(path: Path) -> dict:
    from toolkit._util import sha256_file

    st = path.stat()
    return {"sha256": sha256_file(path), "size_bytes": int(st.st_size), "mtime_utc": _utc(st.st_mtime)}


def _media(info) -> dict:
    out = {
        "kind": info.kind,
        "width": int(info.width),
        "height": int(info.height),
        "n_frames": int(info.n_frames),
        "codec": info.codec,
    }
    if info.video is not None and hasattr(info.video, "to_dict"):
        v = dict(info.video.to_dict())
        for key in ("path", "sha256"):  # the custody block holds them
            v.pop(key, None)
        out.update({k: v[k] for k in v if k not in out})
    if info.reason:
        out["reason"] = info.reason
    return json_safe(out)


def _unreadable(path: Path, info) -> dict:
    """The typed error a reader raises on a media-named file that :func:`inspect` could not open."""
    try:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            from toolkit.image import load_image

            load_image(path)
        else:
            from toolkit.video import probe

            probe(path)
    except Exception as e:
        return _error(e, stage="inspect")
    return {"type": "ValueError", "message": info.reason or "not a readable file", "where": None}


def _applicable(name: str, info, params: dict, models: Mapping | None, auto: bool) -> tuple[bool, str]:
    import toolkit.methods as registry

    ok, why = registry.get(name).applicable(info)
    if ok and auto and name in AUTO_REQUIRES:
        key, sentence = AUTO_REQUIRES[name]
        given = key in params.get(name, {}) or (key == "model" and models is not None and name in models)
        if not given:
            return False, sentence
    return ok, why


def _run_method(name: str, path: Path, params: Mapping, models: Mapping | None) -> MethodRecord:
    import toolkit.methods as registry
    from toolkit.case.models import describe_params, method_models
    from toolkit.result import Result, check_verdict

    kwargs = case_params(name, params)
    t0 = perf_counter()
    caught: list = []
    try:
        kwargs.update(method_models(name, kwargs, models))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = registry.get(name).run(str(path), **kwargs)
        if not isinstance(r, Result):
            raise TypeError(f"{name} returned a {type(r).__name__}, not a toolkit.result.Result")
        d = r.decision()
        check_verdict(d["verdict"])
        data = r.to_dict()
        summary = r.summary()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # a failing method is a row, never the end of the case
        return MethodRecord(
            name,
            "error",
            reason=f"{type(e).__name__}: {_error(e)['message']}",
            seconds=perf_counter() - t0,
            params=describe_params(kwargs),
            error=_error(e, stage="method"),
            warnings=_warning_texts(caught),
        )
    return MethodRecord(
        name,
        "ok",
        verdict=d["verdict"],
        score=d["score"],
        threshold=d["threshold"],
        reason=d["reason"],
        summary=summary,
        seconds=perf_counter() - t0,
        params=describe_params(kwargs),
        data=data,
        warnings=_warning_texts(caught),
        result=r,
    )


def _warning_texts(caught) -> tuple[str, ...]:
    out: list[str] = []
    for w in caught or ():
        text = f"{w.category.__name__}: {w.message}"
        if text not in out:
            out.append(text)
    return tuple(out)


def failed_record(
    path: str | os.PathLike,
    error: BaseException,
    *,
    methods="auto",
    root: str | os.PathLike | None = None,
    stage: str = "analysis",
) -> FileRecord:
    """The record of a file whose analysis itself failed (e.g. a Dask worker died): status
    ``'error'`` with the typed error; ``methods`` is accepted for the caller's convenience.

    >>> failed_record("sample_data/x.mp4", MemoryError("worker killed"), stage="dask task").error["type"]
    'MemoryError'
    """
    p = Path(path).absolute()
    return FileRecord(
        path=str(p),
        relpath=relative_path(p, Path(root) if root is not None else p.parent),
        status="error",
        error=_error(error, stage=stage),
        finished_utc=utc_now(),
    )


def analyze_file(
    path: str | os.PathLike,
    methods="auto",
    params: Mapping | None = None,
    models: Mapping | None = None,
    root: str | os.PathLike | None = None,
) -> FileRecord:
    """Analyse one file of a case; never raises for a bad file (the record holds the error).

    Parameters
    ----------
    path : the file.
    methods : ``"auto"`` (every registered method whose ``applicable()`` accepts the file, F-SVM
        and city verification only when given what they need, see :data:`AUTO_REQUIRES`), or
        registry names (a list or a comma-separated string; "-" for "."). A named method that
        does not apply gives a ``'not_applicable'`` row with the reason.
    params : method name -> parameters, over :data:`CASE_DEFAULTS`.
    models : method name -> model object or weights name (``{"fsvm": "fsvm/simulated"}``;
        FOCAL temporal / spatial: ``{"codec": ..., "quality": ...}``), loaded once per process by
        :func:`toolkit.case.models.get_model`. Methods without one get their default weights
        through the same cache.
    root : the case root (for :attr:`FileRecord.relpath`; default: the file's folder).

    Returns
    -------
    FileRecord
        Custody before/after (SHA-256, size, mtime), media metadata, one :class:`MethodRecord`
        per method (verdict, score, threshold, summary, wall time, or the typed error).

    Raises
    ------
    ValueError
        Only for an unknown method name in ``methods`` / ``params`` (a usage error).
    KeyboardInterrupt
        Passed on, so that :func:`analyze` can return the files done so far.

    >>> rec = analyze_file("sample_data/README.md")
    >>> rec.status, rec.note
    ('skipped', 'not a video or image file (.md)')
    """
    import toolkit.methods as registry
    from toolkit.case.models import describe_params

    started, t0 = utc_now(), perf_counter()
    names = resolve_methods(methods)
    params = resolve_params(params)
    p = Path(path).expanduser().absolute()
    base = dict(path=str(p), relpath=relative_path(p, Path(root) if root is not None else p.parent))

    def finish(**kw) -> FileRecord:
        return FileRecord(
            **base, started_utc=started, finished_utc=utc_now(), seconds=perf_counter() - t0, **kw
        )

    try:
        if not p.is_file():
            raise (
                FileNotFoundError(f"no such file: {str(p)!r}")
                if not p.exists()
                else IsADirectoryError(f"expected a file but {str(p)!r} is a folder")
            )
        before = _custody(p)
    except OSError as e:
        return finish(status="error", error=_error(e, stage="custody"))

    def custody() -> dict:
        try:
            after = _custody(p)
        except OSError as e:  # the file went away during the analysis
            return {
                **_before_keys(before),
                "sha256_after": None,
                "size_after": None,
                "mtime_after_utc": None,
                "unchanged": False,
                "after_error": _error(e)["message"],
            }
        return {
            **_before_keys(before),
            "sha256_after": after["sha256"],
            "size_after": after["size_bytes"],
            "mtime_after_utc": after["mtime_utc"],
            "unchanged": after["sha256"] == before["sha256"] and after["size_bytes"] == before["size_bytes"],
        }

    try:
        info = registry.inspect(p)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:
        return finish(status="error", error=_error(e, stage="inspect"), custody=custody())
    media = _media(info)
    suffix = p.suffix.lower()
    known_media = suffix in VIDEO_SUFFIXES or suffix in IMAGE_SUFFIXES
    if info.kind == "unknown" or (info.kind == "video" and info.codec in TEXT_CODECS and not known_media):
        if known_media:
            return finish(
                status="error", kind="unknown", media=media, error=_unreadable(p, info), custody=custody()
            )
        what = f" ({suffix})" if suffix else ""
        note = f"not a video or image file{what}"
        if info.kind == "video":
            note += f"; FFmpeg reads it only as {info.codec!r} text art"
        return finish(status="skipped", kind="unknown", media=media, note=note, custody=custody())

    auto = names == "auto"
    todo = registry.names() if auto else list(names)
    records: list[MethodRecord] = []
    skipped: dict[str, str] = {}
    for name in todo:
        ok, why = _applicable(name, info, params, models, auto)
        if not ok:
            if auto:
                skipped[name] = why
            else:
                records.append(
                    MethodRecord(
                        name, "not_applicable", reason=why, params=describe_params(case_params(name, params))
                    )
                )
            continue
        records.append(_run_method(name, p, params, models))
    return finish(
        status="analysed",
        kind=info.kind,
        media=media,
        methods=tuple(records),
        not_applicable=skipped,
        custody=custody(),
    )


def _before_keys(before: dict) -> dict:
    return {
        "sha256_before": before["sha256"],
        "size_bytes": before["size_bytes"],
        "mtime_utc": before["mtime_utc"],
    }


# --- the machine -------------------------------------------------------------------------
def machine() -> dict:
    """The machine that ran the case: host, OS, Python, CPU, cores, GPU (torch.cuda), torch version.

    >>> sorted(machine())[:3]
    ['cpu', 'cpu_count', 'cuda']
    """
    out = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "toolkit_version": __version__,
        "cuda": False,
        "gpus": [],
        "torch": None,
    }
    try:
        import torch

        out["torch"] = torch.__version__
        if torch.cuda.is_available():
            out["cuda"] = True
            out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # no torch, or a broken driver: the case still runs
        pass
    return out


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
