"""Argument parsing shared by every CLI command (no streamlit, no printing)."""
from __future__ import annotations

import argparse
import warnings
from typing import Any, NoReturn

from cnnviz.core.fields import BATCH, CHANNELS, DEPTH, HEIGHT, SEED, WIDTH, Field, parse_input
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


def parse_whole(flag: str, text: object, field: Field) -> int:
    """A whole number written in the digits 0-9, within the limits of `field`; UsageError
    otherwise (the value echoed cut short)."""
    try:
        return field.parse(text, flag)
    except ValueError as e:
        raise UsageError(str(e)) from None


def spec_from_args(args: argparse.Namespace) -> StackSpec:
    params: dict[str, Any] = parse_assignments(args.set)
    shape: dict[str, int] = {}
    if args.input is not None:
        c, shape[HEIGHT.name], shape[WIDTH.name] = parse_input(args.input, what="--input")
        params[CHANNELS.name] = c
    return StackSpec.create(args.block, params, depth=args.depth, batch=args.batch,
                            seed=args.seed, **shape)


def add_stack_args(p: argparse.ArgumentParser, depth: int = 1, batch: int = 1) -> None:
    """The arguments every command on one stack takes."""
    p.add_argument("block", help="registry name, see `blocks`")
    p.add_argument("--depth", default=depth,
                   help=f"blocks in the stack ({DEPTH.span}, default {depth})")
    p.add_argument("--input", help=f"input C,H,W (C {CHANNELS.span}, H and W {HEIGHT.span}; "
                                   f"default: the block's channels, "
                                   f"{HEIGHT.default}x{WIDTH.default})")
    p.add_argument("--batch", default=batch, help=f"batch size ({BATCH.span}, default {batch})")
    p.add_argument("--seed", default=SEED.default, help=f"weight seed ({SEED.span})")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="a block parameter, repeatable")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (falls back to cpu)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
