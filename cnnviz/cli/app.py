"""`cnnviz app [--model FILE.py:NAME]`: the app on this machine, the Networks page opened on
a person's own model. The model is loaded, traced and predicted here first, so a bad file,
name or input is one line and exit 2 before any server starts; the server then reads the
same model from its environment (cnnviz.deploy.own_model). Only this machine's own
`streamlit run` gets it: the hall refuses --model."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from cnnviz.deploy.own_model import MODEL_ARGS_ENV, MODEL_ENV, MODEL_INPUT_ENV, without_model

REPO = Path(__file__).resolve().parents[2]


def cmd_app(args: argparse.Namespace) -> int:
    env = without_model(os.environ)
    page = ""
    if args.model:
        from cnnviz.cli.model import parse_args_json
        from cnnviz.core.fields import CHANNELS, parse_input
        from cnnviz.core.graph.load import inspect, load
        kwargs = parse_args_json(args.args)
        shape = parse_input(args.input, CHANNELS, what="--input") if args.input \
            else (3, 224, 224)
        path, _, name = args.model.rpartition(":")
        ref = f"{Path(path).resolve()}:{name}" if path else args.model
        inspect(load(ref), shape, args=kwargs, measure=False)  # refusals here, in one line
        env |= {MODEL_ENV: ref, MODEL_ARGS_ENV: json.dumps(kwargs),
                MODEL_INPUT_ENV: ",".join(map(str, shape))}
        page = "network"
    elif args.args or args.input:
        raise ValueError("--args and --input describe a model: give it with --model "
                         "FILE.py:NAME.")
    port = str(args.port)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--port takes a port number from 1 to 65535, not {port!r:.20}.")
    print(f"Opening http://localhost:{port}/{page} (Ctrl-C stops the app).", flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port",
           port, "--server.address", "127.0.0.1"]
    try:
        return subprocess.call(cmd, cwd=REPO, env=env)
    except KeyboardInterrupt:
        return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="the app on this machine, optionally on your own model "
                                   "(the Networks page)")
    p.add_argument("--model", help="FILE.py:NAME, NAME a class or a function returning a "
                                   "module: its code runs on this machine")
    p.add_argument("--args", help="keyword arguments for NAME, as a JSON object")
    p.add_argument("--input", help="input C,H,W (default 3,224,224)")
    p.add_argument("--port", default="8501", help="the port on 127.0.0.1 (8501)")
    p.set_defaults(run=cmd_app)
