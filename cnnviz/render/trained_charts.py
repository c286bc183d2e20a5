"""Charts of a trained network: its confusion matrix, its curves, its gradients in training.

Plain data in (a TrainRun's numbers, a matrix); plotly out. Train and test differ by dash
as well as colour (Okabe-Ito colours, readable by colour-blind viewers).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.names import layer_names
from cnnviz.topics.training import TrainRun

TRAIN, TEST = "#0072B2", "#D55E00"  # Okabe & Ito's blue and vermilion


def _layout(fig: go.Figure, title: str, xtitle: str, ytitle: str, height: int = 300
            ) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=xtitle, yaxis_title=ytitle,
                      legend=dict(orientation="h", y=-0.25))
    return fig


def fig_confusion(matrix: np.ndarray) -> go.Figure:
    """Counts of (true, predicted), the count written in every non-empty cell."""
    labels = [str(i) for i in range(len(matrix))]
    text = [[str(v) if v else "" for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, text=text, texttemplate="%{text}",
                               colorscale="Blues", showscale=False,
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return _layout(fig, "Confusion matrix (test split)", "predicted", "true", height=360)


def fig_curves(run: TrainRun) -> go.Figure:
    """Accuracy per epoch, training (running, while it learned) and test (after it)."""
    curves, epochs = run.curves(), [e.epoch for e in run.epochs]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=curves["train_accuracy"], name="training",
                             mode="lines+markers", line=dict(color=TRAIN),
                             marker=dict(symbol="circle")))
    fig.add_trace(go.Scatter(x=epochs, y=curves["test_accuracy"], name="test",
                             mode="lines+markers", line=dict(color=TEST, dash="dash"),
                             marker=dict(symbol="square")))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _layout(fig, "Accuracy per epoch", "epoch", "accuracy")


def weighted_layer_names(paths: list[str]) -> list[str]:
    """A classifier's weighted layers (a run's module paths: the stem's conv, the stack's
    convs, the linear head) in words: "stem conv", "block 2 · conv 1", "head (linear)"."""
    inner = layer_names([(p.removeprefix("stack."), "Conv2d") for p in paths
                         if p.startswith("stack.")])
    names = []
    for path in paths:
        if path.startswith("stack."):
            names.append(inner.pop(0))
        else:
            names.append({"stem": "stem conv", "head": "head (linear)"}.get(
                path.split(".")[0], path.replace("_", " ").replace(".", " ")))
    return names


def fig_grad_norms(run: TrainRun) -> go.Figure:
    """Mean ‖∂L/∂W‖ of every weighted layer, input to output, in the first and last epoch."""
    layers = list(range(1, len(run.layers) + 1))
    fig = go.Figure()
    for e, color, dash in ((run.epochs[0], TRAIN, "solid"), (run.epochs[-1], TEST, "dash")):
        fig.add_trace(go.Scatter(x=layers, y=e.grad_norms, name=f"epoch {e.epoch}",
                                 mode="lines+markers", line=dict(color=color, dash=dash),
                                 customdata=weighted_layer_names(run.layers),
                                 hovertemplate="%{customdata}: %{y:.3g}<extra></extra>"))
    fig.update_yaxes(type="log")
    return _layout(fig, "Gradient norm per layer during training", "layer (input → output)",
                   "mean ‖∂L/∂W‖")
