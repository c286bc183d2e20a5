"""`cnnviz trained`, `cnnviz train BLOCK` and `cnnviz predict NAME IMAGE...`."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from cnnviz.cli.args import UsageError, note, parse_assignments, parse_whole
from cnnviz.core.blocks import get_block
from cnnviz.core.datasets import DATASETS, SIZES, class_names
from cnnviz.core.fields import CHANNELS, DEPTH, SEED, TRAIN_BATCH
from cnnviz.core.spec import StackSpec, resolve_device
from cnnviz.topics.runs import prepare_folder, save_run
from cnnviz.topics.training import (
    EPOCHS,
    IMAGE_SIDE,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    TrainRun,
    check_training,
    train_epochs,
)


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("trained", help="the shipped trained stacks and their accuracy")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_trained)

    p = subparsers.add_parser(
        "train", help="train a stack of blocks on the digits or the patterns",
        description="Train stem conv -> BLOCK x depth -> global average pool -> linear, "
                    "deterministically on the CPU for a seed; prints every epoch.")
    p.add_argument("block", help="registry name, see `blocks`")
    p.add_argument("--depth", default="4", help=f"blocks in the stack ({DEPTH.span}, default 4)")
    p.add_argument("--width", default=str(CHANNELS.default),
                   help=f"channels of the stack ({CHANNELS.span}, default {CHANNELS.default})")
    p.add_argument("--no-skip", action="store_true", help="the plain stack (skip=false)")
    p.add_argument("--data", default="digits", choices=DATASETS)
    p.add_argument("--size", default=str(IMAGE_SIDE.default),
                   help=f"image side: {', '.join(map(str, SIZES))}")
    p.add_argument("--epochs", default=str(EPOCHS.default),
                   help=f"{EPOCHS.span} (default {EPOCHS.default})")
    p.add_argument("--batch", default=str(TRAIN_BATCH.default),
                   help=f"{TRAIN_BATCH.help} ({TRAIN_BATCH.span}, default {TRAIN_BATCH.default})")
    p.add_argument("--optimizer", default="adamw", choices=OPTIMIZERS)
    p.add_argument("--lr", default="0.005", help="learning rate (default 0.005)")
    p.add_argument("--schedule", default="cosine", choices=SCHEDULES)
    p.add_argument("--seed", default=str(SEED.default),
                   help=f"seed of the weights and the batch order ({SEED.span})")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="another block parameter, repeatable")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (falls back to cpu)")
    p.add_argument("--save", metavar="DIR", help="write the weights and a record here")
    p.add_argument("--json", action="store_true", help="only the final figures, as JSON")
    p.set_defaults(run=cmd_train)

    p = subparsers.add_parser(
        "predict", help="classify images of handwritten digits",
        description="Each image (PNG, JPEG or WebP; dark ink on light paper or light on "
                    "dark, any size) is cropped to its ink, scaled to 32 pixels high, and "
                    "its 4x4 blocks counted into 8x8, as the digits data set was made.")
    p.add_argument("stack", help="a shipped stack (see `trained`) or a folder from --save")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_predict)


def cmd_trained(args: argparse.Namespace) -> int:
    from cnnviz.topics.learned import shipped
    rows = [{"name": name, "title": r.get("title", name), **{k: r["config"][k] for k in
            ("block", "depth", "data", "size", "epochs", "seed")},
             "skip": r["config"]["params"].get("skip", True),
             "params": r.get("params"), "test_accuracy": r["test_accuracy"],
             "train_accuracy": r["train_accuracy"], "seconds": r["seconds"],
             "command": r.get("command")} for name, r in shipped().items()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':12} {'block':13} {'depth':>5} {'skip':>5} {'data':>7} {'size':>4} "
          f"{'epochs':>6} {'test acc':>8} {'train acc':>9}")
    for r in rows:
        print(f"{r['name']:12} {r['block']:13} {r['depth']:>5} {str(r['skip']).lower():>5} "
              f"{r['data']:>7} {r['size']:>4} {r['epochs']:>6} {r['test_accuracy']:>8.2%} "
              f"{r['train_accuracy']:>9.2%}")
    return 0


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    params: dict[str, object] = dict(parse_assignments(args.set))
    width = parse_whole("--width", args.width, CHANNELS)
    params["in_channels"] = width
    if args.no_skip:
        if not get_block(args.block).has_skip:
            raise UsageError(f"{args.block} has no shortcut to switch off; leave out "
                             f"--no-skip.")
        params["skip"] = "false"
    spec = StackSpec.create(args.block, params, depth=parse_whole("--depth", args.depth, DEPTH),
                            seed=parse_whole("--seed", args.seed, SEED))
    if "out_channels" in spec.values and "out_channels" not in params:
        spec = spec.replace(out_channels=width)
    return TrainConfig.create(spec, data=args.data,
                              size=parse_whole("--size", args.size, IMAGE_SIDE),
                              epochs=parse_whole("--epochs", args.epochs, EPOCHS),
                              batch=parse_whole("--batch", args.batch, TRAIN_BATCH),
                              optimizer=args.optimizer, schedule=args.schedule,
                              lr=_number("--lr", args.lr))


def _number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} takes a number, not {text[:40]!r}.") from None
    return value


def cmd_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    check_training(config)  # refused in a blink, before anything is made
    if args.save:  # a place that cannot hold the run is said now, not after the training
        prepare_folder(args.save)
    device, remark = resolve_device(args.device)
    if remark:
        note(remark)
    if not args.json:
        print(f"{config.stack.label()}, {config.data} at {config.size}x{config.size}: "
              f"{config.describe()} [{device}]")
        print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'test loss':>9} "
              f"{'test acc':>8} {'seconds':>7}")
    run: TrainRun | None = None
    for run in train_epochs(config, device):
        e = run.epochs[-1]
        if not args.json:
            print(f"{e.epoch:>5} {e.train_loss:>10.4f} {e.train_accuracy:>9.2%} "
                  f"{e.test_loss:>9.4f} {e.test_accuracy:>8.2%} {e.seconds:>7.1f}", flush=True)
    assert run is not None
    if args.save:
        command = "cnnviz " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
        save_run(run, args.save, name=Path(args.save).name, command=command,
                 params=sum(v.numel() for k, v in run.state.items() if _is_param(k)))
    if args.json:
        print(json.dumps(run.to_json() | {"device": str(device)}, indent=2))
    else:
        print(f"test accuracy {run.test_accuracy:.2%}, training accuracy (final network) "
              f"{run.train_accuracy:.2%}, {run.seconds:.1f} s"
              + (f"; saved in {args.save}" if args.save else ""))
    return 0


def _is_param(key: str) -> bool:
    return not key.endswith(("running_mean", "running_var", "num_batches_tracked"))


def cmd_predict(args: argparse.Namespace) -> int:
    from cnnviz.core.files import FileRefused, read_bounded
    from cnnviz.core.handwriting import counts_from_file
    from cnnviz.core.images import MAX_UPLOAD_BYTES
    from cnnviz.topics.learned import classify, find_run, run_data
    run = find_run(args.stack)
    if run.config.data != "digits":
        raise UsageError(f"{args.stack} was trained on {run.config.data}, not on the "
                         f"digits: it cannot read handwriting.")
    counts = []
    for name in args.images:
        try:
            data = read_bounded(Path(name), MAX_UPLOAD_BYTES, "an image is a PNG or JPEG file")
        except FileRefused as e:
            raise UsageError(f"Cannot read {name}: {e}") from None
        try:
            counts.append(counts_from_file(data))
        except ValueError as e:
            raise UsageError(f"{name}: {e}") from None
    model, data_set = run.model(), run_data(run)
    names = class_names("digits")
    rows = []
    for name, c in zip(args.images, counts):
        probs = classify(model, data_set, c)
        top = int(probs.argmax())
        rows.append({"file": name, "class": names[top], "probability": float(probs[top]),
                     "probabilities": {n: round(float(p), 6) for n, p in zip(names, probs)}})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'file':40} {'class':>5} {'prob':>6}  " + " ".join(f"{n:>5}" for n in names))
    for r in rows:
        print(f"{r['file'][-40:]:40} {r['class']:>5} {r['probability']:>6.1%}  "
              + " ".join(f"{p:>5.2f}" for p in r["probabilities"].values()))
    return 0
