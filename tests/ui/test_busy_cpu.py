"""The explorers seen with empty plots on a loaded machine draw with the CPU kept busy.

The explorers of notebooks 00, 01 and 02 (``MacroblockExplorer``, ``VPFExplorer``,
``PatchFeatureExplorer``) are displayed in a fresh notebook while two busy processes
load every core and Chromium's CPU is throttled 2x (the front end then loads plotly's
module slowly). Each plot must draw, and moving a control must still change it.
"""

from __future__ import annotations

import nbformat

from tests.ui import harness as H

CELLS = [
    "from widgets import MacroblockExplorer, PatchFeatureExplorer, VPFExplorer\n"
    "from toolkit.focal import features\n"
    "CLIP = '../sample_data/double/double_mpeg2_h264.mp4'",
    "MacroblockExplorer(CLIP)",
    "VPFExplorer(CLIP)",
    "fm = features('../sample_data/single/single_h264.mp4', 'codec', stride=32, count=2, device='cpu')\n"
    "PatchFeatureExplorer(fm)",
]


def test_explorers_draw_on_a_busy_machine(lab, browser, ui_tmp):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, ui_tmp / "notebooks" / "busy_cpu.ipynb")
    log = H.PageLog()
    page = H.new_page(browser, log)
    try:
        with H.CpuLoad(n=2, seconds=240):
            page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 2})
            H.open_notebook(page, lab, "notebooks/busy_cpu.ipynb", timeout=180)
            cells = H.run_all(page, 200)
            errors = [c["error"] for c in cells if c["error"]]
            assert not errors, errors[0][-3000:]
            roots = H.explorer_roots(page)
            assert roots.count() == 3
            problems = []
            for i in range(roots.count()):
                root = roots.nth(i)
                root.scroll_into_view_if_needed()
                st = H.wait_drawn(page, root, 120)
                H.screenshot(root, f"busy_explorer{i}")
                problems += [f"explorer {i}: plot {k} shows no trace" for k in H.undrawn(st)]
                if not st["plots"]:
                    problems.append(f"explorer {i}: no plot")
                    continue
                checkboxes = [c for c in H.controls(root) if c["kind"] in ("checkbox", "dropdown")]
                if checkboxes:
                    c = checkboxes[0]
                    idx = [x for x in H.controls(root) if x["kind"] == c["kind"]].index(c)
                    H.move_control(page, root, c, idx)
                    after = H.wait_changed(page, root, st["fingerprint"], 120)
                    if after["fingerprint"] == st["fingerprint"] or H.undrawn(after):
                        problems.append(f"explorer {i}: the {c['kind']} did not redraw it")
        problems += log.problems()
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
        H.shutdown_kernels(lab)
