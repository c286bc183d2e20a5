"""Layer kinds; importing this package fills the registry (one entry per module type)."""
from . import classifier, global_pool, pointwise, structure, upsampling, window  # noqa: F401
from .pointwise import ACTIVATIONS
from .registry import (
    KINDS,
    Call,
    LayerKind,
    find_kind,
    kind_of,
    node_modules,
    row_name,
    visit,
)

__all__ = ["ACTIVATIONS", "KINDS", "Call", "LayerKind", "find_kind", "kind_of", "node_modules",
           "row_name", "visit"]
