"""Hostile and broken model files against every route that loads a model.

Generated at test time: a pickle that writes a marker file when unpickled unsafely, random bytes,
an empty file, text, a zip that is no checkpoint, truncations of a real checkpoint at 10 / 50 /
90 %, a plain tensor dict, checkpoints of the wrong kind, checkpoints whose config is a JSON list,
nested 100,000 levels deep or holds NaN, whose tensors do not fit the model class, and F-SVM files
with ``roi`` as a string or NaN coefficients. Every route must refuse each with a
``toolkit.weights`` error (``WeightsFormatError`` / ``WeightsHashError`` /
``WeightsNotFoundError``) whose message names the file, run no code, and never let a raw
``UnpicklingError`` / ``EOFError`` / ``KeyError`` / ``RecursionError`` out.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from toolkit import weights

WEIGHTS_ERRORS = (weights.WeightsFormatError, weights.WeightsHashError, weights.WeightsNotFoundError)


def _pwn(marker: str) -> dict:
    Path(marker).write_text("code ran")
    return {}


class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (_pwn, (self.marker,))


def _ck(kind: str, state: dict, config, card="{}", **extra) -> dict:
    return {
        "format": weights.FORMAT,
        "kind": kind,
        "state_dict": state,
        "config": config,
        "card": card,
        **extra,
    }


def make_bad_files(root: Path, marker: Path) -> dict[str, Path]:
    """Every broken or hostile model file, by name."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def put(name: str, obj=None, data: bytes | None = None):
        f = root / f"{name}.pt"
        if data is not None:
            f.write_bytes(data)
        else:
            torch.save(obj, f)
        files[name] = f

    put(
        "pickle_runs_code",
        {"format": weights.FORMAT, "kind": "geo.country", "state_dict": {}, "x": _Evil(marker)},
    )
    put("random_bytes", data=np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    put("empty", data=b"")
    put("text", data=b"not a checkpoint\n")
    with zipfile.ZipFile(root / "zip.pt", "w") as z:
        z.writestr("archive/data.pkl", b"garbage")
    files["zip_not_checkpoint"] = root / "zip.pt"
    real = weights.path("geo/country_demo").read_bytes()
    for pct in (10, 50, 90):
        put(f"truncated{pct}", data=real[: len(real) * pct // 100])
    put("plain_tensor_dict", {"weight": torch.zeros(2)})
    put("a_list", [1, 2, 3])
    lin = torch.nn.Linear(3, 2).state_dict()
    put("wrong_tensors", _ck("geo.country", lin, json.dumps({"arch": "tiny", "class_names": ["a", "b"]})))
    put("wrong_tensors_city", _ck("geo.city", lin, json.dumps({"backbone": "tiny"})))
    put("config_list", _ck("geo.country", lin, "[1, 2]"))
    put("config_deep", _ck("geo.country", lin, "[" * 100_000 + "]" * 100_000))
    put("config_nan", _ck("geo.country", lin, '{"arch": "tiny", "class_names": ["a", NaN]}'))
    put(
        "config_bad_arch",
        _ck("geo.country", lin, json.dumps({"arch": "os.system", "class_names": ["a", "b"]})),
    )
    put("config_not_json", _ck("geo.city", lin, "{arch: tiny"))
    put("state_not_tensors", _ck("geo.country", {"w": "x"}, "{}"))
    put("kind_not_a_name", _ck(["geo.country"], lin, "{}"))
    fsvm = weights.load_checkpoint("fsvm/simulated")
    good_cfg = fsvm.config

    def fsvm_file(name, cfg=good_cfg, **state):
        put(name, _ck("fsvm", {**fsvm.state_dict, **state}, json.dumps(cfg)))

    fsvm_file("fsvm_roi_string", {**good_cfg, "params": {**good_cfg["params"], "roi": "1234"}})
    fsvm_file("fsvm_nan_coef", coef=torch.full_like(fsvm.state_dict["coef"], float("nan")))
    fsvm_file("fsvm_nan_intercept", intercept=torch.tensor([float("nan")], dtype=torch.float64))
    fsvm_file("fsvm_config_list", [good_cfg])
    fsvm_file("fsvm_bad_n_frames", {**good_cfg, "params": {**good_cfg["params"], "n_frames": -3}})
    return files


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad weights")
    marker = root / "MARKER"
    files = make_bad_files(root, marker)
    yield files
    assert not marker.exists(), "a model file ran code"


def _img():
    return np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def _routes():
    from toolkit import focal, fsvm, residual
    from toolkit.geo import city, country

    def train_resume(f):
        from toolkit.geo import train

        train.train(
            [{"path": "x.png", "label": 0}], arch="tiny", epochs=1, checkpoint=f, resume=True, progress=False
        )

    def city_train_resume(f):
        from toolkit.geo.city_train import train_siamese

        items = [{"path": "a.png", "label": 0}, {"path": "b.png", "label": 1}]
        train_siamese(
            items, backbone="tiny", epochs=1, pairs_per_epoch=2, checkpoint=f, resume=True, progress=False
        )

    return {
        "weights.load": lambda f: weights.load(f, device="cpu"),
        "weights.load_checkpoint": weights.load_checkpoint,
        "geo.country.load_model": lambda f: country.load_model(f, device="cpu"),
        "geo.city.load_siamese": lambda f: city.load_siamese(f, device="cpu"),
        "geo.country.predict(model=path)": lambda f: country.predict(_img(), model=f, device="cpu"),
        "geo.city.verify(model=path)": lambda f: city.verify(_img(), [_img()], model=f, device="cpu"),
        "focal.load_model": lambda f: focal.load_model(f, device="cpu"),
        "residual.load_model": residual.load_model,
        "residual.heatmap(model=path)": lambda f: residual.heatmap(np.zeros((128, 128), np.uint8), f),
        "fsvm.load_model": fsvm.load_model,
        "fsvm.FSVM.load": fsvm.FSVM.load,
        "geo.train resume": train_resume,
        "geo.city_train resume": city_train_resume,
    }


ROUTES = list(_routes())
#: files whose flaw only the model's builder can see (tensors or settings that do not fit the class):
#: ``load_checkpoint`` returns the raw checkpoint of these, every route that builds a model refuses them
MODEL_LEVEL = {
    "wrong_tensors",
    "wrong_tensors_city",
    "config_bad_arch",
    "fsvm_roi_string",
    "fsvm_nan_coef",
    "fsvm_nan_intercept",
    "fsvm_bad_n_frames",
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_loading_route_refuses_every_bad_file_by_name(bad, route):
    load = _routes()[route]
    problems = []
    for name, f in bad.items():
        if route == "weights.load_checkpoint" and name in MODEL_LEVEL:
            continue
        try:
            load(f)
        except WEIGHTS_ERRORS as e:
            if f.name not in str(e):
                problems.append(f"{name}: message does not name the file: {e}")
        except Exception as e:  # anything else is the failure this test exists for
            problems.append(f"{name}: {type(e).__module__}.{type(e).__name__}: {str(e)[:200]}")
        else:
            problems.append(f"{name}: accepted")
    assert not problems, f"{route}:\n" + "\n".join(problems)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "cache" / "weights"
    d.mkdir(parents=True)
    return d


@pytest.mark.parametrize(
    "name, loader", [("geo/vippgeo_resnet101", "country"), ("geo/city_vit_l_16", "city")]
)
def test_unhashed_external_names_planted_in_the_cache_are_read_safely(bad, cache, name, loader):
    from toolkit.geo import city, country, pretrained

    load = country.load_model if loader == "country" else city.load_siamese
    for bad_name in ("pickle_runs_code", "random_bytes", "truncated50", "wrong_tensors", "config_deep"):
        (cache / pretrained.external(name).filename).write_bytes(bad[bad_name].read_bytes())
        with pytest.raises(weights.WeightsFormatError, match=pretrained.external(name).filename):
            load(name, device="cpu")


def test_files_in_the_current_folder_never_shadow_the_shipped_demos(bad, tmp_path, monkeypatch):
    from toolkit.geo import city, country

    monkeypatch.chdir(tmp_path)
    (tmp_path / "geo").mkdir()
    for demo in ("country_demo", "city_demo"):
        (tmp_path / "geo" / demo).write_bytes(bad["pickle_runs_code"].read_bytes())
    assert country.load_model(device="cpu").weights_sha256 == weights.spec("geo/country_demo").sha256
    assert city.load_siamese(device="cpu").weights_sha256 == weights.spec("geo/city_demo").sha256
    r = country.predict(np.zeros((64, 64, 3), np.uint8), device="cpu")  # the default route of predict
    assert r.params["model"] == "geo/country_demo"
    assert r.params["model_sha256"] == weights.spec("geo/country_demo").sha256


@pytest.mark.parametrize(
    "entry, what",
    [
        ({"filename": "../../outside.pt"}, "plain name"),
        ({"filename": "/etc/passwd"}, "plain name"),
        ({"filename": "sub/x.pt"}, "plain name"),
        ({"sha256": "63fe2227"}, "sha256"),
        ({"sha256": "63FE2227" * 8}, "sha256"),
        ({"urls": "http://x"}, "urls"),
        ({"size_bytes": float("nan")}, "finite"),
    ],
)
def test_index_entries_that_escape_the_cache_or_lack_a_full_hash_are_refused(
    tmp_path, monkeypatch, entry, what
):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    base = {"name": "test/x", "filename": "x.pt", "sha256": "5" * 64}
    (shipped / "index.json").write_text(json.dumps([{**base, **entry}]))
    monkeypatch.setattr(weights, "SHIPPED_DIR", shipped)
    monkeypatch.setattr(weights, "_INDEX_LOADED", False)
    monkeypatch.setattr(weights, "_REGISTRY", {})
    with pytest.raises(weights.WeightsFormatError, match=what):
        weights.available()


@pytest.mark.parametrize("text", ["{}", "[1, 2]", "[" * 50_000 + "]" * 50_000, "not json", '[{"name": 3}]'])
def test_a_malformed_index_is_a_clear_error(tmp_path, monkeypatch, text):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "index.json").write_text(text)
    monkeypatch.setattr(weights, "SHIPPED_DIR", shipped)
    monkeypatch.setattr(weights, "_INDEX_LOADED", False)
    monkeypatch.setattr(weights, "_REGISTRY", {})
    with pytest.raises(weights.WeightsFormatError, match="index"):
        weights.available()


def test_check_json_refuses_nan_deep_nesting_and_schema_violations():
    schema = {"type": "object", "properties": {"roi": {"type": ["array", "null"]}}}
    assert weights.check_json({"roi": None}, schema, "cfg") == {"roi": None}
    with pytest.raises(weights.WeightsFormatError, match="roi"):
        weights.check_json({"roi": "1234"}, schema, "cfg")
    with pytest.raises(weights.WeightsFormatError, match="finite"):
        weights.check_json({"a": [1.0, float("inf")]}, schema, "cfg")
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(weights.WeightsFormatError, match="nested"):
        weights.check_json(deep, {"type": "array"}, "cfg")
