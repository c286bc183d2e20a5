"""cnnviz: see convolutional blocks, predicted by formula and confirmed by torch."""
from __future__ import annotations

from typing import Any


def inspect(model: Any, input: tuple[int, int, int] = (3, 224, 224), **kwargs: Any) -> Any:
    """The report of any PyTorch module: see cnnviz.core.graph.load.inspect (torch is
    imported on the first call, not with cnnviz)."""
    from cnnviz.core.graph.load import inspect as _inspect
    return _inspect(model, input, **kwargs)
