"""Figures for the feature-map and receptive-field pages (plotly; plain numpy in).

Images are drawn with rows downwards, as arrays are indexed: (0, 0) is the top left.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from cnnviz.render import layout
from cnnviz.render.digit_images import colormap

DIVERGING = "RdBu_r"  # kernels: negative blue, positive red, zero white
SEQUENTIAL = "Viridis"


def _square(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    heading, top = layout.title(title) if title else (None, 10)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=top, b=10), title=heading)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    return fig


def _rect(fig: go.Figure, box: tuple[int, int, int, int], color: str, dash: str = "solid",
          **where: Any) -> None:
    """Outline pixels top..bottom, left..right (inclusive) on a pixel grid."""
    top, left, bottom, right = box
    fig.add_shape(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5, y1=bottom + 0.5,
                  line=dict(color=color, width=2, dash=dash), **where)


def fig_image_box(image: np.ndarray, box: tuple[int, int, int, int],
                  clipped: tuple[int, int, int, int], pixel_box: tuple[int, int, int, int]
                  | None = None, title: str | None = None, height: int = 420) -> go.Figure:
    """The input image with the receptive field of one output position outlined.

    `box` is the theoretical field (it may leave the image: dashed), `clipped` the part
    inside it (solid); `pixel_box` marks where the output pixel itself lies.
    """
    fig = go.Figure(go.Image(z=image, hovertemplate="row %{y}, col %{x}<extra></extra>"))
    if box != clipped:
        _rect(fig, box, "#ffd400", dash="dash")
    _rect(fig, clipped, "#ff2d2d")
    if pixel_box is not None:
        _rect(fig, pixel_box, "#00e0ff")
    h, w = image.shape[:2]
    pad = max(0, -box[0], -box[1], box[2] - h + 1, box[3] - w + 1)
    fig = _square(fig, height, title)
    fig.update_xaxes(range=[-0.5 - pad, w - 0.5 + pad])
    fig.update_yaxes(range=[h - 0.5 + pad, -0.5 - pad], autorange=False)
    return fig


def fig_feature_grid(maps: np.ndarray, titles: list[str], cols: int = 4,
                     height_per_row: int = 150) -> go.Figure:
    """A grid of channel maps, each on its own colour scale (hover for values).

    The layout is written out (each map's axes, domain and title) rather than made by
    plotly's make_subplots and a dozen updates: the same figure, a tenth of the server's
    time (about 15 ms instead of 150 for 16 maps), paid on every visit to the page."""
    n = len(maps)
    rows = max(1, -(-n // cols))
    h_gap, v_gap = 0.02, 0.12 / rows
    width, height = (1 - (cols - 1) * h_gap) / cols, (1 - (rows - 1) * v_gap) / rows
    hidden = {"showticklabels": False, "showgrid": False, "zeroline": False}
    layout: dict = {"height": rows * height_per_row + 40, "annotations": [],
                    "margin": {"l": 5, "r": 5, "t": 30, "b": 5}}
    data = []
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        axis = "" if i == 0 else str(i + 1)
        left, top = c * (width + h_gap), 1 - r * (height + v_gap)
        layout[f"xaxis{axis}"] = {"domain": [max(0.0, left), min(1.0, left + width)],
                                  "anchor": f"y{axis}", **hidden}
        layout[f"yaxis{axis}"] = {"domain": [max(0.0, top - height), min(1.0, top)],
                                  "anchor": f"x{axis}", "autorange": "reversed",
                                  "scaleanchor": f"x{axis}", **hidden}
        layout["annotations"].append({
            "text": titles[i], "x": left + width / 2, "y": top, "xref": "paper",
            "yref": "paper", "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 11}})
        data.append({"type": "heatmap", "z": m, "colorscale": SEQUENTIAL, "showscale": False,
                     "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                     "hovertemplate": "row %{y}, col %{x}: %{z:.3g}<extra></extra>"})
    return go.Figure(data=data, layout=layout)


def fig_kernel(kernel: np.ndarray, title: str = "kernel", height: int = 260) -> go.Figure:
    """A small kernel with its numbers written in the cells."""
    bound = float(np.abs(kernel).max()) or 1.0
    text = [[f"{v:.2g}" for v in row] for row in kernel]
    fig = go.Figure(go.Heatmap(z=kernel, colorscale=DIVERGING, zmin=-bound, zmax=bound,
                               text=text, texttemplate="%{text}" if kernel.size <= 49 else None,
                               showscale=False, xgap=1, ygap=1,
                               hovertemplate="tap (%{y}, %{x}): %{z:.3g}<extra></extra>"))
    return _square(fig, height, title)


def fig_map(values: np.ndarray, title: str, height: int = 260, diverging: bool = True
            ) -> go.Figure:
    """One feature map; diverging around zero when it has both signs."""
    if diverging and values.min() < 0 < values.max():
        bound = float(np.abs(values).max())
        trace = go.Heatmap(z=values, colorscale=DIVERGING, zmin=-bound, zmax=bound)
    else:
        trace = go.Heatmap(z=values, colorscale=SEQUENTIAL)
    trace.update(hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>",
                 colorbar=dict(thickness=10))
    return _square(go.Figure(trace), height, title)


def blend(image: np.ndarray, values: np.ndarray, cmap: str = "inferno",
          alpha: float = 0.75) -> np.ndarray:
    """An (H, W) map, scaled to its maximum, coloured and laid over a grey copy of the image."""
    grey = image.mean(axis=2, keepdims=True).repeat(3, axis=2) / 255.0
    top = float(values.max())
    scaled = values / top if top > 0 else values
    colour = colormap(cmap)(scaled)[..., :3]
    weight = alpha * np.sqrt(np.clip(scaled, 0, 1))[..., None]  # faint where the map is ~0
    mixed = ((1 - weight) * grey + weight * colour).clip(0, 1)
    return (mixed * 255).astype(np.uint8)


def fig_erf(image: np.ndarray, grad: np.ndarray, theory: tuple[int, int, int, int],
            title: str, height: int = 420) -> go.Figure:
    """The effective receptive field over the image, the theoretical one outlined."""
    fig = go.Figure(go.Image(z=blend(image, grad), customdata=grad / (grad.max() or 1.0),
                             hovertemplate="row %{y}, col %{x}: %{customdata:.3f} of the "
                                           "peak<extra></extra>"))
    _rect(fig, theory, "#00e0ff", dash="dot")
    return _square(fig, height, title)


BLIND_COLOURS = {  # category -> (colour, label), see features.BlindSpot.categories
    0: ("#f2f2f2", "future: must stay unseen"),
    1: ("#3b6ea5", "seen by the centre pixel"),
    2: ("#e4572e", "blind spot: allowed but never seen"),
    3: ("#ffd400", "the centre pixel"),
    4: ("#c9d6e3", "allowed, beyond this depth's field"),
}


def fig_categories(categories: np.ndarray, colours: dict[int, tuple[str, str]], title: str,
                   height: int = 380) -> go.Figure:
    """A grid of pixels, each coloured by its category, with a legend."""
    keys = sorted(colours)
    n = len(keys)
    index = {k: i for i, k in enumerate(keys)}
    z = np.vectorize(index.get)(categories)
    scale = []
    for i, k in enumerate(keys):
        scale += [[i / n, colours[k][0]], [(i + 1) / n, colours[k][0]]]
    labels = np.vectorize(lambda k: colours[k][1])(categories)
    fig = go.Figure(go.Heatmap(z=z, zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
                               xgap=1, ygap=1, customdata=labels,
                               hovertemplate="row %{y}, col %{x}: %{customdata}<extra></extra>"))
    for k in keys:  # legend entries
        if (categories == k).any():
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=colours[k][1],
                                     marker=dict(size=12, symbol="square", color=colours[k][0])))
    fig = _square(fig, height, title)
    fig.update_layout(plot_bgcolor="#ffffff", showlegend=True,
                      legend=dict(orientation="h", y=-0.02, yanchor="top"))
    return fig


GRIDDING_COLOURS = {  # category -> (colour, label), see receptive_field.Gridding.categories
    0: ("#f2f2f2", "outside the receptive field"),
    1: ("#0072B2", "read by the centre output"),
    2: ("#D55E00", "a hole: inside the field, never read"),
}


SHORTCUT_COLOURS = {
    0: ("#f2f2f2", "not read"),
    1: ("#3b6ea5", "reaches the output pixel"),
    2: ("#c9d6e3", "in the output pixel's 2x2 window, but skipped"),
}


def fig_shortcut(passed: np.ndarray, window: tuple[int, int, int, int], title: str,
                 height: int = 330) -> go.Figure:
    """Which input pixels one output pixel of a downsampling shortcut reads."""
    top, left, bottom, right = window
    cats = passed.astype(int)
    in_window = np.zeros_like(passed)
    in_window[top:bottom + 1, left:right + 1] = True
    cats[in_window & ~passed] = 2
    fig = fig_categories(cats, SHORTCUT_COLOURS, title, height)
    _rect(fig, window, "#e4572e")
    return fig


def fig_attention(values: np.ndarray, kind: str, title: str, height: int = 240) -> go.Figure:
    """One value per channel: an SE gate's multipliers (0 to 1, a dashed line at 1 where a
    channel would pass unchanged) or a GC module's offsets (around 0)."""
    channels = np.arange(1, len(values) + 1)
    fig = go.Figure(go.Bar(x=channels, y=values, marker_color="#0072B2",
                           hovertemplate="channel %{x}: %{y:.3g}<extra></extra>"))
    if kind == "gate":
        fig.add_hline(y=1, line_dash="dash", line_color="#555555")
        fig.update_yaxes(range=[0, 1.05], title_text="multiplier")
    else:
        fig.update_yaxes(title_text="added to every pixel")
    fig.update_xaxes(title_text="channel")
    fig.update_layout(title=title, height=height, margin={"t": 40, "b": 40, "l": 50, "r": 10})
    return fig
