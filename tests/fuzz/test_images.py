"""Odd and hostile image files against every public image entry point.

Inputs are generated at test time (nothing big is committed): an animated GIF and APNG, a CMYK
JPEG, palette / palette-with-transparency / RGBA / LA / 16-bit / 32-bit / float images, an
EXIF-rotated JPEG, a decompression bomb (12000 x 12000 PNG of ~400 KB) and a PNG that only
declares a huge size, truncations at 10 / 50 / 90 %, random bytes, empty and text files, names
with spaces, unicode and a leading dash, read-only files and folders, symlinks (good, dangling,
a loop), a FIFO and a folder named like an image.

Each entry point runs every input in a subprocess (:func:`tests.fuzz.harness.call_batch`) with a
per-call budget: the answer must be a result or a typed error (``ValueError`` /
``FileNotFoundError`` with a sentence), never a hang, a crash or a raw library exception; the
input's SHA-256 is unchanged and no file appears beside it.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fuzz.harness import call_batch, untouched
from toolkit._util import sha256_file

#: seconds one call may take (the slowest good case, a 160 x 160 heat map, takes well under 5 s)
BUDGET = 40.0
#: exception families a caller is promised (a sentence, not a library's internals)
TYPED = ("ValueError", "FileNotFoundError")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_declaring(width: int, height: int, rows: int | None) -> bytes:
    """A grey 8-bit PNG of ``width x height`` whose IDAT holds ``rows`` zero rows (all when None)."""
    z = zlib.compressobj(9)
    body = [z.compress(b"\x00" * (width + 1)) for _ in range(height if rows is None else rows)]
    idat = b"".join(body) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _photo(h: int = 160, w: int = 176) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (h + w)], -1)
    return np.clip(base + rng.integers(-20, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def make_inputs(root: Path) -> dict[str, Path]:
    """Every odd input, by name, in ``root`` (good images first)."""
    root.mkdir(parents=True, exist_ok=True)
    rgb = _photo()
    out: dict[str, Path] = {}

    def save(name, img, **kw):
        out[name.split(".")[0]] = root / name
        img.save(root / name, **kw)

    frames = [Image.fromarray(np.roll(rgb, 9 * i, axis=1)).convert("P") for i in range(3)]
    save("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=40)
    apng = [Image.fromarray(np.roll(rgb, 11 * i, axis=0)) for i in range(3)]
    save("animated_apng.png", apng[0], save_all=True, append_images=apng[1:])
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"), quality=95)
    save("palette.png", Image.fromarray(rgb).convert("P"))
    pal = Image.fromarray(rgb).convert("P")
    save("palette_transparent.png", pal, transparency=0)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    save("rgba.png", Image.fromarray(rgba))
    save("la.png", Image.fromarray(np.dstack([rgb[..., 0], np.full(rgb.shape[:2], 128, np.uint8)])))
    save("grey16.png", Image.fromarray(rgb[..., 1].astype(np.uint16) * 257))
    save("int32.tif", Image.fromarray(rgb[..., 1].astype(np.int32) * 1000))
    save("float.tif", Image.fromarray(rgb[..., 1].astype(np.float32) / 255.0))
    exif = Image.Exif()
    exif[0x0112] = 6
    save("rotated.jpg", Image.fromarray(rgb), exif=exif, quality=95)
    save("plain.png", Image.fromarray(rgb))
    good = dict(out)

    def raw(name, data: bytes):
        out[name.rsplit(".", 1)[0]] = root / name
        (root / name).write_bytes(data)

    raw("bomb.png", _png_declaring(12000, 12000, None))  # ~400 KB, 144 megapixels
    raw("declares_huge.png", _png_declaring(100_000, 100_000, 2))
    raw("declares_zero.png", _png_declaring(0, 0, 0))
    png = (root / "plain.png").read_bytes()
    for pct in (10, 50, 90):
        raw(f"truncated{pct}.png", png[: len(png) * pct // 100])
    jpg = (root / "rotated.jpg").read_bytes()
    raw("truncated50.jpg", jpg[: len(jpg) // 2])
    raw("random.png", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    raw("empty.jpg", b"")
    raw("text.jpg", b"this is not an image\n" * 10)
    raw("flipped.png", bytes(b ^ 0xFF if i % 97 == 50 else b for i, b in enumerate(png)))
    for name in ("with space.png", "ünïcødé_日本.png", "-leading-dash.png"):
        raw(name, png)
    ro = root / "read_only.png"
    ro.write_bytes(png)
    ro.chmod(0o444)
    out["read_only"] = ro
    folder = root / "ro_folder"
    folder.mkdir()
    (folder / "inside.png").write_bytes(png)
    folder.chmod(0o555)
    out["in_read_only_folder"] = folder / "inside.png"
    (root / "link.png").symlink_to(root / "plain.png")
    out["symlink"] = root / "link.png"
    (root / "dangling.png").symlink_to(root / "no_such_target.png")
    out["dangling_symlink"] = root / "dangling.png"
    (root / "loop_a.png").symlink_to(root / "loop_b.png")
    (root / "loop_b.png").symlink_to(root / "loop_a.png")
    out["symlink_loop"] = root / "loop_a.png"
    os.mkfifo(root / "fifo.png")
    out["fifo"] = root / "fifo.png"
    (root / "folder.png").mkdir()
    out["folder"] = root / "folder.png"
    out["missing"] = root / "missing.png"
    return {"good": good, "all": out}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd images")
    made = make_inputs(root)
    yield made
    (root / "ro_folder").chmod(0o755)


#: inputs that are images a reader must decode (a result, not an error)
GOOD = (
    "animated",
    "animated_apng",
    "cmyk",
    "palette",
    "palette_transparent",
    "rgba",
    "la",
    "grey16",
    "int32",
    "float",
    "rotated",
    "plain",
    "with space",
    "ünïcødé_日本",
    "-leading-dash",
    "read_only",
    "in_read_only_folder",
    "symlink",
)

ENTRY_POINTS = {
    "toolkit.image:load_image": {},
    "toolkit.residual:heatmap": {"stride": 64},
    "toolkit.residual:analyze": {},
    "toolkit.geo.country:predict": {"device": "cpu"},
    "tests.fuzz.test_images:city_verify": {},
    "tests.fuzz.test_images:run_method": {"name": "residual.heatmap", "stride": 64},
    "tests.fuzz.test_images:run_method#": {"name": "geo.country", "device": "cpu"},
}
#: good inputs the model-running entry points also decode (every other good one goes through
#: load_image; what each conversion gives is checked in-process below)
HEAVY_GOOD = ("cmyk", "animated", "la", "with space", "-leading-dash", "symlink", "in_read_only_folder")


def city_verify(path):
    """``geo.city.verify`` with the odd file as the query and as one of two references."""
    from toolkit.geo import city

    plain = next(p / "plain.png" for p in Path(path).parents if (p / "plain.png").is_file())
    a = city.verify(path, [plain, plain], device="cpu")
    city.verify(plain, [path, plain], device="cpu")
    return a


def run_method(path, name, **params):
    """``toolkit.methods.run(name, path, **params)`` (the case analysis' route)."""
    from toolkit import methods

    return methods.run(name, path, **params)


def dispatch(target, path, kwargs):
    """Call the entry point ``target`` ("module:function") on ``path``: one child runs them all."""
    import importlib

    mod, _, fn = target.rstrip("#").partition(":")
    return getattr(importlib.import_module(mod), fn)(path, **kwargs)


def _cases(items):
    for target, kwargs in ENTRY_POINTS.items():
        light = target == "toolkit.image:load_image" or target.endswith(":analyze")
        for name, p in items.items():
            if light or name not in GOOD or name in HEAVY_GOOD:
                yield target, name, p, kwargs


@pytest.fixture(scope="module")
def outcomes(inputs):
    items = inputs["all"]
    cases = list(_cases(items))
    with contextlib.ExitStack() as stack:
        for p in items.values():
            stack.enter_context(untouched(p))
        got = call_batch(
            "tests.fuzz.test_images:dispatch", [((t, p, kw), {}) for t, _, p, kw in cases], timeout=BUDGET
        )
    out: dict[str, dict] = {}
    for (t, name, _, _), o in zip(cases, got):
        out.setdefault(t, {})[name] = o
    return out


def _check(results: dict, target):
    problems = []
    for name, o in results.items():
        if name in GOOD and o.status != "returned":
            problems.append(f"{name}: a readable image gave {o.status} {o.type}: {o.message}")
        elif o.status not in ("returned", "raised"):
            problems.append(f"{name}: {o.status} {o.message}")
        elif o.status == "raised" and not o.raised(*TYPED):
            problems.append(f"{name}: untyped {o.type}: {o.message}")
        elif o.status == "raised" and (len(o.message) < 15 or "Traceback" in o.message):
            problems.append(f"{name}: unclear message {o.message!r}")
        elif o.status == "raised" and "Decompression" in o.type:
            problems.append(f"{name}: PIL's {o.type} escaped")
    assert not problems, f"{target}:\n" + "\n".join(problems)


@pytest.mark.parametrize("target", list(ENTRY_POINTS))
def test_every_image_entry_point_answers_every_odd_input(outcomes, target):
    results = outcomes[target]
    _check(results, target)
    bomb = results["bomb"]
    assert bomb.raised("ValueError") and "max_pixels" in bomb.message, bomb
    assert "144,000,000" in bomb.message  # the declared size is read from the header, not 0 x 0
    for name in ("fifo", "symlink_loop", "folder"):
        assert results[name].raised("ValueError"), (name, results[name])
    assert results["missing"].raised("FileNotFoundError") and results["dangling_symlink"].raised(
        "FileNotFoundError"
    )


# --- in-process checks of what the results say ---------------------------------------------
EXPECTED_CONVERSION = {
    "animated": "first of 3 frames",
    "animated_apng": "first of 3 frames (animated PNG)",
    "cmyk": "CMYK",
    "palette": "palette",
    "palette_transparent": "alpha composited",
    "rgba": "alpha composited",
    "la": "alpha composited",
    "grey16": "16-bit",
    "int32": "32-bit integer",
    "float": "float grey",
    "rotated": "EXIF orientation 6",
}


@pytest.mark.parametrize("name", list(EXPECTED_CONVERSION))
def test_load_image_states_each_conversion_and_gets_it_right(inputs, name):
    from toolkit.image import load_image

    f = inputs["all"][name]
    rgb, info = load_image(f, return_info=True)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert any(EXPECTED_CONVERSION[name] in c for c in info.conversions), info.conversions
    ref = _photo()
    if name == "rotated":  # on its side in the file, upright once read
        assert info.orientation == 6 and rgb.shape[:2] == ref.shape[1::-1]
        assert np.abs(rgb.astype(int) - np.rot90(ref, -1)).mean() < 8
    elif name in ("grey16", "int32", "float"):
        tol = 1 if name != "int32" else 2
        assert np.abs(rgb[..., 0].astype(int) - ref[..., 1]).max() <= tol or name == "int32"
    elif name in ("rgba", "la"):
        assert rgb.min() >= 127  # 50 % alpha over white lifts every value to at least ~128
    elif name in ("animated", "animated_apng"):
        assert np.abs(rgb.astype(int) - ref).mean() < 25  # frame 0, not a shifted later frame
        later = np.roll(ref, 18, axis=1) if name == "animated" else np.roll(ref, 22, axis=0)
        assert np.abs(rgb.astype(int) - ref).mean() < np.abs(rgb.astype(int) - later).mean()


def test_results_record_the_conversion_and_the_files_sha256(inputs):
    from toolkit.geo import city, country
    from toolkit.residual import analyze, heatmap

    f = inputs["all"]["cmyk"]
    digest = sha256_file(f)
    for r in (heatmap(f, stride=64), analyze(f), country.predict(f, device="cpu")):
        assert r.sha256 == digest and r.path == str(f)
        assert any("CMYK" in c for c in r.params["image"]["conversions"])
    refs = [inputs["all"]["palette"], inputs["all"]["animated"]]
    v = city.verify(f, refs, device="cpu")
    assert v.sha256 == digest and any("CMYK" in c for c in v.params["image"]["conversions"])
    assert [r["sha256"] for r in v.params["references"]] == [sha256_file(p) for p in refs]
    assert "first of 3 frames (animated GIF)" in v.params["references"][1]["image"]["conversions"]
    assert v.to_dict()["params"]["references"][0]["path"] == str(refs[0])


def test_pil_bomb_guard_never_escapes_and_max_pixels_decides(monkeypatch, tmp_path):
    import warnings

    from toolkit.image import load_image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL warns above 1000, raises above 2000
    for side in (40, 50):  # 1600 px (PIL's warning), 2500 px (PIL's DecompressionBombError)
        f = tmp_path / f"s{side}.png"
        Image.new("L", (side, side), 7).save(f)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert load_image(f).shape == (side, side, 3)
            assert load_image(f.read_bytes()).shape == (side, side, 3)
        with pytest.raises(
            ValueError, match=f"{side}x{side} = {side * side:,} pixels exceeds max_pixels=1,000"
        ):
            load_image(f, max_pixels=1000)
    assert Image.MAX_IMAGE_PIXELS == 1000  # PIL's setting is left as it was


def test_html_of_a_result_escapes_a_hostile_file_name(tmp_path):
    from toolkit.residual import analyze

    name = "<img src=x onerror=alert(1)>.png"
    f = tmp_path / name
    Image.fromarray(_photo(32, 32)).save(f, format="PNG")
    page = analyze(f)._repr_html_()
    assert "<img src=x" not in page and html.escape("<img src=x") in page


def test_a_symlink_loop_and_a_fifo_are_clear_errors_before_any_read(tmp_path):
    from toolkit.image import load_image

    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    with pytest.raises(ValueError, match="symbolic-link loop"):
        load_image(tmp_path / "a.png")
    os.mkfifo(tmp_path / "f.png")
    with pytest.raises(ValueError, match="FIFO"):
        load_image(tmp_path / "f.png")  # returns at once: a FIFO is never opened
    with pytest.raises(ValueError, match="not an image"):
        load_image(io.BytesIO(b"x").getvalue())


# --- FOCAL on odd arrays -------------------------------------------------------------------
def focal_case(fn: str, shape: list, dtype: str, fill, kwargs: dict):
    """Build an array of ``shape`` / ``dtype`` filled with ``fill`` (None: random) and call the
    FOCAL function ``fn`` ('classify', 'features', 'localize') on it in the child process."""
    if dtype == "object":
        a = np.array(["x"] * int(np.prod(shape)), dtype=object).reshape(shape)
    elif fill is None:
        a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8).astype(dtype)
    else:
        a = np.full(shape, fill, dtype=dtype)
    if fn == "localize":
        from toolkit.focal.spatial import localize

        return localize(a, features="codec", device="cpu", **kwargs)
    from toolkit import focal

    return getattr(focal, fn)(a, "codec", device="cpu", **kwargs)


#: (function, shape, dtype, fill, kwargs, what must happen: "returned" or an exception family)
FOCAL_CASES = [
    ("classify", [64, 64], "uint8", None, {}, "returned"),
    ("classify", [3, 96, 128, 3], "uint8", None, {"stride": 32}, "returned"),
    ("features", [2, 72, 80], "uint8", 0, {}, "returned"),
    ("localize", [2, 96, 128], "uint8", None, {"stride": 16}, "returned"),
    ("classify", [4000, 4000], "uint8", 0, {"roi": [0, 0, 128, 128]}, "returned"),
    ("localize", [4000, 4000], "uint8", 0, {"roi": [8, 8, 128, 128], "stride": 16}, "returned"),
    ("features", [12000, 12000], "uint8", 0, {}, "ValueError"),  # above max_pixels: refused at once
    ("classify", [12000, 12000], "uint8", 0, {}, "ValueError"),
    ("features", [40, 1080, 1920], "uint8", 0, {"max_bytes": 100_000_000}, "ValueError"),
    ("features", [0, 64, 64], "uint8", 0, {}, "ValueError"),
    ("classify", [63, 64], "uint8", 0, {}, "ValueError"),
    ("features", [100], "uint8", 0, {}, "ValueError"),
    ("features", [64, 64, 2], "uint8", 0, {}, "ValueError"),
    ("classify", [64, 64], "float64", float("nan"), {}, "ValueError"),
    ("classify", [64, 64], "object", None, {}, "ValueError"),
    ("classify", [64, 64], "uint8", 0, {"stride": 12}, "ValueError"),
    ("classify", [64, 64], "uint8", 0, {"roi": "0,0,64,64"}, "ValueError"),
    ("classify", [64, 64], "uint8", 0, {"max_frames": 0}, "ValueError"),
    ("localize", [64, 64], "uint8", 0, {"keep_frames": 0}, "ValueError"),
    ("features", [64, 64], "uint8", 0, {"roi": [0, 0, 64, 65]}, "ValueError"),
]


def test_focal_entry_points_on_odd_arrays():
    got = call_batch("tests.fuzz.test_images:focal_case", [(c[:5], {}) for c in FOCAL_CASES], timeout=BUDGET)
    problems = []
    for case, o in zip(FOCAL_CASES, got):
        want = case[5]
        ok = o.status == "returned" if want == "returned" else o.raised(want) and len(o.message) > 15
        if not ok:
            problems.append(f"{case[:3]} {case[4]}: wanted {want}, got {o.status} {o.type}: {o.message}")
    assert not problems, "\n".join(problems)
