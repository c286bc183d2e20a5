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
