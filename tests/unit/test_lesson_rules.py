"""The question rules of `cnnviz lesson check` (cnnviz.lessons.rules): no title, text or ask
gives the computed answer away, and a tolerance grades what the text lets a learner derive.
Each rule has a lesson that passes and one that fails, written in tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.lessons import answer, load_lessons, read_lesson
from cnnviz.lessons.rules import question_problems
from cnnviz.lessons.written import numbers

HEAD = """
title = "Rules"
audience = "anyone"
duration = 5
concepts = ["x"]
"""

# The inverted residual on 16 channels (t = 6): its widest map has 96 channels.
WIDEST = HEAD + """
[[steps]]
title = "{title}"
page = "explorer"
block = "inverted_residual"
input = [16, 32, 32]
sources = ["computed"]
text = "{text}"

[steps.question]
kind = "number"
ask = "{ask}"
compute = "widest_channels"
explain = "x"
"""

# One 3×3 convolution from 16 to 16 channels on 32×32 (params = 2,320 with its bias...).
PARAMS = HEAD + """
[[steps]]
page = "explorer"
block = "conv_bn_act"
input = [16, 32, 32]
sources = ["computed"]
text = "{text}"

[steps.question]
kind = "number"
ask = "How many parameters?"
compute = "params"
tolerance = {tolerance}
explain = "{explain}"
"""

CHOICE = HEAD + """
[[steps]]
page = "explorer"
block = "conv_bn_act"
input = [16, 16, 16]
sources = ["computed"]
text = "{text}"

[steps.question]
kind = "choice"
ask = "Which design learns fewer weights?"
compute = "params"
pick = "smallest"
explain = "x"
options = [ {{ label = "one 5×5 layer", params = {{ kernel_size = 5, padding = 2 }} }},
            {{ label = "a 3×3 layer", params = {{ kernel_size = 3, padding = 1 }} }} ]
"""

# log10 of the plain stack's gradient ratio at torch's default init: about -8 (±1 asked).
LOG = HEAD + """
[[steps]]
page = "plain_vs_residual"
block = "resnet_basic"
input = [16, 32, 32]
controls = {{ depth = 10, norm = "none", init = "torch", zero_init_last = false }}
sources = ["computed"]
text = "{text}"

[steps.question]
kind = "number"
ask = "log10 of the first layer's gradient over the last's?"
compute = "gradient_orders"
args = {{ stack = "plain" }}
tolerance = {tolerance}
explain = "{explain}"
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    lesson, problems = read_lesson(path)
    assert lesson is not None, problems
    answers = {s.number: answer(s.question, s.state) for s in lesson.steps if s.question}
    return [str(p) for p in question_problems(lesson, answers)]


def test_numbers_are_read_from_markdown_and_latex():
    def values(text):
        return [w.value for w in numbers(text)]

    assert values("expands the **16** input channels by $t = 6$") == [16, 6]
    assert values("4,718,592 and 4\\,718\\,592") == [4718592, 4718592]
    assert values("a $3\\times3$ and a 5x5") == [3, 3, 5, 5]
    assert values("0.25, 1e-3, 86.5%, 15.5 G, 61 million") == \
        [0.25, 0.001, 86.5, 15.5e9, 61e6]
    assert values("2⁻¹⁹ and 10^{-8} and −7.4") == [2.0 ** -19, 1e-8, -7.4]
    assert values("twelve blocks") == [12]
    # citations and names are no quantities
    assert values("ResNet-50, EfficientNet-B0, log10, conv2d (He et al. 2016, §4.1, "
                  "Fig. 5; Table 3)") == []


# --- giveaways ---------------------------------------------------------------------------

def test_a_one_step_product_in_the_text_gives_the_answer_away(tmp_path):
    bad = WIDEST.format(title="Narrow, wide, narrow",
                        text="A 1×1 expands the 16 input channels by $t = 6$.",
                        ask="How many channels does the depthwise convolution work on?")
    found = _problems(tmp_path, bad)
    assert len(found) == 1
    assert "rules.toml: step 1, text: gives the answer away in one step" in found[0]
    assert "16 × 6 = 96" in found[0]
    good = WIDEST.format(title="Narrow, wide, narrow",
                         text="A 1×1 expands the channels, a depthwise 3×3 filters them, "
                              "and a 1×1 projects back.",
                         ask="How many channels does the depthwise convolution work on?")
    assert _problems(tmp_path, good) == []


def test_the_answer_written_in_the_title_or_ask_is_a_giveaway(tmp_path):
    bad = WIDEST.format(title="Up to 96 channels", text="An inverted residual.",
                        ask="How many channels does the depthwise convolution work on?")
    found = _problems(tmp_path, bad)
    assert len(found) == 1 and "step 1, title: gives the answer away" in found[0]
    assert "'96'" in found[0]


def test_small_answers_settings_and_number_words_are_not_flagged(tmp_path):
    # 16 is the step's own input; "six" is a word (counts things), never an operand
    good = WIDEST.format(title="Narrow, wide, narrow", text="The 16 input channels grow "
                         "six-fold inside, in one of six blocks.",
                         ask="How many channels does the depthwise convolution work on?")
    assert _problems(tmp_path, good) == []
    # answer 16 (the output channels) equals the input's 16: the question's premise
    premise = WIDEST.format(title="x", text="A 16-channel input, 32 × 32.",
                            ask="How many channels leave the block?").replace(
        "widest_channels", "output_channels")
    assert _problems(tmp_path, premise) == []


def test_a_written_sum_counts_but_two_numbers_side_by_side_do_not_add(tmp_path):
    text = PARAMS.format(text="{}", tolerance=0, explain="x")
    path = tmp_path / "p.toml"
    path.write_text(text.replace('"{}"', '"x"'))
    lesson, _ = read_lesson(path)
    assert lesson is not None and lesson.steps[0].question is not None
    truth = int(answer(lesson.steps[0].question, lesson.steps[0].state).value)
    written = f"The conv learns {truth - 100} + 100 numbers."
    assert any("+ 100" in p for p in _problems(tmp_path, PARAMS.format(
        text=written, tolerance=0, explain="x")))
    apart = f"A branch of {truth - 100} channels; another of 100."
    assert _problems(tmp_path, PARAMS.format(text=apart, tolerance=0, explain="x")) == []


def test_a_choice_text_naming_the_winner_with_the_asks_comparison_is_a_giveaway(tmp_path):
    bad = CHOICE.format(text="The 3×3 layer needs fewer weights, as VGG showed.")
    found = _problems(tmp_path, bad)
    assert len(found) == 1 and "step 1, text: gives the choice away" in found[0]
    assert "'a 3×3 layer' is the answer" in found[0]
    than = CHOICE.format(text="A 3×3 layer is cheaper than one 5×5 layer.")
    assert len(_problems(tmp_path, than)) == 1
    for text in ("Compare a 3×3 layer with one 5×5 layer.",
                 "Which needs fewer weights: a 3×3 layer or a 5×5?",
                 "A 3×3 layer sees less of the image than one 5×5 layer does? Not here."):
        assert _problems(tmp_path, CHOICE.format(text=text)) == [], text


# --- tolerance ---------------------------------------------------------------------------

def test_a_band_wider_than_a_quarter_of_the_answer_grades_a_guess(tmp_path):
    bad = _problems(tmp_path, PARAMS.format(text="x", tolerance='"40%"', explain="x"))
    assert len(bad) == 1 and "step 1, question, tolerance: ±40% is 40% of the answer" in bad[0]
    assert _problems(tmp_path, PARAMS.format(text="x", tolerance='"20%"', explain="x")) == []


@pytest.mark.slow
def test_a_log10_band_needs_the_scale_and_covers_the_steps_own_estimate(tmp_path):
    no_scale = _problems(tmp_path, LOG.format(text="Ten plain blocks.", tolerance=1,
                                              explain="x"))
    assert len(no_scale) == 1 and "nothing before the reveal gives the scale" in no_scale[0]
    scale = "Each weight has variance $1 / (3 \\\\cdot \\\\mathrm{fan\\\\_in})$."
    assert _problems(tmp_path, LOG.format(text=scale, tolerance=1, explain="x")) == []
    assert _problems(tmp_path, LOG.format(text="Ten plain blocks.", tolerance=0.5,
                                          explain="x")) == []
    wrong = _problems(tmp_path, LOG.format(text=scale, tolerance=1,
                                           explain="A factor of 2⁻¹⁰ over ten blocks."))
    assert len(wrong) == 1 and "own estimate '2^{-10}'" in wrong[0]


def test_tolerance_0_on_a_fraction_accepts_only_the_exact_float(tmp_path):
    text = HEAD + """
[[steps]]
page = "cost_lab"
block = "conv_bn_act"
controls = { topic = "depthwise separable" }
sources = ["computed"]
text = "x"

[steps.question]
kind = "number"
ask = "The separable version costs what fraction of the standard convolution's MACs?"
compute = "macs_ratio"
tolerance = TOL
explain = "x"
"""
    found = _problems(tmp_path, text.replace("TOL", "0"))
    assert len(found) == 1 and "tolerance 0 on 0.1" in found[0]
    assert _problems(tmp_path, text.replace("TOL", "0.005")) == []


def test_lesson_check_reports_the_rules_one_line_each(tmp_path, capsys):
    bad = WIDEST.format(title="Up to 96 channels", text="A 1×1 expands the 16 input "
                        "channels by $t = 6$.", ask="How wide is the depthwise map?")
    (tmp_path / "bad.toml").write_text(bad)
    assert main(["lesson", "check", str(tmp_path / "bad.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{tmp_path / 'bad.toml'}: step 1, title: ")


# --- the shipped lessons -------------------------------------------------------------------

SHIPPED = load_lessons().lessons


@pytest.mark.slow
@pytest.mark.parametrize("lesson", SHIPPED, ids=[lesson.name for lesson in SHIPPED])
def test_every_shipped_question_keeps_the_rules(lesson):
    answers = {s.number: answer(s.question, s.state) for s in lesson.steps if s.question}
    problems = question_problems(lesson, answers)
    assert not problems, "\n".join(map(str, problems))
