import numpy as np

from widgets import CountryTopKExplorer


def test_widget_controls_drive_outputs(tiny_country_model, rgb_image):
    other = np.ascontiguousarray(rgb_image[::-1, ::-1])
    w = CountryTopKExplorer(images={"a": rgb_image, "b": other}, model=tiny_country_model, k=5)
    assert len(w.table) == 5
    assert len(w.bar_figure.data[0].y) == 5
    assert len(w.crops_figure.data) == 5 and w.crops_figure.data[0].z.shape[:2] == (224, 224)
    assert w.table_html.value.count("<tr") == 6  # header + 5 rows
    w.k_slider.value = 3
    assert len(w.table) == 3 and len(w.bar_figure.data[0].y) == 3
    filled_classes = {v["class"] for v in w.map.geo_filled.values()}
    assert filled_classes == set(w.table["class"])
    assert "leaflet" in w.map_html.value.lower() or "folium" in w.map_html.value.lower() or w.map_html.value
    p_mean = w.prediction.probabilities.copy()
    w.fusion.value = "max"
    assert "max fusion" in w.bar_figure.layout.title.text
    assert not np.allclose(p_mean, w.prediction.probabilities)
    top_class_code = w.table.iloc[0]["codes"][0]
    w.claim.value = top_class_code
    assert w.verdict["consistent"] and w.verdict["rank"] == 1
    w.claim.value = "Atlantis"
    assert w.verdict is None and "claimed location" in w.status.value
    first = w.prediction.probabilities.copy()
    w.picker.value = "b"
    assert not np.allclose(first, w.prediction.probabilities)


def test_widget_upload_and_bad_file(tiny_country_model, rgb_image, tmp_path):
    import datetime
    import io

    from PIL import Image

    w = CountryTopKExplorer(image=rgb_image, model=tiny_country_model)
    buf = io.BytesIO()
    Image.fromarray(rgb_image[:200, :260]).save(buf, format="PNG")
    w.upload.value = (
        {
            "name": "up.png",
            "type": "image/png",
            "size": len(buf.getvalue()),
            "content": memoryview(buf.getvalue()),
            "last_modified": datetime.datetime.now(datetime.UTC),
        },
    )
    assert w.picker.value == "up.png" and w.prediction is not None
    w.upload.value = (
        {
            "name": "bad.png",
            "type": "image/png",
            "size": 3,
            "content": memoryview(b"abc"),
            "last_modified": datetime.datetime.now(datetime.UTC),
        },
    )
    assert w.prediction is None and "not an image" in w.status.value


def test_widget_draws_a_given_result_without_running_a_model(tiny_country_model, rgb_image, tmp_path):
    from PIL import Image

    from toolkit.geo import country
    from widgets.geo import CountryTopKExplorer as Explorer

    f = tmp_path / "q.png"
    Image.fromarray(rgb_image).save(f)
    pred = country.predict(f, k=4, model=tiny_country_model)
    w = Explorer(pred)  # no model: the result is drawn, fusions come from its per-crop probabilities
    assert w.prediction is pred and w.picker.value == "q.png" and w.k_slider.value == 4
    assert list(w.table["class"]) == pred.topk(4) and w.crops_figure is not None
    assert w._models == {}
    w.fusion.value = "centre"
    np.testing.assert_allclose(w.prediction.probabilities, pred.crop_probabilities[4])
    assert w._models == {}  # still no model loaded
    w.fusion.value = "resize"  # needs the model: an in-memory one cannot be reloaded
    assert w.prediction is None and "pass model=" in w.status.value
    arr = country.predict(rgb_image, k=3, model=tiny_country_model)
    w2 = Explorer(arr)  # from an array: no image to show crops of
    assert w2.crops_figure is None and len(w2.table) == 3
    w2.claim.value = w2.table.iloc[0]["codes"][0]
    assert w2.verdict["consistent"]


def test_city_explorer_draws_pairs(tiny_siamese, rgb_image, tmp_path):
    from PIL import Image

    from toolkit.geo import city
    from widgets.geo import CityVerificationExplorer

    refs = []
    for i, v in enumerate([rgb_image[:, ::-1], rgb_image[::-1], rgb_image]):
        refs.append(tmp_path / f"r{i}.png")
        Image.fromarray(np.ascontiguousarray(v)).save(refs[-1])
    q = tmp_path / "q.png"
    Image.fromarray(rgb_image).save(q)
    r = city.verify(q, refs, model=tiny_siamese)
    w = CityVerificationExplorer(r)
    assert r.verdict in w.verdict_html.value and len(w.table) == 3 and len(w.figure.data) == 2
    assert w.pair_row["p_different"] == r.p_different[0] and w.pair_row["file"] == "r0.png"
    first = w.pair_figure.data[1].z.copy()
    w.pair.value = 2
    assert w.pair_row["p_different"] == r.p_different[2] and "r2.png" in w.pair_html.value
    np.testing.assert_array_equal(w.pair_figure.data[1].z, w.pair_figure.data[0].z)  # r2 is the query
    assert not np.array_equal(first, w.pair_figure.data[1].z)
    # from a query and arrays: verify runs in toolkit, the widget shows the given images
    w2 = CityVerificationExplorer(rgb_image, references=[rgb_image, rgb_image[::-1]], model=tiny_siamese)
    assert len(w2.table) == 2 and w2.pair_figure is not None
    gated = city.CityVerification(False, "country_gate", {"claimed_country": "IT", "top": ["Japan"]})
    w3 = CityVerificationExplorer(gated)
    assert w3.pair.disabled and w3.pair_row is None and "inconclusive" in w3.verdict_html.value
