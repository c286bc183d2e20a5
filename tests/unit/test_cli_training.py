"""`cnnviz trained`, `cnnviz train` and `cnnviz predict`: output, JSON, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from cnnviz.topics import learned

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def seven(path: Path, dark_on_light: bool = True, side: int = 300) -> Path:
    paper, pen = ("white", "black") if dark_on_light else ("black", "white")
    im = Image.new("RGB", (side, side), paper)
    corners = [(x * side // 300, y * side // 300) for x, y in ((60, 50), (240, 50), (130, 270))]
    ImageDraw.Draw(im).line(corners, fill=pen, width=side // 7)
    im.save(path)
    return path


def test_trained_lists_the_shipped_stacks_with_their_recorded_accuracy():
    result = cli("trained", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(learned.shipped())
    for name, row in rows.items():
        assert row["test_accuracy"] == learned.shipped()[name]["test_accuracy"]
        assert row["command"].startswith("cnnviz train")
    table = cli("trained").stdout
    assert "residual-12" in table and "99.33%" in table


def test_train_prints_every_epoch_and_saves_a_run_predict_can_use(tmp_path):
    result = cli("train", "resnet_basic", "--depth", "1", "--size", "8", "--epochs", "2",
                 "--save", str(tmp_path / "mine"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["1", "2"]
    assert "test accuracy" in lines[-1] and "saved in" in lines[-1]
    record = json.loads((tmp_path / "mine" / "record.json").read_text())
    assert record["command"] == (f"cnnviz train resnet_basic --depth 1 --size 8 --epochs 2 "
                                 f"--save {tmp_path / 'mine'}")
    out = cli("predict", str(tmp_path / "mine"), str(seven(tmp_path / "7.png")), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["file"].endswith("7.png")


def test_train_json_has_the_figures_and_the_curves():
    result = cli("train", "resnet_basic", "--depth", "1", "--no-skip", "--size", "8",
                 "--epochs", "2", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"test_accuracy", "train_accuracy", "epochs", "seconds", "curves"} <= set(data)
    assert data["epochs"] == 2 and len(data["curves"]["test_accuracy"]) == 2
    assert data["config"]["params"] == {"skip": False} and data["config"]["seed"] == 3
    assert 0 < data["test_accuracy"] <= 1


def test_predict_reads_ink_either_way_round_at_any_size(tmp_path):
    files = [seven(tmp_path / "a.png"), seven(tmp_path / "b.jpg", dark_on_light=False, side=900)]
    result = cli("predict", "residual-4", *map(str, files), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["class"] for r in rows] == ["7", "7"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-3 for r in rows)
    table = cli("predict", "residual-4", str(files[0])).stdout
    assert "a.png" in table and " 7 " in table


@pytest.mark.parametrize("args, says", [
    (("train", "resnet_basic", "--epochs", "0"), "--epochs = 0 is out of range"),
    (("train", "resnet_basic", "--epochs", "١٢"), "written in the digits 0-9"),
    (("train", "resnet_basic", "--seed", "9" * 5000), "out of range"),
    (("train", "resnet_basic", "--size", "12"), "one of 8, 16, 32"),
    (("train", "resnet_basic", "--data", "mnist"), "invalid choice"),
    (("train", "vgg", "--no-skip"), "no shortcut to switch off"),
    (("train", "resnet_basic", "--width", "512", "--depth", "8"), "at most"),
    (("train", "resnet_basic", "--depth", "30", "--width", "32", "--size", "32"),
     "live limit"),
    (("predict", "nope", "x.png"), "neither a shipped stack"),
    (("predict", "residual-4", "missing.png"), "Cannot read missing.png"),
])
def test_bad_input_exits_2_with_one_line(args, says):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert len(result.stderr) < 400


def test_predict_refuses_files_that_are_not_digits(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    Image.new("RGB", (64, 64), "white").save(tmp_path / "blank.png")
    for name, says in (("notes.png", "notes.png:"), ("blank.png", "blank")):
        result = cli("predict", "plain-4", str(tmp_path / name))
        assert result.returncode == 2 and says in result.stderr, result.stderr


@pytest.mark.parametrize("make, words", [
    (lambda p: p.symlink_to("/dev/zero"), "not a regular file (a device)"),  # endless
    (lambda p: __import__("os").mkfifo(p), "not a regular file (a pipe)"),  # would wait
    (lambda p: p.write_bytes(b"\x89PNG" + bytes(6 * 10**6)), "over the 5 MB"),
])
def test_predict_reads_no_more_than_an_upload(tmp_path, make, words):
    path = tmp_path / "digit.png"
    make(path)
    result = cli("predict", "residual-4", str(path))
    assert result.returncode == 2 and words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
