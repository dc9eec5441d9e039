"""Folium maps of ``toolkit.geo.maps`` draw with the network off; a hostile label stays text.

The map HTML is opened in headless Chromium with every non-local request aborted:
the country polygons (SVG paths of Leaflet's overlay pane) must show, with no page
error and no request at all when the map has no tiles; with ``tiles="OpenStreetMap"``
the polygons still show and only tile requests are blocked.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from tests.ui import harness as H

HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>window.pwned=1</script>"


@pytest.fixture(scope="module")
def prediction():
    from toolkit.geo.country import analyze, build_model

    return analyze(np.zeros((300, 400, 3), np.uint8), build_model("tiny"))


def test_leaflet_is_vendored_with_its_license():
    import hashlib
    import json

    from toolkit.geo.maps import JQUERY_DIR, LEAFLET_DIR

    assert (LEAFLET_DIR / "LICENSE").read_text().startswith("BSD 2-Clause")
    assert "Permission is hereby granted" in (JQUERY_DIR / "LICENSE.txt").read_text()
    for folder, package in ((LEAFLET_DIR, "leaflet"), (JQUERY_DIR, "jquery")):
        meta = json.loads((folder / "VERSION.json").read_text())
        assert meta["package"] == package and meta["sha256"]
        for rel, digest in meta["sha256"].items():
            assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel


def test_map_html_loads_nothing_from_a_cdn(prediction):
    from toolkit.geo.maps import topk_map

    page = topk_map(prediction, claimed="IT", k=3).get_root().render()
    urls = re.findall(r"""(?:src|href)\s*=\s*["'](https?://[^"']+)""", page)
    assert urls == [], urls
    assert "L.map(" in page and "data:text/javascript;base64," in page


def test_popup_label_is_escaped(prediction):
    from toolkit.geo.maps import topk_map

    m = topk_map(prediction, claimed={"country": "IT", "label": HOSTILE}, k=3)
    page = m.get_root().render()
    assert HOSTILE not in page and "<script>window.pwned" not in page
    assert html.escape(HOSTILE) in page or html.escape(html.escape(HOSTILE)) in page


def _open_map(browser, tmp_path, m, name):
    f = tmp_path / f"{name}.html"
    m.save(str(f))
    log = H.PageLog()
    page = H.new_page(browser, log, height=900)
    page.goto(f.as_uri(), wait_until="load")
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=30000, state="attached")
    page.wait_for_timeout(500)
    return page, log


def test_map_draws_offline_without_tiles(browser, tmp_path, prediction):
    from toolkit.geo.maps import topk_map

    page, log = _open_map(
        browser, tmp_path, topk_map(prediction, claimed={"country": "IT", "label": HOSTILE}), "x"
    )
    try:
        n_paths = page.locator(".leaflet-overlay-pane path").count()
        assert n_paths > 100  # the world outlines + the filled top-k countries + the claim marker
        assert page.evaluate("typeof L") == "object"
        assert page.evaluate("window.pwned === undefined && document.title !== 'pwned'")
        H.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(H.ARTIFACTS / "map_offline.png"))
        assert log.problems() == []
    finally:
        page.context.close()


def test_map_with_tiles_still_draws_polygons_offline(browser, tmp_path, prediction):
    from toolkit.geo.maps import topk_map

    page, log = _open_map(browser, tmp_path, topk_map(prediction, tiles="OpenStreetMap", k=3), "tiles")
    try:
        assert page.locator(".leaflet-overlay-pane path").count() > 100
        assert log.page_errors == []
        assert log.blocked and all("tile" in u for u in log.blocked), log.blocked[:5]
    finally:
        page.context.close()
