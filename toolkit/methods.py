"""The method registry: one entry per analysis method, each returning a :class:`toolkit.result.Result`.

An entry knows its seed and citation, the kind of input it takes, whether it
applies to a given file (:meth:`Method.applicable`), and runs the method
(:meth:`Method.run`). :func:`run` is the one call a notebook, the case
analysis or a script needs.

>>> import toolkit.methods as methods
>>> "vpf" in methods.names()
True
>>> methods.get("vpf").input_kind
'video'
>>> info = methods.inspect("sample_data/single/single_h264.mp4")
>>> methods.get("residual.heatmap").applicable(info)
(False, 'takes an image, got a video')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from toolkit.image import IMAGE_SUFFIXES, read_header

__all__ = ["Method", "MediaInfo", "names", "get", "run", "inspect", "register", "INPUT_KINDS"]

#: what a method takes
INPUT_KINDS = ("video", "image", "image_pair")


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`inspect` learns about a file without analysing it.

    Attributes
    ----------
    path : str; kind : 'video', 'image' or 'unknown'; reason : why 'unknown'.
    video : toolkit.video.VideoInfo or None (codec, size, frames, ...).
    width, height : pixels (0 when unknown); n_frames : frames (1 for an image).
    codec : codec name ('png', 'jpeg', ... for images).
    """

    path: str
    kind: str
    width: int = 0
    height: int = 0
    n_frames: int = 0
    codec: str = ""
    reason: str = ""
    video: object | None = None


def inspect(path: str | os.PathLike) -> MediaInfo:
    """Kind (video / image / unknown), size, frames and codec of a file; reads headers only.

    A FIFO, device or symlink loop is "unknown" (with the reason) without being opened; a
    missing path raises ``FileNotFoundError``, a folder ``IsADirectoryError``.

    >>> inspect("sample_data/single/single_h264.mp4").kind
    'video'
    """
    from toolkit.video import NotRegularFileError, regular_file

    try:
        p = regular_file(path)  # FIFOs, devices, symlink loops: refused before anything opens them
    except NotRegularFileError as e:
        return MediaInfo(str(path), "unknown", reason=str(e))
    if p.suffix.lower() in IMAGE_SUFFIXES:
        try:  # the declared size from the header, also for an image too large to decode
            h = read_header(p)
            return MediaInfo(str(p), "image", h.size[0], h.size[1], 1, (h.format or p.suffix[1:]).lower())
        except (ValueError, OSError) as e:
            return MediaInfo(str(p), "unknown", reason=f"not a readable image ({e})")
    from toolkit.video import VideoError, probe

    try:
        v = probe(p)
    except (VideoError, OSError, ValueError) as e:
        try:
            h = read_header(p)
            return MediaInfo(str(p), "image", h.size[0], h.size[1], 1, (h.format or "image").lower())
        except (ValueError, OSError):
            pass
        return MediaInfo(str(p), "unknown", reason=f"neither a video nor an image ({e})")
    return MediaInfo(str(p), "video", v.width, v.height, v.n_frames, v.codec, video=v)


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _info(info_or_path) -> MediaInfo:
    return info_or_path if isinstance(info_or_path, MediaInfo) else inspect(info_or_path)


@dataclass(frozen=True)
class Method:
    """One registered method.

    Attributes
    ----------
    name : registry name (``"vpf"``).
    title : what it does, in a few words.
    seed : where the method comes from (``"seed 002"`` = ``../shared/seeds/002_*.txt``).
    citation : the paper to cite.
    input_kind : 'video', 'image' or 'image_pair'.
    target : ``"module:function"`` that runs it and returns a Result.
    explanation : plain-language explanation of what the result means.
    codecs : video codecs it reads (empty: any); min_frames, min_side : smallest input.
    needs : parameters the caller must give (e.g. ``("model",)`` for F-SVM without a shipped model).
    defaults : parameters :meth:`run` passes unless the caller overrides them.
    model_param : the parameter that takes the method's model(s) (``"model"``, or ``"models"`` for a
        ``{"codec": ..., "quality": ...}`` mapping); ``None`` for a method without a model.
    model_kind : the checkpoint kind of that model (:func:`toolkit.weights.load`).
    default_model : the weights the method loads when given none (registry names).
    """

    name: str
    title: str
    seed: str
    citation: str
    input_kind: str
    target: str
    explanation: str
    codecs: tuple[str, ...] = ()
    min_frames: int = 1
    min_side: int = 1
    needs: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict)
    model_param: str | None = None
    model_kind: str | None = None
    default_model: str | dict | None = None
    check: Callable | None = None

    @property
    def model_prefix(self) -> str:
        """The package whose short weight names the method accepts (``"codec"`` = ``"focal/codec"``)."""
        return self.name.split(".")[0]

    def applicable(self, info) -> tuple[bool, str]:
        """``(True, "")`` when the method can analyse the file, else ``(False, reason)``.

        ``info`` is a :class:`MediaInfo` or a path.
        """
        info = _info(info)
        want = "image" if self.input_kind == "image_pair" else self.input_kind
        if info.kind == "unknown":
            return False, info.reason or "not a video or image file"
        if info.kind != want:
            return False, f"takes {_a(want)}, got {_a(info.kind)}"
        if self.codecs and info.codec not in self.codecs:
            return False, f"codec {info.codec!r} is not supported (supported: {', '.join(self.codecs)})"
        if info.n_frames and info.n_frames < self.min_frames:
            return False, f"{info.n_frames} frames, fewer than the {self.min_frames} it needs"
        if min(info.width, info.height) < self.min_side:
            return False, f"{info.width}x{info.height} pixels, smaller than {self.min_side} px"
        if self.check is not None:
            return self.check(info)
        return True, ""

    def function(self) -> Callable:
        """The public function behind the entry."""
        module, func = self.target.split(":")
        return getattr(import_module(module), func)

    def run(self, path, **params):
        """Run the method on ``path`` (``**params`` override :attr:`defaults`) and return its Result."""
        missing = [k for k in self.needs if k not in params]
        if missing:
            raise ValueError(f"method {self.name!r} needs {', '.join(missing)}=...")
        return self.function()(path, **{**self.defaults, **params})


_REGISTRY: dict[str, Method] = {}


def register(method: Method, *, replace: bool = False) -> Method:
    """Add a method to the registry (``ValueError`` for a duplicate name unless ``replace``).

    >>> register(get("vpf"), replace=True).name
    'vpf'
    """
    if method.input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {method.input_kind!r}")
    if method.name in _REGISTRY and not replace:
        raise ValueError(f"a method named {method.name!r} is already registered")
    _REGISTRY[method.name] = method
    return method


def names() -> list[str]:
    """Registered method names, in registration order.

    >>> names()[:2]
    ['video.macroblocks', 'vpf']
    """
    return list(_REGISTRY)


def get(name: str) -> Method:
    """The entry ``name``; ``ValueError`` listing the known names otherwise.

    >>> get("focal.temporal").seed
    'seed 000'
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown method {name!r}; registered: {', '.join(_REGISTRY)}") from None


def run(name: str, path, **params):
    """Run the registered method ``name`` on ``path`` and return its :class:`~toolkit.result.Result`.

    >>> r = run("vpf", "sample_data/double/double_mpeg2_h264.mp4")
    >>> r.verdict, r.previous_gop
    ('double_encoded', 12)
    """
    return get(name).run(path, **params)


# --- the entries ------------------------------------------------------------------------
register(
    Method(
        name="video.macroblocks",
        title="frame and macroblock types (intra / inter / skip per frame)",
        seed="seed 002",
        citation="FFmpeg's decoder macroblock types through PyAV; the VPF (seed 002) reads these counts",
        input_kind="video",
        target="toolkit.video:macroblock_types",
        explanation=(
            "How every frame was coded: its picture type (I, P, B) and how many of its macroblocks are "
            "intra-coded, predicted from other frames, or skipped. It describes the stream and decides "
            "nothing; double encoding and synthetic video leave their traces in these counts."
        ),
        codecs=("h264", "mpeg2video", "mpeg4"),
    )
)
_FOCAL = (
    "S. Verde, P. Bestagini, S. Milani, G. Calvagno, S. Tubaro, 'FOCAL: a forgery localization "
    "framework based on video coding self-consistency' (seed 000)"
)

register(
    Method(
        name="vpf",
        title="double encoding and previous GOP (VPF)",
        seed="seed 002",
        citation=(
            "D. Vázquez-Padín, M. Fontani, D. Shullani, F. Pérez-González, A. Piva, M. Barni, 'Video "
            "integrity verification and GOP size estimation via generalized variation of prediction "
            "footprint', IEEE TIFS 2020; the VPF as described in seed 002"
        ),
        input_kind="video",
        target="toolkit.vpf:analyze",
        explanation=(
            "A video encoded twice shows periodic bumps in its intra / skipped macroblock counts at "
            "the first encoding's I-frames (the variation of prediction footprint). The score is how "
            "periodic those bumps are; above the threshold the video is called double encoded and "
            "the period is the first encoding's GOP."
        ),
        codecs=("h264", "mpeg2video", "mpeg4"),
        min_frames=2,
    )
)
register(
    Method(
        name="focal.classify",
        title="codec / quality of the coding traces (FOCAL CNN)",
        seed="seed 000",
        citation=_FOCAL,
        input_kind="video",
        target="toolkit.focal:classify",
        explanation=(
            "A CNN trained on 64x64 luma patches tells which codec (MPEG-2, MPEG-4, H.264, H.265) or "
            "which quantisation step last coded the frames; the result is the mean class probability "
            "over all patches and frames. It describes the video; it does not decide forgery."
        ),
        min_side=64,
        defaults={"model": "codec"},
        model_param="model",
        model_kind="focal",
        default_model="focal/codec",
    )
)
register(
    Method(
        name="focal.temporal",
        title="temporal splicing (FOCAL)",
        seed="seed 000",
        citation=_FOCAL,
        input_kind="video",
        target="toolkit.focal.temporal:detect",
        explanation=(
            "Frames from another camera or encoder carry other coding traces: the distance between "
            "consecutive frames' FOCAL descriptors jumps at a splice. A jump above the threshold, "
            "away from the video's own I-frames, is reported as a cut."
        ),
        min_side=64,
        min_frames=3,
        model_param="models",
        model_kind="focal",
        default_model={"codec": "focal/codec", "quality": "focal/quality"},
    )
)
register(
    Method(
        name="focal.spatial",
        title="spatial splicing map (FOCAL, VER-weighted fusion)",
        seed="seed 000",
        citation=_FOCAL,
        input_kind="video",
        target="toolkit.focal.spatial:localize",
        explanation=(
            "Each patch's FOCAL features are compared with the frame's typical values; the codec and "
            "quality activations are fused with weights from their entropy (VER). Bright regions of "
            "the map have coding traces unlike the rest of the frame."
        ),
        min_side=64,
        model_param="models",
        model_kind="focal",
        default_model={"codec": "focal/codec", "quality": "focal/quality"},
    )
)
register(
    Method(
        name="residual.heatmap",
        title="local manipulation map (SRM co-occurrences, recast CNN)",
        seed="seed 004",
        citation=(
            "D. Cozzolino, G. Poggi, L. Verdoliva, 'Recasting residual-based local descriptors as "
            "convolutional neural networks: an application to image forgery detection', "
            "ACM IH&MMSec 2017 (seed 004)"
        ),
        input_kind="image",
        target="toolkit.residual:heatmap",
        explanation=(
            "High-pass residuals of the green band are quantised and their co-occurrences counted in "
            "sliding 128x128 windows; a linear classifier on these counts gives each window's "
            "probability of being manipulated. The shipped model (residual/median5) detects 5x5 median "
            "filtering, with a threshold calibrated on training images; other manipulations need their "
            "own model (model=...)."
        ),
        min_side=128,
        model_param="model",
        model_kind="residual.svm",
        default_model="residual/median5",
    )
)
register(
    Method(
        name="fsvm",
        title="synthetic video (F-SVM macroblock footprints)",
        seed="seed 001, ch. 5",
        citation="seed 001 (PhD thesis), chapter 5: F-SVM",
        input_kind="video",
        target="toolkit.fsvm:detect",
        explanation=(
            "After a lossless re-encode, the fractions of intra, inter and skipped macroblocks of the "
            "first frames form a footprint; a linear SVM trained on real and synthetic videos decides "
            "which the video resembles. The score is the SVM's signed distance (> 0: synthetic). The "
            "shipped model (fsvm/simulated) saw only simulated DeepStreets-like videos: on real "
            "evidence, train one on your own real and synthetic material (model=...)."
        ),
        codecs=(),
        min_frames=31,
        model_param="model",
        model_kind="fsvm",
        default_model="fsvm/simulated",
    )
)
register(
    Method(
        name="geo.country",
        title="country recognition, top-k on a map",
        seed="seed 001, ch. 7",
        citation="seed 001 (PhD thesis), chapter 7: country recognition (VIPPGeo)",
        input_kind="image",
        target="toolkit.geo.country:predict",
        explanation=(
            "A ResNet classifies the image into 61 country classes from five crops; the top-k classes "
            "are drawn on a map. A claimed country outside the top-k is a reason to doubt the claim."
        ),
        min_side=32,
        model_param="model",
        model_kind="geo.country",
        default_model="geo/country_demo",
    )
)
register(
    Method(
        name="geo.city",
        title="same-city verification (Siamese network)",
        seed="seed 001, ch. 8",
        citation="seed 001 (PhD thesis), chapter 8: city verification",
        input_kind="image_pair",
        target="toolkit.geo.city:verify",
        explanation=(
            "A Siamese network compares the query image with reference images of the claimed city; "
            "a high probability of 'different city' contradicts the claim."
        ),
        min_side=32,
        needs=("references",),
        model_param="model",
        model_kind="geo.city",
        default_model="geo/city_demo",
    )
)
register(
    Method(
        name="framecls",
        title="synthetic video (frame CNN, soft vote)",
        seed="seed 001, ch. 3-5",
        citation="seed 001 (PhD thesis), chapter 3: frame-level Xception on DeepStreets; ch. 5 baselines",
        input_kind="video",
        target="toolkit.framecls:analyze",
        explanation=(
            "A CNN gives every frame a probability of being synthetic; the video's score is the mean "
            "over frames (soft vote; the first 30 frames unless max_frames says otherwise, as the seed), "
            "synthetic above the threshold. The shipped model "
            "(framecls/tiny_demo) is a tiny CNN that saw only simulated DeepStreets-like videos: on "
            "real evidence, train one on your own real and synthetic material (model=...)."
        ),
        min_side=16,
        defaults={"max_frames": 30},
        model_param="model",
        model_kind="framecls",
        default_model="framecls/tiny_demo",
    )
)
register(
    Method(
        name="ldptop",
        title="synthetic human body video (LDP-TOP, body parts, MLP votes)",
        seed="seed 001, ch. 4",
        citation=(
            "seed 001 (PhD thesis), chapter 4: LDP-TOP detector of FakeDance videos; LDP after B. Zhang, "
            "Y. Gao, S. Zhao, J. Liu, 'Local derivative pattern versus local binary pattern', IEEE TIP 2010"
        ),
        input_kind="video",
        target="toolkit.ldptop:analyze",
        explanation=(
            "Windows of 50 frames are described by local derivative patterns on their three central "
            "planes (XY, XT, YT), for the grey frames and for the optical flow's gradient; one MLP per "
            "body part and input gives a fake probability, the parts vote, then the windows vote. The "
            "score is the mean fake probability. The shipped model (ldptop/frame_fitlike) looks at the "
            "whole frame and saw only simulated FakeDance-like videos of one clip: on real evidence, "
            "train one on your own material (model=..., regions=...)."
        ),
        min_frames=50,
        min_side=16,
        model_param="model",
        model_kind="ldptop",
        default_model="ldptop/frame_fitlike",
    )
)
register(
    Method(
        name="faces",
        title="manipulated faces (joint classification + segmentation FCN)",
        seed="seed 003",
        citation=(
            "M. Tarasiou, S. Zafeiriou, 'Using fully convolutional neural networks to detect manipulated "
            "images in videos' (seed 003); MTCNN face detection after K. Zhang, Z. Zhang, Z. Li, Y. Qiao, "
            "IEEE SPL 2016"
        ),
        input_kind="image",
        target="toolkit.faces:analyze",
        explanation=(
            "Faces are found (MTCNN, five landmarks) and cropped as the seed does (a square 2.2 times the "
            "face box, centred on the landmarks, 128 x 128). A small fully convolutional network gives "
            "each face a fake probability and a 49 x 49 map of where it looks manipulated. The score is "
            "the highest fake probability; at or above the threshold the image is called manipulated. "
            "Without a face the result is inconclusive. The shipped model (faces/fcn) saw only the "
            "project's generated manipulations of a few people: train one on FaceForensics++ for real work."
        ),
        min_side=12,
        model_param="model",
        model_kind="faces.fcn",
        default_model="faces/fcn",
    )
)
