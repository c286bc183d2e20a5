"""Training on real data: the data sets, the loop, the shipped stacks, the budget."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from cnnviz.core import budget
from cnnviz.core.datasets import (
    DIGITS_MAX,
    SIZES,
    TEST_SIZE,
    check_dataset,
    load_dataset,
    make_patterns,
)
from cnnviz.core.spec import StackSpec
from cnnviz.topics import learned
from cnnviz.topics.runs import load_run, save_run
from cnnviz.topics.training import (
    MAX_TRAINED_PARAMS,
    TrainConfig,
    check_training,
    make_classifier,
    train,
    train_epochs,
    training_work,
)

SMALL = StackSpec.create("resnet_basic", depth=1)  # 16 channels


# --- the data ------------------------------------------------------------------------

def test_the_digits_split_is_fixed_and_stratified():
    d = load_dataset("digits", 8)
    assert len(d.y_train) == 1797 - TEST_SIZE == 1347 and len(d.y_test) == TEST_SIZE
    assert d.raw_train.shape == (1347, 8, 8) and d.raw_train.max() == DIGITS_MAX
    counts = np.bincount(d.y_test.numpy(), minlength=10)
    assert counts.min() >= 43 and counts.max() <= 46  # each class a quarter of its images
    again = load_dataset.__wrapped__("digits", 8)  # not the cached object: read again
    assert np.array_equal(again.index_test, d.index_test)
    assert len(set(d.index_test)) == TEST_SIZE and d.index_test.max() < 1797
    # standardised with the training images' own statistics
    assert abs(float(d.x_train.mean())) < 1e-4 and abs(float(d.x_train.std()) - 1) < 1e-2


@pytest.mark.parametrize("size", SIZES)
def test_digits_are_enlarged_bilinearly_with_the_factor_stated(size):
    d = load_dataset("digits", size)
    assert d.x_test.shape == (TEST_SIZE, 1, size, size)
    assert d.factor == size / 8 and (f"×{size // 8}" in d.describe()) == (size > 8)
    # the first test image, made again by hand from its counts
    raw = torch.from_numpy(d.raw_test[0])[None, None] / DIGITS_MAX
    big = torch.nn.functional.interpolate(raw, size=(size, size), mode="bilinear")
    assert torch.allclose(d.x_test[0, 0], (big[0, 0] - d.mean) / d.std, atol=1e-5)


def test_the_patterns_stay_a_second_data_set():
    p = load_dataset("patterns", 16)
    assert p.x_train.shape == (1500, 1, 16, 16) and p.x_test.shape == (500, 1, 16, 16)
    x, y = make_patterns(200, seed=3)
    x2, y2 = make_patterns(200, seed=3)
    assert x.equal(x2) and y.equal(y2) and y.bincount().tolist() == [20] * 10


@pytest.mark.parametrize("name, size, says", [("mnist", 16, "Unknown data set"),
                                              ("digits", 12, "one of 8, 16, 32")])
def test_a_bad_data_set_is_a_sentence(name, size, says):
    with pytest.raises(ValueError, match=says):
        check_dataset(name, size)


# --- the loop --------------------------------------------------------------------------

def test_training_learns_the_digits_and_reports_every_epoch():
    config = TrainConfig.create(SMALL, size=8, epochs=3)
    steps = []
    runs = [run.epochs[-1] for run in train_epochs(config, on_step=lambda i, n: steps.append(
        (i, n)))]
    assert [e.epoch for e in runs] == [1, 2, 3]
    assert steps[-1] == (3 * (1347 // 64), 3 * (1347 // 64)) and len(steps) == steps[-1][0]
    last = runs[-1]
    assert last.test_accuracy > 0.7 and last.test_accuracy > runs[0].test_accuracy
    assert len(last.grad_norms) == 4  # stem, two convs of the block, the head
    assert all(g > 0 and math.isfinite(g) for g in last.grad_norms)
    assert runs[-1].seconds >= runs[0].seconds > 0


def test_training_is_deterministic_on_the_cpu():
    config = TrainConfig.create(SMALL, size=8, epochs=2)
    a, b = train(config), train(config)
    assert a.curves() == b.curves()
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    other = train(TrainConfig.create(SMALL.replace(seed=1), size=8, epochs=2))
    assert other.curves() != a.curves()


def test_a_saved_run_reloads_to_the_same_accuracy(tmp_path):
    run = train(TrainConfig.create(SMALL, size=8, epochs=1))
    save_run(run, tmp_path / "mine", name="mine")
    again = load_run(tmp_path / "mine")
    data = load_dataset("digits", 8)
    assert learned.test_results(again.model(), data).accuracy == run.test_accuracy
    record = json.loads((tmp_path / "mine" / "record.json").read_text())
    assert record["test_correct"] == round(run.test_accuracy * TEST_SIZE)
    assert record["config"]["depth"] == 1 and record["config"]["data"] == "digits"


def test_broken_saved_runs_are_sentences(tmp_path):
    with pytest.raises(ValueError, match="holds no trained stack"):
        load_run(tmp_path)
    (tmp_path / "record.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a record cnnviz can read"):
        load_run(tmp_path)
    run = train(TrainConfig.create(SMALL, size=8, epochs=1))
    save_run(run, tmp_path)
    (tmp_path / "weights.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="do not load"):
        load_run(tmp_path)


# --- the budget --------------------------------------------------------------------------

def test_training_counts_every_step_and_evaluation():
    config = TrainConfig.create(SMALL, size=16, epochs=10)
    work, tests = training_work(config, 1347, 450)
    assert work.repeats == 10 * (1347 // 64) and work.passes == budget.FORWARD_BACKWARD
    assert tests.repeats == 10 * math.ceil(450 / 64) and tests.passes == budget.FORWARD
    per_image = work.macs / 64
    model = make_classifier(config.stack)
    from cnnviz.core.walk import predict
    assert per_image == predict(model, (1, 1, 16, 16)).macs
    doubled, _ = training_work(TrainConfig.create(SMALL, size=16, epochs=20), 1347, 450)
    assert doubled.total_macs == 2 * work.total_macs


def test_too_much_training_is_refused_before_it_starts():
    deep = StackSpec.create("resnet_basic", {"in_channels": 32, "out_channels": 32}, depth=40)
    with pytest.raises(budget.BudgetError, match="Training this stack for 100 epochs would "
                                                 "take"):
        next(train_epochs(TrainConfig.create(deep, size=16, epochs=100)))
    wide = StackSpec.create("resnet_basic", {"in_channels": 512, "out_channels": 512}, depth=1)
    with pytest.raises(ValueError, match=f"{MAX_TRAINED_PARAMS:,} at most"):
        check_training(TrainConfig.create(wide, size=8, epochs=1))


@pytest.mark.parametrize("fields, says", [({"epochs": 0}, "epochs = 0"),
                                          ({"size": 20}, "8, 16, 32"),
                                          ({"optimizer": "lion"}, "optimizer"),
                                          ({"lr": 5.0}, "learning rate")])
def test_bad_training_settings_are_sentences(fields, says):
    with pytest.raises(ValueError, match=says):
        TrainConfig.create(SMALL, **fields)


def test_a_stop_raised_from_the_progress_callback_ends_training_cleanly():
    class Stop(BaseException):
        pass

    def stop_at_five(step, total):
        if step == 5:
            raise Stop

    runs = train_epochs(TrainConfig.create(SMALL, size=8, epochs=3), on_step=stop_at_five)
    with pytest.raises(Stop):
        next(runs)
