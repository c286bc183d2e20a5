"""What the predicted walk carries: signals, report rows and the tape of spatial maps.

A signal is a feature map (batch excluded) with its receptive field. Every rule
appends the maps from its output positions back to its input positions to the
tape, so the exact set of input pixels one output pixel depends on can be
propagated back afterwards (what torch's gradient measures).

Receptive fields follow Araujo et al., "Computing Receptive Fields of
Convolutional Neural Networks" (Distill 2019): per axis an offset interval
(lo, hi) and a jump (effective stride); at a merge the widest interval wins.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from cnnviz.core import arithmetic as ar
from cnnviz.core.errors import SpecError
from cnnviz.core.field import ReceptiveField

BYTES_PER_ELEMENT = 4  # float32

Map = Callable[[int], int]  # needed output positions (a bitmask) -> needed input positions


class ConfigError(SpecError):
    """A configuration that cannot run, explained in a sentence."""


@dataclass(frozen=True, slots=True)
class Axis:
    """Receptive field along one axis: output i sees input [i*jump+lo, i*jump+hi]."""

    lo: Fraction | int = 0
    hi: Fraction | int = 0
    jump: Fraction | int = 1

    @property
    def size(self) -> int:
        return ar.rf_size(self.lo, self.hi, self.jump)


@dataclass(slots=True)
class Signal:
    """A feature map flowing through the walk (batch excluded)."""

    channels: int
    height: int
    width: int
    rf_h: Axis
    rf_w: Axis
    is_global: bool = False
    node: int = 0  # id on the tape
    flat: bool = False  # a vector of `channels` features (after nn.Flatten), height = width = 1
    shape: tuple[int, ...] = field(init=False)
    numel: int = field(init=False)

    def __post_init__(self) -> None:  # read many times per layer by the rules
        self.shape = (self.channels,) if self.flat else (self.channels, self.height, self.width)
        self.numel = self.channels * self.height * self.width

    @property
    def receptive_field(self) -> ReceptiveField:
        return ReceptiveField((self.rf_h.size, self.rf_w.size), (self.rf_h.jump, self.rf_w.jump),
                              self.is_global)


@dataclass(slots=True)
class Layer:
    """One row of the per-layer report."""

    name: str
    kind: str
    in_shape: tuple[int, ...]  # (C, H, W), or (F,) after a flatten
    out_shape: tuple[int, ...]
    params: int = 0
    macs: int = 0
    elementwise: int = 0
    op: str = ""  # what the elementwise work is: norm, activation, add, ...
    memory: int = 0  # bytes of the output this layer allocates
    formula: tuple[str, ...] | list[str] = ()  # LaTeX, when the size changes
    signal: Signal | None = None  # the output, for its receptive field

    @property
    def receptive_field(self) -> ReceptiveField:
        if self.signal is None:
            raise ValueError(f"Layer {self.name!r} was made without its output signal.")
        return self.signal.receptive_field


Input = tuple[Signal, Map | None, Map | None]  # a signal and its maps (None: the same position)


class Walk:
    """State of one predicted walk: the rows so far and the tape of spatial maps."""

    def __init__(self, batch: int):
        self.batch = batch
        self.layers: list[Layer] = []
        # tape[i] = (output node, [(input node, map_h, map_w), ...])
        self.tape: list[tuple[int, list[tuple[int, Map | None, Map | None]]]] = []
        self.nodes = 1  # node 0 is the input

    def emit(self, inputs: list[Input], channels: int, height: int, width: int, rf_h: Axis,
             rf_w: Axis, is_global: bool, flat: bool = False) -> Signal:
        node = self.nodes
        self.nodes += 1
        self.tape.append((node, [(s.node, mh, mw) for s, mh, mw in inputs]))
        return Signal(channels, height, width, rf_h, rf_w, is_global, node, flat)

    def row(self, name: str, kind: str, x: Signal, y: Signal, *, params: int = 0,
            macs: int = 0, elementwise: int = 0, op: str = "", memory: int = 0,
            formula: tuple[str, ...] | list[str] = ()) -> None:
        self.layers.append(Layer(name, kind, x.shape, y.shape, params, macs, elementwise, op,
                                 memory, formula, signal=y))

    def output_bytes(self, y: Signal) -> int:
        """float32 bytes of a new output (the batch included)."""
        return self.batch * y.numel * BYTES_PER_ELEMENT


def check_channels(name: str, expected: int, x: Signal) -> None:
    if expected != x.channels:
        raise ConfigError(f"Layer '{name}' expects {expected} channels but receives "
                          f"{x.channels}.")


# --- spatial maps: which input positions an output position reads ------------------

def shift_map(offsets: tuple[int, ...], size_in: int) -> Map:
    """Stride-1 map: shift the bitmask by every tap offset, clip to the input."""
    full = (1 << size_in) - 1

    def back(mask: int) -> int:
        out = 0
        for off in offsets:
            out |= (mask << off) if off >= 0 else (mask >> -off)
        return out & full
    return back


def reads_map(reads: Callable[[int], Iterable[int]], size_in: int) -> Map:
    """General map from a per-position `reads(o)` list, clipped to the input."""
    def back(mask: int) -> int:
        out, o = 0, 0
        while mask:
            if mask & 1:
                for i in reads(o):
                    if 0 <= i < size_in:
                        out |= 1 << i
            mask >>= 1
            o += 1
        return out
    return back


def global_map(size_in: int) -> Map:
    full = (1 << size_in) - 1
    return lambda mask: full if mask else 0


def broadcast_map(size_in: int, size_out: int) -> Map | None:
    """A size-1 operand broadcast over the output is read by every position."""
    return (lambda mask: 1 if mask else 0) if size_in == 1 and size_out > 1 else None


def axis_after(axis: Axis, reads: Callable[[int], Iterable[int]], ratio: Fraction | int) -> Axis:
    """The receptive field after a layer whose output o reads input `reads(o)`.

    `ratio` is input positions per output position (the stride; 1/s when upsampling).
    Offsets are taken over one period of output positions, far from any border.
    """
    period = ratio.denominator if isinstance(ratio, Fraction) else 1
    base = 64 * period
    offsets = [i - o * ratio for o in range(base, base + period) for i in reads(o)]
    lo, hi = min(offsets), max(offsets)
    return Axis(axis.lo + axis.jump * lo, axis.hi + axis.jump * hi, axis.jump * ratio)


def check_map(name: str, x: Signal) -> None:
    """Spatial layers need a feature map, not the vector a flatten made."""
    if x.flat:
        raise ConfigError(f"Layer '{name}' needs a feature map but receives a flat vector of "
                          f"{x.channels} features: move it before the flatten.")
