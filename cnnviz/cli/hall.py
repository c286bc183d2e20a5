"""`cnnviz hall`: several app processes behind nginx, for a lecture hall."""
from __future__ import annotations

import argparse
import logging
import signal
import sys

from cnnviz.deploy.address import checked_public_url
from cnnviz.deploy.hall import start_hall
from cnnviz.store import database_url


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "hall", help="serve a lecture hall: N app processes behind nginx",
        description="Start N `streamlit run app.py` processes on loopback and nginx in front "
                    "of them (sticky sessions, WebSocket, XSRF cookies, security headers). "
                    "Stops everything on Ctrl-C.")
    p.add_argument("--processes", default="2", help="app processes, about one per core (2)")
    p.add_argument("--port", default="8501", help="the port students open (8501)")
    p.add_argument("--address", default="127.0.0.1",
                   help="where to listen: 127.0.0.1 (this machine) or 0.0.0.0 (the network)")
    p.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a name students may type for this machine (repeatable); any IP "
                        "address and localhost always work, every other name is refused")
    p.add_argument("--database", metavar="URL",
                   help="the room database of every process: sqlite:///PATH (one machine) or "
                        "postgresql://... (several machines); default CNNVIZ_DATABASE_URL or "
                        "SQLite in the data directory")
    p.add_argument("--model", help=argparse.SUPPRESS)  # refused: see run_cli
    p.add_argument("--public-url", metavar="URL",
                   help="the address students open, e.g. https://cnnviz.school.example behind "
                        "a proxy: the room's link and QR code carry it (CNNVIZ_PUBLIC_URL)")
    p.set_defaults(run=run_cli)
    return p


def run_cli(args: argparse.Namespace) -> int:
    if args.model is not None:
        raise ValueError("A served classroom never runs code it did not start with: the hall "
                         "takes no --model. Open your own model on your machine with "
                         "`cnnviz app --model FILE.py:NAME`.")
    processes, port = _whole("--processes", args.processes), _whole("--port", args.port)
    database = database_url(args.database) if args.database else None
    public = checked_public_url(args.public_url) if args.public_url is not None else None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")  # the hall's restarts, on stderr
    try:
        hall = start_hall(processes, port, args.address, database=database,
                          hosts=tuple(args.host), public_url=public)
    except RuntimeError as e:  # a process failed to start: its log says why
        raise ValueError(str(e).splitlines()[0]) from None
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # SIGTERM stops the hall like Ctrl-C from here on: one sent the moment the line below
    # appears must not find Python's default (die at once, leaving the processes behind)
    signal.signal(signal.SIGTERM, interrupt)
    with hall:
        try:
            print(f"Serving {processes} app processes at {hall.url} (Ctrl-C stops them; a "
                  f"process that dies is started again).", flush=True)
            reason = hall.wait()
        except KeyboardInterrupt:
            return 0
    print(f"Stopped: {reason}.", file=sys.stderr)
    return 1


def _whole(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{flag} takes a whole number, not {text!r}.") from None
