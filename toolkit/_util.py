"""Small helpers shared by every sub-package (hashing, quick mode, devices)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["sha256_file", "quick_mode", "resolve_device"]


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


def quick_mode() -> bool:
    """True when ``TOOLKIT_QUICK`` is set to a true value (notebooks/benchmarks shrink their sizes)."""
    return os.environ.get("TOOLKIT_QUICK", "").strip().lower() not in ("", "0", "false", "no")


def resolve_device(device: str = "auto"):
    """``torch.device`` for ``device``: ``"auto"`` picks CUDA when present, else CPU."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def as_path(path: str | os.PathLike) -> Path:
    """``Path`` of an existing file; ``FileNotFoundError`` naming it otherwise."""
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    if p.is_dir():
        raise IsADirectoryError(f"expected a file but {str(p)!r} is a folder")
    return p
