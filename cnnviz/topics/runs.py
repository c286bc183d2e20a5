"""Saved training runs: a run's weights and the record of how it was trained, in a folder.

The shipped stacks (assets/trained/) are such folders; `cnnviz train --save` writes one.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from cnnviz.core.datasets import load_dataset
from cnnviz.core.errors import InputError
from cnnviz.topics.training import Epoch, TrainConfig, TrainRun

WEIGHTS, RECORD = "weights.pt", "record.json"


def save_run(run: TrainRun, folder: str | Path, **about: Any) -> Path:
    """Write the run's weights and a record of how it was trained (with `about`: a name,
    the command that made it) into `folder`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(run.state, folder / WEIGHTS)
    summary = {k: v for k, v in run.to_json().items() if k not in ("curves", "grad_norms")}
    record = {**about, **summary, "torch": torch.__version__,
              "threads": torch.get_num_threads(),
              "test_correct": round(run.test_accuracy * len(_test_labels(run.config))),
              "test_count": len(_test_labels(run.config)),
              "history": [asdict(e) for e in run.epochs]}
    (folder / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    return folder


def read_record(folder: str | Path) -> dict[str, Any]:
    """A saved run's record; InputError with a sentence when the folder holds none."""
    path = Path(folder) / RECORD
    try:
        record = json.loads(path.read_text())
        TrainConfig.from_json(record["config"])
    except FileNotFoundError:
        raise InputError(f"{folder} holds no trained stack (no {RECORD}).") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path} is not a record cnnviz can read ({e}).") from None
    return record


def load_run(folder: str | Path) -> TrainRun:
    """A saved run: its configuration, history and weights (loaded as tensors only)."""
    record = read_record(folder)
    config = TrainConfig.from_json(record["config"])
    try:
        state = torch.load(Path(folder) / WEIGHTS, map_location="cpu", weights_only=True)
        run = TrainRun(config, list(record["layers"]), [Epoch(**e) for e in record["history"]],
                       state, float(record["train_accuracy"]))
        run.model()  # the weights must fit the network the record describes
    except (OSError, RuntimeError, ValueError, KeyError, TypeError,
            pickle.UnpicklingError) as e:
        raise InputError(f"The weights in {folder} do not load into the stack its record "
                         f"describes ({' '.join(str(e).split())[:200]}).") from None
    return run


def _test_labels(config: TrainConfig) -> torch.Tensor:
    return load_dataset(config.data, config.size).y_test
