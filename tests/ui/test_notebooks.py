"""Every notebook, run with Run All in a real JupyterLab in headless Chromium, offline.

For each notebook (quick mode, on a copy): every cell runs without an error or a
printed warning; then for every explorer it displays, each visible plot drew
(traces, points or heat-map images, not just axes), every control moved with the
mouse / keyboard as a person would (slider dragged, dropdown and list options
picked, checkbox clicked, a path typed) changes what is drawn, sliders are wide
enough to drag, no JavaScript exception was thrown and no request failed or left
127.0.0.1. A screenshot of every explorer goes to ``build/ui/`` (``UI_ARTIFACTS``);
a few are compared with the committed baselines in ``tests/ui/baselines/``.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.ui import harness as H

#: notebook -> seconds for Run All in quick mode on a loaded 2-core machine
NOTEBOOKS = {
    "00_video_basics.ipynb": 240,
    "01_vpf.ipynb": 300,
    "02_focal_features.ipynb": 400,
    "03_focal_localization.ipynb": 400,
    "04_residual_cnn.ipynb": 400,
    "05_fsvm.ipynb": 300,
    "06_face_fcn.ipynb": 400,
    "07_geolocation.ipynb": 400,
    "08_synthetic_video.ipynb": 400,
    "09_case_analysis.ipynb": 400,
    "10_ldptop.ipynb": 400,
}
#: explorers compared with a committed screenshot (deterministic data, quick mode)
BASELINES = {"00_video_basics.ipynb": 0, "01_vpf.ipynb": 0}
BASELINE_TOLERANCE = 0.06  # mean absolute grey-level difference, 0-1
MIN_SLIDER_PX = 120


def check_explorer(page, root, name: str, problems: list[str]) -> None:
    """The assertions of one explorer (collected in ``problems``)."""
    root.scroll_into_view_if_needed()
    state = H.wait_drawn(page, root, 90)
    if not state["plots"] and not root.locator("iframe:visible, img:visible").count():
        problems.append(f"{name}: nothing drawn (no plot, map or image)")
    for i in H.undrawn(state):
        problems.append(f"{name}: plot {i} shows no trace")
    H.screenshot(root, name)
    todo = H.controls(root)
    seen: dict[str, int] = {}
    for c in todo:
        kind = c["kind"]
        idx = seen.get(kind, 0)
        seen[kind] = idx + 1
        label = f"{name}: {kind} {c.get('label') or idx!r}"
        if c.get("disabled"):  # e.g. the frame slider while "average all frames" is on
            continue
        if kind == "slider" and c["width"] < MIN_SLIDER_PX:
            problems.append(f"{label} is {c['width']:.1f} px wide: it cannot be dragged")
            continue
        current = [x for x in H.controls(root) if x["kind"] == kind]
        if idx >= len(current):
            continue
        before = H.explorer_state(root)["fingerprint"]
        did = H.move_control(page, root, current[idx], idx)
        if did.startswith("skipped"):
            continue
        after = H.wait_changed(page, root, before, 120)
        if after["fingerprint"] == before:
            problems.append(f"{label} ({did}) did not change the drawn output")
        for i in H.undrawn(after):
            problems.append(f"{label} ({did}): plot {i} then shows no trace")


@pytest.mark.parametrize("notebook", list(NOTEBOOKS))
def test_notebook_in_jupyterlab(lab, browser, notebook):
    log = H.PageLog()
    page = H.new_page(browser, log)
    try:
        H.open_notebook(page, lab, f"notebooks/{notebook}")
        cells = H.run_all(page, NOTEBOOKS[notebook])
        errors = [c["error"] for c in cells if c["error"]]
        assert not errors, f"{notebook} raised:\n{errors[0][-3000:]}"
        warned = [c["stderr"] for c in cells if "Warning" in c["stderr"]]
        assert not warned, f"{notebook} printed a warning:\n{warned[0][-1500:]}"
        problems: list[str] = []
        roots = H.explorer_roots(page)
        for i in range(roots.count()):
            check_explorer(page, roots.nth(i), f"{notebook[:2]}_explorer{i}", problems)
        if notebook in BASELINES and roots.count():
            compare_baseline(f"{notebook[:2]}_explorer{BASELINES[notebook]}", problems)
        H.wait_kernel_idle(page, 60)
        problems += log.problems()
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
        H.shutdown_kernels(lab)


def compare_baseline(name: str, problems: list[str]) -> None:
    shot, base = H.ARTIFACTS / f"{name}.png", H.BASELINES / f"{name}.png"
    if os.environ.get("UPDATE_UI_BASELINES"):
        H.BASELINES.mkdir(exist_ok=True)
        shutil.copy(shot, base)
        return
    if not base.exists():
        problems.append(f"{name}: no baseline {base} (write it with UPDATE_UI_BASELINES=1)")
        return
    diff = H.image_difference(base, shot)
    if diff > BASELINE_TOLERANCE:
        problems.append(f"{name}: screenshot differs from {base.name} by {diff:.3f} > {BASELINE_TOLERANCE}")
