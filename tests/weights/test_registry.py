import pytest

from toolkit import weights


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


def test_missing_weights_error_says_where_and_how(isolated_cache):
    weights.register(
        weights.WeightSpec(
            name="test/missing",
            filename="missing.pt",
            sha256="0" * 64,
            train_command="python -m toolkit.demo.train --out x",
        )
    )
    with pytest.raises(weights.WeightsNotFoundError) as err:
        weights.path("test/missing")
    msg = str(err.value)
    assert "missing.pt" in msg and str(isolated_cache) in msg
    assert "python -m toolkit.demo.train" in msg


def test_cached_file_is_found_and_hash_checked(isolated_cache, tmp_path):
    isolated_cache.mkdir(parents=True)
    f = isolated_cache / "good.bin"
    f.write_bytes(b"weights!")
    digest = weights.sha256_file(f)
    weights.register(weights.WeightSpec(name="test/good", filename="good.bin", sha256=digest))
    assert weights.path("test/good") == f
    weights.register(weights.WeightSpec(name="test/bad", filename="good.bin", sha256="1" * 64))
    with pytest.raises(weights.WeightsHashError, match="SHA-256"):
        weights.path("test/bad")


def test_unknown_name():
    with pytest.raises(KeyError, match="no weights registered"):
        weights.spec("nope/nothing")


def test_download_failure_is_reported(isolated_cache):
    weights.register(
        weights.WeightSpec(
            name="test/url", filename="u.bin", sha256="2" * 64, urls=("http://127.0.0.1:9/u.bin",)
        )
    )
    with pytest.raises(weights.WeightsNotFoundError, match="127.0.0.1"):
        weights.path("test/url", download=True)


def test_register_file_to_cache(isolated_cache, tmp_path):
    src = tmp_path / "m.pt"
    src.write_bytes(b"model")
    s = weights.register_file("test/cached", src, train_command="cmd", card="card text", ship=False)
    assert s.size_bytes == 5 and weights.model_card("test/cached") == "card text"
    assert weights.path("test/cached") == isolated_cache / "m.pt"


def test_a_file_registered_in_the_cache_is_found_by_a_later_process(isolated_cache, tmp_path, monkeypatch):
    src = tmp_path / "later.pt"
    src.write_bytes(b"later")
    weights.register_file("test/later", src, train_command="cmd", card="card", ship=False)
    index = isolated_cache / "index.json"
    assert "test/later" in index.read_text()
    monkeypatch.setattr(weights, "_REGISTRY", {})
    monkeypatch.setattr(weights, "_INDEX_LOADED", False)  # as a fresh process would start
    assert weights.path("test/later") == isolated_cache / "later.pt"
    assert "focal/codec" in weights.available()
