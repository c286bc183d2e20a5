"""Pure convolution arithmetic: output sizes, padding, receptive-field steps.

No torch here: these formulas are what a student writes on paper, and the
analysis applies them to the modules the registry builds.
"""
from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import ceil, floor
from typing import Any, NamedTuple, SupportsInt


def pair(v: SupportsInt | Sequence[SupportsInt]) -> tuple[int, int]:
    """A size given once or per axis, as (H, W): 3 -> (3, 3), (3, 5) -> (3, 5)."""
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, tuple | list | Sequence):  # tuple first: torch's, and no slow ABC check
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))  # a numpy integer


class Geometry(NamedTuple):
    """A sliding window's hyperparameters, each as (H, W)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]


def conv_geometry(m: Any) -> Geometry:
    """The window of a convolution or pooling module (pools without dilation have 1)."""
    return Geometry(pair(m.kernel_size), pair(m.stride), pair(m.padding),
                    pair(getattr(m, "dilation", 1)))


def dims_text(dims: Sequence[object], sep: str = "×") -> str:
    """Sizes as written on paper: (16, 32, 32) -> '16×32×32'."""
    return sep.join(map(str, dims))


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Symmetric padding that keeps the size at stride 1 (exact for odd spans)."""
    return dilation * (kernel_size - 1) // 2


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """floor((n + 2p - d(k-1) - 1) / s) + 1, the nn.Conv2d / pooling formula."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_transpose_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       dilation: int = 1, output_padding: int = 0) -> int:
    """(n - 1)s - 2p + d(k-1) + output_padding + 1, the nn.ConvTranspose2d formula."""
    return ((size - 1) * stride - 2 * padding + dilation * (kernel_size - 1)
            + output_padding + 1)


def conv_out_latex(size: int, kernel_size: int, stride: int, padding: int,
                   dilation: int = 1, axis: str = "H") -> str:
    """The output-size formula with the numbers substituted, as LaTeX."""
    out = conv_out(size, kernel_size, stride, padding, dilation)
    span = f"{dilation}\\cdot({kernel_size}-1)" if dilation != 1 else f"({kernel_size}-1)"
    return (f"{axis}_{{out}} = \\left\\lfloor \\frac{{{size} + 2\\cdot{padding} - {span} - 1}}"
            f"{{{stride}}} \\right\\rfloor + 1 = {out}")


def conv_transpose_out_latex(size: int, kernel_size: int, stride: int, padding: int,
                             dilation: int = 1, output_padding: int = 0,
                             axis: str = "H") -> str:
    out = conv_transpose_out(size, kernel_size, stride, padding, dilation, output_padding)
    span = f"{dilation}\\cdot({kernel_size}-1)" if dilation != 1 else f"({kernel_size}-1)"
    return (f"{axis}_{{out}} = ({size}-1)\\cdot{stride} - 2\\cdot{padding} + {span}"
            f" + {output_padding} + 1 = {out}")


def upsample_out_latex(size: int, scale: int, axis: str = "H") -> str:
    return f"{axis}_{{out}} = {size}\\cdot{scale} = {size * scale}"


def bottleneck_savings(macs_direct: int, macs_bottleneck: int) -> float:
    """Share of the direct cost that the bottleneck design saves (0..1)."""
    return 1.0 - macs_bottleneck / macs_direct


def integers_in(lo: Fraction | int, hi: Fraction | int) -> int:
    """How many integers lie in [lo, hi]."""
    return max(0, floor(hi) - ceil(lo) + 1)


def rf_size(lo: Fraction | int, hi: Fraction | int, jump: Fraction | int) -> int:
    """Largest number of input pixels one output pixel sees along an axis.

    (lo, hi) are the offsets of the receptive field from the output position
    times the jump; with a fractional jump (after upsampling) the count depends
    on the output position, and we report the largest.
    """
    period = jump.denominator if isinstance(jump, Fraction) else 1
    return max(integers_in(i * jump + lo, i * jump + hi) for i in range(period))


# --- added for the arithmetic and cost pages (pure, no torch) -----------------------

def transposed_edge_padding(kernel_size: int, padding: int, dilation: int = 1) -> int:
    """Zeros a transposed conv adds on each side of the zero-inserted input: d(k-1) - p.

    Negative means that many rows are cropped instead.
    """
    return dilation * (kernel_size - 1) - padding


def transposed_steps_latex(size: int, kernel_size: int, stride: int, padding: int,
                           dilation: int = 1, output_padding: int = 0,
                           axis: str = "H") -> list[str]:
    """The transposed conv as zero insertion + padding + a stride-1 conv, with numbers."""
    inserted = (size - 1) * stride + 1
    q = transposed_edge_padding(kernel_size, padding, dilation)
    padded = inserted + 2 * q + output_padding
    span = dilation * (kernel_size - 1) + 1
    out = conv_transpose_out(size, kernel_size, stride, padding, dilation, output_padding)
    return [
        f"\\text{{insert }} s-1={stride - 1} \\text{{ zeros: }} ({size}-1)\\cdot{stride}+1"
        f" = {inserted}",
        f"\\text{{pad }} d(k-1)-p = {dilation}\\cdot({kernel_size}-1)-{padding} = {q}"
        f"\\text{{ per side}} + {output_padding}\\text{{ (output padding)}}: "
        f"{inserted} + 2\\cdot({q}) + {output_padding} = {padded}",
        f"\\text{{stride-1 conv, span }} {span}: {padded} - {span} + 1 = {out}",
        f"{axis}_{{out}} = {out}",
    ]


def relative_error(guess: float, truth: float) -> float:
    """|guess - truth| / |truth| as a percentage (0 when both are 0)."""
    if truth == 0:
        return 0.0 if guess == 0 else float("inf")
    return abs(guess - truth) / abs(truth) * 100.0


def divisors(n: int) -> list[int]:
    """Every g with n % g == 0, ascending: the group counts a conv on n channels allows."""
    return [g for g in range(1, n + 1) if n % g == 0]


def separable_ratio(out_channels: int, kernel_size: int) -> Fraction:
    """Depthwise separable cost over a standard conv's: 1/N + 1/k^2 (Howard et al. 2017)."""
    return Fraction(1, out_channels) + Fraction(1, kernel_size ** 2)


def conv_macs_latex(height: int, width: int, in_channels: int, out_channels: int,
                    kernel_size: int, groups: int = 1) -> str:
    """H_out * W_out * C_in/g * C_out * k^2 with the numbers, as LaTeX (no result)."""
    cin = f"\\tfrac{{{in_channels}}}{{{groups}}}" if groups != 1 else f"{in_channels}"
    return (f"{height}\\times{width}\\times{cin}\\times{out_channels}"
            f"\\times{kernel_size}^2")
