"""Saved training runs: a run's weights and the record of how it was trained, in a folder.

The shipped stacks (assets/trained/) are such folders; `cnnviz train --save` writes one.

A folder is read as a stranger's: the record is read with a byte limit and every field
checked (the stack through the same validation as everywhere), its network is built on
the meta device to learn its parameter count and the bytes its weights take, and only a
weights file of about that size, in torch's own uncompressed form, is loaded (tensors
only) and compared with the network tensor by tensor. Every refusal is a ValueError with
a sentence; nothing is built or allocated for a record that is refused.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import IO, Any

import torch

from cnnviz.core.datasets import load_dataset
from cnnviz.core.errors import InputError
from cnnviz.core.files import FileRefused, read_bounded
from cnnviz.topics.training import (
    MAX_TRAINED_PARAMS,
    Epoch,
    TrainConfig,
    TrainRun,
    meta_classifier,
    weighted_layers,
)

WEIGHTS, RECORD = "weights.pt", "record.json"
# 100 epochs of gradient norms for the stack with the most layers (unet ×200: 2,402) is
# about 7 MB as `save_run` writes it; a shipped record is 12 KB
MAX_RECORD_BYTES = 8 * 10**6
# what torch.save adds to the tensors' own bytes: about 300 bytes a tensor (measured on
# the shipped stacks), a zip directory and the pickled names
TENSOR_OVERHEAD, FILE_OVERHEAD = 1024, 64 * 1024


class SaveFailed(InputError):
    """The folder cannot hold a run; the message names it and says why."""


# --- writing -------------------------------------------------------------------------------

def prepare_folder(folder: str | Path) -> Path:
    """Make `folder` (and its parents) and show that it takes a file, before a training
    spends its minutes: SaveFailed with a sentence otherwise."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / ".cnnviz-probe", lambda f: None)
        (folder / ".cnnviz-probe").unlink()
    except OSError as e:
        raise _save_failed(folder, e) from None
    return folder


def save_run(run: TrainRun, folder: str | Path, **about: Any) -> Path:
    """Write the run's weights and a record of how it was trained (with `about`: a name,
    the command that made it) into `folder`; returns the folder. Each file is written
    whole or not at all (a temporary file renamed); SaveFailed when the folder cannot
    hold them."""
    folder = prepare_folder(folder)
    summary = {k: v for k, v in run.to_json().items() if k not in ("curves", "grad_norms")}
    tests = len(_test_labels(run.config))
    record = {**about, **summary, "torch": torch.__version__,
              "threads": torch.get_num_threads(),
              "test_correct": round(run.test_accuracy * tests), "test_count": tests,
              "history": [asdict(e) for e in run.epochs]}
    text = (json.dumps(record, indent=1) + "\n").encode()
    try:
        _write(folder / WEIGHTS, lambda f: torch.save(run.state, f))
        _write(folder / RECORD, lambda f: f.write(text))
    except OSError as e:
        raise _save_failed(folder, e) from None
    return folder


def _write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as f:
            write(f)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _save_failed(folder: Path, e: OSError) -> SaveFailed:
    if isinstance(e, FileExistsError):
        reason = "it is a file, not a folder"
    elif isinstance(e, NotADirectoryError):
        reason = "a part of the path is a file, not a folder"
    else:
        reason = (e.strerror or type(e).__name__).lower()
    return SaveFailed(f"Cannot save in {folder}: {reason}.")


# --- reading the record --------------------------------------------------------------------

_CONFIG = {"block": str, "depth": int, "params": dict, "seed": int, "data": str, "size": int,
           "epochs": int, "batch": int, "optimizer": str, "lr": float,
           "weight_decay": float, "schedule": str}
_REQUIRED = {"config": dict, "layers": list, "history": list, "train_accuracy": float}
_OPTIONAL = {"name": str, "title": str, "command": (str, type(None)), "params": int,
             "epochs": int, "test_accuracy": float, "train_accuracy": float,
             "seconds": float, "torch": str, "threads": int, "test_correct": int,
             "test_count": int}
_EPOCH = {f.name: {"int": int, "float": float}.get(str(f.type), list) for f in fields(Epoch)}
_SCALARS = (str, int, float, bool)


def read_record(folder: str | Path) -> dict[str, Any]:
    """A saved run's record, every field checked; ValueError with a sentence when the
    folder holds none or one cnnviz cannot read."""
    path = Path(folder) / RECORD
    if not os.path.lexists(path):
        raise InputError(f"{folder} holds no trained stack (no {RECORD}).")
    try:
        data = read_bounded(path, MAX_RECORD_BYTES, "a record is the JSON file that "
                                                    "`cnnviz train --save` writes")
    except FileRefused as e:
        raise InputError(f"Cannot read {path}: {e}") from None
    try:
        record = json.loads(data.decode("utf-8"), parse_int=_whole)
        _check_record(record)
        TrainConfig.from_json(record["config"])
    except RecursionError:
        raise InputError(f"{path} is not a record cnnviz can read (nested too deeply)."
                         ) from None
    except (ValueError, KeyError, TypeError) as e:
        reason = " ".join(str(e).split())[:200].rstrip(".")
        raise InputError(f"{path} is not a record cnnviz can read ({reason}).") from None
    return record


def _whole(text: str) -> int:
    if len(text) > 20:  # out of every range here; int() of a long one is slow
        raise InputError(f"a whole number of {len(text):,} digits")
    return int(text)


def _check_record(record: object) -> None:
    """TypeError or ValueError with a sentence unless the record's fields have the types
    and ranges `save_run` writes (the stack itself is TrainConfig.from_json's to check)."""
    if not isinstance(record, dict):
        raise TypeError("it holds no JSON object")
    missing = [key for key in _REQUIRED if key not in record]
    if missing:
        raise InputError(f"it has no {missing[0]!r} field")
    _check_fields(record, _REQUIRED | _OPTIONAL, "")
    config = record["config"]
    _check_fields(config, _CONFIG, "config.")
    unknown = set(config) - set(_CONFIG)
    if unknown:
        raise InputError(f"config has fields cnnviz does not know: {sorted(unknown)[:3]}")
    if not all(isinstance(k, str) and isinstance(v, _SCALARS)
               for k, v in config.get("params", {}).items()):
        raise TypeError("config.params must map names to plain values")
    for key in ("train_accuracy", "test_accuracy"):
        if key in record and not 0 <= record[key] <= 1:
            raise InputError(f"{key} = {record[key]!r} is not between 0 and 1")
    layers, history = record["layers"], record["history"]
    if not all(isinstance(name, str) and len(name) <= 200 for name in layers):
        raise TypeError("layers must be names")
    if len(history) != config.get("epochs", len(history)):
        raise InputError(f"the history holds {len(history)} epochs, the config "
                         f"{config.get('epochs')}")
    for i, epoch in enumerate(history, 1):
        where = f"history[{i - 1}]."
        if not isinstance(epoch, dict) or set(epoch) != set(_EPOCH):
            raise TypeError(f"history[{i - 1}] must have the fields {', '.join(_EPOCH)}")
        _check_fields(epoch, _EPOCH, where)
        norms = epoch["grad_norms"]
        if len(norms) != len(layers) or not all(_is(v, float) for v in norms):
            raise TypeError(f"{where}grad_norms must be a number for each of the layers")
        if epoch["epoch"] != i:
            raise InputError(f"{where}epoch is {epoch['epoch']!r}, not {i}")


def _check_fields(data: dict, kinds: dict[str, Any], where: str) -> None:
    for key, kind in kinds.items():
        if key in data and not _is(data[key], kind):
            raise TypeError(f"{where}{key} has the wrong type ({type(data[key]).__name__})")


def _is(value: object, kind: Any) -> bool:
    """JSON's types as the record means them: a bool is no number, an int is a float."""
    if isinstance(kind, tuple):
        return any(_is(value, k) for k in kind)
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


# --- loading the weights -------------------------------------------------------------------

def load_run(folder: str | Path) -> TrainRun:
    """A saved run: its configuration, history and weights (loaded as tensors only, after
    the record and the weights' size are checked against the network it describes)."""
    folder = Path(folder)
    record = read_record(folder)
    config = TrainConfig.from_json(record["config"])
    try:
        model = meta_classifier(config)
    except (ValueError, RuntimeError, TypeError) as e:
        raise InputError(f"The stack {folder / RECORD} describes cannot be built "
                         f"({' '.join(str(e).split())[:200]}).") from None
    params = sum(p.numel() for p in model.parameters())
    stated = record.get("params", params)
    if max(params, stated) > MAX_TRAINED_PARAMS:
        raise InputError(f"The stack in {folder} has {max(params, stated):,} parameters; a "
                         f"saved stack may have {MAX_TRAINED_PARAMS:,} at most.")
    if stated != params:
        raise InputError(f"{folder / RECORD} says {stated:,} parameters, but the stack it "
                         f"describes has {params:,}.")
    layers = [name for name, _ in weighted_layers(model)]
    if record["layers"] != layers:
        raise InputError(f"The layers {folder / RECORD} names are not those of the stack it "
                         f"describes.")
    shapes = {k: (tuple(t.shape), t.dtype) for k, t in model.state_dict().items()}
    state = _read_weights(folder / WEIGHTS, shapes)
    return TrainRun(config, layers, [Epoch(**e) for e in record["history"]], state,
                    float(record["train_accuracy"]))


def _read_weights(path: Path, shapes: dict[str, tuple[tuple[int, ...], torch.dtype]]
                  ) -> dict[str, torch.Tensor]:
    """The tensors of `path`, which must be the network's (`shapes`: name -> shape, dtype)."""
    need = sum(math.prod(shape) * dtype.itemsize for shape, dtype in shapes.values())
    limit = need + TENSOR_OVERHEAD * len(shapes) + FILE_OVERHEAD
    what = "the weights are the file that `cnnviz train --save` writes"
    try:
        data = read_bounded(path, limit, what)
    except FileRefused as e:
        raise InputError(f"Cannot read {path}: {e}") from None
    refused = f"The weights in {path.parent} do not load into the stack its record describes"
    return checked_weights(data, shapes, refused, path.name)


def checked_weights(data: bytes, shapes: dict[str, tuple[tuple[int, ...], torch.dtype]],
                    refused: str, name: str) -> dict[str, torch.Tensor]:
    """The tensors torch.save wrote into `data`, which must be the network's (`shapes`:
    name -> shape, dtype), loaded as tensors only; InputError starting with `refused` (and
    naming the file `name`) otherwise."""
    need = sum(math.prod(shape) * dtype.itemsize for shape, dtype in shapes.values())
    limit = need + TENSOR_OVERHEAD * len(shapes) + FILE_OVERHEAD
    if len(data) > limit:
        raise InputError(f"{refused}: {name} holds {len(data):,} bytes, more than the "
                         f"stack's tensors take.")
    if len(data) < need:
        raise InputError(f"{refused}: {name} holds {len(data):,} bytes, the stack's "
                         f"tensors take {need:,} (it is cut short).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputError(f"{refused}: {name} is not in torch's format.") from None
    if (len(entries) > len(shapes) + 16 or sum(e.file_size for e in entries) > limit
            or any(e.compress_type != zipfile.ZIP_STORED for e in entries)):
        raise InputError(f"{refused}: {name} holds parts torch.save does not write.")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, EOFError, IndexError,
            AttributeError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        raise InputError(f"{refused} ({' '.join(str(e).split())[:200]}).") from None
    if not isinstance(state, dict) or set(state) != set(shapes):
        raise InputError(f"{refused}: the names of the tensors differ.")
    for name, (shape, dtype) in shapes.items():
        tensor = state[name]
        if (not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape
                or tensor.dtype != dtype):
            raise InputError(f"{refused}: {name} differs.")
    return state


def _test_labels(config: TrainConfig) -> torch.Tensor:
    return load_dataset(config.data, config.size).y_test
