"""The shipped demo models load through the registry (SHA-256 checked) and carry honest cards."""

from toolkit import weights
from toolkit.geo import city, country
from toolkit.synth.sources import photo


def test_demo_country_model_loads_and_is_labelled_as_demo():
    p = weights.path("geo/country_demo")  # verifies the SHA-256 recorded in the index
    assert p.stat().st_size < 5_000_000
    card = weights.model_card("geo/country_demo")
    assert "NOT a geolocation model" in card and "top-1" in card
    assert "python -m toolkit.geo.train" in weights.spec("geo/country_demo").train_command
    m = country.load_model()
    assert m.arch == "tiny" and len(m.class_names) == 61
    assert country.predict(photo("china"), k=1, model=m).iloc[0]["class"] == "China"


def test_demo_city_model_loads():
    assert "NOT a city verifier" in weights.model_card("geo/city_demo")
    net = city.load_model("geo/city_demo")
    assert net.backbone_name == "tiny"
    img = photo("coffee")
    r = city.verify(img, [img[:, :300], img[:, 100:]], model=net)
    assert r.stage == "siamese" and r.p_different.shape == (2,)
