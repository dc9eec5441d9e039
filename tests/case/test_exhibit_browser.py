"""The saved case exhibit opens offline in a real browser and draws every figure.

Headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it when it is
missing) is driven through the DevTools protocol with the network cut off:
a proxy on a closed port and a host resolver that resolves nothing, so any
attempt to fetch a remote URL (a CDN script, a map tile, a web font) is
recorded as a failed request. The test opens the HTML written by
``CaseReport.save_html``, takes a screenshot and checks that

* no request failed and none went to anything but the file itself, ``data:``
  or ``blob:`` URLs,
* no JavaScript exception was thrown,
* every plotly figure of the page drew (``.plot-container`` inside each
  ``.plotly-graph-div``), and every ``<img>`` decoded.

The harness itself is tested first: a page that loads a script from a CDN
must be reported, and an inline plotly figure must be seen drawing.
The tests skip (with that reason) only when no Chromium is installed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)",
)

#: URL schemes a self-contained page may load
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")

JS_PLOTS = """(() => {
  const graphs = [...document.querySelectorAll('.plotly-graph-div')];
  return {
    graphs: graphs.length,
    containers: document.querySelectorAll('.plot-container').length,
    drawn: graphs.filter(g => g.querySelector('.plot-container .main-svg')).length,
    images: document.images.length,
    broken_images: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                       .map(i => (i.getAttribute('src') || '').slice(0, 80)),
    plotly: typeof window.Plotly !== 'undefined',
  };
})()"""


class DevTools:
    """A minimal Chrome DevTools protocol client over one websocket (flattened sessions)."""

    def __init__(self, ws_url: str):
        import websocket  # websocket-client, installed with jupyter

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout=60.0):
        """Call ``method`` and return its result; events read meanwhile are kept in :attr:`events`."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._read(deadline)
            if reply is None:
                continue
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method}: {reply['error']}")
                return reply.get("result", {})
        raise TimeoutError(f"DevTools {method}: no reply in {timeout} s")

    def _read(self, deadline: float) -> dict | None:
        import websocket

        self.ws.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            reply = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if "method" in reply:
            self.events.append(reply)
            return None
        return reply

    def wait_event(self, name: str, timeout: float) -> dict | None:
        """First event ``name`` (already received or arriving within ``timeout`` s), else ``None``."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["method"] == name:
                    return e
            if time.monotonic() >= deadline:
                return None
            self._read(deadline)

    def pump(self, seconds: float) -> None:
        """Keep reading events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline)

    def close(self) -> None:
        self.ws.close()


class Browser:
    """Headless Chromium as root, offline, with a fresh profile; a context manager."""

    def __init__(self, width: int = 1280, height: int = 1600):
        self.width, self.height = width, height
        self.base = Path(tempfile.mkdtemp(prefix="chromium-"))  # profile and log, removed on close
        self.profile = self.base / "profile"
        self.log_file = self.base / "chromium.log"
        self.log = open(self.log_file, "wb")  # noqa: SIM115
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--mute-audio",
            f"--user-data-dir={self.profile}",
            # the network is cut off: everything goes to a closed port, no host name resolves
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--allow-file-access-from-files",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.flush()
                tail = self.log_file.read_text(errors="replace")[-2000:]
                self.close()
                raise RuntimeError(f"Chromium did not start (exit {self.proc.returncode}):\n{tail}")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.devtools = DevTools(f"ws://127.0.0.1:{port}{path}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if getattr(self, "devtools", None) is not None:
            try:
                self.devtools.send("Browser.close", timeout=5)
            except Exception:
                pass
            self.devtools.close()
            self.devtools = None
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # only the group this Browser started
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def open(self, url: str, *, expect_graphs: int | None = None, timeout: float = 90.0) -> dict:
        """Load ``url`` in a new tab; wait for the load event and for the plots to draw.

        Returns a dict: ``plots`` (see ``JS_PLOTS``), ``requests`` (URLs asked for),
        ``failed`` (failed or non-local requests), ``http_errors`` (status >= 400),
        ``exceptions`` (JavaScript exceptions), ``console_errors``, ``screenshot`` (PNG bytes).
        """
        dt = self.devtools
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            dt.send(f"{domain}.enable", session=session)
        dt.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        dt.events.clear()
        dt.send("Page.navigate", {"url": url}, session=session)
        start = time.monotonic()
        loaded = dt.wait_event("Page.loadEventFired", timeout)
        assert loaded is not None, f"{url} did not finish loading in {timeout} s"

        def plots():
            r = dt.send("Runtime.evaluate", {"expression": JS_PLOTS, "returnByValue": True}, session=session)
            return r["result"]["value"]

        state = plots()
        while time.monotonic() - start < timeout:
            want = state["graphs"] if expect_graphs is None else expect_graphs
            if state["drawn"] >= want and state["containers"] >= want:
                break
            dt.pump(0.25)
            state = plots()
        dt.pump(1.0)  # late requests (fonts, tiles, lazy scripts)
        state = plots()
        shot = dt.send("Page.captureScreenshot", {"format": "png"}, session=session)
        events = [e for e in dt.events if e.get("sessionId") == session]
        requests = {}
        for e in events:
            if e["method"] == "Network.requestWillBeSent":
                requests[e["params"]["requestId"]] = e["params"]["request"]["url"]
        failed = [
            f"{requests.get(e['params']['requestId'], '?')[:120]}: {e['params'].get('errorText')}"
            for e in events
            if e["method"] == "Network.loadingFailed"
        ]
        failed += [
            f"{u[:120]}: not a local URL" for u in requests.values() if not u.startswith(LOCAL_SCHEMES)
        ]
        http_errors = [
            f"{e['params']['response']['url'][:120]}: HTTP {e['params']['response']['status']}"
            for e in events
            if e["method"] == "Network.responseReceived" and e["params"]["response"].get("status", 0) >= 400
        ]
        exceptions = [
            e["params"]["exceptionDetails"].get("exception", {}).get("description")
            or e["params"]["exceptionDetails"].get("text")
            for e in events
            if e["method"] == "Runtime.exceptionThrown"
        ]
        console_errors = [
            e["params"]["entry"].get("text", "")
            for e in events
            if e["method"] == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"
        ]
        dt.send("Target.closeTarget", {"targetId": target})
        return {
            "plots": state,
            "requests": list(requests.values()),
            "failed": failed,
            "http_errors": http_errors,
            "exceptions": exceptions,
            "console_errors": console_errors,
            "screenshot": base64.b64decode(shot["data"]),
        }


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _not_blank(png: bytes) -> bool:
    """True when the screenshot has more than one colour (decoded with Pillow)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        lo, hi = zip(*im.convert("RGB").getextrema())
    return any(h > lo_ for lo_, h in zip(lo, hi))


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


# --- the harness itself ------------------------------------------------------------------
def test_harness_reports_a_remote_script(browser, tmp_path):
    page = tmp_path / "remote.html"
    page.write_text(
        "<html><body><p>offline?</p>"
        '<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>'
        '<img src="http://example.com/tile.png"></body></html>'
    )
    seen = browser.open(page.as_uri(), expect_graphs=0, timeout=30)
    assert any("cdn.plot.ly" in f for f in seen["failed"]), seen["failed"]
    assert any("example.com" in f for f in seen["failed"]), seen["failed"]
    assert seen["plots"]["broken_images"], "the remote image must not have loaded"
    assert not seen["plots"]["plotly"]


def test_harness_sees_an_inline_plotly_figure_draw(browser, tmp_path):
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2]))
    page = tmp_path / "inline.html"
    page.write_text(fig.to_html(full_html=True, include_plotlyjs=True))
    seen = browser.open(page.as_uri(), timeout=60)
    assert seen["failed"] == [] and seen["exceptions"] == []
    assert seen["plots"]["graphs"] == 1 and seen["plots"]["containers"] == 1 and seen["plots"]["drawn"] == 1


def test_harness_sees_a_figure_that_did_not_draw(browser, tmp_path):
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    page = tmp_path / "cdn.html"
    # plotly.js from a CDN: offline, the figure cannot draw
    page.write_text(fig.to_html(full_html=True, include_plotlyjs="cdn"))
    seen = browser.open(page.as_uri(), timeout=6)
    assert seen["plots"]["graphs"] == 1 and seen["plots"]["drawn"] == 0
    assert any("plot.ly" in f for f in seen["failed"]), seen["failed"]


# --- the exhibit -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exhibit(tmp_path_factory):
    """A small case (a video, a manipulated image, a broken file), analysed and saved as HTML."""
    from toolkit.case import analyze

    case = tmp_path_factory.mktemp("case")
    shutil.copy(SAMPLE / "single" / "single_h264.mp4", case / "single_h264.mp4")
    shutil.copy(SAMPLE / "images" / "rocket_median5.png", case / "rocket_median5.png")
    (case / "notes.mp4").write_text("not a video\n")
    report = analyze(case, progress=False)
    out = tmp_path_factory.mktemp("exhibit") / "report.html"
    report.save_html(out)
    return report, out


def test_exhibit_opens_offline_and_draws_every_figure(browser, exhibit):
    report, html_path = exhibit
    text = html_path.read_text(encoding="utf-8")
    n_graphs = len(re.findall(r'class="plotly-graph-div"', text))
    assert n_graphs >= 2, "the exhibit should hold at least one figure per analysed media file"
    seen = browser.open(html_path.as_uri(), expect_graphs=n_graphs, timeout=120)

    shot = html_path.with_suffix(".png")
    shot.write_bytes(seen["screenshot"])
    assert _png_size(seen["screenshot"]) == (1280, 1600)
    assert _not_blank(seen["screenshot"]), f"blank screenshot: {shot}"

    assert seen["failed"] == [], f"requests failed or left the file: {seen['failed']}"
    assert seen["http_errors"] == []
    assert seen["exceptions"] == [], f"JavaScript exceptions: {seen['exceptions']}"
    plots = seen["plots"]
    assert plots["plotly"], "plotly.js is not inlined"
    assert plots["graphs"] == n_graphs
    assert plots["drawn"] == n_graphs, f"{n_graphs - plots['drawn']} of {n_graphs} figures did not draw"
    assert plots["containers"] >= n_graphs
    assert plots["broken_images"] == [], f"images that did not decode: {plots['broken_images']}"


def test_exhibit_references_no_remote_resource(exhibit):
    """No ``src=``/``href=`` of a script, stylesheet, image or frame points to http(s)."""
    _, html_path = exhibit
    text = html_path.read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", text, flags=re.I)
    remote = [t[:160] for t in tags if re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", t, re.I)]
    assert remote == []
