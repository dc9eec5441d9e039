"""Rebuild ``sample_data/``: small clips with ground truth, deterministic.

Run ``python -m toolkit.synth.sample_data [--out sample_data]``. Contents:

* ``real/`` — unmodified copies of two real H.264 clips from
  ``../shared/real_video`` (CC-BY 4.0, Intel Corporation; see ``real/ATTRIBUTION.md``),
  and the first 300 frames of ``one-by-one-person-detection.mp4`` remuxed
  (packets copied, not re-encoded: the camera's GOP 10 with B-frames);
* ``single/single_h264.mp4`` — a pristine photo sequence encoded once
  (H.264, QP 22, GOP 33);
* ``double/double_mpeg2_h264.mp4`` — the same frames encoded with MPEG-2
  (qscale 3, GOP 12), decoded and re-encoded with H.264 (QP 22, GOP 33);
* ``temporal/temporal_splice.mp4`` — seed 000's Dtemp protocol in small:
  first 60 frames of the MPEG-2 (q 3) version + next 60 of the H.264 (QP 36)
  version of one source, re-encoded with high-quality H.264 (QP 16);
* ``spatial/spatial_splice.mp4`` — Dspat in small: a central window of the
  H.264 QP 36 version pasted into the MPEG-2 q 3 version, re-encoded (QP 16),
  with the pixel mask ``.mask.png``;
* ``images/`` — a pristine photo crop, the same with a median-filtered box and
  its mask (:func:`toolkit.residual.data.write_sample_images`);
* ``manifest.json`` — every file with its SHA-256 and description.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from toolkit._util import sha256_file
from toolkit.synth.encode import encode, remux
from toolkit.synth.forgeries import double_encode, load_frames, spatial_splice, temporal_splice
from toolkit.synth.sources import photo_sequence, real_video_dir

REAL_CLIPS = ("eat.mkv", "walk.mkv")
REMUXED = "person_gop10_head300.mp4"
SIZE = (288, 352)


def build(out: str | Path = "sample_data") -> dict:
    """Write every sample file into ``out`` and return the manifest (name -> sha256, bytes, description).

    >>> manifest = build("/tmp/sample_data")  # doctest: +SKIP
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    real_src = real_video_dir()
    (out / "real").mkdir(exist_ok=True)
    for name in REAL_CLIPS:
        src = real_src / name
        if not src.is_file():
            raise FileNotFoundError(f"real clip {src} is missing (set TOOLKIT_REAL_VIDEO)")
        shutil.copyfile(src, out / "real" / name)
        files[f"real/{name}"] = "real H.264 clip, unmodified copy (CC-BY 4.0, Intel)"
    remux(real_src / "one-by-one-person-detection.mp4", out / "real" / REMUXED, max_frames=300)
    files[f"real/{REMUXED}"] = (
        "first 300 frames of one-by-one-person-detection.mp4 (CC-BY 4.0, Intel), "
        "packets copied without re-encoding: camera GOP 10 with B-frames"
    )
    for extra in ("ATTRIBUTION.md", "LICENSE-CC-BY-4.0.txt"):
        if (real_src / extra).is_file():
            shutil.copyfile(real_src / extra, out / "real" / extra)

    frames = photo_sequence("chelsea", n_frames=150, size=SIZE, motion="mixed", seed=11)
    encode(frames, out / "single" / "single_h264.mp4", codec="h264", quality=22, gop=33, write_sidecar=True)
    files["single/single_h264.mp4"] = "pristine photo sequence, encoded once: H.264 QP 22, GOP 33"

    double_encode(
        frames,
        out / "double" / "double_mpeg2_h264.mp4",
        first={"codec": "mpeg2", "quality": 3, "gop": 12},
        second={"codec": "h264", "quality": 22, "gop": 33},
    )
    files["double/double_mpeg2_h264.mp4"] = (
        "same frames, MPEG-2 q3 GOP 12, then H.264 QP 22 GOP 33 (double encoded)"
    )

    src = photo_sequence("coffee", n_frames=120, size=SIZE, motion="pan", seed=12)
    with tempfile.TemporaryDirectory() as tmp:
        va = encode(src, Path(tmp) / "a.mpg", codec="mpeg2", quality=3, gop=30)
        vb = encode(src, Path(tmp) / "b.mp4", codec="h264", quality=36, gop=30)
        fa, fb = load_frames(va), load_frames(vb)
        temporal_splice(fa, fb, out / "temporal" / "temporal_splice.mp4", cut=60)
        spatial_splice(
            fa[:30],
            fb[:30],
            out / "spatial" / "spatial_splice.mp4",
            final={"codec": "h264", "quality": 16, "gop": 30},
        )
    files["temporal/temporal_splice.mp4"] = (
        "frames 0-59 from an MPEG-2 q3 version, 60-119 from an H.264 QP36 version, re-encoded H.264 QP16"
    )
    files["spatial/spatial_splice.mp4"] = (
        "central window from an H.264 QP36 version inside an MPEG-2 q3 version, re-encoded H.264 QP16"
    )

    from toolkit.residual.data import write_sample_images

    for name, desc in write_sample_images(out / "images").items():
        files[f"images/{name}"] = desc

    manifest = {
        "rebuild": "python -m toolkit.synth.sample_data",
        "files": {
            name: {
                "sha256": sha256_file(out / name),
                "bytes": (out / name).stat().st_size,
                "description": desc,
            }
            for name, desc in sorted(files.items())
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> None:
    """Command line: ``python -m toolkit.synth.sample_data [--out sample_data]``.

    >>> main(["--out", "/tmp/sample_data"])  # doctest: +SKIP
    """
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="sample_data")
    args = ap.parse_args(argv)
    manifest = build(args.out)
    total = sum(f["bytes"] for f in manifest["files"].values())
    for name, f in manifest["files"].items():
        print(f"{name:40s} {f['bytes'] / 1e3:9.1f} kB  {f['sha256'][:12]}")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
