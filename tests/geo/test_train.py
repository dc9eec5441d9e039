import numpy as np
import pandas as pd
import pytest
import torch

from toolkit import weights
from toolkit.geo import country, groups, train


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("geo_demo")
    photos = {"china": "CN", "coffee": "IT", "chelsea": "GB", "brick_rgb": "DE"}
    csv = train.make_demo_dataset(root, n_train=16, n_test=6, seed=0, photos=photos)
    return train.read_dataset(csv)


def test_read_dataset_layouts(tmp_path, demo_set):
    assert {it["split"] for it in demo_set} == {"train", "test"}
    italy = groups.class_names().index("Italy")
    assert all(it["label"] == italy for it in demo_set if it["country"] == "IT")
    # GPS columns are mapped to a country offline
    img = demo_set[0]["path"]
    pd.DataFrame({"IMG_ID": [img, img], "LAT": [41.9029, 35.68], "LON": [12.4534, 139.69]}).to_csv(
        tmp_path / "gps.csv", index=False
    )
    items = train.read_dataset(tmp_path / "gps.csv")
    assert [it["country"] for it in items] == ["VA", "JP"]
    assert items[0]["label"] == italy
    # folder layout root/<CC>/*.jpg
    (tmp_path / "folder" / "FR").mkdir(parents=True)
    (tmp_path / "folder" / "FR" / "a.jpg").write_bytes(open(img, "rb").read())
    items = train.read_dataset(tmp_path / "folder")
    assert items[0]["country"] == "FR" and items[0]["label"] == groups.class_names().index("France")
    pd.DataFrame({"file": [img]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="country column"):
        train.read_dataset(tmp_path / "bad.csv")


def test_augment_is_seeded_and_sized():
    img = (np.random.default_rng(0).random((240, 320, 3)) * 255).astype(np.uint8)
    a = train.augment(img, np.random.default_rng([1, 2]))
    b = train.augment(img, np.random.default_rng([1, 2]))
    assert a.shape == (224, 224, 3)
    np.testing.assert_array_equal(a, b)


def test_training_learns_on_held_out_images(demo_set):
    torch.set_num_threads(2)
    tr = [it for it in demo_set if it["split"] == "train"]
    te = [it for it in demo_set if it["split"] == "test"]
    model, hist = train.train(tr, None, arch="tiny", epochs=5, batch_size=16, progress=False, seed=0)
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    probs = train.predict_items(model, te)
    res = country.evaluate([it["label"] for it in te], probs)
    # 4 trained classes -> chance top-1 = 0.25 (61-way head)
    assert res["top1"] >= 0.5, res


def test_resume_equals_uninterrupted_run(tmp_path, demo_set):
    tr = [it for it in demo_set if it["split"] == "train"][::4]
    m2, h2 = train.train(
        tr, arch="tiny", epochs=2, batch_size=8, progress=False, checkpoint=tmp_path / "full.pt"
    )
    train.train(tr, arch="tiny", epochs=1, batch_size=8, progress=False, checkpoint=tmp_path / "part.pt")
    ck = weights.load_checkpoint(tmp_path / "part.pt", kind="geo.country")  # the one safe format
    assert ck.extra["epoch"] == 1 and "optimizer" in ck.extra
    m1, h1 = train.train(
        tr, arch="tiny", epochs=2, batch_size=8, progress=False, checkpoint=tmp_path / "part.pt", resume=True
    )
    assert [h["epoch"] for h in h1] == [1, 2]
    assert h1[1]["train_loss"] == pytest.approx(h2[1]["train_loss"], rel=1e-5)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    # the checkpoint loads as a model
    assert country.load_model(tmp_path / "part.pt").arch == "tiny"
    with pytest.raises(ValueError, match="arch"):
        train.train(
            tr, arch="resnet18", epochs=3, checkpoint=tmp_path / "part.pt", resume=True, progress=False
        )


def test_cli_trains_and_writes_results(tmp_path):
    res = train.main(
        [
            "--demo-data",
            str(tmp_path / "d"),
            "--arch",
            "tiny",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--out",
            str(tmp_path / "ck.pt"),
            "--results",
            str(tmp_path / "r.json"),
            "--demo-n-train",
            "4",
            "--demo-n-test",
            "2",
        ]
    )
    assert (tmp_path / "ck.pt").is_file() and (tmp_path / "r.json").is_file()
    assert set(res["fusions"]) == {"mean", "max", *country.CROP_NAMES}
    assert res["n_train"] == 4 * len(train.DEMO_PHOTOS)
