"""A JupyterLab (or Voilà) server and a headless Chromium driven by Playwright, offline.

The browser is Debian's ``chromium`` (``.ci/run`` installs it with apt-get when it
is missing); Playwright for Python only drives it (``executable_path``), so no
browser is downloaded. Every request the page makes to anything but the local
server is aborted and recorded as a failure: the page sees the network as
unavailable, as on an air-gapped workstation.

The notebooks run on copies in a temporary folder (``sample_data`` and
``benchmarks`` linked beside them), so the tracked ``.ipynb`` files are never
written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "build" / "ui"))
BASELINES = Path(__file__).with_name("baselines")

CHROMIUM = next(
    (
        p
        for p in (
            os.environ.get("CHROMIUM"),
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            "/usr/bin/chromium",
        )
        if p and Path(p).exists()
    ),
    None,
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost")

#: JupyterLab settings of the test profile: no news/update checks, no autosave (the notebook
#: keeps JupyterLab's default windowing, content-visibility, as a person's JupyterLab does)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workdir(tmp: Path, names: list[str] | None = None) -> Path:
    """``tmp/notebooks`` holding copies of ``names`` (default: all), ``sample_data`` and
    ``benchmarks`` linked beside it, as the notebooks' relative paths expect."""
    nb = tmp / "notebooks"
    nb.mkdir(parents=True, exist_ok=True)
    for p in sorted(NOTEBOOKS.glob("*.ipynb")):
        if names is None or p.name in names:
            shutil.copy(p, nb / p.name)
    for d in ("sample_data", "benchmarks"):
        if not (tmp / d).exists():
            (tmp / d).symlink_to(ROOT / d)
    return nb


def _env(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update(
        TOOLKIT_QUICK="1",
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter_config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter_runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "2"),
        MPLBACKEND="Agg",
    )
    return env


@dataclass
class Server:
    """A running ``jupyter lab`` or ``voila`` on 127.0.0.1 with a token."""

    proc: subprocess.Popen
    port: int
    token: str
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def shutdown_kernels(server: Server) -> None:
    """End every session (and so its kernel) of ``server``.

    A finished notebook's kernel otherwise keeps its memory and threads while the next
    notebooks run in the same JupyterLab."""
    headers = {"Authorization": f"token {server.token}"}
    try:
        req = urllib.request.Request(f"{server.base}/api/sessions", headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            sessions = json.load(r)
        for s in sessions:
            url = f"{server.base}/api/sessions/{s['id']}"
            req = urllib.request.Request(url, headers=headers, method="DELETE")
            urllib.request.urlopen(req, timeout=60).close()
    except OSError:
        pass  # the server is gone: nothing left to end


def _wait_http(server: Server, path: str, timeout: float) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited ({server.proc.returncode}):\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url(path), timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"server did not answer in {timeout:.0f} s:\n{server.log.read_text()[-3000:]}")


def _wait_port(server: Server, timeout: float) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited ({server.proc.returncode}):\n{server.log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", server.port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"server did not listen in {timeout:.0f} s:\n{server.log.read_text()[-3000:]}")


def start_lab(tmp: Path, root_dir: Path, timeout: float = 120) -> Server:
    """``jupyter lab`` serving ``root_dir`` with a fresh profile under ``tmp``."""
    settings = tmp / "lab_settings"
    for rel, value in LAB_SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port, token = free_port(), os.urandom(12).hex()
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'lab_workspaces'}",
        "--LabApp.news_url=",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / f"lab_{port}.log"
    proc = subprocess.Popen(cmd, env=_env(tmp), stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=root_dir)
    server = Server(proc, port, token, log)
    try:
        _wait_http(server, "api/status", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_voila(tmp: Path, notebook: Path, timeout: float = 120) -> Server:
    """The dashboard as ``python -m widgets.dashboard`` serves it (Voila, offline template, no
    sources shown) on 127.0.0.1 with a token."""
    from widgets.dashboard import voila_command

    port, token = free_port(), os.urandom(12).hex()
    cmd, env = voila_command(notebook.name, port=port, token=token, env=_env(tmp))
    cmd.append("--show_tracebacks=True")
    log = tmp / f"voila_{port}.log"
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=notebook.parent)
    server = Server(proc, port, token, log)
    try:
        _wait_port(server, timeout)  # any GET of a page would execute the notebook
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class PageLog:
    """What went wrong on a page: JS exceptions, failed and blocked requests."""

    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"page error: {e}" for e in self.page_errors]
            + [f"blocked (network is off): {u}" for u in self.blocked]
            + [f"failed request: {u}" for u in self.failed]
        )


def _ignorable_failure(url: str, failure: str | None) -> bool:
    # A request the page itself cancelled (a navigation away, a superseded poll) is not a failure.
    return bool(failure) and "ERR_ABORTED" in failure and urlparse(url).hostname in LOCAL_HOSTS


def new_page(browser, log: PageLog, width: int = 1400, height: int = 2600):
    """A page of a fresh context whose network ends at 127.0.0.1 (everything else aborted and
    recorded in ``log.blocked``); JS exceptions go to ``log.page_errors``."""
    context = browser.new_context(viewport={"width": width, "height": height})

    def route(r):
        u = urlparse(r.request.url)
        if u.scheme in ("http", "https", "ws", "wss") and u.hostname not in LOCAL_HOSTS:
            log.blocked.append(r.request.url)
            return r.abort("internetdisconnected")
        return r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))

    def failed(req):
        if req.url in log.blocked or _ignorable_failure(req.url, req.failure):
            return
        log.failed.append(f"{req.url} ({req.failure})")

    page.on("requestfailed", failed)
    return page


def launch(playwright):
    """Debian's Chromium, headless, with the flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# -- JupyterLab ------------------------------------------------------------------------------------

JS_CELLS = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')].map(c => ({
  prompt: (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  error: [...c.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"]')]
           .map(e => e.textContent).join('\\n'),
  stderr: [...c.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
           .map(e => e.textContent).join('\\n'),
}))"""


def open_notebook(page, server: Server, rel: str, timeout: float = 120) -> None:
    """Open ``rel`` (relative to the server's root) alone in a fresh JupyterLab workspace and
    wait for an idle kernel."""
    ws = "t" + os.urandom(4).hex()
    page.goto(
        server.url(f"lab/workspaces/{ws}/tree/{rel}?reset"),
        wait_until="domcontentloaded",
        timeout=timeout * 1000,
    )
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout * 1000)
    wait_kernel_idle(page, timeout)
    page.wait_for_timeout(1000)


def wait_kernel_idle(page, timeout: float = 120) -> None:
    page.wait_for_selector(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
        timeout=timeout * 1000,
        state="attached",
    )


def lab_command(page, menu: str, item: str) -> None:
    """Click ``menu`` > ``item`` in JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=item).first.click()


def _started(cells: list[dict]) -> bool:
    return any(c["prompt"].strip() not in ("[ ]:", "") for c in cells)


def run_all(page, timeout: float) -> list[dict]:
    """Run > Run All Cells, then wait until every code cell ran (or one failed) and the kernel
    is idle. Returns the cells' prompt / error / stderr texts; raises on a timeout (a
    screenshot of the page is left in :data:`ARTIFACTS`)."""
    t0 = time.time()
    for attempt in range(3):  # a click while the notebook is still settling can be lost
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
        if attempt < 2:
            lab_command(page, "Run", "Run All Cells")
        else:  # the keyboard instead of the menu: Shift+Enter on every cell queues them all
            for _ in range(len(page.evaluate(JS_CELLS)) * 3):
                page.keyboard.press("Shift+Enter")
        for _ in range(30):
            page.wait_for_timeout(500)
            if _started(page.evaluate(JS_CELLS)):
                break
        else:
            page.keyboard.press("Escape")
            continue
        break
    while True:
        cells = page.evaluate(JS_CELLS)
        busy = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() == 0
        done = all(c["prompt"].strip() not in ("[ ]:", "[*]:", "") for c in cells)
        if (done or any(c["error"] for c in cells)) and not busy:
            return cells
        if time.time() - t0 > timeout:
            pending = [i for i, c in enumerate(cells) if c["prompt"].strip() in ("[ ]:", "[*]:", "")]
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "run_all_timeout.png"))
            raise TimeoutError(f"cells {pending} had not run after {timeout:.0f} s (busy={busy})")
        page.wait_for_timeout(500)


# -- explorers -------------------------------------------------------------------------------------

#: root element of every explorer: a VBox displayed as a cell output (tqdm bars are HBoxes)
EXPLORER_ROOTS = ".jp-OutputArea-output > .widget-vbox, #rendered_cells .jp-OutputArea-output > .widget-vbox"

JS_STATE = """(root) => {
  const visible = e => !!(e.offsetParent || e.getClientRects().length);
  const hash = s => {
    let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h;
  };
  const plots = [...root.querySelectorAll('.js-plotly-plot')].filter(visible).map(p => ({
    traces: p.querySelectorAll('.plot-container .trace, .plot-container svg .point, '
                               + '.heatmaplayer image, .imagelayer image, .layer-above image').length
            // 3-d traces draw into a WebGL canvas, not SVG: count a scene canvas with 3-d data
            + ((p.data || []).some(t => (t.type || '').endsWith('3d'))
               && p.querySelector('.gl-container canvas') ? 1 : 0),
    axes: p.querySelectorAll('.xaxislayer-above, .xtick').length,
    bars: p.querySelectorAll('.plot-container .bars path').length,
    hash: hash(((p.querySelector('.cartesianlayer') || {}).innerHTML || '')
               + ((p.querySelector('.heatmaplayer') || {}).innerHTML || '')
               + ((p.querySelector('.layer-above') || {}).innerHTML || '')
               + ((p.querySelector('.infolayer') || {}).textContent || '')),
    width: p.getBoundingClientRect().width, height: p.getBoundingClientRect().height,
  }));
  const html = [...root.querySelectorAll('.widget-html-content')].filter(visible).map(e => e.innerHTML);
  const frames = [...root.querySelectorAll('iframe')].filter(visible)
                 .map(f => (f.getAttribute('srcdoc') || f.getAttribute('src') || '').length + ':'
                           + hash(f.getAttribute('srcdoc') || f.getAttribute('src') || ''));
  const images = [...root.querySelectorAll('img')].filter(visible).map(i => hash(i.src));
  return {plots, fingerprint: hash(JSON.stringify([plots.map(p => p.hash), html, frames, images]))};
}"""

JS_CONTROLS = """(root) => {
  const visible = e => !!(e.offsetParent || e.getClientRects().length);
  const out = [];
  const label = w => ((w.querySelector('.widget-label') || {}).textContent || '').trim();
  root.querySelectorAll('.widget-slider, .widget-hslider').forEach(w => {
    if (!visible(w)) return;
    const track = w.querySelector('.slider-container') || w.querySelector('.noUi-target') || w;
    const r = track.getBoundingClientRect();
    out.push({kind: 'slider', label: label(w), width: r.width,
              range: !!w.querySelector('.noUi-handle-upper'),
              disabled: !!w.querySelector('[disabled]') || w.classList.contains('mod-disabled')});
  });
  root.querySelectorAll('.widget-dropdown select').forEach(s => {
    if (visible(s)) out.push({kind: 'dropdown', label: label(s.closest('.widget-dropdown')),
                              options: s.options.length, selected: s.selectedIndex});
  });
  root.querySelectorAll('.widget-select-multiple select').forEach(s => {
    if (visible(s)) out.push({kind: 'multiselect', label: label(s.closest('.widget-select-multiple')),
                              options: s.options.length});
  });
  root.querySelectorAll('.widget-checkbox input[type=checkbox]').forEach(c => {
    if (visible(c)) out.push({kind: 'checkbox',
                              label: (c.closest('.widget-checkbox').textContent || '').trim()});
  });
  root.querySelectorAll('.widget-text input[type=text], .widget-combobox input, input[list]').forEach(t => {
    if (visible(t)) out.push({kind: 'text', label: label(t.closest('.widget-inline-hbox') || t.parentElement),
                              options: t.list ? [...t.list.options].map(o => o.value) : [], value: t.value});
  });
  return out;
}"""


def explorer_roots(page):
    return page.locator(EXPLORER_ROOTS)


def explorer_state(root) -> dict:
    return root.evaluate(JS_STATE)


def undrawn(state: dict) -> list[int]:
    """Indices of the visible plots that show no trace (empty axes or nothing at all)."""
    return [i for i, p in enumerate(state["plots"]) if p["traces"] == 0]


def wait_drawn(page, root, timeout: float) -> dict:
    """Wait until every visible plot of ``root`` has drawn a trace; the last state seen."""
    t0 = time.time()
    while True:
        st = explorer_state(root)
        if st["plots"] and not undrawn(st):
            return st
        if time.time() - t0 > timeout:
            return st
        page.wait_for_timeout(300)


def wait_changed(page, root, before: int, timeout: float, settle: float = 10) -> dict:
    """Wait until the explorer's drawn output differs from fingerprint ``before``, every plot
    shows a trace and the kernel is idle again (or the changed output stayed the same for
    ``settle`` seconds: the status indicator can lag under load); the last state seen."""
    t0 = time.time()
    changed_at, last = None, None
    while True:
        page.wait_for_timeout(300)
        st = explorer_state(root)
        idle = page.locator("[data-status='idle']").count() > 0 or page.locator("#rendered_cells").count() > 0
        done = st["fingerprint"] != before and not undrawn(st)
        if done and st["fingerprint"] != last:
            changed_at, last = time.time(), st["fingerprint"]
        if done and (idle or time.time() - changed_at > settle):
            page.wait_for_timeout(300)
            return explorer_state(root)
        if not done:
            changed_at, last = None, None
        if time.time() - t0 > timeout:
            return st


def drag_slider(page, root, index: int) -> None:
    """Drag the first handle of the ``index``-th visible slider to a different place with the mouse."""
    slider = root.locator(".widget-slider:visible, .widget-hslider:visible").nth(index)
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target, .slider-container").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    x0, y0 = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    frac = (x0 - tb["x"]) / max(tb["width"], 1)
    target = tb["x"] + tb["width"] * (0.35 if frac > 0.5 else 0.65)
    if slider.locator(".noUi-handle-upper").count():  # range: move the lower handle right a bit
        target = tb["x"] + tb["width"] * 0.3 if frac < 0.25 else tb["x"] + tb["width"] * 0.05
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(x0 + (target - x0) * k / 8, y0)
    page.mouse.up()


def move_control(page, root, control: dict, index: int) -> str:
    """Move one control as a person would; a short description of what was done."""
    kind = control["kind"]
    if kind == "slider":
        drag_slider(page, root, index)
        return "dragged"
    if kind == "dropdown":
        sel = root.locator(".widget-dropdown select:visible").nth(index)
        n, cur = control["options"], control["selected"]
        if n < 2:  # e.g. one face found, one window in quick mode: nothing a person could pick
            return "skipped (one option only)"
        new = (cur + 1) % n
        sel.select_option(index=new)
        return f"option {new}"
    if kind == "multiselect":
        sel = root.locator(".widget-select-multiple select:visible").nth(index)
        sel.select_option(index=[0])
        return "first option only"
    if kind == "checkbox":
        root.locator(".widget-checkbox input[type=checkbox]:visible").nth(index).click()
        return "toggled"
    if kind == "text":
        box = root.locator(".widget-text input[type=text]:visible, .widget-combobox input:visible").nth(index)
        others = [o for o in control["options"] if o != control["value"]]
        if not others:
            return "skipped (no other value offered)"
        box.fill(others[0])
        box.press("Enter")
        return f"typed {Path(others[0]).name}"
    raise ValueError(kind)


def controls(root) -> list[dict]:
    return root.evaluate(JS_CONTROLS)


def screenshot(root, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    root.screenshot(path=str(out), animations="disabled")
    return out


def image_difference(a: Path, b: Path) -> float:
    """Mean absolute difference (0-1) of two screenshots, the second resized to the first's size."""
    import numpy as np
    from PIL import Image

    ia = Image.open(a).convert("L")
    ib = Image.open(b).convert("L").resize(ia.size)
    return float(np.abs(np.asarray(ia, float) - np.asarray(ib, float)).mean() / 255.0)


# -- CPU load --------------------------------------------------------------------------------------


class CpuLoad:
    """``n`` busy processes (niced) for the duration of a ``with`` block: a loaded machine."""

    def __init__(self, n: int = 2, seconds: float = 300):
        self.n, self.seconds = n, seconds
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        code = f"import time\nt=time.time()+{self.seconds}\nwhile time.time()<t: pass\n"
        for _ in range(self.n):
            self.procs.append(subprocess.Popen(["nice", "-n", "5", sys.executable, "-c", code]))
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait(5)
        self.procs.clear()
