"""Command line: `python -m cnnviz {blocks,report,gradflow,bench}`.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from .blocks import REGISTRY
from .cli import Parser, add_stack_args, spec_from_args


def cmd_blocks(args: argparse.Namespace) -> int:
    entries = [REGISTRY[name] for name in sorted(REGISTRY, key=lambda n: (REGISTRY[n].family, n))]
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    for e in entries:
        print(f"{e.name:18} {e.family:12} {e.paper}")
        print(f"{'':18} {e.summary}")
        print(f"{'':18} params: " + ", ".join(f"{p.name}={p.default}" for p in e.params))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import make_report
    report = make_report(spec_from_args(args), args.device)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(format_report(report))
    return 0


def format_report(report) -> str:
    """A readable table: one row per layer, then totals and torch's confirmation."""
    p = report.predicted
    lines = [report.spec.label() + f"  [{report.device}]"]
    if report.device_note:
        lines.append(report.device_note)
    head = f"{'layer':34} {'type':18} {'output':>16} {'params':>10} {'MACs':>14} {'RF':>9}"
    lines += [head, "-" * len(head)]
    for x in p.layers:
        rf = "global" if x.rf == ("global",) else f"{x.rf[0]}x{x.rf[1]}"
        shape = "x".join(map(str, x.out_shape))
        lines.append(f"{x.name[:34]:34} {x.kind[:18]:18} {shape:>16} {x.params:>10,} "
                     f"{x.macs:>14,} {rf:>9}")
    rf = p.rf_size if p.rf_size == "global" else f"{p.rf_size[0]}x{p.rf_size[1]}"
    lines += ["-" * len(head),
              f"input {p.input_shape} -> output {p.output_shape}",
              f"params {p.params:,}   MACs {p.macs:,}   FLOPs {p.flops:,} (= 2 x MACs)",
              "elementwise ops (not in FLOPs): "
              + ", ".join(f"{k} {v:,}" for k, v in p.elementwise.items()),
              f"activation memory {p.memory / 2**20:.2f} MiB (float32)",
              f"receptive field {rf}, jump {p.rf_jump[0]}x{p.rf_jump[1]}; centre pixel "
              f"{p.support.pixel} sees rows {p.support.rows[0]}-{p.support.rows[1]}, "
              f"cols {p.support.cols[0]}-{p.support.cols[1]}"]
    lines += report.rf_notes()
    lines.append("measured by torch:")
    for name, (pred, meas, ok) in report.checks().items():
        shown = "" if name == "per-layer shapes" else f" {meas}"
        lines.append(f"  {'ok ' if ok else 'MISMATCH'} {name}{shown}")
    return "\n".join(lines)


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench, format_bench
    result = run_bench()
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0


def build_parser() -> Parser:
    parser = Parser(prog="python -m cnnviz", description="Convolutional blocks: shapes, "
                    "receptive fields, cost and gradient flow, checked against torch.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("blocks", help="list every block and its parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_blocks)
    p = sub.add_parser("report", help="predicted and measured numbers of a stack")
    add_stack_args(p)
    p.set_defaults(run=cmd_report)
    p = sub.add_parser("bench", help="performance figures of the analysis")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_bench)
    try:
        from . import gradflow
    except ImportError:  # the gradient-flow module is optional for the core
        gradflow = None
    if gradflow is not None and hasattr(gradflow, "add_cli"):
        gradflow.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (ValueError, KeyError) as exc:  # UsageError and ConfigError are ValueErrors
        message = str(exc).strip().strip('"') or type(exc).__name__
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
