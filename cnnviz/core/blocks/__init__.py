"""Block families; importing this package fills the registry."""
from . import densenet, generative, inception, mobile, modern, plain, resnet  # noqa: F401
from .registry import REGISTRY, BlockEntry, Param, get_block

__all__ = ["REGISTRY", "BlockEntry", "Param", "get_block"]
