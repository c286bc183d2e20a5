"""cnnviz.inspect and `cnnviz model`: plain-PyTorch models traced with torch.fx, every row
predicted by formula and the totals, shapes and fields confirmed by torch on its own terms
(sum of numel, FlopCounterMode, the forward's shape, the input gradient's support)."""
from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import cnnviz
from cnnviz.cli import main
from cnnviz.core.errors import BudgetError, InputError, ModelError

sys.path.insert(0, str(Path(__file__).parent))
from gallery_models import GALLERY, ResNet18, ResNetTrunk, UNet  # noqa: E402

GALLERY_FILE = Path(__file__).parent / "gallery_models.py"


def torch_macs(model: nn.Module, shape) -> tuple[int, tuple[int, ...]]:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(torch.rand(1, *shape))
    return counter.get_total_flops() // 2, tuple(y.shape)


def gradient_support(model: nn.Module, shape, pixel) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns of the input one output pixel's gradient reaches, every path open:
    positive weights, positive input, fresh norm statistics, max-pools as averages."""
    probe = copy.deepcopy(model).eval()
    for child in list(probe.modules()):
        for key, sub in list(child.named_children()):
            if isinstance(sub, nn.MaxPool2d):
                setattr(child, key, nn.AvgPool2d(sub.kernel_size, sub.stride, sub.padding))
    with torch.no_grad():
        for p in probe.parameters():
            p.copy_(p.abs() + 0.01)
    x = torch.rand(1, *shape).add_(0.5).requires_grad_(True)
    y = probe(x)
    y[:, :, pixel[0], pixel[1]].sum().backward()
    g = x.grad.abs().sum(dim=(0, 1))
    rows = torch.nonzero(g.sum(1)).flatten().tolist()
    cols = torch.nonzero(g.sum(0)).flatten().tolist()
    return (rows[0], rows[-1]), (cols[0], cols[-1])


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_every_gallery_model_is_predicted_and_confirmed(name):
    make, shape = GALLERY[name]
    model = make()
    report = cnnviz.inspect(model, shape)
    assert report.no_formula == []
    assert all(r.predicted and r.agrees for r in report.rows), [
        (r.name, r.output_shape, r.macs, r.memory, r.measured) for r in report.rows
        if not r.agrees]
    assert report.params == sum(p.numel() for p in model.parameters())
    macs, out_shape = torch_macs(model, shape)
    assert report.macs == macs
    assert report.output_shape == out_shape
    assert report.agrees, report.checks()
    if len(out_shape) == 4:  # a map: its centre pixel's field is the gradient's support
        support = report.predicted.support
        assert (support.rows, support.cols) == gradient_support(model, shape, support.pixel)


def test_the_unet_field_is_exact_and_any_pixel_can_be_asked():
    report = cnnviz.inspect(UNet(), (3, 32, 32))
    assert report.field.text("x") == report.measured_field.text("x") == "44x44"
    for pixel in [(0, 0), (5, 17), (31, 31)]:
        found = report.field_of(pixel)
        assert found["predicted"] == found["measured"]
        p = found["predicted"]
        assert (p.rows, p.cols) == gradient_support(UNet(), (3, 32, 32), pixel)
    with pytest.raises(ModelError, match="32x32"):
        report.field_of((32, 0))


def test_the_report_renders_as_escaped_html_and_a_dataframe():
    report = cnnviz.inspect(ResNetTrunk(width=4), (3, 32, 32))
    frame = report.to_pandas()
    assert len(frame) == len(report.rows) and {"name", "kind", "field", "MACs"} <= set(frame)
    assert frame["MACs"].sum() == report.macs
    report.name = "<script>alert(1)</script>"
    html = report._repr_html_()
    assert "<table>" in html and "<script>" not in html and "&lt;script&gt;" in html
    stages = report.stages()
    assert [s["stage"] for s in stages][:2] == ["conv1", "bn1"]
    assert sum(s["params"] for s in stages) == report.params
    assert json.loads(json.dumps(report.to_json()))["agree"]["MACs"] is True


class Softmaxed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.after = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return self.after(torch.softmax(self.conv(x), dim=1).cumsum(1))


def test_a_call_with_no_kind_is_measured_and_marked_never_guessed():
    report = cnnviz.inspect(Softmaxed(), (3, 16, 16))
    assert len(report.no_formula) == 2  # softmax and cumsum: torch's numbers
    for row in report.rows:
        if not row.predicted:
            assert row.field == "" and row.output_shape == row.measured.shape == (8, 16, 16)
    assert report.field is None and report.params == 8 * 3 * 9 + 8 + 8 * 8 * 9 + 8
    assert report.checks()["output shape"][2] and report.checks()["MACs"][2]
    assert "receptive field of the centre pixel" not in report.checks()


class NormedSoftmax(Softmaxed):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.norm(super().forward(x))


def test_inspecting_a_model_in_training_mode_leaves_its_statistics_alone():
    model = NormedSoftmax().train()  # a notebook's model, mid-training
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = cnnviz.inspect(model, (3, 16, 16))
    assert report.no_formula  # the walk ran torch's forward for the rows with no kind
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), \
        [k for k in before if not torch.equal(before[k], after[k])]


def test_parameters_the_forward_never_reads_are_torch_s_count_not_the_walk_s():
    model = ResNet18(width=4, classes=10)
    model.aux = nn.Linear(32, 10)  # held, never called: the trace drops it
    report = cnnviz.inspect(model, (3, 32, 32))
    held = sum(p.numel() for p in model.parameters())
    assert report.checks()["parameters"] == (held - 330, held, False)
    assert f"holds {held:,} parameters; its forward uses {held - 330:,}" in report.notes[0]


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x):
        return self.conv(x) if x.mean() > 0 else x


class Huge(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32_000, 32_000)  # 1.02e9 parameters: 4 GB if it were allocated
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x):
        return self.conv(x)


def test_what_cnnviz_refuses_is_one_sentence():
    with pytest.raises(ModelError, match="torch.fx cannot trace DataDependent"):
        cnnviz.inspect(DataDependent(), (3, 8, 8))
    start = time.perf_counter()
    with pytest.raises(BudgetError, match="1,024.0 M parameters"):
        cnnviz.inspect(Huge, (3, 8, 8))  # built on the meta device only
    assert time.perf_counter() - start < 5
    with pytest.raises(ModelError, match="three positive whole numbers"):
        cnnviz.inspect(UNet(), (3, 32))
    with pytest.raises(ModelError, match="not a int"):
        cnnviz.inspect(lambda: 3, (3, 8, 8))
    with pytest.raises(InputError, match="padded input is only 1"):
        cnnviz.inspect(nn.Sequential(*[nn.Conv2d(3, 3, 3, 2) for _ in range(5)]), (3, 16, 16))


BAD_FILE = '''
import torch.nn as nn
class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("no weights file here")
def mlp():
    return nn.Sequential(nn.Linear(10, 10))
class Huge(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32_000, 32_000)
    def forward(self, x):
        return x
class Flow(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x
def deep():
    return nn.Sequential(*[nn.Conv2d(3, 3, 3, stride=2) for _ in range(6)])
'''


@pytest.mark.parametrize("argv, words", [
    (["missing.py:Net"], "missing.py: no such file"),
    (["{f}:Nope"], "defines no 'Nope'; it defines Flow, Huge, Raises, deep, mlp"),
    (["{f}:Raises"], "Raises() raised RuntimeError: no weights file here"),
    (["{f}:mlp"], "needs a flat vector"),
    (["{f}:deep", "--input", "3,16,16"], "padded input is only"),
    (["{f}:Flow"], "torch.fx cannot trace Flow"),
    (["{f}:Huge"], "1,024.0 M parameters; the live limit is 150 M"),
    (["{f}:deep", "--args", "[1]"], "--args takes a JSON object"),
    (["{f}:deep", "--input", "3,16"], "--input takes C,H,W"),
])
def test_the_model_command_refuses_in_one_line(tmp_path, capsys, argv, words):
    path = tmp_path / "models.py"
    path.write_text(BAD_FILE)
    code = main(["model", *(a.replace("{f}", str(path)) for a in argv)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert words in err, err


def test_the_model_command_reports_a_gallery_model_as_torch_does(capsys):
    code = main(["model", f"{GALLERY_FILE}:ResNet18", "--args", '{"width": 8, "classes": 10}',
                 "--input", "3,64,64", "--json"])
    out = json.loads(capsys.readouterr().out)
    model = ResNet18(width=8, classes=10)
    assert code == 0 and out["params"] == sum(p.numel() for p in model.parameters())
    assert out["macs"] == torch_macs(model, (3, 64, 64))[0] and out["output_shape"] == [1, 10]
    assert out["no_formula"] == [] and all(out["agree"].values())
    main(["model", f"{GALLERY_FILE}:ShuffleNet", "--input", "3,32,32"])
    text = capsys.readouterr().out
    assert "receptive field 23x23" in text and "MISMATCH" not in text


def test_functions_that_a_module_does_too_follow_its_rule():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            x = F.relu(x, inplace=True)  # on the input itself: no new memory
            x = F.max_pool2d(F.relu6(self.conv(x)), 3, 2, 1)
            x = F.avg_pool2d(x, 2, ceil_mode=True) + 1
            return F.adaptive_avg_pool2d(x, 3)

    report = cnnviz.inspect(Functional(), (3, 19, 19))
    assert report.no_formula == [] and report.agrees, report.checks()
    assert report.checks()["receptive field of the centre pixel"][2]
    assert report.field is None and "grows with the input" in report.notes[0]
    assert [r.kind for r in report.rows] == ["activation", "Conv2d", "activation", "max_pool2d",
                                             "avg_pool2d", "add", "adaptive_avg_pool2d"]


def test_a_served_classroom_never_gets_the_model(capsys):
    from cnnviz.deploy.own_model import MODEL_VARIABLES, without_model
    environ = {"PATH": "/bin", **{name: "x" for name in MODEL_VARIABLES}}
    assert without_model(environ) == {"PATH": "/bin"}
    assert main(["hall", "--model", f"{GALLERY_FILE}:UNet"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "the hall takes no --model" in err
    assert main(["app", "--model", f"{GALLERY_FILE}:Nope"]) == 2  # refused before a server
    assert "defines no 'Nope'" in capsys.readouterr().err


def test_torch_activations_the_registry_lacks_work_per_pixel_and_open_in_the_probe():
    class MobileV3ish(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.act = nn.Hardswish(inplace=True)
            self.squeeze, self.excite = nn.Conv2d(8, 2, 1), nn.Conv2d(2, 8, 1)
            self.out = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.PReLU(8), nn.Tanh(),
                                     nn.Hardsigmoid())

        def forward(self, x):
            x = self.act(self.conv(x))
            s = F.hardsigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3), True)))), True)
            return self.out(x * s)

    model = MobileV3ish()
    report = cnnviz.inspect(model, (3, 16, 16))
    assert report.no_formula == [] and report.agrees, report.checks()
    assert report.params == sum(p.numel() for p in model.parameters())  # PReLU's 8 slopes
    assert {"Hardswish", "PReLU", "Tanh", "Hardsigmoid"} <= {r.kind for r in report.rows}
    assert report.checks()["receptive field of the centre pixel"][1] == [16, 16]
