"""The server a room or challenge bench measures, started the same way for both.

One `streamlit run app.py` process, or a hall of `--hall N` processes behind nginx, on a
fresh SQLite file or (`--postgres`) a fresh PostgreSQL server of the bench's own; the
database URL is set in the environment too, so the bench's own store reads the same one.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack

import _harness  # noqa: F401  (the repository root on the import path)

from tests.support_server import start_server, stop_server


def add_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--hall", type=int, default=0, help="app processes behind nginx (0: one "
                                                       "plain process)")
    ap.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL, else SQLite")


def setup_text(args: argparse.Namespace) -> str:
    return f"{args.hall or 1} process(es), {'PostgreSQL' if args.postgres else 'SQLite'}"


def serve(stack: ExitStack, args: argparse.Namespace, name: str) -> tuple[str, str]:
    """Start the server `args` ask for, stopped when `stack` closes: (its URL, the
    database URL). `name` names the SQLite file's folder and file."""
    from cnnviz.deploy.hall import start_hall

    if args.postgres:
        from tests.support_pg import postgres_server
        database = stack.enter_context(postgres_server())
    else:
        folder = tempfile.mkdtemp(prefix=f"cnnviz-{name}-bench-")
        database = f"sqlite:///{folder}/{name}.db"
    os.environ["CNNVIZ_DATABASE_URL"] = database
    if args.hall:
        hall = start_hall(args.hall, 0, database=database)
        stack.callback(hall.stop)
        return hall.url, database
    proc, url, _ = start_server(env={"CNNVIZ_DATABASE_URL": database})
    stack.callback(stop_server, proc)
    return url, database
