"""A challenge's trained designs as the database keeps them, and back as trained runs.

The worker keeps each trained design's weights (torch's own format, tensors only) and a
record of its training (every epoch's figures, as `cnnviz train --save` writes them), so
Trained Networks can open any leaderboard entry in any process of a hall. Read back, the
bytes are treated as a stranger's, as a saved stack's are (cnnviz.topics.runs): the
network is built on the meta device from the design, and only tensors of its names, shapes
and types are loaded.
"""
from __future__ import annotations

import io
import json
from collections import OrderedDict
from dataclasses import asdict, fields
from typing import Any

import torch
import torch.nn as nn

from cnnviz.core.errors import InputError
from cnnviz.topics.challenge import ChallengeDesign
from cnnviz.topics.runs import checked_weights
from cnnviz.topics.training import Epoch, TrainRun, meta_model, weighted_layers

# the parts after which a network's maps are no longer maps: its head (Trained Networks
# shows the maps before them, and Grad-CAM weighs the last of those)
HEAD = (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear)

MAX_RECORD_BYTES = 1_000_000  # 30 epochs of a few hundred layers' gradient norms fit
_EPOCH = {f.name for f in fields(Epoch)}


def entry_bytes(run: TrainRun) -> tuple[bytes, bytes]:
    """A finished run's weights and record, as the challenge store keeps them."""
    buffer = io.BytesIO()
    torch.save(run.state, buffer)
    record = {"layers": run.layers, "train_accuracy": run.train_accuracy,
              "history": [asdict(e) for e in run.epochs]}
    return buffer.getvalue(), json.dumps(record).encode()


def entry_run(design: ChallengeDesign, size: int, weights: bytes, record: bytes) -> TrainRun:
    """The trained run of a kept design; InputError with a sentence when the bytes are not
    this design's."""
    refused = "The kept weights do not load into this design"
    config = design.config(size)
    model = meta_model(config)
    layers = [name for name, _ in weighted_layers(model)]
    shapes = {k: (tuple(t.shape), t.dtype) for k, t in model.state_dict().items()}
    state = checked_weights(weights, shapes, refused, "the weights")
    history = _record(record, refused)
    if history["layers"] != layers:
        raise InputError(f"{refused}: its layers differ.")
    return TrainRun(config, layers, [Epoch(**e) for e in history["history"]], state,
                    float(history["train_accuracy"]))


def _record(data: bytes, refused: str) -> dict[str, Any]:
    if len(data) > MAX_RECORD_BYTES:
        raise InputError(f"{refused}: its record is too long.")
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{refused}: its record is not JSON.") from None
    ok = (isinstance(record, dict) and isinstance(record.get("layers"), list)
          and isinstance(record.get("train_accuracy"), (int, float))
          and isinstance(record.get("history"), list)
          and all(isinstance(e, dict) and set(e) == _EPOCH for e in record["history"]))
    if not ok:
        raise InputError(f"{refused}: its record is not a training's.")
    return record


class NetworkClassifier(nn.Sequential):
    """A network written as text and trained on the digits, seen as Trained Networks sees its
    own stacks (cnnviz.topics.training.Classifier): its blocks and layers up to its head
    are the `stack` whose every output is a map; the head (`classify`) turns the last map
    into the ten digits' scores. The modules are the trained network's own (shared, not
    copied), so the outputs are the network's."""

    stem: nn.Identity
    stack: nn.Sequential
    head: nn.Sequential

    def __init__(self, network: nn.Module):
        parts = [m for stage in network.children() for m in stage.children()]
        cut = next((i for i, m in enumerate(parts) if isinstance(m, HEAD)), len(parts))
        super().__init__(OrderedDict(stem=nn.Identity(), stack=nn.Sequential(*parts[:cut]),
                                     head=nn.Sequential(*parts[cut:])))
        self.train(network.training)

    def block_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of every block and layer before the head (the input itself when the
        network begins with its head)."""
        outputs = []
        for block in self.stack:
            x = block(x)
            outputs.append(x)
        return outputs or [x]

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)
