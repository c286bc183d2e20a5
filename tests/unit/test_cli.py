"""`python -m cnnviz`: output, JSON schema, exit codes and one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.core.bench import run_bench
from cnnviz.core.blocks import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_blocks_json_lists_every_block_with_its_schema():
    result = cli("blocks", "--json")
    assert result.returncode == 0, result.stderr
    blocks = {b["name"]: b for b in json.loads(result.stdout)}
    assert set(blocks) == set(REGISTRY)
    for b in blocks.values():
        assert b["family"] and b["paper"] and b["summary"]
        assert all({"name", "type", "default", "help", "low", "high", "choices"} <= set(p)
                   for p in b["params"])


def test_report_json_of_the_readme_example_agrees_with_torch():
    result = cli("report", "resnet_bottleneck", "--input", "256,56,56",
                 "--set", "out_channels=256", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["input_shape"] == [1, 256, 56, 56]
    m = report["measured"]
    assert report["output_shape"] == m["output_shape"] == [1, 256, 56, 56]
    assert report["params"] == m["params"] == 70_400  # torchvision's Bottleneck(256, 64)
    assert report["flops"] == m["flops"] == 2 * report["macs"]
    assert report["receptive_field"]["size"] == m["receptive_field"]["size"] == [3, 3]
    assert report["receptive_field"]["jump"] == [1, 1]
    assert all(report["agree"].values())
    layer = report["layers"][0]
    assert {"name", "type", "input_shape", "output_shape", "params", "macs",
            "receptive_field"} <= set(layer)


def test_report_table_marks_every_check():
    result = cli("report", "inception", "--depth", "2", "--set", "b1=8")
    assert result.returncode == 0, result.stderr
    assert "MISMATCH" not in result.stdout
    assert result.stdout.count("ok ") == 7 and "concat" in result.stdout  # 7: the exact field


@pytest.mark.parametrize("args,words", [
    (("report", "nope"), "Unknown block"),
    (("report", "conv_bn_act", "--set", "groups=5"), "does not divide"),
    (("report", "conv_bn_act", "--input", "3,4,4", "--set", "kernel_size=11",
      "--set", "padding=0"), "padded input"),
    (("report", "resnet_basic", "--depth", "x"), "depth"),
    (("report", "resnet_basic", "--input", "3,32"), "C,H,W"),
    (("report", "resnet_basic", "--set", "kernel_size"), "NAME=VALUE"),
    (("report", "resnet_basic", "--set", "colour=red"), "no parameter"),
    (("report",), "required"),
    (("frobnicate",), "invalid choice"),
    (("gradflow", "vgg"), "shortcut"),
    # classroom findings: numbers read like every other message, nothing slips through
    (("report", "resnet_basic", "--input", "³,32,32"), "three whole numbers"),
    (("report", "resnet_basic", "--input", "-3,32,32"), "in_channels = -3 is out of range"),
    (("report", "resnet_basic", "--depth", "-2"), "depth = -2 is out of range"),
    (("report", "mbconv", "--set", "se_ratio=nan"), "se_ratio must be a number"),
    (("report", "convnext", "--set", "layer_scale=inf"), "layer_scale must be a number"),
    (("report", "dense_transition", "--set", "compression=nan"), "compression must be"),
    (("report", "resnet_basic", "--set", "kernel_size=4", "--set", "padding=same"),
     "odd kernel_size"),
    (("gradflow", "resnet_basic", "--set", "in_channels=256", "--set", "out_channels=256",
      "--depth", "200", "--input", "256,8,8"), "live limit"),
    (("gradflow", "resnet_basic", "--input", "1024,1024,1024", "--batch", "256"),
     "live limit"),
    (("report", "resnet_basic", "--depth", "200", "--set", "in_channels=512",
      "--set", "out_channels=512"), "944.1 M parameters"),
])
def test_bad_input_exits_2_with_one_line(args, words):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert words.lower() in lines[0].lower()
    assert "Traceback" not in result.stderr


def test_absent_device_falls_back_with_a_note():
    result = cli("report", "conv_bn_act", "--device", "cuda:3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["device"] == "cpu" and "cpu" in report["device_note"]


def test_bench_reports_both_ratios_for_a_stack_and_a_network():
    stack, network = run_bench(depth=3, repeats=3, network_size=64)
    assert stack["config"].startswith("resnet_basic x3")
    assert network["config"].startswith("resnet50 on 3x64x64")
    for result in (stack, network):
        assert result["torchinfo_over_predicted"] > 0
        assert result["measured_over_forward_backward"] > 0
        assert set(result["median_ms"]) == {"predicted_report", "torchinfo_summary",
                                            "measured_report", "forward_backward"}


def test_refusals_come_before_any_allocation():
    """The issue's 2.7 GB gradflow run is refused in a blink, the process stays small."""
    # VmHWM, not ru_maxrss: the latter keeps the forked test runner's size across exec
    code = ("import re\n"
            "from cnnviz.cli import main\n"
            "code = main(['gradflow', 'resnet_basic', '--input', '1024,1024,1024',"
            " '--batch', '256'])\n"
            "status = open('/proc/self/status').read()\n"
            "print(code, int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    exit_code, peak_mb = map(int, result.stdout.split())
    assert exit_code == 2 and "live limit" in result.stderr
    assert peak_mb < 800, peak_mb  # torch itself is ~400 MB; the refused run adds nothing


def test_closed_pipe_ends_quietly():
    """`cnnviz blocks | head -1`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "blocks"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `head` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_usage_names_the_command_as_it_was_run():
    assert cli("--help").stdout.startswith("usage: python -m cnnviz ")
    script = ("import sys; sys.argv = ['cnnviz', '--help']; from cnnviz.cli import main; "
              "main()")  # what the console script's wrapper does
    shown = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert shown.stdout.startswith("usage: cnnviz ")
