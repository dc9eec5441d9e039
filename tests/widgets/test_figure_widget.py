"""``widgets._common.FigureWidget``: the synced state follows the figure, and a view's
request for the current figure is answered with an unconditional state update."""

from __future__ import annotations

from widgets._common import FigureWidget, figure_esm


def _sent(fig, monkeypatch) -> list:
    """The resync answers (state updates of exactly the two figure traits) sent from now on."""
    sent: list = []
    send = fig.send_state

    def record(key=None):
        if key == ["_widget_data", "_widget_layout"]:
            sent.append(key)
        return send(key)

    monkeypatch.setattr(fig, "send_state", record)
    return sent


def test_resync_request_sends_the_current_figure(monkeypatch):
    fig = FigureWidget()
    fig.add_scatter(y=[1, 2, 3], name="curve")
    sent = _sent(fig, monkeypatch)
    fig._on_front_end_msg(fig, {"event": "toolkit_resync"}, [])
    assert sent == [["_widget_data", "_widget_layout"]]
    assert [t["name"] for t in fig._widget_data] == ["curve"]


def test_other_messages_and_batch_mode_send_nothing(monkeypatch):
    fig = FigureWidget()
    sent = _sent(fig, monkeypatch)
    fig._on_front_end_msg(fig, {"event": "something else"}, [])
    fig._on_front_end_msg(fig, "toolkit_resync", [])
    with fig.batch_update():
        fig.add_scatter(y=[1])
        fig._on_front_end_msg(fig, {"event": "toolkit_resync"}, [])
    assert sent == []
    assert len(fig._widget_data) == 1  # the batch's end synced it


def test_front_end_module_asks_and_evaluates_plotly_once_per_page():
    src = figure_esm()
    if src is None:  # an unexpected plotly bundle: plotly's module is used unchanged
        return
    assert 'model.send({ event: "toolkit_resync" })' in src
    assert "globalThis[" in src and "??= __toolkitLoad()" in src
    head = src[: src.index("const __toolkitLoad")]
    assert "newPlot" not in head  # plotly's body sits inside the function, not at module level
