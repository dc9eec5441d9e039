"""Geolocation's models load only through toolkit.weights; external files only from the user cache."""

import hashlib
from pathlib import Path

import pytest
import torch

from toolkit import weights
from toolkit.geo import city, country, pretrained


def _pwn(marker: str) -> dict:
    Path(marker).write_text("code ran")
    return {}


class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (_pwn, (self.marker,))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "cache" / "weights"
    d.mkdir(parents=True)
    return d


def test_unknown_name_is_unknown_weights_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for load in (country.load_model, city.load_siamese):
        with pytest.raises(weights.UnknownWeightsError, match="geo/country_demo"):
            load("geo/no_such_model")
    with pytest.raises(KeyError):
        country.load_model("nope")
    with pytest.raises(ValueError):
        city.load_model("nope")
    with pytest.raises(FileNotFoundError):
        country.load_model("missing_file.pt")
    with pytest.raises(weights.UnknownWeightsError):
        pretrained.external("geo/no_such_model")


def test_a_file_in_the_current_folder_never_shadows_a_shipped_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    for name in ("geo/country_demo", "geo/city_demo"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        torch.save({"boom": _Evil(marker)}, tmp_path / name)
    m = country.load_model("geo/country_demo", device="cpu")
    n = city.load_siamese("geo/city_demo", device="cpu")
    assert m.weights_sha256 == weights.spec("geo/country_demo").sha256
    assert n.weights_sha256 == weights.spec("geo/city_demo").sha256
    assert not marker.exists()
    # an explicit file path is read with weights_only=True: refused, nothing runs
    with pytest.raises(weights.WeightsFormatError, match="not a country-classifier"):
        country.load_model(tmp_path / "geo" / "country_demo")
    assert not marker.exists()


def test_wrong_kind_is_refused(tmp_path):
    f = city.save_siamese(city.build_siamese("tiny"), tmp_path / "s.pt")
    with pytest.raises(weights.WeightsFormatError, match="not a country-classifier"):
        country.load_model(f)
    with pytest.raises(weights.WeightsFormatError, match="city-verifier"):
        city.load_siamese("geo/country_demo")
    with pytest.raises(weights.WeightsFormatError, match="not a country-classifier"):
        country.load_model("geo/imagenet_resnet18")


def test_builders_and_checkpoint_format(tmp_path, tiny_country_model):
    f = country.save_checkpoint(tiny_country_model, tmp_path / "c.pt", epoch=3)
    ck = weights.load_checkpoint(f, kind="geo.country")
    assert set(ck.config) == {"arch", "class_names"} and ck.extra == {"epoch": 3}
    m = weights.load(f, device="cpu")
    assert isinstance(m, country.CountryModel) and m.weights_sha256 == weights.sha256_file(f)
    ck = weights.load_checkpoint("geo/city_demo", kind="geo.city")
    assert ck.config == {"backbone": "tiny"}
    assert isinstance(weights.load("geo/city_demo", device="cpu"), city.SiameseNet)


def test_external_files_come_only_from_the_cache(cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resnet18-f37072fd.pth").write_bytes(b"in the working folder")  # ignored
    with pytest.raises(weights.WeightsNotFoundError) as e:
        pretrained.registry_file("geo/imagenet_resnet18")
    msg = str(e.value)
    assert str(cache / "resnet18-f37072fd.pth") in msg and "register_file" in msg
    assert "download.pytorch.org" in msg


def test_prefix_is_checked_and_weights_only_protects(cache, tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    spec = pretrained.EXTERNAL["geo/imagenet_resnet18"]
    evil = cache / spec.filename
    torch.save({"boom": _Evil(marker)}, evil)
    # a file whose digest starts with the published prefix cannot be made on purpose here: patch the
    # entry's prefix to the planted file's own, to show that weights_only=True is what protects
    digest = hashlib.sha256(evil.read_bytes()).hexdigest()
    with pytest.raises(weights.WeightsHashError, match="f37072fd"):
        pretrained.load_state_dict("geo/imagenet_resnet18")
    import dataclasses

    monkeypatch.setitem(pretrained.EXTERNAL, spec.name, dataclasses.replace(spec, sha256_prefix=digest[:8]))
    with pytest.raises(weights.WeightsFormatError, match="weights_only=True"):
        pretrained.load_state_dict("geo/imagenet_resnet18")
    assert not marker.exists()


def test_a_good_external_state_dict_loads_and_register_file_switches_to_the_hashed_route(
    cache, tmp_path, monkeypatch
):
    import dataclasses

    net = country.build_model("resnet18")
    src = tmp_path / "r18.pth"
    sd = {k.replace("head.", "fc.").replace("backbone.", ""): v for k, v in net.state_dict().items()}
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    spec = pretrained.EXTERNAL["geo/imagenet_resnet18"]
    monkeypatch.setitem(pretrained.EXTERNAL, spec.name, dataclasses.replace(spec, sha256_prefix=digest[:8]))
    (cache / spec.filename).write_bytes(src.read_bytes())
    got = pretrained.load_state_dict("geo/imagenet_resnet18")
    assert "conv1.weight" in got and not any(k.startswith("module.") for k in got)
    m = country.build_model("resnet18", pretrained=True)
    assert m.meta["pretrained"] == "geo/imagenet_resnet18"
    torch.testing.assert_close(m.backbone.conv1.weight, net.backbone.conv1.weight)
    # with its full hash registered, the registry's hashed route is used
    monkeypatch.setattr(weights, "_REGISTRY", dict(weights._REGISTRY))
    weights.register_file(spec.name, cache / spec.filename, ship=False, train_command="-", card="-")
    assert pretrained.registry_file(spec.name) == cache / spec.filename
    (cache / spec.filename).write_bytes(b"changed")
    with pytest.raises(weights.WeightsHashError):
        pretrained.registry_file(spec.name)


def test_download_goes_to_the_cache_and_checks_the_prefix(cache, tmp_path, monkeypatch):
    import dataclasses

    src = tmp_path / "remote.pth"
    torch.save({"w": torch.zeros(2)}, src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    spec = pretrained.EXTERNAL["geo/places365_resnet18"]
    entry = dataclasses.replace(spec, urls=(src.as_uri(),), sha256_prefix=digest[:8])
    monkeypatch.setitem(pretrained.EXTERNAL, spec.name, entry)
    with pytest.raises(weights.WeightsNotFoundError):
        pretrained.registry_file(spec.name)
    assert pretrained.registry_file(spec.name, download=True) == cache / spec.filename
    assert pretrained.load_state_dict(spec.name)["w"].shape == (2,)
    (cache / spec.filename).unlink()
    monkeypatch.setitem(pretrained.EXTERNAL, spec.name, dataclasses.replace(entry, sha256_prefix="00000000"))
    with pytest.raises(weights.WeightsHashError):
        pretrained.registry_file(spec.name, download=True)
    assert not (cache / spec.filename).exists() and not list(cache.glob("*.part"))


def test_external_entries_are_documentation_not_registry_entries():
    for s in pretrained.SPECS:
        assert isinstance(s, pretrained.ExternalWeights) and s.name not in weights.available()
    with pytest.raises(ValueError, match="plain name"):
        pretrained.ExternalWeights(name="x", filename="../x.pt")


def test_training_resume_refuses_an_old_pickled_checkpoint(tmp_path):
    from toolkit.geo import train

    marker = tmp_path / "MARKER"
    torch.save({"kind": "geo.country", "arch": "tiny", "boom": _Evil(marker)}, tmp_path / "old.pt")
    items = [{"path": "unused.png", "label": 0}]
    with pytest.raises(weights.WeightsFormatError):
        train.train(items, arch="tiny", epochs=1, checkpoint=tmp_path / "old.pt", resume=True, progress=False)
    from toolkit.geo.city_train import train_siamese

    with pytest.raises(weights.WeightsFormatError):
        train_siamese(
            items + [{"path": "u2.png", "label": 1}],
            backbone="tiny",
            epochs=1,
            pairs_per_epoch=2,
            checkpoint=tmp_path / "old.pt",
            resume=True,
            progress=False,
        )
    assert not marker.exists()
