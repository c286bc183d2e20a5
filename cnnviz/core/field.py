"""The receptive field as one value: size and jump per axis, or global."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnnviz.core.arithmetic import dims_text

Jump = Fraction | int  # input pixels between neighbouring outputs; 1/s after upsampling


def _number(x: Jump) -> float | int:
    """A jump for JSON: an int where it is whole."""
    return int(x) if not isinstance(x, Fraction) or x.denominator == 1 else float(x)


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    """Input pixels one output pixel sees (H, W) and the jump between outputs (H, W).

    Global (after a global pooling) means every input pixel: the size is then moot,
    the jump is kept.
    """

    size: tuple[int, int]
    jump: tuple[Jump, Jump] = (1, 1)
    is_global: bool = False

    def text(self, sep: str = "×") -> str:
        """'7×7' or 'global' (the one formatter: pages pass ' × ', the CLI 'x')."""
        return "global" if self.is_global else dims_text(self.size, sep)

    def __str__(self) -> str:
        return self.text()

    def to_json(self) -> dict[str, Any]:
        """{"size": [h, w] or "global", "jump": [h, w]} (jumps as numbers)."""
        return {"size": "global" if self.is_global else list(self.size),
                "jump": [_number(j) for j in self.jump]}


@dataclass(frozen=True, slots=True)
class ExactField:
    """Input pixels one output pixel reads (H, W): the largest and smallest over output
    positions, and the recurrence's bound, which is never smaller."""

    largest: tuple[int, int]
    smallest: tuple[int, int]
    bound: tuple[int, int]
    is_global: bool = False

    @property
    def varies(self) -> bool:
        """The field depends on the output pixel's position (its phase on the grid)."""
        return self.smallest != self.largest

    @property
    def bound_is_larger(self) -> bool:
        return not self.is_global and any(b > x for b, x in zip(self.bound, self.largest))

    def text(self, sep: str = "×") -> str:
        """'44×44', '92–100×92–100' where it varies, or 'global'."""
        if self.is_global:
            return "global"
        return sep.join(f"{lo}–{hi}" if lo < hi else f"{hi}"
                        for lo, hi in zip(self.smallest, self.largest))

    def bound_text(self, sep: str = "×") -> str:
        return dims_text(self.bound, sep)

    def to_json(self) -> dict:
        if self.is_global:
            return {"size": "global"}
        return {"largest": list(self.largest), "smallest": list(self.smallest),
                "recurrence_bound": list(self.bound)}
