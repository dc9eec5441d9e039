"""``notebooks/dashboard.ipynb`` served by Voilà: no code shown, every tab's plots drawn, offline.

The dashboard is opened through ``voila`` (quick mode) in headless Chromium with the
network off; the page must show no source code, the VPF, FOCAL temporal and
macroblock-type tabs must each draw their plots, picking another sample video must
redraw them, and no JS error or failed request may occur. It is opened once more with
two busy processes on every core and Chromium's CPU throttled 2x: anywidget rejects a
model not initialised within 2 s, which a page of several plotly figures missed.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.ui import harness as H


@pytest.fixture(scope="module")
def voila(ui_tmp, browser):
    pytest.importorskip("voila")
    nb = H.workdir(ui_tmp) / "dashboard.ipynb"
    server = H.start_voila(ui_tmp, nb)
    yield server
    server.stop()


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy_cpu"])
def test_dashboard_in_voila(voila, browser, busy):
    log = H.PageLog()
    page = H.new_page(browser, log)
    try:
        with H.CpuLoad(n=2, seconds=200) if busy else contextlib.nullcontext():
            if busy:
                page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 2})
            problems = _dashboard_problems(page, voila, "busy_" if busy else "")
        problems += log.problems()
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


def _dashboard_problems(page, voila, prefix: str) -> list[str]:
    """Open the dashboard, check every tab and a second video; what a user would see wrong."""
    page.goto(voila.url(""), wait_until="domcontentloaded", timeout=300_000)
    page.wait_for_selector(".widget-tab", timeout=300_000)
    root = page.locator(".jp-OutputArea-output > .widget-vbox").first
    text = page.inner_text("body")
    assert "picker.observe" not in text and "import ipywidgets" not in text, "code is shown"
    assert page.locator(".cm-editor:visible").count() == 0, "a code editor is shown"
    problems = []
    tabs = page.locator(".widget-tab .lm-TabBar-tab")
    assert tabs.count() == 3
    for i in range(3):
        tabs.nth(i).click()
        st = H.wait_drawn(page, root, 120)
        H.screenshot(root, f"{prefix}dashboard_tab{i}")
        if not st["plots"]:
            problems.append(f"tab {i}: no plot")
        problems += [f"tab {i}: plot {k} shows no trace" for k in H.undrawn(st)]
    tabs.nth(0).click()
    before = H.explorer_state(root)["fingerprint"]
    picker = root.locator("input[list]").first
    options = picker.evaluate("i => [...i.list.options].map(o => o.value)")
    other = next(o for o in options if o.endswith("double_mpeg2_h264.mp4"))
    picker.fill(other)
    picker.press("Enter")
    after = H.wait_changed(page, root, before, 240)
    if after["fingerprint"] == before:
        problems.append("picking another video did not redraw the dashboard")
    problems += [f"after picking: plot {k} shows no trace" for k in H.undrawn(after)]
    return problems
