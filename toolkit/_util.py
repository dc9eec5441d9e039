"""Small helpers shared by every sub-package: hashing, argument checks, quick mode, devices.

>>> import numpy as np
>>> array_sha256(np.zeros(3, np.uint8)) != array_sha256(np.zeros((1, 3), np.uint8))
True
>>> check_stride(16, multiple_of=8)
16
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = [
    "sha256_file",
    "array_sha256",
    "input_sha256",
    "check_stride",
    "check_roi",
    "quick_mode",
    "resolve_device",
    "as_path",
    "command_line",
    "lazy_class",
]


def sha256_file(file: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks; the file is opened read-only.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"; _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:8]
    'ba7816bf'
    """
    h = hashlib.sha256()
    with open(file, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def array_sha256(array) -> str:
    """Hex SHA-256 of an array's bytes (C order), shape and dtype: equal only for equal arrays.

    >>> import numpy as np
    >>> array_sha256(np.zeros((2, 2), np.uint8)) == array_sha256(np.zeros((2, 2), np.uint8))
    True
    """
    import numpy as np

    a = np.ascontiguousarray(np.asarray(array))
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}|{','.join(map(str, a.shape))}|".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def input_sha256(data) -> str:
    """SHA-256 of an input as given: a file's bytes (path), raw ``bytes``, or an array
    (or PIL image) through :func:`array_sha256`.

    >>> input_sha256(b"abc")[:8]
    'ba7816bf'
    """
    if isinstance(data, (str, os.PathLike)):
        return sha256_file(as_path(data))
    if isinstance(data, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(data)).hexdigest()
    return array_sha256(data)


def check_stride(stride, *, multiple_of: int = 1, name: str = "stride") -> int:
    """``stride`` as an ``int`` when it is a positive whole number and a multiple of ``multiple_of``;
    ``ValueError`` with a sentence otherwise (8.5 is refused, not truncated).

    >>> check_stride(8.5, multiple_of=8)
    Traceback (most recent call last):
    ...
    ValueError: stride must be a positive multiple of 8 pixels, got 8.5
    """
    import numbers

    ok = isinstance(stride, numbers.Real) and not isinstance(stride, bool)
    ok = ok and float(stride).is_integer() and int(stride) >= max(1, multiple_of)
    if not ok or int(stride) % multiple_of:
        what = (
            f"a positive multiple of {multiple_of} pixels" if multiple_of > 1 else "a positive whole number"
        )
        raise ValueError(f"{name} must be {what}, got {stride!r}")
    return int(stride)


def check_roi(roi, height: int, width: int) -> tuple[int, int, int, int] | None:
    """``(top, left, height, width)`` of a region inside an ``height`` x ``width`` frame, as ints;
    ``None`` stays ``None``. ``ValueError`` for a region that is empty or leaves the frame.

    >>> check_roi((0, 8, 16, 16), 32, 32)
    (0, 8, 16, 16)
    """
    if roi is None:
        return None
    try:
        t, lf, h, w = (check_stride(v + 1, name="roi") - 1 for v in roi)
    except (TypeError, ValueError):
        raise ValueError(f"roi must be four whole numbers (top, left, height, width), got {roi!r}") from None
    if h < 1 or w < 1 or t + h > height or lf + w > width:
        raise ValueError(
            f"roi {roi!r} (top, left, height, width) is empty or outside the {height}x{width} frame"
        )
    return t, lf, h, w


def quick_mode() -> bool:
    """True when ``TOOLKIT_QUICK`` is set to a true value (notebooks/benchmarks shrink their sizes)."""
    return os.environ.get("TOOLKIT_QUICK", "").strip().lower() not in ("", "0", "false", "no")


def resolve_device(device: str = "auto"):
    """``torch.device`` for ``device``: ``"auto"`` picks CUDA when present, else CPU.

    >>> resolve_device("cpu").type
    'cpu'
    """
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def as_path(path: str | os.PathLike) -> Path:
    """``Path`` of an existing file; ``FileNotFoundError`` naming it otherwise.

    >>> as_path("/no/such/file")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such file: '/no/such/file'
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    if p.is_dir():
        raise IsADirectoryError(f"expected a file but {str(p)!r} is a folder")
    return p


def command_line(base: str, args, defaults: dict, flags: tuple[str, ...] = ()) -> str:
    """The command that reproduces a run: ``base`` plus ``--key value`` for every argument of
    ``args`` (an ``argparse.Namespace``) that differs from ``defaults``, and ``--flag`` for each
    true attribute named in ``flags`` (underscores become dashes).

    >>> import argparse
    >>> command_line("python -m x", argparse.Namespace(n_train=8, seed=0, no_clips=True),
    ...              {"n_train": 16, "seed": 0}, flags=("no_clips",))
    'python -m x --n-train 8 --no-clips'
    """
    command = base
    for key, default in defaults.items():
        if getattr(args, key) != default:
            command += f" --{key.replace('_', '-')} {getattr(args, key)}"
    for flag in flags:
        if getattr(args, flag):
            command += f" --{flag.replace('_', '-')}"
    return command


def lazy_class(build) -> type:
    """A metaclass for a stand-in class whose real class ``build()`` makes at first use.

    The stand-in is called like the real class, ``isinstance`` checks against it, and
    ``Stand._cls()`` returns the real class; a package can so offer torch modules without
    importing torch when it is imported.

    >>> class Stand(metaclass=lazy_class(lambda: dict)):
    ...     pass
    >>> Stand(a=1), isinstance({}, Stand), Stand._cls() is dict
    ({'a': 1}, True, True)
    """
    built: list[type] = []

    class _Lazy(type):
        def _cls(cls):
            if not built:
                built.append(build())
            return built[0]

        def __call__(cls, *args, **kwargs):
            return cls._cls()(*args, **kwargs)

        def __instancecheck__(cls, obj):
            return isinstance(obj, cls._cls())

    return _Lazy
