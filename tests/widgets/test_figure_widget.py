"""``widgets._common.FigureWidget``: the synced state follows the figure, and a view's
request for the current figure is answered with an unconditional state update."""

from __future__ import annotations

from widgets._common import FigureWidget, PlotlyBundle, figure_esm


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


def test_other_messages_send_nothing_and_a_request_in_a_batch_is_answered_at_its_end(monkeypatch):
    fig = FigureWidget()
    sent = _sent(fig, monkeypatch)
    fig._on_front_end_msg(fig, {"event": "something else"}, [])
    fig._on_front_end_msg(fig, "toolkit_resync", [])
    assert sent == []
    with fig.batch_update():
        fig.add_scatter(y=[1])
        fig._on_front_end_msg(fig, {"event": "toolkit_resync"}, [])
        assert sent == []  # not in the middle of a batch
    assert sent == [["_widget_data", "_widget_layout"]]  # but when it ends, even if nothing changed
    assert len(fig._widget_data) == 1  # the batch's end synced it
    with fig.batch_update():
        fig.layout.title = "t"
    assert len(sent) == 1  # answered once


def test_front_end_module_is_small_and_plotly_is_sent_once_per_kernel():
    src = figure_esm()
    if src is None:  # an unexpected plotly bundle: plotly's module is used unchanged
        return
    assert len(src) < 10_000  # anywidget loads it within its 2 s limit on any machine
    assert 'model.send({ event: "toolkit_resync" })' in src
    assert "newPlot" not in src  # plotly itself is not part of the figure module
    a, b = FigureWidget(), FigureWidget()
    assert a._toolkit_bundle == b._toolkit_bundle == PlotlyBundle.shared().model_id
    bundle = PlotlyBundle.shared()
    assert "__tkPlotly" in bundle.source and "as FigureModel" in bundle.source
    bundle.close()  # a closed bundle model is replaced for the next figure
    c = FigureWidget()
    assert c._toolkit_bundle == PlotlyBundle.shared().model_id != a._toolkit_bundle
