"""Argument parsing shared by every CLI command (no streamlit, no printing)."""
from __future__ import annotations

import argparse
import warnings
from typing import Any, NoReturn

from cnnviz.core.checks import whole_number
from cnnviz.core.spec import StackSpec


class UsageError(ValueError):
    pass


class Note(UserWarning):
    """A remark for the user (a device fallen back to the CPU): main() shows it after the
    output, and not at all when the command fails (its error is then the one line)."""


def note(text: str) -> None:
    warnings.warn(text, Note, stacklevel=2)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        raise UsageError(message)


def parse_assignments(pairs: list[str] | None) -> dict[str, str]:
    """['kernel_size=5', 'norm=none'] -> {'kernel_size': '5', 'norm': 'none'}."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--set takes NAME=VALUE (e.g. norm=none), got {pair!r}.")
        out[name.strip()] = value.strip()
    return out


def parse_input(text: str | None) -> dict[str, Any]:
    """'C,H,W' -> the in_channels, height and width fields of a spec."""
    if text is None:
        return {}
    parts = text.replace("x", ",").split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        c, h, w = (int(p.strip()) if p.strip().isascii() else int("?") for p in parts)
    except ValueError:
        raise UsageError(f"--input takes C,H,W as three whole numbers (e.g. 16,32,32), "
                         f"got {text!r}.") from None
    return {"in_channels": c, "height": h, "width": w}


def parse_whole(flag: str, text: object, low: int, high: int) -> int:
    """A whole number written in the digits 0-9, from `low` to `high`; UsageError otherwise
    (the value echoed cut short)."""
    try:
        return whole_number(flag, text, low, high)
    except ValueError as e:
        raise UsageError(str(e)) from None


def spec_from_args(args: argparse.Namespace) -> StackSpec:
    params: dict[str, Any] = parse_assignments(args.set)
    shape = parse_input(args.input)
    if "in_channels" in shape:
        params["in_channels"] = shape.pop("in_channels")
    return StackSpec.create(args.block, params, depth=args.depth, batch=args.batch,
                            seed=args.seed, **shape)


def add_stack_args(p: argparse.ArgumentParser, depth: int = 1, batch: int = 1) -> None:
    """The arguments every command on one stack takes."""
    p.add_argument("block", help="registry name, see `blocks`")
    p.add_argument("--depth", default=depth, help=f"blocks in the stack (1-200, default {depth})")
    p.add_argument("--input", help="input C,H,W (default: the block's channels, 32x32)")
    p.add_argument("--batch", default=batch, help=f"batch size (default {batch})")
    p.add_argument("--seed", default=0, help="weight seed")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="a block parameter, repeatable")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (falls back to cpu)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
