"""Any PyTorch module, traced with torch.fx and walked like cnnviz's own blocks."""
from cnnviz.core.graph import walk as _walk  # noqa: F401  (registers fx.GraphModule)
from cnnviz.core.graph.trace import probe_module, trace

__all__ = ["probe_module", "trace"]
