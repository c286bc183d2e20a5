"""Command line: `cnnviz {blocks,report,gradflow,networks,network,bench,hall,lessons,lesson,
trained,train,predict,rooms}`
(also `python -m cnnviz`).

Bad input exits with status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from cnnviz.cli import gradflow, hall, lessons, network, rooms, training
from cnnviz.cli.args import Parser, add_stack_args, spec_from_args
from cnnviz.cli.formatting import format_bench, format_report
from cnnviz.core.blocks import REGISTRY


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
    from cnnviz.core.report import make_report
    report = make_report(spec_from_args(args), args.device)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(format_report(report))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cnnviz.core.bench import run_bench
    result = run_bench()
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0


def build_parser(prog: str = "cnnviz") -> Parser:
    parser = Parser(prog=prog, description="Convolutional blocks: shapes, "
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
    gradflow.add_cli(sub)
    network.add_cli(sub)
    hall.add_cli(sub)
    lessons.add_cli(sub)
    training.add_cli(sub)
    rooms.add_cli(sub)
    return parser


def main(argv: list[str] | None = None, prog: str = "cnnviz") -> int:
    """The `cnnviz` command; `python -m cnnviz` passes its own name for the usage lines."""
    try:
        args = build_parser(prog).parse_args(attach_negative_values(sys.argv[1:] if argv is None
                                                                else argv))
        return args.run(args)
    except (ValueError, KeyError) as exc:  # UsageError and ConfigError are ValueErrors
        message = str(exc).strip().strip('"') or type(exc).__name__
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cnnviz blocks | head` closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def attach_negative_values(argv: list[str]) -> list[str]:
    """['--input', '-3,32,32'] -> ['--input=-3,32,32'].

    argparse reads a value that starts with '-' and is not a plain number as an option,
    and fails with "expected one argument"; attached, the value reaches our checks,
    which say what is wrong with it.
    """
    out: list[str] = []
    for token in argv:
        last = out[-1] if out else ""
        if (last.startswith("--") and "=" not in last and token[:1] == "-"
                and token[1:2].isdigit()):
            out[-1] = f"{last}={token}"
        else:
            out.append(token)
    return out
