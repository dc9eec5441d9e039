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
