import numpy as np
import pytest
import torch

from toolkit.geo import city

from .helpers import make_prediction


def test_scene_similarity_and_hierarchy_hand_computed():
    assert city.scene_similarity([1, 0, 1], [1, 1, 0]) == pytest.approx(0.5)
    assert city.scene_similarity([1, 2], [2, 4]) == pytest.approx(1.0)
    assert city.scene_similarity([0, 0], [1, 0]) == 0.0
    H = np.zeros((365, 16))
    H[0, 0] = H[1, 0] = H[1, 1] = H[2:, 15] = 1
    p = np.zeros(365)
    p[0], p[1], p[2] = 0.5, 0.25, 0.25
    u = city.places_to_hierarchy(p, H)  # [0.75, 0.25, 0, ..., 0.25] / 1.25
    np.testing.assert_allclose(u[[0, 1, 15]], [0.6, 0.2, 0.2])
    assert u.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        city.places_to_hierarchy(p, H[:, :3])


def test_decision_rule_hand_computed():
    # unweighted: sum P0 = 0.4+0.4+0.9 = 1.7 > sum P1 = 1.3 -> same city
    d = city.decide([0.6, 0.6, 0.1])
    assert d["scores"] == pytest.approx([1.7, 1.3]) and d["verified"]
    # scene weighting flips it: s=(1, 1, 0.1): P0 0.4+0.4+0.09=0.89 < P1 0.6+0.6+0.01=1.21
    d = city.decide([0.6, 0.6, 0.1], [1.0, 1.0, 0.1])
    assert d["scores"] == pytest.approx([0.89, 1.21]) and not d["verified"] and d["y"] == 1
    assert city.decide([0.5, 0.5])["verified"]  # tie -> same city (argmax picks 0)
    with pytest.raises(ValueError):
        city.decide([])
    with pytest.raises(ValueError):
        city.decide([1.2])
    with pytest.raises(ValueError):
        city.decide([0.2, 0.3], [1.0])


def test_country_gate_top2():
    pred = make_prediction({"Italy": 0.5, "France": 0.3, "Spain": 0.1})
    g = city.country_gate(pred, "VA")
    assert g["passed"] and g["claimed_class"] == "Italy" and g["top"] == ["Italy", "France"]
    assert city.country_gate(pred, "Monaco")["passed"]  # France class
    assert not city.country_gate(pred, "ES")["passed"]  # rank 3
    assert city.country_gate(pred, "ES", top_n=3)["passed"]
    assert not city.country_gate(["Japan", "China"], "IT")["passed"]


def test_pair_sampling_balance_and_plausibility():
    labels = np.repeat(np.arange(4), 10)
    rng = np.random.default_rng(0)
    pairs = city.sample_pairs(labels, 400, rng)
    assert pairs.shape == (400, 3)
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    np.testing.assert_array_equal(same, pairs[:, 2] == 0)
    assert (pairs[:, 2] == 0).sum() == 200
    neg = pairs[pairs[:, 2] == 1]
    combos = np.unique(labels[neg[:, 0]] * 10 + labels[neg[:, 1]], return_counts=True)[1]
    assert len(combos) == 12 and combos.max() - combos.min() <= 1  # even over city pairs
    # country plausibility: cities 0,1 share a top-2 class, 2,3 another, nothing across
    top2 = np.array([[0, 1] if lab < 2 else [2, 3] for lab in labels])
    pairs = city.sample_pairs(labels, 400, np.random.default_rng(1), top2=top2)
    neg = pairs[pairs[:, 2] == 1]
    plausible = [(set(top2[i]) & set(top2[j])) != set() for i, j, _ in neg]
    assert np.mean(plausible) >= 0.5
    with pytest.raises(ValueError):
        city.sample_pairs(np.zeros(5), 10, rng)


def test_siamese_architecture():
    net = city.build_siamese("tiny")
    with torch.no_grad():
        out = net(torch.zeros(3, 3, 224, 224), torch.ones(3, 3, 224, 224))
    assert out.shape == (3,)
    lin = [m for m in net.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(128, 64), (64, 1)]
    vit = city.SiameseNet("vit_l_16")  # seed backbone, random init (weights cannot be fetched)
    assert vit.branch.heads.out_features == 64 and vit.branch.heads.in_features == 1024
    with pytest.raises(ValueError):
        city.SiameseNet("vgg")


def test_verify_pipeline(tiny_siamese, tiny_country_model, rgb_image):
    refs = [rgb_image, rgb_image[:, ::-1], rgb_image[::-1]]
    r = city.verify(rgb_image, refs, model=tiny_siamese, scene_model=city.proxy_scene_vector)
    assert r.stage == "siamese" and r.p_different.shape == (3,)
    assert ((r.p_different >= 0) & (r.p_different <= 1)).all()
    np.testing.assert_allclose(r.similarity, 1.0, atol=1e-4)  # flips keep the colour histogram
    assert r.verified == city.decide(r.p_different, r.similarity)["verified"]
    assert len(r.table()) == 3 and len(r.plot().data) == 2 and r.to_dict()["stage"] == "siamese"
    # gate: the claimed country is far down the tiny model's ranking -> rejected before the Siamese net
    from toolkit.geo import country

    pred = country.analyze(rgb_image, tiny_country_model)
    last = pred.topk(61)[-1]
    from toolkit.geo import groups

    cc = groups.class_members()[last][0]
    r2 = city.verify(
        rgb_image, refs, model=tiny_siamese, claimed_country=cc, country_model=tiny_country_model
    )
    assert r2.stage == "country_gate" and not r2.verified and r2.p_different.size == 0
    cc1 = groups.class_members()[pred.topk(1)[0]][0]
    r3 = city.verify(
        rgb_image, refs, model=tiny_siamese, claimed_country=cc1, country_model=tiny_country_model
    )
    assert r3.stage == "siamese" and r3.gate["passed"]
    with pytest.raises(ValueError, match="reference"):
        city.verify(rgb_image, [], model=tiny_siamese)


def test_siamese_training_resumes(tmp_path):
    from toolkit.geo.city_train import train_siamese

    rng = np.random.default_rng(0)
    imgs = []
    for k in range(2):
        for i in range(3):
            a = np.zeros((96, 128, 3), np.uint8) + np.uint8(60 + 120 * k)
            a = np.clip(a + rng.normal(0, 10, a.shape), 0, 255).astype(np.uint8)
            f = tmp_path / f"c{k}_{i}.png"
            from PIL import Image

            Image.fromarray(a).save(f)
            imgs.append({"path": str(f), "label": k})
    full, h_full = train_siamese(
        imgs,
        backbone="tiny",
        epochs=2,
        pairs_per_epoch=8,
        batch_size=4,
        progress=False,
        checkpoint=tmp_path / "f.pt",
    )
    train_siamese(
        imgs,
        backbone="tiny",
        epochs=1,
        pairs_per_epoch=8,
        batch_size=4,
        progress=False,
        checkpoint=tmp_path / "p.pt",
    )
    part, h = train_siamese(
        imgs,
        backbone="tiny",
        epochs=2,
        pairs_per_epoch=8,
        batch_size=4,
        progress=False,
        checkpoint=tmp_path / "p.pt",
        resume=True,
    )
    assert [x["epoch"] for x in h] == [1, 2]
    for a, b in zip(full.state_dict().values(), part.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert city.load_siamese(tmp_path / "p.pt").backbone_name == "tiny"
