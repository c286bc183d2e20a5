"""The CLI against hostile files and places: a saved stack's record and weights, a --save
folder that cannot be, an output that cannot be written, and warnings before an error.

Every case is `python -m cnnviz ...` in a subprocess: exit status 2, exactly one line on
stderr, no traceback, and done within the subprocess timeout (a read that waits on a pipe
would hang until it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from cnnviz.cli import main
from cnnviz.core.spec import StackSpec
from cnnviz.topics.runs import RECORD, WEIGHTS, save_run
from cnnviz.topics.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds: a case takes 2-4 (torch's import), a hang takes forever


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], cwd=ROOT,
                          capture_output="stdout" not in kw, text=True, timeout=TIMEOUT, **kw)


def one_line_error(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert words in lines[0], lines[0]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A tiny saved stack (resnet_basic x1, 4 channels, 8x8, one epoch), made once."""
    spec = StackSpec.create("resnet_basic", {"in_channels": 4}, depth=1)
    spec = spec.replace(out_channels=4)
    run = train(TrainConfig.create(spec, size=8, epochs=1))
    params = sum(v.numel() for k, v in run.state.items()
                 if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    return save_run(run, tmp_path_factory.mktemp("saved") / "tiny", name="tiny", params=params)


def test_the_saved_stack_loads(saved):
    result = cli("predict", str(saved), "missing.png")  # the stack loads; the image is absent
    one_line_error(result, "Cannot read missing.png")


def _record(change):
    def edit(folder: Path) -> None:
        record = json.loads((folder / RECORD).read_text())
        change(record)
        (folder / RECORD).write_text(json.dumps(record))
    return edit


def _replace(name: str, make):
    def edit(folder: Path) -> None:
        (folder / name).unlink()
        make(folder / name)
    return edit


def _weights(change):
    def edit(folder: Path) -> None:
        (folder / WEIGHTS).write_bytes(change((folder / WEIGHTS).read_bytes()))
    return edit


def _state(change):
    def edit(folder: Path) -> None:
        state = torch.load(folder / WEIGHTS, weights_only=True)
        torch.save(change(state), folder / WEIGHTS)
    return edit


def _deflated(folder: Path) -> None:
    """The same tensors, its parts compressed: torch.save never writes that (a zip bomb's
    way in)."""
    source = zipfile.ZipFile(folder / WEIGHTS)
    parts = [(info, source.read(info)) for info in source.infolist()]
    source.close()
    with zipfile.ZipFile(folder / WEIGHTS, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info.filename, data)


def _config(**changes):
    return _record(lambda r: r["config"].update(changes))


def _params(**changes):
    return _record(lambda r: r["config"]["params"].update(changes))


HOSTILE = {
    # the record
    "record huge": (lambda f: (f / RECORD).write_bytes(b" " * 9_000_000), "over the 8 MB"),
    "record /dev/zero": (_replace(RECORD, lambda p: p.symlink_to("/dev/zero")),
                         "not a regular file (a device)"),
    "record a pipe": (_replace(RECORD, os.mkfifo), "not a regular file (a pipe)"),
    "record absent": (lambda f: (f / RECORD).unlink(), "holds no trained stack"),
    "record not JSON": (lambda f: (f / RECORD).write_text("{not json"),
                        "not a record cnnviz can read"),
    "record not UTF-8": (lambda f: (f / RECORD).write_bytes(b'{"\xff": 1}'),
                         "not a record cnnviz can read"),
    "record a list": (lambda f: (f / RECORD).write_text("[1, 2]"), "holds no JSON object"),
    "record nested": (lambda f: (f / RECORD).write_text("[" * 10**6 + "]" * 10**6),
                      "nested too deeply"),
    "record long number": (lambda f: (f / RECORD).write_text('{"a": ' + "9" * 10**5 + "}"),
                           "100,000 digits"),
    "record no config": (_record(lambda r: r.pop("config")), "no 'config' field"),
    "depth as text": (_config(depth="four"), "config.depth has the wrong type (str)"),
    "depth a bool": (_config(depth=True), "config.depth has the wrong type (bool)"),
    "depth 10**9": (_config(depth=10**9), "depth = 1000000000 is out of range"),
    "block a list": (_config(block=["resnet_basic"]), "config.block has the wrong type"),
    "unknown block": (_config(block="nope"), "not a record cnnviz can read"),
    "params a list": (_config(params=[1]), "config.params has the wrong type"),
    "param a dict": (_params(kernel_size={"a": 1}), "plain values"),
    "learning rate NaN": (_config(lr=float("nan")), "learning rate"),
    "unknown config field": (_config(shell="rm"), "fields cnnviz does not know"),
    "history a dict": (_record(lambda r: r.update(history={})), "history has the wrong type"),
    "history short": (_record(lambda r: r.update(history=[])), "history holds 0 epochs"),
    "accuracy text": (_record(lambda r: r.update(train_accuracy="high")),
                      "train_accuracy has the wrong type"),
    "accuracy 2": (_record(lambda r: r.update(train_accuracy=2)), "not between 0 and 1"),
    "layers renamed": (_record(lambda r: r.update(layers=["x"] * len(r["layers"]))),
                       "are not those of the stack"),
    "over the parameter limit": (_params(in_channels=512, out_channels=512),
                                 "a saved stack may have 1,000,000 at most"),
    "record says a million more": (_record(lambda r: r.update(params=10**7)),
                                   "a saved stack may have 1,000,000 at most"),
    "record's count wrong": (_record(lambda r: r.update(params=r["params"] + 1)),
                             "parameters, but the stack it describes has"),
    # the weights
    "weights absent": (lambda f: (f / WEIGHTS).unlink(), "no such file"),
    "weights a pipe": (_replace(WEIGHTS, os.mkfifo), "not a regular file (a pipe)"),
    "weights /dev/zero": (_replace(WEIGHTS, lambda p: p.symlink_to("/dev/zero")),
                          "not a regular file (a device)"),
    "weights a folder": (_replace(WEIGHTS, os.mkdir), "not a regular file (a folder)"),
    "weights cut short": (_weights(lambda b: b[:100]), "(it is cut short)"),
    "weights cut in half": (_weights(lambda b: b[: len(b) // 2]), "do not load"),
    "weights much bigger": (_weights(lambda b: b + bytes(10**7)), "is 10,0"),
    "weights noise": (_weights(lambda b: os.urandom(len(b))), "not in torch's format"),
    "weights compressed": (_deflated, "parts torch.save does not write"),
    "weights with code": (_state(lambda s: s | {"x": os.system}), "do not load"),
    "weights renamed": (_state(lambda s: {k + "_": v for k, v in s.items()}),
                        "the names of the tensors differ"),
    "weights reshaped": (_state(lambda s: s | {"head.bias": s["head.bias"][:5]}),
                         "head.bias differs"),
    "weights in float64": (_state(lambda s: s | {"head.bias": s["head.bias"].double()}),
                           "head.bias differs"),
}


# the cases, each run as the command it is (the rest run in this process too)
IN_A_SUBPROCESS = ("record huge", "record /dev/zero", "record a pipe", "record not JSON",
                   "record nested", "depth as text", "depth 10**9", "over the parameter limit",
                   "weights cut short", "weights much bigger", "weights a pipe",
                   "weights with code")


def hostile(saved: Path, tmp_path: Path, case: str) -> Path:
    folder = shutil.copytree(saved, tmp_path / "stack")
    HOSTILE[case][0](folder)
    return folder


@pytest.mark.parametrize("case", IN_A_SUBPROCESS)
def test_a_hostile_saved_stack_is_one_line(saved, tmp_path, case):
    folder = hostile(saved, tmp_path, case)
    one_line_error(cli("predict", str(folder), "x.png"), HOSTILE[case][1])


@pytest.mark.parametrize("case", [c for c in HOSTILE if "pipe" not in c])  # a pipe: above
def test_every_hostile_saved_stack_is_one_line_in_process(saved, tmp_path, case, capsys):
    folder = hostile(saved, tmp_path, case)
    code = main(["predict", str(folder), "x.png"])
    err = capsys.readouterr().err
    one_line_error(subprocess.CompletedProcess([], code, "", err), HOSTILE[case][1])


def test_save_refuses_places_that_cannot_hold_it_before_training(tmp_path):
    (tmp_path / "a-file").write_text("")
    train_args = ("train", "resnet_basic", "--depth", "1", "--size", "8", "--epochs", "100")
    for place, words in ((tmp_path / "a-file", "it is a file, not a folder"),
                         (tmp_path / "a-file" / "sub", "a part of the path is a file"),
                         ("/dev/full", "it is a file, not a folder"),
                         ("/proc/cnnviz-save", "Cannot save in /proc/cnnviz-save")):
        result = cli(*train_args, "--save", str(place))  # 100 epochs would take minutes
        one_line_error(result, words)
        assert result.stdout == ""


@pytest.mark.parametrize("args", [("trained", "--json"), ("blocks",), ("--help",)])
def test_output_that_cannot_be_written_is_one_line(args):
    with open("/dev/full", "w") as full:  # every write: ENOSPC
        result = cli(*args, stdout=full, stderr=subprocess.PIPE)
    one_line_error(result, "cannot write the output: No space left on device")


def test_a_device_note_does_not_come_before_the_error():
    result = cli("gradflow", "resnet_basic", "--device", "cuda:3", "--input", "1024,1024,1024",
                 "--batch", "256")
    one_line_error(result, "live limit")
    ok = cli("gradflow", "resnet_basic", "--device", "cuda:3", "--input", "4,8,8")
    assert ok.returncode == 0 and ok.stdout
    assert ok.stderr == "cuda:3 is not available on this machine; using cpu.\n"


WARN_THEN = """
import logging, sys, warnings
import cnnviz.core.handwriting as handwriting
def counts_from_file(data):
    warnings.warn("a library warns", UserWarning)
    logging.getLogger("a.library").warning("a library logs")
    {then}
handwriting.counts_from_file = counts_from_file
from cnnviz.cli import main
sys.exit(main(["predict", "residual-4", "README.md"]))
"""


def test_library_warnings_never_come_before_the_one_line():
    result = subprocess.run([sys.executable, "-c", WARN_THEN.format(then="raise ValueError("
                             "'not a digit')")], cwd=ROOT, capture_output=True, text=True,
                            timeout=TIMEOUT)
    one_line_error(result, "README.md: not a digit")


def test_library_warnings_come_after_the_output_of_a_success():
    result = subprocess.run([sys.executable, "-c", WARN_THEN.format(
        then="import numpy; return numpy.full((8, 8), 4)")], cwd=ROOT, capture_output=True,
        text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["warning: a library warns", "warning: a library logs"]
