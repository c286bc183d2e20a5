"""Lessons: every file loads, every answer is what cnnviz computes for the step's state,
a malformed file gets one clear line per problem, and the CLI says so with its exit code.

The expected answers are computed here along another path than cnnviz.lessons.answers:
torch's measurement of the built stack (make_report), the topic modules called the way
the pages call them, or the formula a student would write.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnnviz.cli import main
from cnnviz.core import images
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import ACTIVATIONS, predict
from cnnviz.lessons import (
    LESSON_DIR,
    QUANTITIES,
    Lesson,
    Question,
    StepState,
    answer,
    grade,
    load_lesson,
    load_lessons,
    read_lesson,
)
from cnnviz.lessons.reader import MAX_BYTES
from cnnviz.pages import ERF_IMAGE_SIZE, PAGES, STORIES
from cnnviz.topics import costs, gradflow, sliding
from cnnviz.topics import networks as tn
from cnnviz.topics import receptive_field as rf
from cnnviz.topics.features import image_spec

CATALOG = load_lessons()
LESSONS = {lesson.name: lesson for lesson in CATALOG.lessons}
QUESTIONS = [(lesson, step) for lesson in CATALOG.lessons for step in lesson.steps
             if step.question is not None]
# The list of concepts, each with a lesson that teaches it.
COVERED = {
    "output size and the floor": "output_size",
    "two 3x3 vs one 5x5, receptive field growth": "receptive_field_growth",
    "the 1x1 bottleneck": "bottleneck",
    "CNN vs fully connected, translation equivariance": "cnn_vs_fully_connected",
    "vanishing and exploding gradients, init, normalization": "vanishing_gradients",
    "degradation and shortcuts": "shortcuts",
    "depthwise separable, groups, shuffle": "depthwise_groups_shuffle",
    "inverted residual, MBConv, SE, GC": "mobile_blocks",
    "ConvNeXt's design moves": "convnext",
    "transposed convolution, checkerboards, upsampling": "upsampling",
    "theoretical vs effective receptive field": "effective_receptive_field",
    "masked-conv blind spot, invertible 1x1": "masked_and_invertible",
}
if "network" in PAGES:  # issue 12's Networks page
    COVERED["a tour of networks from AlexNet to ConvNeXt"] = "networks_tour"


# --- every lesson ----------------------------------------------------------------------------

def test_every_lesson_file_loads_and_the_concepts_are_covered():
    assert not CATALOG.problems, "\n".join(map(str, CATALOG.problems))
    assert len(CATALOG.lessons) >= 10
    missing = {what: name for what, name in COVERED.items() if name not in LESSONS}
    assert not missing, f"no lesson for {missing}"
    for lesson in CATALOG.lessons:
        assert lesson.title and lesson.audience and lesson.concepts and lesson.duration > 0
        assert sum(s.question is not None for s in lesson.steps) >= 3, lesson.name
        for step in lesson.steps:
            assert step.text and step.page in PAGES
            assert lesson.url(step.number) == (
                f"{PAGES[step.page].url_path}?lesson={lesson.name}&step={step.number}")


def test_steps_inherit_the_stack_and_a_new_block_starts_from_its_defaults():
    steps = LESSONS["output_size"].steps
    assert steps[1].state.spec.values["kernel_size"] == 3  # set in step 1 only
    assert (steps[1].state.spec.height, steps[1].state.spec.values["stride"]) == (8, 2)
    assert dict(steps[1].state.controls) == {"mode": "conv"}  # same page: kept
    last = steps[-1].state  # the Explorer, resnet_basic: its own defaults but the changes
    assert last.spec.block == "resnet_basic" and last.spec.values["padding"] == "same"
    assert dict(last.controls) == {"view": "Shape and receptive field"}


def _stack_expected(name: str, spec: StackSpec, args: dict) -> float:
    """Stack quantities from torch's own measurement of the built stack."""
    if name == "receptive_field":  # the exact field, as torch's input gradients measure it
        field = make_report(spec).measured_field
        return math.inf if field.is_global else field.largest[0]
    if name == "widest_channels":
        return max(s[0] for s in make_report(spec).measured.layer_shapes.values())
    if name == "nonlinearities":
        return sum(isinstance(m, ACTIVATIONS) for m in build(spec).modules())
    if name == "shortcut_params":
        return (make_report(spec).measured.params
                - make_report(spec.replace(skip=False)).measured.params)
    if name == "map_shift":  # the maps move by the shift over the stack's total stride
        return args["shift"] / make_report(spec, measured=False).predicted.receptive_field.jump[1]
    m = make_report(spec).measured
    inputs, outputs = math.prod(spec.input_shape[1:]), math.prod(m.output_shape[1:])
    return {"output_height": m.output_shape[2], "output_width": m.output_shape[3],
            "output_channels": m.output_shape[1], "params": m.params, "macs": m.flops // 2,
            "fc_params": inputs * outputs + outputs,
            "fc_over_conv": (inputs * outputs + outputs) / m.params}[name]


def _page_expected(name: str, state: StepState, args: dict) -> float:
    """Page quantities: the topic modules called the way the pages call them."""
    c = state.resolved()
    if name in ("gradient_orders", "signal_growth_orders"):
        spec = gradflow.probe_for(state.spec, PAGES["plain_vs_residual"].starting_values(
            state.spec) | c)
        flow = getattr(gradflow.compare(spec, c["loss"]), args["stack"])
        value = flow.first_over_last if name == "gradient_orders" else flow.std_growth
        return math.log10(value) if value > 0 else -math.inf
    if name in ("macs_saved_percent", "macs_ratio", "params_ratio", "design_params",
                "design_macs"):
        _, knobs = costs.TOPICS[c["topic"]]
        comparison = costs.compare(c["topic"], **{k.name: c[k.name] for k in knobs})
        a, b = comparison.designs[0], comparison.designs[-1]
        design = comparison.designs[args.get("design", 2) - 1]
        return {"macs_saved_percent": 100 * (1 - b.macs / a.macs), "macs_ratio": b.macs / a.macs,
                "params_ratio": b.params / a.params, "design_params": design.params,
                "design_macs": design.macs}[name]
    if name == "checkerboard_std":
        board = sliding.checkerboard(kernel_size=c["cb_kernel"], weights=c["cb_weights"])
        return getattr(board, {"transposed": "std_transposed", "upsample_conv":
                               "std_upsample_conv", "subpixel": "std_subpixel"}[args["design"]])
    if name == "gridding_holes":  # counted here from torch's gradient, box by formula
        dilations = (c["dilation"],) * 3 if args["dilations"] == "same" else (1, 2, 3)
        size, field = 31, 1 + 2 * sum(dilations)
        x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
        y = x
        for d in dilations:
            y = torch.nn.functional.conv2d(y, torch.ones(1, 1, 3, 3, dtype=torch.float64),
                                           padding=d, dilation=d)
        y[0, 0, size // 2, size // 2].backward()
        lo = size // 2 - field // 2
        box = x.grad[0, 0, lo:lo + field, lo:lo + field]
        return float((box == 0).sum())
    if name == "hand_sum_value":  # the page's numbers through torch's own layer
        hand = sliding.hand_sum(c["ws_seed"])
        kernel = torch.tensor(hand.kernel, dtype=torch.float64)
        if args["kernel"] == "flipped":
            kernel = kernel.flip(0, 1)
        y = torch.nn.functional.conv2d(torch.tensor(hand.image, dtype=torch.float64)[None, None],
                                       kernel[None, None])
        return float(y[0, 0, c["ws_row"] - 1, c["ws_col"] - 1])
    if name == "erf_share50":
        side = ERF_IMAGE_SIZE
        spec = image_spec(state.spec, side, side).replace(skip=args["variant"] == "residual")
        image = images.to_tensor(images.decode_image(
            images.sample_path(c["image"]).read_bytes()), side, side)
        return 100 * rf.effective_rf(spec, image, seed=spec.seed).share50
    if name == "blind_pixels":  # a larger grid than the page's: the count must not change
        spec = rf.masked_spec(c["mask_depth"], c["mask_kernel"], size=8 * c["mask_depth"] + 9)
        return int(rf.blind_spot(spec).blind.sum())
    if name == "shortcut_pixels":
        return int(rf.shortcut_support(args["kind"]).sum())
    if name in ("network_params", "network_macs"):  # the network's structure on meta
        from cnnviz.core.network import build_network
        from cnnviz.core.network.presets import network_spec
        spec = network_spec(c["net"])
        model = build_network(spec, "meta")
        if name == "network_params":
            return sum(p.numel() for p in model.parameters())
        return predict(model, spec.input_shape).macs
    if name == "scaled_macs_ratio":  # torch's FLOP count of each network, not the walk
        from cnnviz.core.measure import FlopCount
        from cnnviz.core.network import build_network
        from cnnviz.core.network.presets import network_spec
        variants = {v.name: v.spec for v in tn.scaling_variants(network_spec(c["net"]),
                                                                args["phi"])}

        def flops(spec) -> int:
            with torch.no_grad(), FlopCount() as counted:
                build_network(spec).eval()(torch.zeros(spec.input_shape))
            return counted.total
        return flops(variants[args["scaling"]]) / flops(variants["as it is"])
    if name in ("trained_test_accuracy", "trained_mistakes",
                "last_map_side", "occlusion_copies"):
        return _trained_expected(name, c, args)
    raise AssertionError(f"the test has no expected value for {name}")


def _trained_expected(name: str, c: dict, args: dict) -> float:
    """The shipped stacks' own records and weights, read and run directly."""
    from cnnviz.topics.learned import PAIRS, TRAINED
    from cnnviz.topics.runs import load_run
    from cnnviz.topics.training import make_classifier
    folder = TRAINED / PAIRS[c["pair"]][args["stack"] == "residual"]
    record = json.loads((folder / "record.json").read_text())
    if name == "trained_test_accuracy":
        return 100 * record["test_correct"] / record["test_count"]
    if name == "trained_mistakes":
        return record["test_count"] - record["test_correct"]
    size = record["config"]["size"]
    if name == "occlusion_copies":  # a quarter-side square, every eighth of the side
        return ((size - size // 4) // (size // 8) + 1) ** 2
    run = load_run(folder)
    if name == "last_map_side":
        return run.model().block_outputs(torch.zeros(1, 1, size, size))[-1].shape[-1]
    end = torch.load(folder / "weights.pt", weights_only=True)["stem.conv.weight"]
    start = make_classifier(run.config.stack).stem.conv.weight.detach()
    return 100 * float((end - start).norm() / start.norm())


def expected(question: Question, state: StepState, args: dict) -> float:
    args = {**QUANTITIES[question.compute].arguments(dict(question.args)), **args}
    if QUANTITIES[question.compute].pages or question.compute == "shortcut_pixels":
        return _page_expected(question.compute, state, args)
    return _stack_expected(question.compute, state.stack, args)


@pytest.fixture(scope="module")
def listed() -> dict[str, dict]:
    """`cnnviz lessons --json`, run once: every lesson with its computed answers."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["lessons", "--json"]) == 0
    return {lesson["name"]: lesson for lesson in json.loads(out.getvalue())}


def test_every_quantity_is_asked_somewhere():
    asked = {step.question.compute for _, step in QUESTIONS if step.question}
    assert asked == set(QUANTITIES)


@pytest.mark.parametrize(("lesson", "number"),
                         [(lesson.name, step.number) for lesson, step in QUESTIONS],
                         ids=[f"{lesson.name}-{step.number}" for lesson, step in QUESTIONS])
def test_the_cli_answer_is_what_cnnviz_computes_for_the_step(listed, lesson, number):
    step = LESSONS[lesson].steps[number - 1]
    q = step.question
    assert q is not None
    shown = listed[lesson]["steps"][number - 1]
    assert shown["url"] == LESSONS[lesson].url(number)
    got = shown["question"]["answer"]
    if q.kind == "number":
        assert got == pytest.approx(expected(q, step.state, {}), rel=1e-9)
        return
    values = {o.label: expected(q, o.state, dict(o.args)) for o in q.options}
    best = (max if q.pick == "largest" else min)(values, key=values.__getitem__)
    assert got["option"] == best
    for label, value in values.items():
        shown_value = got["values"][label]
        if math.isinf(value):
            assert shown_value == str(value)
        else:
            assert shown_value == pytest.approx(value, rel=1e-9)


def test_plain_vs_residual_starts_from_its_first_story():
    """The page's starting values (the contract's defaults, and the block's own activation
    and ordering) are the first story's toggles: the story box does not lie."""
    first = next(iter(STORIES.values()))
    for block in ("resnet_basic", "preact_basic", "mbconv"):
        spec = StackSpec.create(block)
        start = PAGES["plain_vs_residual"].starting_values(spec)
        assert {k: start[k] for k in first} == first
        assert start["act"] == spec.values["act"]
        assert start["preact"] == block.startswith("preact_")
        probe = gradflow.probe_for(spec, start)
        assert (probe.batch, probe.height, probe.block) == (4, 32, block)


# --- grading ---------------------------------------------------------------------------------

def _question(**fields) -> Question:
    return Question(**{"kind": "number", "ask": "?", "compute": "params", "explain": "",
                       **fields})


def test_grade_within_an_absolute_or_relative_tolerance():
    result = answer(_question(), LESSONS["cnn_vs_fully_connected"].steps[0].state)
    assert result.value == 432
    assert grade(_question(), result, 432).right
    wrong = grade(_question(), result, 400)
    assert not wrong.right and "7.4% off" in wrong.text and "432" in wrong.text
    assert grade(_question(tolerance=40), result, 400).right
    assert not grade(_question(tolerance=5, relative=True), result, 400).right
    assert grade(_question(tolerance=10, relative=True), result, 400).right
    assert "The answer is 432" in grade(_question(), result, None).text


def test_a_choice_that_ties_has_no_answer():
    step = LESSONS["receptive_field_growth"].steps[2]
    q = step.question
    assert q is not None and q.kind == "choice"
    tie = Question("choice", "?", "receptive_field", "", options=q.options, pick="largest")
    with pytest.raises(ValueError, match="tie"):
        answer(tie, step.state)


def test_a_global_field_is_no_number():
    state = LESSONS["mobile_blocks"].steps[2].state  # the SE block
    with pytest.raises(ValueError, match="global"):
        answer(_question(compute="receptive_field"), state)


# --- malformed files -------------------------------------------------------------------------

GOOD = """
title = "Good"
audience = "anyone"
duration = 5
concepts = ["stride"]

[[steps]]
page = "explorer"
block = "conv_bn_act"
input = [3, 9, 9]
params = { stride = 2 }
text = "A strided convolution."
sources = ["computed"]

[steps.question]
kind = "number"
ask = "Output height?"
compute = "output_height"
explain = "The floor."
"""

BAD = {  # file stem -> (the text, what the problem line must say)
    "missing_field": (GOOD.replace('title = "Good"\n', ""), ("title", "missing")),
    "unknown_block": (GOOD.replace("conv_bn_act", "resnot"),
                      ("step 1, block", "unknown block 'resnot'")),
    "out_of_range": (GOOD.replace("stride = 2", "stride = 9"),
                     ("step 1, params.stride", "stride = 9 is out of range")),
    "unknown_page": (GOOD.replace('page = "explorer"', 'page = "gallery"'),
                     ("step 1, page", "'gallery' is not a page")),
    "bad_kind": (GOOD.replace('kind = "number"', 'kind = "essay"'),
                 ("step 1, question, kind", "'essay' is not a question kind")),
    "syntax": (GOOD.replace('duration = 5', 'duration = = 5'),
               ("TOML syntax", "Invalid value (at line 4")),
    "typed_answer": (GOOD.replace('compute = "output_height"', 'answer = 5'),
                     ("step 1, question, answer", "never typed")),
    "bad_control": (GOOD.replace('text = "A', 'controls = { view = "Gallery" }\ntext = "A'),
                    ("step 1, controls.view", "'Gallery' is not one of")),
    # hostile values: a list or a table where a name goes (no dict key), 0 as a figure, a float
    # as a choice (4.0 would size a tensor), an infinite tolerance, deep nesting, 1e308
    "page_list": (GOOD.replace('"explorer"', '["explorer"]'), ("step 1, page", "must be text")),
    "block_table": (GOOD.replace('"conv_bn_act"', "{ a = 1 }"), ("step 1, block", "must be text")),
    "topic_list": (GOOD.replace('"explorer"', '"cost_lab"\ncontrols = { topic = ["x"] }'),
                   ("step 1, controls.topic", "['x'] is not one of")),
    "figure_zero": (GOOD.replace('text = "A', 'figure = 0\ntext = "A'), ("step 1, figure", "must")),
    "float_choice": (GOOD.replace('"explorer"', '"conv_arithmetic"\ncontrols={cb_kernel=4.0}'),
                     ("step 1, controls.cb_kernel", "4.0 is not one of 3, 4")),
    "tolerance_inf": (GOOD.replace("explain", "tolerance = inf\nexplain"),
                      ("step 1, question, tolerance", "must be a finite number")),
    "nested": (GOOD.replace('["stride"]', "[" * 10**5 + "]" * 10**5),
               ("TOML syntax", "nested too deeply")),
    "float_param": (GOOD.replace("stride = 2", "stride = 1e308"),
                    ("step 1, params.stride", "stride = 1e+308 is out of range")),
    # every value in range, the stack over the budget: 'ok' before, then refused in the app
    "over_budget": (GOOD.replace("input = [3, 9, 9]", "input = [64, 512, 512]\nbatch = 64"),
                    ("step 1", "the page would refuse it: This step's stack would hold")),
}


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    (tmp_path / "good.toml").write_text(GOOD)
    for stem, (text, _) in BAD.items():
        (tmp_path / f"{stem}.toml").write_text(text)
    return tmp_path


def test_the_good_lesson_is_valid(tmp_path):
    (tmp_path / "good.toml").write_text(GOOD)
    lesson, problems = read_lesson(tmp_path / "good.toml")
    assert not problems and isinstance(lesson, Lesson)
    step = lesson.steps[0]
    assert step.question is not None and answer(step.question, step.state).value == 5


def test_each_malformed_file_names_file_field_and_problem_and_the_rest_load(lesson_dir):
    catalog = load_lessons(lesson_dir)
    assert [lesson.name for lesson in catalog.lessons] == ["good"]
    for stem, (_, (where, what)) in BAD.items():
        found = [p for p in catalog.problems if Path(p.file).stem == stem]
        assert len(found) == 1, (stem, [str(p) for p in found])
        line = str(found[0])
        assert line.startswith(f"{lesson_dir / stem}.toml: {where}: "), line
        assert what in line, line
        assert "\n" not in line
    with pytest.raises(LookupError):
        load_lesson("nope", lesson_dir)


def test_several_problems_in_one_file_are_all_reported(tmp_path):
    text = (GOOD.replace("conv_bn_act", "nope").replace('kind = "number"', 'kind = "x"')
            .replace("duration = 5", "duration = 0"))
    (tmp_path / "many.toml").write_text(text)
    _, problems = read_lesson(tmp_path / "many.toml")
    assert {p.where for p in problems} == {"duration", "step 1, block",
                                           "step 1, question, kind"}


@pytest.mark.parametrize(("make", "what"), [
    (Path.mkdir, "not a regular file (a folder)"),
    (os.mkfifo, "not a regular file (a pipe)"),  # opened, it would wait for a writer
    (lambda path: path.symlink_to("/dev/zero"), "not a regular file (a device)"),  # endless
    (lambda path: path.write_text(GOOD + "#" * MAX_BYTES), "over the 256 KB"),
], ids=["folder", "pipe", "link_to_dev_zero", "huge"])
def test_only_a_regular_file_of_a_lesson_size_is_read(tmp_path, capsys, make, what):
    """The catalog (the app's) and `lesson check` read through one function: one line."""
    make(tmp_path / "odd.toml")
    (tmp_path / "good.toml").write_text("\ufeff" + GOOD, encoding="utf-8")  # a BOM is dropped
    catalog = load_lessons(tmp_path)
    assert [lesson.name for lesson in catalog.lessons] == ["good"]
    assert [p.where for p in catalog.problems] == ["file"] and what in catalog.problems[0].what
    assert main(["lesson", "check", str(tmp_path / "odd.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path / 'odd.toml'}: file: ") and what in err
    assert err.count("\n") == 1 and "no such file" not in err


# --- the CLI ---------------------------------------------------------------------------------

def test_lesson_check_exit_codes_and_one_line_per_problem(lesson_dir, capsys):
    assert main(["lesson", "check", str(lesson_dir / "good.toml")]) == 0
    assert "ok, 1 steps, 1 questions" in capsys.readouterr().out
    bad = [str(lesson_dir / f"{stem}.toml") for stem in BAD]
    assert main(["lesson", "check", *bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(BAD)
    for line, (_, (where, what)) in zip(err, BAD.values()):
        assert f": {where}: " in line and what in line
    assert main(["lesson", "check", str(lesson_dir / "absent.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_lesson_check_reports_a_question_cnnviz_cannot_answer(tmp_path, capsys):
    text = GOOD.replace("conv_bn_act", "se").replace("params = { stride = 2 }", "") \
        .replace('compute = "output_height"', 'compute = "receptive_field"')
    (tmp_path / "global.toml").write_text(text)
    assert main(["lesson", "check", str(tmp_path / "global.toml")]) == 2
    err = capsys.readouterr().err
    assert "step 1, question: cnnviz cannot answer it" in err and "global" in err


def test_lessons_lists_the_good_ones_and_exits_2_for_the_bad(lesson_dir, capsys):
    assert main(["lessons", "--dir", str(lesson_dir), "--json"]) == 2
    captured = capsys.readouterr()
    listed = json.loads(captured.out)
    assert [lesson["name"] for lesson in listed] == ["good"]
    assert listed[0]["steps"][0]["question"]["answer"] == 5
    assert listed[0]["steps"][0]["url"] == "explorer?lesson=good&step=1"
    assert len(captured.err.strip().splitlines()) == len(BAD)
    assert main(["lessons", "--dir", str(lesson_dir / "none")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["lessons", "--dir", ""]) == 2  # not "." (whose pyproject.toml is no lesson)
    assert "--dir is empty" in capsys.readouterr().err


def test_text_listing_shows_urls_and_answers(lesson_dir, capsys):
    (lesson_dir / "syntax.toml").unlink()
    for stem in BAD:
        (lesson_dir / f"{stem}.toml").unlink(missing_ok=True)
    assert main(["lessons", "--dir", str(lesson_dir)]) == 0
    out = capsys.readouterr().out
    assert "good: Good (5 min, 1 steps)" in out
    assert "[explorer?lesson=good&step=1]" in out and "A: 5  (output_height, tolerance 0)" in out


def test_the_bundled_lessons_check_clean(capsys):
    files = [str(LESSON_DIR / f"{lesson.name}.toml") for lesson in CATALOG.lessons[:2]]
    assert main(["lesson", "check", *files]) == 0
    assert capsys.readouterr().out.count(": ok,") == 2


def test_the_readme_example_is_a_lesson_that_plays(tmp_path):
    readme = (LESSON_DIR.parents[1] / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "stride.toml").write_text(example)
    lesson, problems = read_lesson(tmp_path / "stride.toml")
    assert not problems and lesson is not None and len(lesson.steps) == 2
    first = lesson.steps[0]
    assert first.question is not None and answer(first.question, first.state).value == 3
    assert lesson.steps[1].state.stack.values["stride"] == 2  # carried over


BAD_STACK = """
title = "Bad"
audience = "x"
duration = 5
concepts = ["x"]

[[steps]]
title = "too small"
page = "explorer"
block = "conv_bn_act"
input = [3, 16, 16]
text = "x"
sources = ["computed"]

[steps.question]
kind = "choice"
ask = "?"
compute = "params"
pick = "largest"
explain = "x"
options = [ { label = "a", params = { kernel_size = 9, padding = 0 }, input = [3, 4, 4] },
            { label = "b" } ]

[[steps]]
title = "also too small"
input = [3, 4, 4]
params = { kernel_size = 7, padding = 0 }
text = "x"
sources = ["computed"]
"""


def test_a_stack_that_fails_the_walk_is_a_problem_line_and_hides_no_other_lesson(tmp_path):
    """It once raised out of the reader: `lesson check bad good` never checked good, and
    the Lessons page's catalog raised."""
    from cnnviz.lessons import load_lessons
    (tmp_path / "bad.toml").write_text(BAD_STACK)
    good = LESSON_DIR / "output_size.toml"
    (tmp_path / "good.toml").write_text(good.read_text())
    catalog = load_lessons(tmp_path)
    assert [lesson.name for lesson in catalog.lessons] == ["good"]
    wheres = sorted(p.where for p in catalog.problems)
    assert wheres == ["step 1, question, option 1", "step 2"]
    assert all(p.file.endswith("bad.toml") and "kernel spans" in p.what
               for p in catalog.problems)
    result = subprocess.run([sys.executable, "-m", "cnnviz", "lesson", "check",
                             str(tmp_path / "bad.toml"), str(tmp_path / "good.toml")],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "good.toml: ok" in result.stdout
    assert result.stderr.count("bad.toml: step") == 2


_NUMBER = re.compile(r"(?<![\w.^_{])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w^_}])")
_MATH = re.compile(r"\$[^$]*\$")  # derivations in LaTeX show intermediate numbers


_REFERENCE = re.compile(r"(§|Fig\.|Figs\.|Table|Eqs?\.|Section)\s*\d+(\.\d+)*")  # citations


def _prose_numbers(text: str) -> list[float]:
    prose = _REFERENCE.sub(" ", _MATH.sub(" ", text))
    return [float(m.group(1).replace(",", "")) for m in _NUMBER.finditer(prose)]


@pytest.mark.parametrize("lesson, step", QUESTIONS, ids=[f"{lesson.name}-{step.number}"
                                                          for lesson, step in QUESTIONS])
def test_the_text_neither_gives_away_nor_contradicts_the_computed_answer(lesson, step):
    """Before the reveal the learner sees the step's text and the question: neither may
    print the answer cnnviz computes (a number of three digits or more). After it, the
    explanation's prose may not quote a number close to the answer but different (a text
    written for other values than the step's)."""
    q = step.question
    result = answer(q, step.state)
    if isinstance(result.value, str):  # a choice: every option is named, by design
        return
    value, shown = float(result.value), result.text()
    if math.isfinite(value) and len(re.sub(r"[^1-9]", "", shown.lstrip("-0"))) >= 2 \
            and len(shown.replace(",", "").replace(".", "").lstrip("-")) >= 3:
        assert shown not in step.text + " " + q.ask, f"the text gives away {shown}"
    if value and math.isfinite(value):
        for x in _prose_numbers(q.explain):
            if 0.8 <= x / abs(value) <= 1.25:
                assert abs(x - abs(value)) <= 0.006 * abs(value), \
                    f"the explanation says {x:g}, cnnviz computes {shown}"


@pytest.mark.parametrize("line, problem", [
    ("", "sources: missing"),
    ('sources = []', "must be a list of non-empty texts"),
    ('sources = ["computed", "He et al. 2016"]', "stands alone"),
])
def test_every_step_names_its_sources(tmp_path, line, problem):
    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace('sources = ["computed"]', line))
    lesson, problems = read_lesson(path)
    assert lesson is None and any(problem in str(p) for p in problems), problems


def test_a_step_that_names_a_paper_cannot_say_computed(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace('"A strided convolution."',
                                 '"A strided convolution halves the map (He et al. 2016)."'))
    lesson, problems = read_lesson(path)
    assert lesson is None and "names a paper's result ('et al')" in str(problems[0])
    path.write_text(GOOD.replace('"A strided convolution."', '"Halved (Dumoulin 2016)."')
                    .replace('["computed"]', '["Dumoulin & Visin 2016, §2.2"]'))
    lesson, problems = read_lesson(path)
    assert not problems and lesson.steps[0].sources == ("Dumoulin & Visin 2016, §2.2",)


def test_latex_with_one_backslash_in_a_toml_string_is_a_problem(tmp_path):
    # "$3\times3$" in a TOML basic string holds a tab: the page would show "3imes3"
    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace('"A strided convolution."', '"A strided $3\\times3$ kernel."'))
    lesson, problems = read_lesson(path)
    assert lesson is None and "written twice" in str(problems[0])
    path.write_text(GOOD.replace('"A strided convolution."', '"A strided $3\\\\times3$ kernel."'))
    assert read_lesson(path)[0] is not None


# --- presenter mode keeps what a step sends the learner to --------------------------------

@pytest.mark.parametrize("text, problem", [
    ("Drag the sliders to move the pixel.", "without naming it"),
    ("Press the button below.", "without naming it"),
    ("Change the depth in the sidebar.", "hides the sidebar"),
])
def test_a_step_that_sends_to_a_control_it_does_not_name_fails_the_check(tmp_path, text,
                                                                         problem):
    from cnnviz.lessons.rules import presenter_problems

    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace('"A strided convolution."', repr(text).replace("'", '"')))
    lesson, problems = read_lesson(path)
    assert lesson is not None and not problems
    assert any(problem in str(p) for p in presenter_problems(lesson))
    assert main(["lesson", "check", str(path)]) == 2


def test_every_shipped_step_names_the_controls_it_sends_to():
    from cnnviz.lessons.rules import presenter_problems

    assert [str(p) for lesson in load_lessons().lessons
            for p in presenter_problems(lesson)] == []


def test_a_named_control_or_tool_is_found_by_its_label_in_any_case():
    page = PAGES["plain_vs_residual"]
    named = page.named_in("A **bold** claim. Press *train the three stacks* at the\nbottom, "
                          "the *Loss* aside.")
    assert [c.name for c in named] == ["loss", "train"]
    assert page.kept_sections([page.control("train").key]) == [page.section("degradation")]
    assert page.named_in("the loss of a deep stack with batch norm") == []  # words, no names
