"""Frames of a kernel sliding over a grid: which cells each output cell reads.

The geometry is that of cnnviz.arithmetic (the same formulas the analysis
applies), laid out cell by cell so a page can animate it:

* convolution and pooling: a padded input, one frame per output cell;
* transposed convolution: the input with s-1 zeros inserted between cells,
  d(k-1)-p padding on each side (plus output_padding at the end), then an
  ordinary stride-1 convolution over that grid (Dumoulin & Visin 2016);
* checkerboard: a transposed conv, upsample+conv and a sub-pixel conv on one
  constant input, run with real torch modules (Odena et al. 2016,
  "Deconvolution and Checkerboard Artifacts"; Shi et al. 2016; Aitken et al.
  2017, "Checkerboard artifact free sub-pixel convolution").

Tests check every frame against what torch reads (the support of the
gradient of that output cell).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cnnviz.core import arithmetic as ar
from cnnviz.core.errors import SpecError

if TYPE_CHECKING:  # torch is imported where a checkerboard is run: the frames need numpy only
    import torch

# Cell kinds of the grid the kernel slides over (the colour of each cell).
INPUT, PAD, ZERO, OUT_PAD = 0, 1, 2, 3
KIND_NAMES = {INPUT: "input", PAD: "padding", ZERO: "inserted zero", OUT_PAD: "output padding"}
MAX_CELLS = 32  # largest grid side a page animates
# Which kind a cell shows when its row and column differ: padding wins over an inserted zero.
_RANK = {INPUT: 0, ZERO: 1, PAD: 2, OUT_PAD: 3}


@dataclass(frozen=True)
class AxisLayout:
    """One axis of the grid: what each grid cell is, and where output o reads."""

    kinds: tuple[int, ...]           # kind of each grid cell
    source: tuple[int | None, ...]   # input index of each grid cell (None: not an input)
    starts: tuple[int, ...]          # grid cell of tap 0 for each output position
    kernel: int
    dilation: int

    @property
    def out(self) -> int:
        return len(self.starts)

    def reads(self, o: int) -> tuple[int, ...]:
        """Grid cells output position `o` reads along this axis."""
        return tuple(self.starts[o] + t * self.dilation for t in range(self.kernel))

    def never_read(self) -> tuple[int, ...]:
        """Grid cells no output position reads (skipped by the stride, or cut by the floor)."""
        read = {g for o in range(self.out) for g in self.reads(o)}
        return tuple(g for g in range(len(self.kinds)) if g not in read)


@dataclass(frozen=True)
class Frame:
    """Output cell `out` and the grid rows and columns its window covers."""

    out: tuple[int, int]
    rows: tuple[int, ...]
    cols: tuple[int, ...]

    @property
    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in self.rows for c in self.cols]


@dataclass(frozen=True)
class Animation:
    """A kernel sliding over a grid, one frame per output cell (row-major order)."""

    mode: str  # "conv", "transposed", "max pool" or "avg pool"
    in_shape: tuple[int, int]
    rows: AxisLayout
    cols: AxisLayout
    formulas: tuple[str, str]  # LaTeX for H_out and W_out, with the numbers

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (len(self.rows.kinds), len(self.cols.kinds))

    @property
    def out_shape(self) -> tuple[int, int]:
        return (self.rows.out, self.cols.out)

    def kinds(self) -> np.ndarray:
        """Kind of every grid cell (2-D): an input only if its row and its column are."""
        rank = np.array([_RANK[k] for k in range(len(_RANK))])
        r = np.array(self.rows.kinds)[:, None]
        c = np.array(self.cols.kinds)[None, :]
        return np.where(rank[r] >= rank[c], r, c)

    def never_read(self) -> np.ndarray:
        """Boolean grid: True where no output cell reads the cell."""
        mask = np.zeros(self.grid_shape, dtype=bool)
        mask[list(self.rows.never_read()), :] = True
        mask[:, list(self.cols.never_read())] = True
        return mask

    def frames(self) -> list[Frame]:
        return [Frame((i, j), self.rows.reads(i), self.cols.reads(j))
                for i in range(self.rows.out) for j in range(self.cols.out)]

    def input_reads(self, frame: Frame) -> set[tuple[int, int]]:
        """The input cells (input coordinates) the window of `frame` covers."""
        rows = [self.rows.source[r] for r in frame.rows]
        cols = [self.cols.source[c] for c in frame.cols]
        return {(r, c) for r in rows if r is not None for c in cols if c is not None}

    def source_labels(self) -> np.ndarray:
        """Text for each grid cell: 'r,c' on input cells, '0' on zeros and padding."""
        labels = np.full(self.grid_shape, "0", dtype=object)
        for r, sr in enumerate(self.rows.source):
            for c, sc in enumerate(self.cols.source):
                if sr is not None and sc is not None:
                    labels[r, c] = f"{sr},{sc}"
        return labels


# --- convolution and pooling --------------------------------------------------------

def _conv_axis(n: int, k: int, s: int, p: int, d: int, axis: str, what: str) -> AxisLayout:
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise SpecError(f"The {k}x{k} {what}" + (f" with dilation {d}" if d > 1 else "")
                        + f" spans {span} cells but the padded input is only "
                        f"{n} + 2*{p} = {n + 2 * p} cells "
                        f"along {axis}: the window does not fit. Use a larger input, more "
                        f"padding or a smaller kernel.")
    out = ar.conv_out(n, k, s, p, d)
    kinds = (PAD,) * p + (INPUT,) * n + (PAD,) * p
    source = (None,) * p + tuple(range(n)) + (None,) * p
    return AxisLayout(kinds, source, tuple(o * s for o in range(out)), k, d)


def _check_positive(**values: int) -> None:
    for name, v in values.items():
        if v < (0 if name.startswith("padding") or name.startswith("output") else 1):
            raise SpecError(f"{name} = {v} is not allowed: "
                            + ("it cannot be negative." if name.startswith(("padding", "output"))
                               else "it must be at least 1."))


def conv_animation(height: int, width: int, kernel_size: int | Sequence[int],
                   stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                   dilation: int | Sequence[int] = 1) -> Animation:
    """Frames of nn.Conv2d's window over a zero-padded `height` x `width` input."""
    k, s, p, d = (ar.pair(v) for v in (kernel_size, stride, padding, dilation))
    _check_positive(height=height, width=width, kernel_size=min(k), stride=min(s),
                    padding=min(p), dilation=min(d))
    rows = _conv_axis(height, k[0], s[0], p[0], d[0], "H", "kernel")
    cols = _conv_axis(width, k[1], s[1], p[1], d[1], "W", "kernel")
    formulas = (ar.conv_out_latex(height, k[0], s[0], p[0], d[0], "H"),
                ar.conv_out_latex(width, k[1], s[1], p[1], d[1], "W"))
    return Animation("conv", (height, width), rows, cols, formulas)


def pool_animation(height: int, width: int, kernel_size: int | Sequence[int],
                   stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                   kind: str = "max") -> Animation:
    """Frames of nn.MaxPool2d / nn.AvgPool2d windows (ceil_mode=False)."""
    if kind not in ("max", "avg"):
        raise SpecError(f"Pooling is 'max' or 'avg', not {kind!r}.")
    k = ar.pair(kernel_size)
    s = k if stride is None else ar.pair(stride)
    p = ar.pair(padding)
    _check_positive(height=height, width=width, kernel_size=min(k), stride=min(s),
                    padding=min(p))
    for kk, pp in zip(k, p):
        if pp > kk // 2:
            raise SpecError(f"Pooling padding {pp} is more than half the {kk}-wide window: "
                            f"torch refuses it (a window could lie entirely in the padding). "
                            f"Use padding 0 to {kk // 2}.")
    rows = _conv_axis(height, k[0], s[0], p[0], 1, "H", "pooling window")
    cols = _conv_axis(width, k[1], s[1], p[1], 1, "W", "pooling window")
    formulas = (ar.conv_out_latex(height, k[0], s[0], p[0], 1, "H"),
                ar.conv_out_latex(width, k[1], s[1], p[1], 1, "W"))
    return Animation(f"{kind} pool", (height, width), rows, cols, formulas)


# --- transposed convolution -------------------------------------------------------------

def _transposed_axis(n: int, k: int, s: int, p: int, d: int, op: int, axis: str) -> AxisLayout:
    if op >= max(s, d):
        raise SpecError(f"output_padding = {op} must be smaller than the stride ({s}) or the "
                        f"dilation ({d}), as torch requires.")
    out = ar.conv_transpose_out(n, k, s, p, d, op)
    if out < 1:
        raise SpecError(f"The output {axis} would be {out}: ({n}-1)*{s} - 2*{p} + {d}*({k}-1) "
                        f"+ {op} + 1. Use less padding or a larger input.")
    q = ar.transposed_edge_padding(k, p, d)  # zeros on each side; negative crops
    inserted = (n - 1) * s + 1               # input with s-1 zeros between cells
    length = inserted + 2 * q + op
    kinds, source = [], []
    for g in range(length):
        z = g - q  # position in the zero-inserted map
        if 0 <= z < inserted:
            kinds.append(INPUT if z % s == 0 else ZERO)
            source.append(z // s if z % s == 0 else None)
        else:
            kinds.append(OUT_PAD if z >= inserted + max(q, 0) else PAD)
            source.append(None)
    return AxisLayout(tuple(kinds), tuple(source), tuple(range(out)), k, d)


def transposed_animation(height: int, width: int, kernel_size: int | Sequence[int],
                         stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                         dilation: int | Sequence[int] = 1,
                         output_padding: int | Sequence[int] = 0) -> Animation:
    """nn.ConvTranspose2d as zero insertion + padding + a stride-1 convolution."""
    k, s, p, d, op = (ar.pair(v) for v in (kernel_size, stride, padding, dilation,
                                         output_padding))
    _check_positive(height=height, width=width, kernel_size=min(k), stride=min(s),
                    padding=min(p), dilation=min(d), output_padding=min(op))
    rows = _transposed_axis(height, k[0], s[0], p[0], d[0], op[0], "H")
    cols = _transposed_axis(width, k[1], s[1], p[1], d[1], op[1], "W")
    formulas = (ar.conv_transpose_out_latex(height, k[0], s[0], p[0], d[0], op[0], "H"),
                ar.conv_transpose_out_latex(width, k[1], s[1], p[1], d[1], op[1], "W"))
    return Animation("transposed", (height, width), rows, cols, formulas)


def animation(mode: str, height: int, width: int, kernel_size: int, stride: int = 1,
              padding: int = 0, dilation: int = 1, output_padding: int = 0) -> Animation:
    """One entry point for the page: mode is conv, transposed, max pool or avg pool."""
    if mode == "conv":
        return conv_animation(height, width, kernel_size, stride, padding, dilation)
    if mode == "transposed":
        return transposed_animation(height, width, kernel_size, stride, padding, dilation,
                                    output_padding)
    if mode in ("max pool", "avg pool"):
        return pool_animation(height, width, kernel_size, stride, padding, mode.split()[0])
    raise SpecError(f"Unknown mode {mode!r}: use conv, transposed, max pool or avg pool.")


# --- checkerboard artifacts ----------------------------------------------------------------

@dataclass(frozen=True)
class Checkerboard:
    """Outputs of three upsamplers on the same constant input, and their interior spread."""

    transposed: np.ndarray
    upsample_conv: np.ndarray
    subpixel: np.ndarray       # sub-pixel conv, its r² sub-kernels equal (ICNR)
    std_transposed: float      # std over the interior (away from the borders)
    std_upsample_conv: float
    std_subpixel: float
    std_subpixel_untied: float  # the same sub-pixel conv with independent random sub-kernels
    kernel_size: int
    stride: int
    weights: str


def _interior(img: np.ndarray, margin: int) -> np.ndarray:
    return img[margin:img.shape[0] - margin, margin:img.shape[1] - margin]


def icnr(kernel: torch.Tensor, scale: int) -> torch.Tensor:
    """The weight of a sub-pixel conv whose r² sub-kernels all equal `kernel` (C, C_in, k, k):
    it starts as nearest-resize + conv, free of checkerboards (ICNR, Aitken et al. 2017)."""
    return kernel.repeat_interleave(scale * scale, dim=0)  # output channel c·r² + phase


def checkerboard(size: int = 12, kernel_size: int = 3, stride: int = 2,
                 weights: str = "uniform", seed: int = 0) -> Checkerboard:
    """Three ways to upsample ones(size, size) by s, as real torch modules:

    - nn.ConvTranspose2d(k, s) (Odena et al. 2016: uneven overlap makes a pattern);
    - nn.Upsample(s, nearest) + a 3x3 nn.Conv2d (resize-conv);
    - a 3x3 nn.Conv2d to s² channels + nn.PixelShuffle(s) (sub-pixel convolution, Shi et
      al. 2016), its sub-kernels equal (ICNR); with independent sub-kernels every phase of
      the s x s blocks gets its own sum: std_subpixel_untied measures that pattern.

    weights: "uniform" (all ones: overlap counts show directly) or "random"
    (fixed draws from a per-call generator).
    """
    import torch
    import torch.nn as nn

    from cnnviz.core.budget import check, module_work

    if weights not in ("uniform", "random"):
        raise SpecError(f"weights must be 'uniform' or 'random', not {weights!r}.")
    if size < 2 * kernel_size + 1:
        raise SpecError(f"Use an input of at least {2 * kernel_size + 1} pixels so an "
                        f"interior away from the borders remains.")
    up_t = nn.ConvTranspose2d(1, 1, kernel_size, stride, bias=False)
    resize_conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    up_c = nn.Sequential(nn.Upsample(scale_factor=stride, mode="nearest"), resize_conv)
    sub_conv = nn.Conv2d(1, stride * stride, 3, padding=1, bias=False)
    up_s = nn.Sequential(sub_conv, nn.PixelShuffle(stride))  # (1, s², n, n) -> (1, 1, sn, sn)
    check(*(module_work(f"the {name} upsampling", m, (1, 1, size, size),
                        reduce="the input size or the stride")
            for name, m in (("transposed", up_t), ("resize-conv", up_c), ("sub-pixel", up_s))),
          what="the checkerboard comparison")
    generator = torch.Generator().manual_seed(seed)

    def draw(shape: tuple[int, ...]) -> torch.Tensor:
        if weights == "uniform":
            return torch.ones(shape)
        return torch.rand(shape, generator=generator) + 0.5

    with torch.no_grad():
        for w in (up_t.weight, resize_conv.weight):
            w.copy_(draw(tuple(w.shape)))
        sub_conv.weight.copy_(icnr(draw((1, 1, 3, 3)), stride))
        x = torch.ones(1, 1, size, size)  # (N, C, H, W), a constant image
        a, b, c = (_numpy(up(x)) for up in (up_t, up_c, up_s))
        sub_conv.weight.copy_(torch.rand(tuple(sub_conv.weight.shape), generator=generator)
                              + 0.5)
        untied = _numpy(up_s(x))
    margin = kernel_size  # beyond the first k-1 outputs, every tap of any design lands
    std_a, std_b, std_c, std_untied = (float(_interior(img, margin).std())
                                       for img in (a, b, c, untied))
    return Checkerboard(a, b, c, std_a, std_b, std_c, std_untied, kernel_size, stride, weights)


def _numpy(y: torch.Tensor) -> np.ndarray:
    """The one map of a (1, 1, H, W) output, in float64."""
    return y[0, 0].numpy().astype(np.float64)


# --- one output value by hand ----------------------------------------------------------

HAND_INPUT, HAND_KERNEL = 5, 3  # a 5x5 input and a 3x3 kernel: a 3x3 output
HAND_OUTPUT = HAND_INPUT - HAND_KERNEL + 1
HAND_SEEDS = 99  # the page offers numbers 1..99


@dataclass(frozen=True)
class HandSum:
    """Small whole numbers to compute one convolution output from, and torch's outputs.

    Deep learning's "convolution" (torch.nn.Conv2d) is a cross-correlation: the kernel
    slides over the input as it is, not flipped (Goodfellow et al. 2016, Deep Learning,
    §9.1). `output` is torch's; `flipped` what the kernel turned by 180° would give
    (the convolution of signal processing).
    """

    image: np.ndarray   # (5, 5) whole numbers 0..3
    kernel: np.ndarray  # (3, 3) whole numbers -1..1
    output: np.ndarray  # (3, 3) F.conv2d(image, kernel): stride 1, no padding, no bias
    flipped: np.ndarray  # (3, 3) the same with the kernel turned by 180°

    def window(self, row: int, col: int) -> np.ndarray:
        """The input cells output (row, col) reads (0-based)."""
        return self.image[row:row + HAND_KERNEL, col:col + HAND_KERNEL]

    def products(self, row: int, col: int) -> list[tuple[int, int]]:
        """(input, weight) pairs of output (row, col), row by row, as one writes the sum."""
        return list(zip(self.window(row, col).ravel().tolist(),
                        self.kernel.ravel().tolist()))

    def by_hand(self, row: int, col: int) -> int:
        """The weighted sum written out (what a test holds equal to torch's output)."""
        return sum(a * w for a, w in self.products(row, col))


def hand_sum(seed: int) -> HandSum:
    """The numbers for `seed` (1..HAND_SEEDS), and torch's outputs on them."""
    import torch
    import torch.nn.functional as F

    _check_positive(seed=seed)
    if seed > HAND_SEEDS:
        raise SpecError(f"The numbers go from 1 to {HAND_SEEDS}; {seed} is too large.")
    g = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 4, (HAND_INPUT, HAND_INPUT), generator=g)
    kernel = torch.randint(-1, 2, (HAND_KERNEL, HAND_KERNEL), generator=g)

    def correlate(k: torch.Tensor) -> np.ndarray:
        y = F.conv2d(image[None, None].double(), k[None, None].double())[0, 0]
        return y.round().long().numpy()

    return HandSum(image.numpy(), kernel.numpy(), correlate(kernel),
                   correlate(kernel.flip(0, 1)))
