"""Question rules that a script can check: no giveaways, and tolerances a learner can meet.

`cnnviz lesson check` runs these on every question after computing its answer. Before the
reveal a learner sees the step's title, its text and the question's ask (and a choice's
option labels); the page itself is veiled. So those are what the rules read.

Giveaways (`giveaways`):
  * The seen text writes a number a guess of which would be graded right (inside the
    question's band, either sign), or two numbers whose product or quotient is the answer
    (within 1%, and inside the band): "expands the 16 input channels by t = 6" when the
    answer is 96. A sum or a difference counts only when written as one ("64 + 580"): two
    numbers that merely appear together add up to common answers by chance (the Inception
    step writes 192 and 64, and its answer 256 is the sum of four branches). Number words
    ("four branches") count things and are never operands; log10 answers get no one-step
    check (any quotient of two counts lands in a ±1 band).
  * Only an answer that is not trivially small is checked (|answer| >= 10, or not a whole
    number): 2, 3 or 4 are written in every step for other reasons. A written number counts
    on its own only under the same condition (so "4 blocks" never gives away 3.99); as an
    operand, any number but 0 and 1 counts.
  * A number written on its own that equals one of the step's own settings (the input's
    channels, height or width, a block parameter, a page control) is not a giveaway: the
    learner needs it to reason, and the picker shows it anyway ("a 64×64 input" when a U-Net
    returns 64 rows is the question's premise). A one-step product of settings is still
    flagged: the text then does the step the question asks for. A product with a number
    the ask itself gives is not: the ask states the question's data ("A 5×5 input, kernel
    4, stride 2, padding 1: how tall?"), and whether a shortcut such as 5 × 2 happens to
    match the formula is the lesson's point, not a giveaway.
  * For a log10 quantity, a power written in the text (10⁻⁸, 1e-8, 2⁻¹⁹) counts by its log10.
    For a percentage, 100 − p of a written "p%" counts as one step.
  * Numbers are read from Markdown and LaTeX: 16, 0.25, 1e-3, 4,718,592, 4\\,718\\,592,
    3×3 (two numbers), 3x3, $3 \\times 3$, 10^{-3}, 2⁻¹⁹, "15.5 G", "61 million", and the
    words two to twelve, twenty ... ninety. Not read: years (1950-2035, the citations'),
    what follows §, Fig., Table, Eq. or Section, and digits in names (ResNet-50, B0, log10).
    An answer that is itself such a year or reference number is therefore never caught.
  * Choice questions: a sentence of the title or text (not a question) that uses the ask's
    own comparison word (or one of the same direction: fewer/less/smaller/cheaper..., or
    more/larger/wider...) within six words of a word only the winning option's label has,
    and no word of another option's; or "<winner> <comparison> ... than <other>". Not
    caught: a title or
    sentence that implies the winner without the comparison word ("Depth without a wider
    view"), a mechanism that decides it, the winner's name in other words than its label's,
    or a loser named with the opposite comparison (tried and dropped: "the inverted
    bottleneck (narrow ends, four times wider inside)" describes a design, not the answer).
    The numeric rule cannot see those either: a reader must.

Tolerance (`tolerance_problems`):
  * A band wider than 25% of the answer either way (not for log10 quantities, nor an
    answer of 0) grades a guess: ask it as a choice, or narrow it.
  * A log10 quantity with an absolute tolerance of 1 or more (a factor of 10 either way)
    needs the text or ask to give the scale: a formula (LaTeX, "=", a fraction such as
    2 / fan_in, or a power). Whether the formula is the right one a script cannot tell.
  * For a log10 quantity, an estimate the step writes itself (a power such as 2⁻¹⁹, or
    "5.7 orders", in the text, ask or explanation) outside the band is graded wrong.
  * An answer that is not a whole number with tolerance 0 accepts only the exact float.
  What a script cannot check: whether a narrow tolerance is really derivable from the
  words (that the text "says how"); a reader must.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from itertools import combinations
from typing import Any

from cnnviz.lessons.answers import QUANTITIES
from cnnviz.lessons.grading import Answer, band, number_text
from cnnviz.lessons.model import Lesson, Problem, Question, Step
from cnnviz.lessons.written import SMALL, Written, numbers, plain_text
from cnnviz.pages import PAGES, PLAYER_TOOLS

NEAR = 0.01  # a one-step result this close to the answer states it (not a neighbour)
GUESS_BAND = 0.25  # a band wider than this share of the answer, either way, grades a guess
LOG_SCALE = 1.0  # an absolute log10 tolerance from which the text must give the scale


# --- what the learner sees before the reveal -------------------------------------------

def _seen(step: Step) -> list[tuple[str, str]]:
    q = step.question
    out = [("title", step.title), ("text", step.text)]
    if q is not None:
        out.append(("question, ask", q.ask))
        out += [("question, options", o.label) for o in q.options]
    return out


def _is_log(q: Question) -> bool:
    return "log10" in QUANTITIES[q.compute].label


def _is_percent(q: Question) -> bool:
    return "percent" in QUANTITIES[q.compute].label


def _settings(step: Step) -> set[float]:
    """The step's own numbers: its input's shape, its block's parameters, its controls."""
    out: set[float] = set()
    spec = step.state.spec
    values: list[Any] = [v for _, v in step.state.controls]
    if spec is not None:
        values += [spec.in_channels, spec.height, spec.width, spec.depth]
        values += list(spec.values.values())
    for v in values:
        items = v if isinstance(v, (list, tuple)) else [v]
        out |= {float(x) for x in items if isinstance(x, (int, float))}
    return out


def _where(step: Step, fields: Iterable[str]) -> str:
    fields = sorted(set(fields))
    return f"step {step.number}, {fields[0]}" if len(fields) == 1 else f"step {step.number}"


def giveaways(lesson: Lesson, step: Step, result: Answer) -> list[Problem]:
    """Where the step's title, text, ask or labels give away the computed answer."""
    q = step.question
    if q is None:
        return []
    if isinstance(result.value, str):
        return _choice_giveaways(lesson, step, q, result.value)
    truth = float(result.value)
    if not math.isfinite(truth) or truth == 0 or (abs(truth) < SMALL
                                                  and float(truth).is_integer()):
        return []
    low, high = band(q, truth)

    def right(x: float) -> bool:
        return low <= x <= high or low <= -x <= high

    seen = [w for field, text in _seen(step) for w in numbers(text, field)]
    settings = _settings(step)
    problems: list[Problem] = []
    said = f"the answer is {result.text()}"
    for w in seen:
        if w.distinct and right(w.value) and w.value not in settings:
            problems.append(Problem(lesson.file, _where(step, [w.field]),
                                    f"gives the answer away: it writes {w.text!r} and {said} "
                                    f"(a guess of {number_text(w.value)} is graded right)."))
        elif _is_log(q) and w.power and w.value > 0 and right(math.log10(w.value)):
            problems.append(Problem(lesson.file, _where(step, [w.field]),
                                    f"gives the answer away: it writes {w.text!r}, whose log10 "
                                    f"is {math.log10(w.value):.3g}; {said}."))
        elif _is_percent(q) and w.percent and right(100 - w.value):
            problems.append(Problem(lesson.file, _where(step, [w.field]),
                                    f"gives the answer away: it writes {w.text!r}, and 100 − "
                                    f"{number_text(w.value)} = {number_text(100 - w.value)}; "
                                    f"{said}."))
    if problems or _is_log(q):  # a log10 band of ±1 is hit by any quotient of counts
        return problems
    near = max(NEAR * abs(truth), 1e-9)
    operands = [w for w in seen if not w.word and w.value not in (0.0, 1.0, -1.0)]
    shown: set[tuple[str, ...]] = set()
    for a, b in combinations(operands, 2):
        for x, symbol, y, value in _one_step(a, b):
            if not (right(value) and abs(abs(value) - abs(truth)) <= near):
                continue
            if truth in (abs(x.value), abs(y.value)):
                continue  # 32 − 16 = 16: the direct rule judged the 16 itself
            if "question, ask" in (x.field, y.field):
                continue  # the ask's own data (see the module's docstring)
            key = (*sorted((x.text, y.text)), symbol)
            if key in shown:
                continue
            shown.add(key)
            problems.append(Problem(
                lesson.file, _where(step, [x.field, y.field]),
                f"gives the answer away in one step: it writes {x.text!r} and {y.text!r}, "
                f"and {number_text(x.value)} {symbol} {number_text(y.value)} = "
                f"{number_text(value)}; {said}."))
    for field, text in _seen(step):
        for m in _SUM.finditer(plain_text(text)):
            u, v = float(m.group(1).replace(",", "")), float(m.group(3).replace(",", ""))
            value = u + v if m.group(2) == "+" else u - v
            if right(value) and abs(abs(value) - abs(truth)) <= near:
                problems.append(Problem(lesson.file, _where(step, [field]),
                                        f"gives the answer away in one step: it writes "
                                        f"{m.group(0)!r} = {number_text(value)}; {said}."))
    return problems


_SUM = re.compile(r"(?<![\w.^{])(\d[\d,]*(?:\.\d+)?)\s*([+-])\s*(\d[\d,]*(?:\.\d+)?)(?![\w.^])")


def _one_step(a: Written, b: Written) -> Iterator[tuple[Written, str, Written, float]]:
    """The product and the quotients of two written numbers."""
    yield a, "×", b, a.value * b.value
    yield a, "÷", b, a.value / b.value
    yield b, "÷", a, b.value / a.value


# --- choice questions -------------------------------------------------------------------

_FEWER = {"fewer", "fewest", "less", "least", "smaller", "smallest", "cheaper", "cheapest",
          "lower", "lowest", "narrower", "narrowest", "shorter", "shortest"}
_MORE = {"more", "most", "larger", "largest", "bigger", "biggest", "greater", "greatest",
         "wider", "widest", "higher", "highest", "longer", "longest", "costlier"}
NEAR_WORDS = 6  # a comparison this many words from the winner's name is about it
_STOP = {"a", "an", "the", "of", "on", "off", "in", "at", "to", "and", "or", "with", "without",
         "then", "its", "by", "for", "first", "one", "two", "three", "block", "blocks", "layer",
         "layers", "stack", "network", "design", "convolution", "skip", "is", "no", "only"}
_TOKEN = re.compile(r"[a-z0-9][a-z0-9-]*")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n\s*\n", text) if s.strip()]


def _choice_giveaways(lesson: Lesson, step: Step, q: Question, winner: str) -> list[Problem]:
    asked = set(_tokens(q.ask))
    if asked & _FEWER:
        same = _FEWER
    elif asked & _MORE:
        same = _MORE
    else:
        return []  # the ask compares with a word the rule does not know: nothing reliable
    labels = {o.label: set(_tokens(o.label)) - _STOP for o in q.options}
    own = {label: words - set().union(*(w for other, w in labels.items() if other != label))
           for label, words in labels.items()}
    losers = [label for label in labels if label != winner]
    problems = []
    for field, text in _seen(step)[:2]:  # the title and the text; the ask and labels name all
        for sentence in _sentences(text):
            if sentence.rstrip().endswith("?"):
                continue
            words = _tokens(sentence)
            names = {label: [i for i, w in enumerate(words) if w in own[label]]
                     for label in labels}
            compare = [i for i, w in enumerate(words) if w in same]
            others = [i for label in losers for i in names[label]]
            than = [i for i, w in enumerate(words) if w == "than"]
            says = ""
            close = [c for c in compare if any(abs(c - i) <= NEAR_WORDS for i in names[winner])]
            if close and not others:
                says = f"names {winner!r} with {words[close[0]]!r}"
            elif (compare and names[winner] and than and others
                  and min(names[winner]) < compare[0] < than[0] < min(others)):
                says = f"says {winner!r} is {words[compare[0]]} than another option"
            if says:
                problems.append(Problem(lesson.file, f"step {step.number}, {field}",
                                        f"gives the choice away: {' '.join(sentence.split())!r} "
                                        f"{says}, and {winner!r} is the answer."))
    return problems


# --- tolerance -------------------------------------------------------------------------

_FORMULA = re.compile(r"\$[^$]+\$|=|\d\s*/\s*[\w(]|[\w)]\s*/\s*\d|\^|[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]")
# "5.7 orders" is an estimate; "±2 orders" is a tolerance and "1.7 orders more" a gap
_ORDERS = re.compile(r"(?<![±\d.])(\d+(?:\.\d+)?)\s+orders(?!\s+(?:of\s+magnitude\s+)?"
                     r"(?:more|less|fewer|either))")


def tolerance_problems(lesson: Lesson, step: Step, result: Answer) -> list[Problem]:
    """A number question whose tolerance grades a guess, or misses the step's own estimate."""
    q = step.question
    if q is None or q.kind != "number" or isinstance(result.value, str):
        return []
    truth = float(result.value)
    if not math.isfinite(truth):
        return []
    where = f"step {step.number}, question, tolerance"
    low, high = band(q, truth)
    half = (high - low) / 2
    out = []
    if not _is_log(q):
        if truth and half - 1e-9 * max(1.0, abs(truth)) > GUESS_BAND * abs(truth):
            out.append(Problem(lesson.file, where, f"±{q.tolerance_text()} is "
                               f"{100 * half / abs(truth):.0f}% of the answer "
                               f"{result.text()}: a band this wide grades a guess; ask it "
                               f"as a choice, or narrow it to what the text lets a learner "
                               f"compute."))
    else:
        if not q.relative and q.tolerance >= LOG_SCALE and not any(
                _FORMULA.search(text) for field, text in _seen(step)[1:3]):
            out.append(Problem(lesson.file, where, f"±{q.tolerance_text()} order of "
                               f"magnitude is a factor of {10 ** q.tolerance:g} either way, "
                               f"and nothing before the reveal gives the scale: state it "
                               f"(a formula, e.g. the weights' variance), or ask the sign "
                               f"or a choice."))
        for estimate, text in _estimates(step):
            if not (low <= estimate <= high or low <= -estimate <= high):
                out.append(Problem(lesson.file, where, f"the step's own estimate {text!r} "
                                   f"(log10 {abs(estimate):.3g}) is graded wrong against "
                                   f"{result.text()} ±{q.tolerance_text()}: say what it "
                                   f"leaves out, or widen the tolerance."))
    if q.tolerance == 0 and not float(truth).is_integer():
        out.append(Problem(lesson.file, where, f"tolerance 0 on {result.text()}, which is not a "
                           f"whole number: only the exact value is graded right; give a "
                           f"tolerance."))
    return out


def _estimates(step: Step) -> list[tuple[float, str]]:
    """The log10 estimates a step writes: a power (2⁻¹⁹, 10^{-8}) or "N orders"."""
    q = step.question
    assert q is not None
    out = []
    for text in (step.text, q.ask, q.explain):
        for w in numbers(text):
            if w.power and w.value > 0 and abs(math.log10(w.value)) >= 1:
                out.append((math.log10(w.value), w.text))
        for m in _ORDERS.finditer(plain_text(text)):
            out.append((float(m.group(1)), m.group(0)))
    return out


def question_problems(lesson: Lesson, answers: dict[int, Answer]) -> list[Problem]:
    """Every rule on every question with a computed answer (step number -> answer)."""
    out: list[Problem] = []
    for step in lesson.steps:
        result = answers.get(step.number)
        if step.question is None or result is None:
            continue
        out += giveaways(lesson, step, result)
        out += tolerance_problems(lesson, step, result)
    return out


# Words that send the learner to a widget. Presenter mode hides the page's widgets a step
# does not set, and the sidebar: a step that says "press" or "drag" must name what by the
# label the page shows, in italics, so that presenter mode keeps it
# (cnnviz.ui.lessons.presenter).
_USE = re.compile(r"\b(press|drag|click|tick|switch on|turn on)\b", re.IGNORECASE)
_SIDEBAR = re.compile(r"\bsidebar\b", re.IGNORECASE)


def presenter_problems(lesson: Lesson) -> list[Problem]:
    """Steps whose text sends the learner to a control presenter mode would hide."""
    out = []
    for step in lesson.steps:
        page, text = PAGES[step.page], " ".join(step.text.split())
        if _SIDEBAR.search(text):
            out.append(Problem(lesson.file, f"step {step.number}, text", "presenter mode "
                               "hides the sidebar: name a control on the page instead."))
        for clause in re.split(r"[.;:]\s+|[()]", text):  # each clause that sends names its control
            if _USE.search(clause) and not (page.named_in(clause) or [
                    t for t in PLAYER_TOOLS if f"*{t.label.casefold()}*" in clause.casefold()]):
                labels = [c.label for c in (*page.own_controls, *page.tools, *PLAYER_TOOLS)]
                out.append(Problem(lesson.file, f"step {step.number}, text", f"'{clause}' "
                                   "sends the learner to a control without naming it, so "
                                   "presenter mode would hide it; name it by its label in "
                                   f"italics (*{'*, *'.join(labels)}*)."))
    return out
