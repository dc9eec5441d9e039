import numpy as np
import pytest
import torch

from toolkit.geo import country, groups


def test_crop_geometry_hand_computed():
    # seed Fig. 7.10: 575 x 1200 -> 256 x 534
    img = np.zeros((575, 1200, 3), np.uint8)
    assert country.resize_shorter(img).shape == (256, 534, 3)
    assert country.resize_shorter(np.zeros((1200, 575, 3), np.uint8)).shape == (534, 256, 3)
    assert country.crop_boxes(256, 534) == [
        (0, 0, 224, 224),
        (0, 310, 224, 224),
        (32, 0, 224, 224),
        (32, 310, 224, 224),
        (16, 155, 224, 224),
    ]
    with pytest.raises(ValueError):
        country.crop_boxes(200, 300)


def test_five_crops_take_the_right_pixels():
    # 256 x 300 needs no resize; pixel (r, c) encodes its row and column
    r, c = np.mgrid[0:256, 0:300]
    img = np.stack([r % 256, c % 256, (c // 256) * 100], axis=-1).astype(np.uint8)
    crops = country.five_crops(img)
    assert len(crops) == 5 and all(x.shape == (224, 224, 3) for x in crops)
    assert crops[0][0, 0, 0] == 0 and crops[0][0, 0, 1] == 0
    assert crops[1][0, -1, 1] == 299 % 256 and crops[1][0, 0, 1] == 76  # left = 300 - 224
    assert crops[2][0, 0, 0] == 32 and crops[3][-1, -1, 0] == 255
    assert crops[4][0, 0, 0] == 16 and crops[4][0, 0, 1] == 38  # round((300-224)/2) = 38
    np.testing.assert_array_equal(crops[4], img[16:240, 38:262])


def test_fusion_rules_hand_computed():
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.5, 0.5], [0.1, 0.9]])
    np.testing.assert_allclose(country.fuse(p, "mean"), [0.38, 0.62])
    np.testing.assert_allclose(country.fuse(p, "max"), [0.6 / 1.5, 0.9 / 1.5])
    np.testing.assert_allclose(country.fuse(p, "centre"), [0.1, 0.9])
    np.testing.assert_allclose(country.fuse(p, "upper_right"), [0.6, 0.4])
    with pytest.raises(ValueError, match="fusion"):
        country.fuse(p, "median")


def test_weighted_loss_hand_computed():
    np.testing.assert_allclose(country.class_weights([4, 100, 0]), [0.5, 0.1, 0.0])
    logits = torch.zeros(2, 2)
    y = torch.tensor([0, 1])
    # -(1/sqrt(4)) log 0.5 - (1/sqrt(100)) log 0.5 = 0.6 ln 2
    s = country.weighted_cross_entropy(logits, y, [4, 100], reduction="sum")
    assert float(s) == pytest.approx(0.6 * np.log(2))
    m = country.weighted_cross_entropy(logits, y, [4, 100], reduction="mean")
    assert float(m) == pytest.approx(0.3 * np.log(2))
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    expect = 0.5 * np.log(1 + np.exp(-2.0)) + 0.1 * np.log(1 + np.exp(-1.0))
    assert float(country.weighted_cross_entropy(logits, y, [4, 100], "sum")) == pytest.approx(
        expect, rel=1e-6
    )


def test_topk_and_balanced_accuracy_hand_computed():
    probs = np.array(
        [
            [0.5, 0.3, 0.2, 0.0],  # label 0: top1 ok
            [0.5, 0.3, 0.2, 0.0],  # label 1: top2
            [0.1, 0.2, 0.3, 0.4],  # label 2: top2
            [0.1, 0.2, 0.3, 0.4],  # label 0: top4 only
        ]
    )
    labels = [0, 1, 2, 0]
    r = country.evaluate(labels, probs, ks=(1, 2, 3))
    assert r["top1"] == pytest.approx(0.25)
    assert r["top2"] == pytest.approx(0.75)
    assert r["top3"] == pytest.approx(0.75)
    # predictions 0,0,3,3: recall class0 = 1/2, class1 = 0, class2 = 0 -> balanced 1/6
    assert r["balanced"] == pytest.approx(1 / 6)


def test_predict_table(tiny_country_model, rgb_image):
    t = country.predict(rgb_image, k=7, model=tiny_country_model)
    assert list(t.columns) == ["rank", "class", "countries", "codes", "probability"]
    assert list(t["rank"]) == list(range(1, 8))
    assert (np.diff(t["probability"]) <= 0).all()
    pred = t.attrs["prediction"]
    assert pred.probabilities.shape == (61,) and pred.crop_probabilities.shape == (5, 61)
    assert pred.probabilities.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(pred.probabilities, pred.crop_probabilities.mean(0))
    assert set(t.iloc[0]["codes"]) == set(groups.class_members()[t.iloc[0]["class"]])
    assert len(pred.sha256) == 64 and pred.params["fusion"] == "mean"
    d = pred.to_dict()
    assert len(d["probabilities"]) == 61
    assert len(pred.plot_bars(3).data[0].y) == 3  # the bar chart (plot() is now the folium map)
    mx = country.analyze(rgb_image, tiny_country_model, fusion="max")
    np.testing.assert_allclose(mx.probabilities, country.fuse(mx.crop_probabilities, "max"))
    rs = country.analyze(rgb_image, tiny_country_model, fusion="resize")
    assert rs.crop_probabilities.shape == (0, 61)
    with pytest.raises(ValueError, match="k must be"):
        pred.table(0)
    with pytest.raises(ValueError, match="fusion"):
        country.analyze(rgb_image, tiny_country_model, fusion="vote")


def test_model_architectures_output_61():
    m = country.build_model("resnet101")
    assert m.head.out_features == 61 and m.head.in_features == 2048
    with torch.no_grad():
        assert country.build_model("tiny")(torch.zeros(2, 3, 224, 224)).shape == (2, 61)
    with pytest.raises(ValueError, match="arch"):
        country.build_model("alexnet")


def test_checkpoint_roundtrip(tmp_path, tiny_country_model, rgb_image):
    f = country.save_checkpoint(tiny_country_model, tmp_path / "m.pt")
    m2 = country.load_model(f)
    a = country.analyze(rgb_image, tiny_country_model).probabilities
    b = country.analyze(rgb_image, m2).probabilities
    np.testing.assert_allclose(a, b, rtol=1e-5)
