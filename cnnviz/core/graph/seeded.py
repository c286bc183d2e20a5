"""A person's constructor run with its own random generator: the same initial weights on
every call, without seeding torch's global generator (which other threads share).

torch's module constructors draw their initial weights from the global generator (they
take no generator argument), so a TorchFunctionMode hands a torch.Generator of our own to
every draw that accepts one (nn.init's functions, Tensor.uniform_ and friends, torch.rand
...). A draw that takes none would still reach the global generator: that is seen by its
changed state, and only then is the constructor run again with the global generator seeded,
inside fork_rng so that the caller's state is restored.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

# every torch draw that takes a `generator` argument (nn.init's and Tensor's share names)
_DRAWS = frozenset({
    "uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_",
    "log_normal_", "cauchy_", "bernoulli", "rand", "randn", "randint", "randperm", "normal",
    "multinomial", "poisson", "rand_like", "randn_like", "randint_like", "kaiming_normal_",
    "kaiming_uniform_", "orthogonal_", "sparse_", "trunc_normal_", "xavier_normal_",
    "xavier_uniform_"})


class DrawsFrom(TorchFunctionMode):
    """Within it, every torch draw that names no generator uses `generator`."""

    def __init__(self, generator: torch.Generator):
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        kwargs = dict(kwargs or {})
        if getattr(func, "__name__", None) in _DRAWS and kwargs.get("generator") is None \
                and not _generator_in(func, args):
            kwargs["generator"] = self.generator
        return func(*args, **kwargs)


def _generator_in(func: Any, args: tuple) -> bool:
    """Whether a call passes `generator` by position (nn.init's functions take it so)."""
    sig = _signature(func)
    if sig is None or "generator" not in sig.parameters:
        return False
    return list(sig.parameters).index("generator") < len(args)


@functools.lru_cache(maxsize=64)
def _signature(func: Any) -> inspect.Signature | None:
    """A Python function's signature; None for torch's builtins (their generator is
    keyword-only)."""
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def call_seeded(make: Callable[[], Any], seed: int) -> Any:
    """make() with its torch draws from a generator seeded with `seed`; the global
    generator's state is the same after it as before."""
    with torch.random.fork_rng(devices=[]):  # restores the caller's state, whatever ran
        before = torch.random.get_rng_state()
        with DrawsFrom(torch.Generator().manual_seed(seed)):
            result = make()
        if torch.equal(torch.random.get_rng_state(), before):
            return result
        # a draw without a generator argument (or another thread) used the global one
        torch.manual_seed(seed)
        with DrawsFrom(torch.Generator().manual_seed(seed)):
            return make()
