"""Answers to lesson questions through the pages' own caches (see cnnviz.lessons.answers)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cnnviz.core.spec import StackSpec
from cnnviz.core.walk import Prediction
from cnnviz.lessons import Lab
from cnnviz.topics import costs, gradflow, learned, receptive_field
from cnnviz.topics.training import Classifier, TrainRun
from cnnviz.ui.frame import cache


class CachedLab(Lab):
    """Answers through the pages' own bounded caches: a question reuses what its page
    has already computed, and a miss waits for a heavy slot like any page."""

    def __init__(self, device: str):
        self.device = device

    def gradient_probe(self, spec: StackSpec, loss: str) -> gradflow.Comparison:
        return cache.gradient_probe(spec, loss, self.device)

    def cost(self, topic: str, values: Mapping[str, int]) -> costs.Comparison:
        return cache.cost_comparison(topic, **values)

    def effective_rf(self, spec: StackSpec, data: bytes) -> receptive_field.EffectiveRF:
        return cache.effective_rf(spec, data, self.device)

    def blind_spot(self, depth: int, kernel: int) -> receptive_field.BlindSpot:
        return cache.blind_spot(depth, kernel)

    def shortcut_support(self, kind: str) -> np.ndarray:
        return cache.shortcut_support(kind)

    def network(self, spec: Any) -> Prediction:
        return cache.network_predicted(spec, self.device).predicted

    def trained(self, name: str) -> tuple[TrainRun, Classifier]:
        return cache.shipped_run(name, self.device)

    def trained_test(self, name: str) -> learned.TestResults:
        run, model = cache.shipped_run(name, self.device)
        key = name if self.device == "cpu" else f"{name}@{self.device}"
        return cache.trained_test_results(key, model, learned.run_data(run))
