"""Typed errors shared by every method that reads video."""

from __future__ import annotations


class VideoError(Exception):
    """Base class of the toolkit's video errors."""


class VideoReadError(VideoError):
    """The file is not a decodable video, or holds no decodable frame."""


class NotRegularFileError(VideoReadError, OSError):
    """The path is a FIFO, a device, a socket or a symlink loop: refused before opening it
    (reading such a path can block forever). Also an ``OSError``."""


class UnsupportedCodecError(VideoError):
    """The stream's codec does not provide what the analysis needs (e.g. macroblocks)."""
