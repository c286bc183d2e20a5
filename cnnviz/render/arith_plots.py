"""Figures of the arithmetic and cost pages: sliding windows, cost bars, checkerboards.

Plain data in (an Animation, a Comparison, a Checkerboard), plotly Figures out.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.topics.costs import Comparison
from cnnviz.topics.sliding import (
    INPUT,
    OUT_PAD,
    PAD,
    ZERO,
    Animation,
    Checkerboard,
    Frame,
    HandSum,
)

# One discrete colour per cell code, shared by the grid and the output heatmaps.
READ, READ_EMPTY, NEVER, OUT_TODO, OUT_DONE, OUT_NOW = 4, 5, 6, 7, 8, 9
CELL_COLOURS = {
    INPUT: "#dbe9f6", PAD: "#f2f2f2", ZERO: "#fff3c4", OUT_PAD: "#e8dcf5",
    READ: "#1f77b4", READ_EMPTY: "#9ecae1", NEVER: "#f4a6a6",
    OUT_TODO: "#ffffff", OUT_DONE: "#c7e9c0", OUT_NOW: "#2ca02c",
}
CELL_NAMES = {
    INPUT: "input cell", PAD: "padding (zeros)", ZERO: "inserted zero (s-1 between inputs)",
    OUT_PAD: "output padding", READ: "read now (input)", READ_EMPTY: "read now (a zero)",
    NEVER: "never read (stride / floor)", OUT_TODO: "output, to come",
    OUT_DONE: "output, done", OUT_NOW: "output, current",
}
N_CODES = len(CELL_COLOURS)


def _colorscale() -> list:
    scale = []
    for code in range(N_CODES):
        lo, hi = code / N_CODES, (code + 1) / N_CODES
        scale += [[lo, CELL_COLOURS[code]], [hi, CELL_COLOURS[code]]]
    return scale


def grid_codes(anim: Animation, frame: Frame) -> np.ndarray:
    """Code of every grid cell in one frame: its kind, never-read, or read now."""
    kinds = anim.kinds()
    z = np.where(anim.never_read(), NEVER, kinds)
    for r, c in frame.cells:
        z[r, c] = READ if kinds[r, c] == INPUT else READ_EMPTY
    return z


def output_codes(anim: Animation, index: int) -> np.ndarray:
    """Output cells before frame `index` are done, the one at `index` is current."""
    flat = np.full(anim.out_shape[0] * anim.out_shape[1], OUT_TODO)
    flat[:index] = OUT_DONE
    flat[index] = OUT_NOW
    return flat.reshape(anim.out_shape)


def _heat(z: np.ndarray, text: np.ndarray | None = None) -> go.Heatmap:
    return go.Heatmap(z=z.astype(float) + 0.5, zmin=0, zmax=N_CODES, colorscale=_colorscale(),
                      showscale=False, xgap=1, ygap=1, hoverinfo="skip",
                      text=text, texttemplate="%{text}" if text is not None else None,
                      textfont={"size": 9})


def fig_slide(anim: Animation, duration_ms: int = 450) -> go.Figure:
    """The kernel sliding over the grid (left) and filling the output (right), with play."""
    frames = anim.frames()
    gh, gw = anim.grid_shape
    labels = anim.source_labels() if max(gh, gw) <= 14 else None
    title = {"conv": "padded input", "transposed": "zero-inserted, padded input",
             "max pool": "padded input", "avg pool": "padded input"}[anim.mode]
    fig = make_subplots(rows=1, cols=2, column_widths=[gw, max(anim.out_shape[1], 2)],
                        horizontal_spacing=0.08,
                        subplot_titles=(f"{title} ({gh}x{gw})",
                                        f"output ({anim.out_shape[0]}x{anim.out_shape[1]})"))
    fig.add_trace(_heat(grid_codes(anim, frames[0]), labels), 1, 1)
    fig.add_trace(_heat(output_codes(anim, 0)), 1, 2)
    shown = {INPUT, PAD, READ, OUT_DONE, OUT_NOW}
    shown |= {ZERO, OUT_PAD, READ_EMPTY} if anim.mode == "transposed" else set()
    shown |= {NEVER} if anim.never_read().any() else set()
    shown |= {READ_EMPTY} if anim.kinds().max() > INPUT else set()
    for code in sorted(shown):  # legend entries only
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=CELL_NAMES[code],
                                 marker={"symbol": "square", "size": 12,
                                         "color": CELL_COLOURS[code],
                                         "line": {"width": 1, "color": "#888"}}), 1, 1)
    fig.frames = [go.Frame(name=str(i), traces=[0, 1],
                           data=[go.Heatmap(z=grid_codes(anim, f).astype(float) + 0.5),
                                 go.Heatmap(z=output_codes(anim, i).astype(float) + 0.5)])
                  for i, f in enumerate(frames)]
    play = {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}}
    fig.update_layout(
        height=max(380, 26 * gh + 230), margin={"t": 90, "b": 90, "l": 10, "r": 10},
        legend={"orientation": "h", "x": 0, "y": 1.06, "yanchor": "bottom"},
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": 0,
                      "xanchor": "left", "yanchor": "top", "pad": {"t": 40},
                      "showactive": False, "buttons": [
                          {"label": "▶ play", "method": "animate", "args": [None, play]},
                          {"label": "⏸ pause", "method": "animate",
                           "args": [[None], {"frame": {"duration": 0, "redraw": False},
                                             "mode": "immediate"}]}]}],
        sliders=[{"active": 0, "x": 0.18, "len": 0.82, "y": 0, "yanchor": "top",
                  "currentvalue": {"prefix": "output cell "}, "pad": {"t": 20},
                  "steps": [{"label": f"({f.out[0]},{f.out[1]})", "method": "animate",
                             "args": [[str(i)], {"mode": "immediate",
                                                 "frame": {"duration": 0, "redraw": True}}]}
                            for i, f in enumerate(frames)]}])
    for col in (1, 2):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else 2}",
                         constrain="domain", showgrid=False, zeroline=False, dtick=1,
                         row=1, col=col)
        fig.update_xaxes(showgrid=False, zeroline=False, dtick=1, constrain="domain",
                         row=1, col=col)
    return fig


def fig_cost_bars(c: Comparison) -> go.Figure:
    """Params and MACs of each design, labelled with the ratio to the first."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("parameters", "MACs"))
    names = [d.name for d in c.designs]
    for col, (values, ratio) in enumerate(((
            [d.params for d in c.designs], c.params_ratio),
            ([d.macs for d in c.designs], c.macs_ratio)), start=1):
        text = [f"{v:,}" + ("" if i == 0 else f"<br>{float(ratio(i)):.3g}x")
                for i, v in enumerate(values)]
        fig.add_trace(go.Bar(x=names, y=values, text=text, textposition="auto",
                             marker_color=["#7f7f7f"] + ["#1f77b4"] * (len(names) - 1),
                             showlegend=False, hovertemplate="%{x}: %{y:,}<extra></extra>"),
                      1, col)
    fig.update_layout(height=330, margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def fig_checkerboard(cb: Checkerboard) -> go.Figure:
    """The three upsampled constant images side by side, each on its own grey scale."""
    s = cb.stride
    panels = ((cb.transposed, f"ConvTranspose2d(k={cb.kernel_size}, s={s})", "",
               cb.std_transposed),
              (cb.upsample_conv, f"Upsample(x{s}) + Conv2d 3x3", "", cb.std_upsample_conv),
              (cb.subpixel, f"Conv2d 3x3 + PixelShuffle({s})", "ICNR, ", cb.std_subpixel))
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.04, subplot_titles=[
        f"{name}<br>{note}interior std {std:.3g}" for _, name, note, std in panels])
    for col, (img, *_) in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(z=img, colorscale="gray", showscale=False,
                                 hovertemplate="(%{y},%{x}): %{z:.3g}<extra></extra>"), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else col}",
                         showticklabels=False, row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.update_layout(height=360, margin={"t": 60, "b": 10, "l": 10, "r": 10})
    return fig


def fig_hand_sum(h: HandSum, row: int, col: int) -> go.Figure:
    """The input with the window of output (row, col) outlined, and the kernel; every cell
    shows its number (the greys only repeat them, and stay light enough for dark text)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[5, 3], horizontal_spacing=0.08,
                        subplot_titles=[f"input (the window of output row {row + 1}, "
                                        f"column {col + 1} outlined)", "kernel (weights)"])
    for i, (grid, low, high) in enumerate(((h.image, 0, 3), (h.kernel, -1, 1)), start=1):
        fig.add_trace(go.Heatmap(
            z=grid, zmin=low, zmax=high + 2 * (high - low), colorscale="Greys", showscale=False,
            xgap=2, ygap=2, text=grid, texttemplate="%{text}",
            textfont={"size": 20, "color": "#111111"}, hoverinfo="skip"), 1, i)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if i == 1 else i}",
                         showticklabels=False, row=1, col=i)
        fig.update_xaxes(showticklabels=False, row=1, col=i)
    k = h.kernel.shape[0]
    fig.add_shape(type="rect", x0=col - 0.5, x1=col + k - 0.5, y0=row - 0.5, y1=row + k - 0.5,
                  line={"color": "#D55E00", "width": 4}, row=1, col=1)
    fig.update_layout(height=300, margin={"t": 50, "b": 10, "l": 10, "r": 10})
    return fig


def hand_sum_latex(h: HandSum, row: int, col: int) -> str:
    """The weighted sum of output (row, col) written out, negative weights in brackets."""
    terms = [rf"{a}\cdot({w})" if w < 0 else rf"{a}\cdot{w}" for a, w in h.products(row, col)]
    return " + ".join(terms) + f" = {h.by_hand(row, col)}"
