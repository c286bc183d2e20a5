"""Design A next to design B: every headline number with the change and the ratio, and the
layers (or a network's stages) aligned row by row. Plain data in (predicted walks, stage
rows); rows of text out, for a table.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.field import ReceptiveField
from cnnviz.core.names import layer_names
from cnnviz.core.walk import Layer, Prediction
from cnnviz.render.explorer_charts import chw_text, nbytes, number

if TYPE_CHECKING:
    from cnnviz.core.network.report import StageRow


def _change(a: float, b: float, unit: Callable[[Any], str] = number) -> tuple[str, str]:
    """(B − A, B / A) as text: a sign on the change, '×r' for the ratio ('–' without A)."""
    diff = b - a
    change = "0" if diff == 0 else ("+" if diff > 0 else "−") + unit(abs(diff))
    ratio = f"×{b / a:.3g}" if a else "–"
    return change, ratio


def _field(rf: ReceptiveField) -> float | None:
    return None if rf.is_global else float(rf.size[0])


def _field_text(rf: ReceptiveField) -> str:
    return "global" if rf.is_global else rf.text()


def headline_rows(a: Prediction, b: Prediction) -> list[dict[str, str]]:
    """The Explorer's headline numbers of A and B, the change from A to B and the ratio."""
    rows: list[dict[str, str]] = [{"": "output C × H × W", "A": chw_text(a.output_shape),
                                   "B": chw_text(b.output_shape), "B − A": "", "B / A": ""}]
    fa, fb = _field(a.receptive_field), _field(b.receptive_field)
    change, ratio = _change(fa, fb, lambda n: f"{n:g}") if fa and fb else ("", "")
    rows.append({"": "receptive field", "A": _field_text(a.receptive_field),
                 "B": _field_text(b.receptive_field), "B − A": change, "B / A": ratio})
    for what, va, vb, unit in (("parameters", a.params, b.params, number),
                               ("MACs", a.macs, b.macs, number),
                               ("FLOPs", a.flops, b.flops, number),
                               ("activation memory", a.memory, b.memory, nbytes)):
        change, ratio = _change(va, vb, unit)
        rows.append({"": what, "A": unit(va), "B": unit(vb), "B − A": change,
                     "B / A": ratio})
    return rows


def layer_rows(a: Sequence[Layer], b: Sequence[Layer]) -> list[dict[str, Any]]:
    """A's and B's layers side by side, in order (a blank where one has no more)."""
    rows = []
    names_a, names_b = (layer_names([(x.name, x.kind) for x in layers]) for layers in (a, b))
    for i, (x, y) in enumerate(zip_longest(a, b), 1):
        rows.append({"#": i,
                     "A layer": names_a[i - 1] if x else "",
                     "A output": dims_text(x.out_shape, "×") if x else "",
                     "A params": x.params if x else None,
                     "B layer": names_b[i - 1] if y else "",
                     "B output": dims_text(y.out_shape, "×") if y else "",
                     "B params": y.params if y else None})
    return rows


def stage_rows(a: Sequence[StageRow], b: Sequence[StageRow]) -> list[dict[str, Any]]:
    """Two networks' stages side by side, in order."""
    rows = []
    for x, y in zip_longest(a, b):
        rows.append({"A stage": x.name if x else "",
                     "A output": dims_text(x.output_shape, "×") if x else "",
                     "A params": number(x.params) if x else "",
                     "A MACs": number(x.macs) if x else "",
                     "B stage": y.name if y else "",
                     "B output": dims_text(y.output_shape, "×") if y else "",
                     "B params": number(y.params) if y else "",
                     "B MACs": number(y.macs) if y else ""})
    return rows
