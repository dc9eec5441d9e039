"""Pieces shared by the explorers: the list of sample videos, a file picker row, the
"Result or path" argument and the error line.

>>> [Path(v).name for v in sample_videos()][:2]
['double_mpeg2_h264.mp4', 'eat.mkv']
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import re
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path

import ipywidgets as w
import plotly.graph_objects as go
import traitlets

__all__ = [
    "SAMPLE_DIR",
    "VIDEO_EXT",
    "FigureWidget",
    "figure_esm",
    "PlotlyBundle",
    "sample_videos",
    "video_picker",
    "split_source",
    "error_html",
]

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
VIDEO_EXT = (".mp4", ".mkv", ".avi", ".mpg", ".mov", ".m4v", ".ts")


def sample_videos(root: Path | str = SAMPLE_DIR) -> list[str]:
    """Paths (as strings) of the videos under ``sample_data/`` (or ``root``), sorted.

    >>> sample_videos("/no/such/folder")
    []
    """
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXT)


def video_picker(value: str | None = None, options: list[str] | None = None) -> w.Combobox:
    """A combobox listing the sample videos that also accepts any typed path.

    >>> video_picker("clip.mp4", options=["a.mp4"]).value
    'clip.mp4'
    """
    options = sample_videos() if options is None else options
    return w.Combobox(
        value=value or (options[0] if options else ""),
        options=options,
        placeholder="path to a video",
        description="video",
        ensure_option=False,
        continuous_update=False,
        layout=w.Layout(width="60%"),
    )


def split_source(source, result, result_type: type) -> tuple[str | None, object | None]:
    """``(path, result)`` of an explorer's arguments: ``source`` is a path or a ``result_type``
    instance (or None); ``result=`` is the older keyword form. ``TypeError`` for anything else.

    >>> split_source("clip.mp4", None, dict)
    ('clip.mp4', None)
    >>> split_source({"path": "x"}, None, dict)
    (None, {'path': 'x'})
    """
    if result is not None and source is not None and not isinstance(source, (str, os.PathLike)):
        raise TypeError("give the result either as the first argument or as result=, not both")
    if isinstance(source, result_type):
        source, result = None, source
    if result is not None and not isinstance(result, result_type):
        raise TypeError(f"result must be a {result_type.__name__}, got {type(result).__name__}")
    if source is not None and not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a video path or a {result_type.__name__}, got {type(source).__name__}")
    return (None if source is None else os.fspath(source)), result


def error_html(exc: BaseException) -> str:
    """The error line an explorer shows instead of a figure (type name in red, then the message).

    >>> error_html(FileNotFoundError("no such file: 'x.mp4'"))
    "<b style='color:#b00'>FileNotFoundError</b>: no such file: &#x27;x.mp4&#x27;"
    """
    return f"<b style='color:#b00'>{type(exc).__name__}</b>: {html.escape(str(exc))}"


#: the figure module each plotly model imports: a few kB, so anywidget's 2 s limit on
#: loading and initialising a model holds on any machine. plotly's 5 MB bundle is the
#: ``source`` of one shared model (:class:`PlotlyBundle`), imported once per page at the
#: first view's render and kept on ``globalThis``; each view redraws from the synced state.
_FIGURE_JS = """
const KEY = %(key)s;
const plotlyOf = (model) => (globalThis[KEY] ??= (async () => {
  const bundle = await model.widget_manager.get_model(model.get("_toolkit_bundle"));
  const url = URL.createObjectURL(new Blob([bundle.get("source")], { type: "text/javascript" }));
  try { return await import(url); } finally { URL.revokeObjectURL(url); }
})().catch((err) => { delete globalThis[KEY]; throw err; }));

export default () => {
  let base = null, initCtx = null;
  return {
    initialize(ctx) { initCtx = ctx; },  // nothing else here: see the note above
    async render(ctx) {
      const el = ctx.el, model = ctx.model;
      let tk = null, dispose = null, timer = null, alive = true;
      const react = () => {
        timer = null;
        if (!alive) return;
        if (tk === null || !el._fullLayout) { timer = setTimeout(react, 200); return; }  // first draw pending
        const data = tk.__tkDeserialize(model.get("_widget_data")) || [];
        const layout = tk.__tkDeserialize(model.get("_widget_layout")) || {};
        if (!layout.height) layout.height = 360;
        tk.__tkPlotly.default.react(el, data, layout);
      };
      const later = () => { if (timer === null) timer = setTimeout(react, 150); };
      // listen and ask for the current figure before anything is awaited
      model.on("change:_widget_data", later);
      model.on("change:_widget_layout", later);
      model.send({ event: "toolkit_resync" });  // the kernel answers with the current figure
      const stop = () => {
        alive = false;
        model.off("change:_widget_data", later);
        model.off("change:_widget_layout", later);
      };
      try {
        tk = await plotlyOf(model);
        if (base === null) { base = tk.default(); base.initialize(initCtx); }
        dispose = base.render(ctx);
      } catch (err) {
        stop();  // no redraw loop for a view that cannot draw; anywidget shows the error
        throw err;
      }
      later();
      return () => {
        stop();
        if (typeof dispose === "function") dispose();
      };
    },
  };
};
"""


@functools.lru_cache(maxsize=1)
def _plotly_bundle() -> tuple[str, str] | None:
    """``(module text, page key)``: plotly's widget bundle exporting its plotly.js and state
    deserialiser too, and a key made of its SHA-256; None when the bundle's shape is unknown."""
    import plotly.basewidget

    bundle = Path(plotly.basewidget.__file__).parent / "package_data" / "widgetbundle.js"
    if not bundle.is_file():
        return None
    src = bundle.read_text(encoding="utf-8")
    export = re.search(r"export\{[\w$]+ as FigureModel,[\w$]+ as FigureView,[\w$]+ as default\};", src)
    plotly = set(re.findall(r"([\w$]+)\.default\.newPlot\(", src))
    deser = re.search(r"_widget_data:\{deserialize:([\w$]+),serialize:", src)
    if not (export and deser and len(plotly) == 1):
        return None
    key = "__toolkitPlotly_" + hashlib.sha256(src.encode()).hexdigest()[:16]
    extra = f"\nexport {{ {plotly.pop()} as __tkPlotly, {deser.group(1)} as __tkDeserialize }};\n"
    return src + extra, key


@functools.lru_cache(maxsize=1)
def figure_esm() -> str | None:
    """The front-end module of :class:`FigureWidget`: small, loading plotly once per page,
    redrawing each view from the synced state.

    plotly's view draws ``_widget_data`` / ``_widget_layout`` once and then follows
    one-shot update messages; this module also redraws (``Plotly.react``, which only
    changes what differs) shortly after the first draw and whenever the synced state
    changes, so a view that missed or raced an update converges to the Python figure.

    anywidget imports each model's ``_esm`` text as its own module and rejects a model
    not loaded and initialised within 2 s. With plotly's 5 MB bundle as ``_esm`` every
    figure parsed it inside that window, and on a busy machine a page of several
    figures (the Voilà dashboard) missed it. The bundle is therefore sent once per
    kernel, as the state of one shared :class:`PlotlyBundle` model, and imported at the
    first view's render (outside the window). None when the installed plotly's bundle
    does not have the expected shape (then plotly's module is used unchanged).

    >>> src = figure_esm()
    >>> src is None or len(src) < 10_000
    True
    """
    bundle = _plotly_bundle()
    if bundle is None:
        return None
    return _FIGURE_JS % {"key": json.dumps(bundle[1])}


class PlotlyBundle(w.Widget):
    """The one model per kernel whose ``source`` is plotly's widget bundle (see :func:`figure_esm`).

    >>> PlotlyBundle.shared() is PlotlyBundle.shared()
    True
    """

    source = traitlets.Unicode("").tag(sync=True)
    _shared: PlotlyBundle | None = None

    @classmethod
    def shared(cls) -> PlotlyBundle:
        """The kernel's bundle model, created again if it was closed."""
        if cls._shared is None or cls._shared.comm is None:
            bundle = _plotly_bundle()
            cls._shared = cls(source=bundle[0] if bundle else "")
        return cls._shared


class FigureWidget(go.FigureWidget):
    """A plotly ``FigureWidget`` whose views always end up drawing the whole current figure.

    plotly sends every change after construction (``add_traces``, ``data = []``,
    ``layout = ...``, ``batch_update``) as a one-shot ``_py2js_*`` message; a view is
    first drawn from the synced ``_widget_data`` / ``_widget_layout`` traits, which
    plotly fills only at construction, and then follows the messages. An explorer draws
    in its constructor and redraws as soon as it is displayed; on a busy machine the
    front end loads plotly's 5 MB module and draws the first figure slowly, and a view
    that misses or races those messages stays at the empty figure of the constructor
    (empty axes; later messages cannot repair it as its trace list no longer matches).

    The fix has three parts: this class re-syncs ``_widget_data`` and ``_widget_layout``
    from the Python figure after every change (once per ``batch_update``); its front-end
    module (:func:`figure_esm`) redraws each view from that state after the first draw and
    after every state change; and each view, as it starts rendering, asks the kernel for
    the current state, which is then sent unconditionally (on a loaded machine a front-end
    model was seen to keep the empty state of construction: the updates sent before it
    was set up never reached it, and an unchanged trait is not sent again). A page
    reloaded later also shows the current figure. Use it in place of
    ``go.FigureWidget`` in every explorer.

    >>> fig = FigureWidget()
    >>> with fig.batch_update():
    ...     _ = fig.add_scatter(y=[1, 3, 2], name="a")
    ...     fig.layout.title = "t"
    >>> [t["name"] for t in fig._widget_data], fig._widget_layout["title"]["text"]
    (['a'], 't')
    >>> fig.data = []
    >>> fig._widget_data
    []
    """

    if figure_esm() is not None:
        _esm = figure_esm()
        _toolkit_bundle = traitlets.Unicode("").tag(sync=True)

        @traitlets.default("_toolkit_bundle")
        def _bundle_id(self) -> str:
            return PlotlyBundle.shared().model_id

    _resync_requested = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_msg(self._on_front_end_msg)

    def _on_front_end_msg(self, _widget, content, _buffers) -> None:
        """A view asks for the current figure when it renders (see :func:`figure_esm`)."""
        if isinstance(content, dict) and content.get("event") == "toolkit_resync":
            if self._in_batch_mode:  # answered when the batch ends
                self._resync_requested = True
            else:
                self.send_state(["_widget_data", "_widget_layout"])

    def _sync_widget_state(self) -> None:
        """Copy the Python figure into the synced traits (sent as one state update)."""
        if self._in_batch_mode:
            return  # batch_update syncs once when the batch ends
        with self.hold_sync():
            self._widget_data = deepcopy(self._data)
            self._widget_layout = deepcopy(self._layout)
        if self._resync_requested:
            self._resync_requested = False
            self.send_state(["_widget_data", "_widget_layout"])

    @contextmanager
    def batch_update(self):
        """plotly's ``batch_update``; the synced state is refreshed once when it ends."""
        with super().batch_update():
            yield
        self._sync_widget_state()

    def _send_addTraces_msg(self, new_traces_data):
        super()._send_addTraces_msg(new_traces_data)
        self._sync_widget_state()

    def _send_deleteTraces_msg(self, delete_inds):
        super()._send_deleteTraces_msg(delete_inds)
        self._sync_widget_state()

    def _send_moveTraces_msg(self, current_inds, new_inds):
        super()._send_moveTraces_msg(current_inds, new_inds)
        self._sync_widget_state()

    def _send_restyle_msg(self, restyle_data, trace_indexes=None, source_view_id=None):
        super()._send_restyle_msg(restyle_data, trace_indexes=trace_indexes, source_view_id=source_view_id)
        self._sync_widget_state()

    def _send_relayout_msg(self, layout_data, source_view_id=None):
        super()._send_relayout_msg(layout_data, source_view_id=source_view_id)
        self._sync_widget_state()

    def _send_update_msg(self, restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
        super()._send_update_msg(
            restyle_data, relayout_data, trace_indexes=trace_indexes, source_view_id=source_view_id
        )
        self._sync_widget_state()
