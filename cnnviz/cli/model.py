"""`cnnviz model FILE.py:NAME`: a person's own PyTorch model, traced, predicted, confirmed.

NAME is a class or a function returning a module, called with --args (a JSON object). It is
built on the meta device first and checked against the budget before its weights exist.
The file's code runs on this machine: it is the person's own, given on their command line.
"""
from __future__ import annotations

import argparse
import json

from cnnviz.cli.args import UsageError
from cnnviz.core.arithmetic import dims_text
from cnnviz.core.fields import CHANNELS, parse_input
from cnnviz.core.graph.report import Inspection


def cmd_model(args: argparse.Namespace) -> int:
    from cnnviz.core.graph.load import inspect, load
    kwargs = parse_args_json(args.args)
    shape = parse_input(args.input, CHANNELS, what="--input") if args.input else (3, 224, 224)
    factory = load(args.model)
    report = inspect(factory, shape, args=kwargs, measure=not args.no_measure)
    print(json.dumps(report.to_json(), indent=2, default=str) if args.json
          else format_inspection(report))
    return 0


def parse_args_json(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--args takes a JSON object (e.g. '{{\"width\": 32}}'): {e.msg} at "
                         f"character {e.pos}.") from None
    if not isinstance(value, dict):
        raise UsageError(f"--args takes a JSON object of keyword arguments, not a "
                         f"{type(value).__name__}.")
    return value


def format_inspection(r: Inspection) -> str:
    t = r.totals()
    lines = [f"{r.name}  input {dims_text(t['input_shape'], 'x')} -> output "
             f"{dims_text(t['output_shape'], 'x')}"]
    head = (f"{'layer':32} {'kind':20} {'output':>14} {'RF':>9} {'params':>11} {'MACs':>14} "
            f"{'memory':>11}  torch")
    lines += [head, "-" * len(head)]
    for row in r.rows:
        torch_says = {None: "", True: "ok", False: "MISMATCH"}[row.agrees]
        if not row.predicted:
            torch_says = "no formula: torch's numbers"
        lines.append(f"{row.name[:32]:32} {row.kind[:20]:20} "
                     f"{dims_text(row.output_shape, 'x'):>14} {row.field or '-':>9} "
                     f"{row.params:>11,} {row.macs:>14,} {row.memory:>11,}  {torch_says}")
    field = r.field.text("x") if r.field else "not predicted (a row has no formula)"
    lines += ["-" * len(head),
              f"params {t['params']:,}   MACs {t['macs']:,}   FLOPs {t['flops']:,} (= 2 x MACs)",
              f"activation memory {t['activation_memory'] / 2**20:.2f} MiB (float32)",
              f"receptive field {field}"]
    lines += r.notes
    if r.measured is not None:
        lines.append("measured by torch:")
        for name, (_, meas, ok) in r.checks().items():
            lines.append(f"  {'ok ' if ok else 'MISMATCH'} {name} {meas}")
    return "\n".join(lines)


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="any PyTorch model of your own, traced with torch.fx: "
                                     "every layer predicted and confirmed by torch")
    p.add_argument("model", help="FILE.py:NAME, NAME a class or a function returning a module")
    p.add_argument("--args", help="keyword arguments for NAME, as a JSON object")
    p.add_argument("--input", help="input C,H,W (default 3,224,224)")
    p.add_argument("--no-measure", action="store_true",
                   help="the predicted report only (no forward or backward)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_model)
