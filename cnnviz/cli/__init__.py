"""Command line: `cnnviz {blocks,report,gradflow,networks,network,model,app,bench,hall,
lessons,lesson,trained,train,predict,rooms}`
(also `python -m cnnviz`).

Bad input exits with status 2 and one line on stderr, never a traceback: a file or output
that cannot be written too. Warnings, the libraries' and cnnviz's own notes (a device
fallen back to the CPU), are held back while a command runs and shown after its output,
one line each, only when it did not fail: an error is the one line on stderr. The command
modules (and torch) are imported inside main(), so their import-time warnings are held too.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cnnviz.cli.args import Parser


def cmd_blocks(args: argparse.Namespace) -> int:
    from cnnviz.core.blocks import REGISTRY
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
    from cnnviz.cli.args import spec_from_args
    from cnnviz.cli.formatting import format_report
    from cnnviz.core.report import make_report
    report = make_report(spec_from_args(args), args.device)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(format_report(report))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cnnviz.cli.formatting import format_bench
    from cnnviz.core.bench import run_bench
    result = run_bench()
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0


def build_parser(prog: str = "cnnviz") -> Parser:
    from cnnviz.cli import app, gradflow, hall, lessons, model, network, rooms, training
    from cnnviz.cli.args import Parser, add_stack_args
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
    model.add_cli(sub)
    app.add_cli(sub)
    hall.add_cli(sub)
    lessons.add_cli(sub)
    training.add_cli(sub)
    rooms.add_cli(sub)
    return parser


def main(argv: list[str] | None = None, prog: str = "cnnviz") -> int:
    """The `cnnviz` command; `python -m cnnviz` passes its own name for the usage lines."""
    with warnings.catch_warnings(record=True) as caught, _held_logs() as logged:
        code = _run(sys.argv[1:] if argv is None else argv, prog)
    if code != 2:  # after the output; an error stays the one line
        from cnnviz.cli.args import Note
        lines = [str(w.message) if issubclass(w.category, Note) else f"warning: {w.message}"
                 for w in caught] + [f"warning: {text}" for text in logged]
        for line in dict.fromkeys(" ".join(line.split()) for line in lines):
            print(line, file=sys.stderr)
    return code


class _OutputFailed(Exception):
    """stdout could not be written (a full disk, a closed terminal): not a file's fault."""


class _Output:
    """sys.stdout while a command runs: a failed write says it was the output's."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self._guard(self.stream.write, text)

    def flush(self) -> None:
        self._guard(self.stream.flush)

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise _OutputFailed(e.strerror or str(e) or type(e).__name__) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _run(argv: list[str], prog: str) -> int:
    stream, sys.stdout = sys.stdout, _Output(sys.stdout)
    try:
        return _command(argv, prog)
    except _OutputFailed as exc:  # what is left of the output goes nowhere
        sys.stdout = stream
        _drop_output()
        _error(f"cannot write the output: {exc}.")
        return 2
    finally:
        sys.stdout = stream


def _command(argv: list[str], prog: str) -> int:
    try:
        try:
            args = build_parser(prog).parse_args(attach_negative_values(argv))
        except SystemExit as exc:  # --help: argparse printed it
            code = exc.code if isinstance(exc.code, int) else 0
        else:
            code = args.run(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at the exit
        return code
    except BrokenPipeError:  # `cnnviz blocks | head` closed the pipe: stop quietly
        _drop_output()
        return 0
    except (ValueError, KeyError, Warning) as exc:  # UsageError and ConfigError: ValueErrors
        message = str(exc).strip().strip('"') or type(exc).__name__
    except OSError as exc:  # a file that cannot be read or written
        reason = exc.strerror or str(exc) or type(exc).__name__
        message = f"{exc.filename}: {reason}." if exc.filename else f"{reason}."
    _error(message)
    return 2


def _error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def _drop_output() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush cannot fail too."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file behind it (a test's capture)
        pass


@contextmanager
def _held_logs() -> Iterator[list[str]]:
    """The warnings libraries log with no handler set up (logging's last resort, which
    writes to stderr), held in a list; handlers a command sets up work as before."""
    held: list[str] = []

    class Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            held.append(record.getMessage())

    last, logging.lastResort = logging.lastResort, Hold(logging.WARNING)
    try:
        yield held
    finally:
        logging.lastResort = last


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
