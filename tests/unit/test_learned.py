"""What trained stacks learned: the shipped ones reload exactly, evidence sits where it must,
handwriting becomes the data set's 8×8 counts."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image, ImageDraw

from cnnviz.core.datasets import load_dataset
from cnnviz.core.handwriting import counts_from_file, digit_counts, is_blank
from cnnviz.core.spec import StackSpec, build
from cnnviz.topics import learned
from cnnviz.topics.evidence import grad_cam, occlusion
from cnnviz.topics.training import Classifier, TrainConfig, train

SHIPPED = sorted(learned.shipped())


def test_the_shipped_stacks_are_pairs_of_equal_depth_and_small():
    assert set(SHIPPED) == {name for pair in learned.PAIRS.values() for name in pair}
    for plain, residual in learned.PAIRS.values():
        a, b = learned.shipped()[plain]["config"], learned.shipped()[residual]["config"]
        assert a["depth"] == b["depth"] and a["params"]["skip"] is False
        assert b["params"].get("skip", True) is True
    total = sum(f.stat().st_size for f in learned.TRAINED.rglob("*") if f.is_file())
    assert total <= 2 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_stack_reloads_to_exactly_its_recorded_accuracy(name):
    record = learned.shipped()[name]
    run = learned.shipped_run(name)
    results = learned.test_results(run.model(), learned.run_data(run))
    assert int((results.predictions == results.labels).sum()) == record["test_correct"]
    assert results.accuracy == record["test_accuracy"]
    assert record["command"].startswith("cnnviz train ") and f"--save assets/trained/{name}" \
        in record["command"]
    assert results.confusion.sum() == len(results.labels) == record["test_count"]
    assert np.trace(results.confusion) == record["test_correct"]


@pytest.mark.slow
def test_the_training_command_reproduces_a_shipped_stack():
    """The recorded command, run again with the recorded seed: within half a point."""
    name = "residual-4"
    record = learned.shipped()[name]
    run = train(TrainConfig.from_json(record["config"]))
    assert abs(run.test_accuracy - record["test_accuracy"]) <= 0.005


def test_unknown_stacks_are_sentences(tmp_path):
    with pytest.raises(ValueError, match="no trained stack 'nope'; the shipped ones are"):
        learned.shipped_run("nope")
    with pytest.raises(ValueError, match="neither a shipped stack"):
        learned.find_run(str(tmp_path / "missing"))


# --- evidence, where the answer is known by construction ---------------------------------

class TopLeft(nn.Module):
    """Zero every feature outside the top-left quadrant: the network reads nothing else."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        mask = torch.zeros_like(x)
        mask[..., : h // 2, : w // 2] = 1
        return x * mask


def quadrant_reader() -> Classifier:
    spec = StackSpec.create("conv_bn_act", {"in_channels": 8, "out_channels": 8,
                                            "norm": "none"}, depth=1)
    stack = nn.Sequential(build(spec), TopLeft())
    model = Classifier(stack, 8, 8, "none")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return model.eval()


def share_in_top_left(heat: np.ndarray, margin: int = 0) -> float:
    s = heat.shape[0] // 2 + margin
    return float(np.abs(heat[:s, :s]).sum() / np.abs(heat).sum())


def test_evidence_sits_in_the_only_quadrant_the_network_reads():
    model = quadrant_reader()
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    target = int(model(x).argmax())
    cam = grad_cam(model, x, target)
    assert cam.shape == (16, 16) and cam.max() == pytest.approx(1.0)
    assert share_in_top_left(cam, margin=1) > 0.95  # bilinear resizing bleeds a pixel
    drops = occlusion(model, x, target, fill=0.0)
    # stem and block are 3×3: an occluder reaches the quadrant from two pixels away at most
    assert share_in_top_left(drops, margin=2 + 4) == pytest.approx(1.0)
    far = drops[14:, 14:]
    assert np.all(far == 0)


def test_occlusion_with_the_target_itself_covered_lowers_the_probability():
    run = learned.shipped_run("residual-4")
    model, data = run.model(), learned.run_data(run)
    seen = learned.inspect(model, data, data.raw_test[0])
    assert seen.prediction == int(data.y_test[0])
    assert seen.occlusion.shape == (16, 16)
    assert seen.occlusion.max() > 0  # covering the digit somewhere costs probability
    assert len(seen.maps) == 4 and seen.maps[0].shape == (learned.SHOWN_CHANNELS, 16, 16)
    assert abs(seen.probabilities.sum() - 1) < 1e-5


def test_folded_batch_norms_give_the_same_answers_and_leave_the_model_alone():
    run = learned.shipped_run("residual-4")
    model, data = run.model(), learned.run_data(run)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = learned.folded(model)
    assert learned.folded(model) is fast  # made once per model
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    with torch.no_grad():
        x = data.x_test[:100]
        assert torch.allclose(fast(x), model(x), atol=1e-4)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_the_networks_inspected_side_by_side_answer_as_one_by_one():
    pair = [learned.shipped_run(name) for name in learned.PAIRS["depth 4"]]
    nets = [(run.model(), learned.run_data(run)) for run in pair]
    image = nets[0][1].raw_test[5]
    together = learned.inspect_all(nets, image)
    alone = [learned.inspect(model, data, image) for model, data in nets]
    assert [s.prediction for s in together] == [s.prediction for s in alone]
    assert all(np.allclose(a.grad_cam, b.grad_cam) and np.allclose(a.occlusion, b.occlusion)
               for a, b in zip(together, alone))


def test_top_images_excite_their_channel_most():
    run = learned.shipped_run("plain-4")
    model, data = run.model(), learned.run_data(run)
    means = learned.channel_means(model, data)
    assert len(means) == 4 and means[0].shape == (450, 16)
    top = learned.top_images(means[3], 2)
    assert len(top) == learned.TOP
    assert means[3][top, 2].min() >= np.sort(means[3][:, 2])[-learned.TOP]
    with pytest.raises(ValueError, match="this block has 16"):
        learned.top_images(means[3], 16)


def test_first_filters_start_from_the_seeds_random_weights():
    run = learned.shipped_run("residual-4")
    end, start = learned.first_filters(run, run.model())
    again = learned.first_filters(run, run.model())[1]
    assert end.shape == start.shape == (16, 3, 3) and np.array_equal(start, again)
    assert not np.allclose(end, start)


# --- handwriting ---------------------------------------------------------------------------

def drawn_seven(dark_on_light: bool = True, side: int = 300) -> np.ndarray:
    paper, pen = ("white", "black") if dark_on_light else ("black", "white")
    im = Image.new("RGB", (side, side), paper)
    corners = [(x * side // 300, y * side // 300) for x, y in ((60, 50), (240, 50), (130, 270))]
    ImageDraw.Draw(im).line(corners, fill=pen, width=side // 7)
    return np.asarray(im)


def test_a_drawing_becomes_counts_like_the_data_set():
    counts = digit_counts(drawn_seven())
    assert counts.shape == (8, 8) and counts.max() == 16 and counts.min() == 0
    assert counts[0].sum() > counts[-1].sum()  # the bar at the top
    assert np.array_equal(counts, digit_counts(drawn_seven(False)))  # either way round
    bigger = digit_counts(drawn_seven(side=900))  # any size: the same up to rasterising
    assert np.abs(bigger - counts).mean() < 1.0


def test_the_shipped_stacks_read_a_drawn_seven():
    counts = digit_counts(drawn_seven())
    for name in SHIPPED:
        run = learned.shipped_run(name)
        assert learned.classify(run.model(), learned.run_data(run), counts).argmax() == 7


def test_blank_and_broken_pictures_are_sentences():
    assert is_blank(np.full((50, 50, 4), 0, dtype=np.uint8)) and is_blank(None)
    with pytest.raises(ValueError, match="blank"):
        digit_counts(np.full((40, 40, 3), 255, dtype=np.uint8))
    speck = np.full((40, 40), 255, dtype=np.uint8)
    speck[5, 5] = 0
    with pytest.raises(ValueError, match="specks"):
        digit_counts(speck)
    with pytest.raises(ValueError, match="format|image"):
        counts_from_file(b"this is not an image at all")
    with pytest.raises(ValueError, match="empty"):
        counts_from_file(b"")


def test_an_image_file_reads_like_the_canvas():
    buf = io.BytesIO()
    Image.fromarray(drawn_seven()).save(buf, format="PNG")
    assert np.array_equal(counts_from_file(buf.getvalue()), digit_counts(drawn_seven()))


def test_records_are_json_a_person_can_read():
    for name in SHIPPED:
        record = json.loads((learned.TRAINED / name / "record.json").read_text())
        assert {"command", "config", "test_accuracy", "train_accuracy", "history",
                "seconds"} <= set(record)
        assert len(record["history"]) == record["config"]["epochs"]
        assert load_dataset(record["config"]["data"], record["config"]["size"])
