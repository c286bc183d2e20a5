"""`cnnviz gradflow`: plain vs residual gradient flow as a table or JSON."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from cnnviz.cli.args import add_stack_args, note, spec_from_args
from cnnviz.core.spec import resolve_device
from cnnviz.topics.gradflow import LOSSES, Comparison, compare, fmt, story


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `gradflow BLOCK [--depth N] [--set NAME=VALUE]...` to the CLI."""
    p = subparsers.add_parser("gradflow", help="gradient flow: plain vs residual stack",
                              description="One forward + backward of the plain (skip=false) and "
                                          "the residual (skip=true) stack of a block.")
    add_stack_args(p, depth=30, batch=8)
    p.add_argument("--loss", default="ce", choices=LOSSES, help="ce (random target) or mse")
    p.set_defaults(run=run_cli)
    return p


def run_cli(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the comparison; ValueError for bad input (the caller turns it into exit 2)."""
    out = out or sys.stdout
    spec = spec_from_args(args)
    device, remark = resolve_device(args.device)
    if remark:
        note(remark)
    result = compare(spec, args.loss, device)
    if args.json:
        out.write(json.dumps(result.to_json(), indent=2) + "\n")
        return 0
    out.write(format_table(result) + "\n")
    return 0


def format_table(result: Comparison) -> str:
    p, r = result.plain, result.residual
    rows = [f"{result.spec.label()}, loss={result.loss}",
            f"{'layer':<28}{'plain |dL/dW|':>16}{'residual |dL/dW|':>18}"]
    for i in range(max(len(p.layers), len(r.layers))):
        name = (p.layers + r.layers[len(p.layers):])[i]
        a = fmt(p.grad_norms[i]) if i < len(p.grad_norms) else "-"
        b = fmt(r.grad_norms[i]) if i < len(r.grad_norms) else "-"
        rows.append(f"{name:<28}{a:>16}{b:>18}")
    rows.append(f"{'block':<28}{'plain out std':>16}{'residual out std':>18}")
    for i, (std_p, std_r) in enumerate(zip(p.activation_std, r.activation_std)):
        rows.append(f"{i:<28}{fmt(std_p):>16}{fmt(std_r):>18}")
    rows.append(f"{'first/last |dL/dW|':<28}{p.headline():>16}{r.headline():>18}")
    rows += [""] + [s.replace("**", "") for s in story(result)]
    return "\n".join(rows)
