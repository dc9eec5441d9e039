"""A checkpoint that would run code when unpickled is refused on every route into the toolkit.

Each test plants a pickle whose ``__reduce__`` writes a marker file, checks
that plain ``torch.load(weights_only=False)`` would indeed run it (so the
test can fail), then shows the toolkit refuses it with a clear error and the
marker is never written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from toolkit import weights


def _pwn(marker: str) -> dict:
    Path(marker).write_text("code ran")
    return {}


class _Evil:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (_pwn, (self.marker,))


def plant(file: Path, marker: Path) -> Path:
    """Write a checkpoint-looking pickle at ``file`` that runs code when loaded unsafely."""
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": weights.FORMAT, "kind": "focal", "state_dict": {}, "boom": _Evil(marker)}, file)
    return file


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "MARKER"


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


def test_the_planted_file_really_runs_code_when_unpickled(tmp_path, marker):
    f = plant(tmp_path / "evil.pt", marker)
    torch.load(f, weights_only=False)
    assert marker.read_text() == "code ran"


def test_explicit_path_is_refused(tmp_path, marker):
    f = plant(tmp_path / "evil.pt", marker)
    for call in (weights.load, weights.load_checkpoint):
        with pytest.raises(weights.WeightsFormatError, match="weights_only=True"):
            call(f)
    assert not marker.exists()


def test_cached_file_with_wrong_hash_is_never_read(isolated_cache, marker):
    plant(isolated_cache / "evil.pt", marker)
    weights.register(weights.WeightSpec(name="test/evil", filename="evil.pt", sha256="3" * 64))
    with pytest.raises(weights.WeightsHashError, match="not loaded"):
        weights.load("test/evil")
    assert not marker.exists()


def test_cached_file_registered_with_its_own_hash_is_still_refused(isolated_cache, marker):
    f = plant(isolated_cache / "evil2.pt", marker)
    weights.register(
        weights.WeightSpec(name="test/evil2", filename="evil2.pt", sha256=weights.sha256_file(f))
    )
    with pytest.raises(weights.WeightsFormatError):
        weights.load("test/evil2")
    assert not marker.exists()


def test_a_file_in_the_current_directory_never_shadows_a_registry_name(tmp_path, monkeypatch, marker):
    monkeypatch.chdir(tmp_path)
    for name in ("geo/country_demo", "focal/codec"):
        plant(tmp_path / name, marker)
        model = weights.load(name, device="cpu")
        assert model.weights_name == name
        assert model.weights_sha256 == weights.spec(name).sha256
    assert not marker.exists()


@pytest.mark.parametrize("digest", ["", "63fe2227", "0" * 63, "G" * 64, None])
def test_a_registry_entry_without_a_full_sha256_is_refused(digest):
    with pytest.raises(ValueError, match="full SHA-256"):
        weights.WeightSpec(name="test/unhashed", filename="x.pt", sha256=digest)


@pytest.mark.parametrize("filename", ["../../x.pt", "/etc/passwd", "a/b.pt", "..", ".hidden", "", "a\\b.pt"])
def test_registry_file_names_must_be_plain(filename):
    with pytest.raises(ValueError, match="plain name"):
        weights.WeightSpec(name="test/traversal", filename=filename, sha256="4" * 64)


def test_a_traversal_entry_in_the_shipped_index_is_refused(tmp_path, monkeypatch, marker):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    plant(tmp_path / "x.pt", marker)
    entry = {"name": "test/trav", "filename": "../x.pt", "sha256": weights.sha256_file(tmp_path / "x.pt")}
    (shipped / "index.json").write_text(json.dumps([entry]))
    monkeypatch.setattr(weights, "SHIPPED_DIR", shipped)
    monkeypatch.setattr(weights, "_INDEX_LOADED", False)
    with pytest.raises(weights.WeightsFormatError, match="plain name"):
        weights.available()
    assert not marker.exists()


def test_unknown_name_is_a_clear_error_of_both_kinds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(weights.WeightsNotFoundError, match="neither a registered weights name"):
        weights.load("focal/no_such_model")
    with pytest.raises(KeyError):
        weights.spec("focal/no_such_model")
    with pytest.raises(ValueError):
        weights.spec("focal/no_such_model")


def test_save_then_load_round_trips_and_records_the_hash(tmp_path):
    net = torch.nn.Linear(3, 2)
    f = weights.save(net, tmp_path / "lin.pt", kind="test.linear", config={"in": 3}, card={"data": "none"})
    ck = weights.load_checkpoint(f, kind="test.linear")
    assert ck.config == {"in": 3} and ck.card == {"data": "none"}
    assert ck.sha256 == weights.sha256_file(f) and ck.name is None
    assert torch.equal(ck.state_dict["weight"], net.weight.detach())
    with pytest.raises(weights.WeightsFormatError, match="not 'focal'"):
        weights.load_checkpoint(f, kind="focal")


def test_a_foreign_but_harmless_file_is_a_format_error(tmp_path):
    f = tmp_path / "plain.pt"
    torch.save({"hello": torch.zeros(1)}, f)
    with pytest.raises(weights.WeightsFormatError, match="toolkit.weights.save"):
        weights.load(f)
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(weights.WeightsFormatError):
        weights.load(tmp_path / "text.pt")


def test_shipped_checkpoints_load_and_match_the_index():
    for name in ("focal/codec", "focal/quality", "geo/country_demo", "geo/city_demo"):
        ck = weights.load_checkpoint(name)
        assert ck.sha256 == weights.spec(name).sha256 and ck.name == name


def test_every_method_loader_refuses_the_pickle(tmp_path, marker):
    from toolkit import focal, fsvm, residual
    from toolkit.geo import city, country

    f = plant(tmp_path / "evil.pt", marker)
    for load in (focal.load_model, country.load_model, city.load_siamese):
        with pytest.raises(weights.WeightsFormatError):
            load(f, device="cpu")
    for load in (residual.load_model, fsvm.load_model, fsvm.FSVM.load):
        with pytest.raises(weights.WeightsFormatError):
            load(f)
    assert not marker.exists()


def test_method_loaders_never_read_the_current_directory(tmp_path, monkeypatch, marker):
    from toolkit import focal
    from toolkit.geo import country

    monkeypatch.chdir(tmp_path)
    for name in ("codec", "focal/codec", "geo/country_demo"):
        plant(tmp_path / name, marker)
    assert focal.load_model("codec", device="cpu").weights_sha256 == weights.spec("focal/codec").sha256
    assert focal.load_model("focal/codec", device="cpu").weights_name == "focal/codec"
    assert country.load_model("geo/country_demo", device="cpu").weights_name == "geo/country_demo"
    assert not marker.exists()


def test_focal_second_stage_refuses_the_pickle(tmp_path, marker):
    from tests.focal._common import toy_split
    from toolkit.focal.train import train

    f = plant(tmp_path / "stage1.pt", marker)
    splits = {"train": toy_split(0), "val": toy_split(1, 4), "test": toy_split(2, 4)}
    with pytest.raises(ValueError):
        train("codec", splits=splits, epochs=1, init_from=f, progress=False, threads=1)
    assert not marker.exists()
