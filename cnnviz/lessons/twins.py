"""Isomorphic twins: a question asked again with other numbers, computed by cnnviz.

Smith et al. 2009 (Science 323, 122–124) follow a peer-instruction question with an
isomorphic one, answered alone before any answer is shown, to tell what the class learned
from what it copied (cnnviz's room asks the twin after the reveal).
cnnviz computes every answer from a real module, so a lesson declares a twin as what it
changes, like a choice's option:

    [steps.question.twin]
    input = [3, 9, 9]               # the stack's fields: block, params, depth, input...
    params = { stride = 3 }
    ask = "..."                     # optional: the twin's own words (else the question's)

or lets cnnviz draw it from ranges of the stack's numbers (on top of what it changes):

    [steps.question.twin]
    ask = "Kernel {kernel_size}, stride {stride}, on a {size}×{size} input: how tall?"
    ranges = { kernel_size = [3, 5, 7], stride = { from = 1, to = 3 },
               size = { from = 9, to = 15 } }

A range is a list of values or { from, to } (every whole number between, both included),
for a block parameter, `depth` or `size` (the input's height and width together); the ask
may name a range in braces, and shows the drawn value there. A room draws its twin
deterministically from the room's code, the lesson and the step (draw_key): every student
and every server process gets the same twin, one whose stack cnnviz can build and whose
answer differs from the question's (draws in a seeded order, the first that qualifies).

The twin inherits the step's stack and controls, and its answer is the same quantity
computed on its state with the machinery of the original (cnnviz.lessons.grading.answer)
and graded by the same rule. `cnnviz lesson check` refuses a twin that changes nothing or
has the original's answer, a range that is empty or holds a value the block refuses, a
draw cnnviz cannot compute, and keeps the question rules on the twin's words (every draw).
"""
from __future__ import annotations

import hashlib
import itertools
import random
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from cnnviz.core.budget import check, stack_work
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.answers import Lab
from cnnviz.lessons.grading import Answer, answer
from cnnviz.lessons.model import Lesson, Problem, Question, Step, StepState, Twin
from cnnviz.lessons.reader import Reader, join
from cnnviz.lessons.rules import giveaways, tolerance_problems

TWIN_FIELDS = ("ask", "controls", "args", "block", "params", "depth", "input", "batch",
               "seed", "ranges")
SIZE, DEPTH = "size", "depth"  # the ranges of the stack's own fields (not block params)
MAX_DRAWS = 256  # the combinations of a twin's ranges, at most: lesson check computes each
MAX_SPAN = 64    # the values of one { from, to } range, at most


def read_twin(r: Reader, raw: Any, kind: Any, state: StepState | None, args: Mapping,
              read_state: Callable[[Mapping, str], StepState | None],
              read_args: Callable[[Mapping, str], dict], where: str) -> Twin | None:
    """The twin declared by `raw` on a question of `kind` whose step has `state` and whose
    quantity gets `args` (all of them); None with a problem when it is not one.
    `read_state` and `read_args` are the schema's readers for an option's state and
    arguments (a twin is read like one)."""
    if not isinstance(raw, dict):
        r.problem(where, "must be a table ([steps.question.twin]) of what the twin changes.")
        return None
    if kind != "number":
        r.problem(where, "a twin is declared for number questions only (each option of a "
                  "choice would need a twin of its own).")
        return None
    before = len(r.problems)
    r.unknown(raw, TWIN_FIELDS, where)
    ask = r.text(raw, "ask", where, required=False)
    twin_state = read_state(raw, where)
    twin_args = {**args, **read_args(r.table(raw, "args", where), where)}
    if twin_state is None or len(r.problems) > before:
        return None
    ranges = read_ranges(r, raw.get("ranges"), twin_state.spec, ask, join(where, "ranges")) \
        if "ranges" in raw else ()
    if len(r.problems) > before:
        return None
    if not ranges and state is not None and twin_state == state and \
            twin_args == dict(args):
        r.problem(where, "the twin changes nothing; give it other numbers (e.g. another "
                  "input, kernel or stride), or ranges to draw them from.")
        return None
    if not ranges and _fields(ask):
        r.problem(join(where, "ask"), "names a range in braces, and the twin declares no "
                  "ranges.")
        return None
    return Twin(twin_state, tuple(twin_args.items()), ask, ranges)


def read_ranges(r: Reader, raw: Any, spec: StackSpec | None, ask: str, where: str
                ) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """A twin's ranges (a table: field -> a list of values, or { from, to }), each value
    checked as the block's parameter checks it; () with a problem when they are not."""
    if not isinstance(raw, dict) or not raw:
        r.problem(where, "must be a table of at least one range, e.g. ranges = "
                  "{ kernel_size = [3, 5, 7], stride = { from = 1, to = 3 } }.")
        return ()
    if spec is None:
        r.problem(where, "a twin draws the picker's stack; this step's page sets no block.")
        return ()
    out: list[tuple[str, tuple[Any, ...]]] = []
    allowed = [SIZE, DEPTH, *(p.name for p in spec.entry.params if p.name != "in_channels")]
    for name, given in raw.items():
        here = join(where, str(name))
        if name not in allowed:
            r.problem(here, f"{spec.block}'s twin draws {', '.join(allowed)}; not "
                      f"{name!r}.")
            continue
        values = _range_values(r, given, here)
        parsed = []
        for value in values:
            try:
                parsed.append(_parse(spec, name, value))
            except InputError as e:
                r.problem(here, f"{value!r}: {e}")
        if values and len(parsed) == len(values):
            out.append((name, tuple(dict.fromkeys(parsed))))
    if len(out) == len(raw):
        count = 1
        for _, drawn in out:
            count *= len(drawn)
        if count > MAX_DRAWS:
            r.problem(where, f"{count:,} combinations; at most {MAX_DRAWS} (lesson check "
                      f"computes each).")
            return ()
    unknown = [f for f in _fields(ask) if f not in raw]
    if unknown:
        r.problem(join(where.rsplit(", ", 1)[0], "ask"), f"names {{{unknown[0]}}}, which is "
                  f"not one of the ranges ({', '.join(map(str, raw))}).")
    return tuple(out) if len(out) == len(raw) and not unknown else ()


def _range_values(r: Reader, given: Any, where: str) -> list[Any]:
    if isinstance(given, list):
        if not given:
            r.problem(where, "an empty list: a range needs at least one value.")
        return given
    if isinstance(given, dict) and set(given) == {"from", "to"}:
        low, high = given["from"], given["to"]
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (low, high)):
            r.problem(where, f"from and to must be whole numbers, not {low!r} and {high!r}.")
            return []
        if low > high:
            r.problem(where, f"from = {low} is above to = {high}: the range is empty.")
            return []
        if high - low + 1 > MAX_SPAN:
            r.problem(where, f"{high - low + 1} values; a range holds at most {MAX_SPAN}.")
            return []
        return list(range(low, high + 1))
    r.problem(where, f"must be a list of values ([3, 5, 7]) or {{ from = 1, to = 3 }}, not "
              f"{given!r}.")
    return []


def _parse(spec: StackSpec, name: str, value: Any) -> Any:
    """`value` as the stack's field `name` takes it; InputError (a sentence) if it is not."""
    if isinstance(value, bool) or (name in (SIZE, DEPTH) and not isinstance(value, int)):
        raise InputError(f"{name} must be a whole number.")
    if name == SIZE:
        StackSpec.create(spec.block, None, height=value, width=value)
        return value
    if name == DEPTH:
        StackSpec.create(spec.block, None, depth=value)
        return value
    return spec.entry.param(name).parse(value)


def _fields(ask: str) -> list[str]:
    """The names an ask writes in braces ({size}); [] when it writes none."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(ask) if f is not None]
    except ValueError:  # a lone brace: not a template, the ask is read as written
        return []


def combinations(twin: Twin) -> Iterator[dict[str, Any]]:
    """Every combination of a twin's ranges, in the file's order."""
    names = [name for name, _ in twin.ranges]
    for values in itertools.product(*(v for _, v in twin.ranges)):
        yield dict(zip(names, values))


def drawn_twin(twin: Twin, combination: Mapping[str, Any]) -> Twin:
    """The twin with one combination of its ranges: its stack (InputError when cnnviz
    cannot build it, or its work is over the budget) and its ask with the values filled."""
    spec = twin.state.stack
    changes = {k: v for k, v in combination.items() if k != SIZE}
    if SIZE in combination:
        changes |= {"height": combination[SIZE], "width": combination[SIZE]}
    drawn = spec.replace(**changes)
    check(stack_work(drawn, "the twin's stack"))
    ask = twin.ask.format(**combination) if twin.ask and _fields(twin.ask) else twin.ask
    return Twin(replace(twin.state, spec=drawn), twin.args, ask)


def draw_key(code: str, lesson: str) -> str:
    """What a room's twins are drawn from: its code and the lesson (a room follows the
    teacher through several lessons)."""
    return f"{code}/{lesson}"


def _order(count: int, key: str, number: int) -> list[int]:
    """The combinations' order for the room `key` and step `number`: seeded by a hash, so
    every process finds the same (Python's own hash() differs between processes)."""
    seed = int.from_bytes(hashlib.sha256(f"{key}#{number}".encode()).digest()[:8], "big")
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


_DRAWN: dict[tuple[Step, str], Twin | None] = {}


def draw(step: Step, key: str, lab: Lab | None = None) -> Twin | None:
    """The twin the room `key` asks for `step`: the first combination, in the room's order,
    that cnnviz can build and compute and whose answer differs from the question's; None
    when no combination does (lesson check refuses such a lesson)."""
    q = step.question
    if q is None or q.twin is None:
        return None
    if not q.twin.ranges:
        return q.twin
    try:
        if (step, key) in _DRAWN:
            return _DRAWN[(step, key)]
    except TypeError:  # a value that is not hashable: draw it again
        pass
    original = answer(q, step.state, lab).value
    found = None
    options = list(combinations(q.twin))
    for i in _order(len(options), key, step.number):
        try:
            twin = drawn_twin(q.twin, options[i])
            value = answer(_as_question(q, twin), twin.state, lab).value
        except InputError:
            continue
        if value != original:
            found = twin
            break
    if len(_DRAWN) > 512:
        _DRAWN.clear()
    try:
        _DRAWN[(step, key)] = found
    except TypeError:
        pass
    return found


def _as_question(question: Question, twin: Twin) -> Question:
    return replace(question, args=twin.args, ask=twin.ask or question.ask, twin=None)


def twin_question(question: Question) -> Question | None:
    """The declared twin as a question of its own (its arguments and words, no twin), or
    None (a drawn twin's words are the draw's: twin_step)."""
    twin = question.twin
    if twin is None:
        return None
    return _as_question(question, twin)


def twin_step(step: Step, key: str = "", lab: Lab | None = None) -> Step | None:
    """The step as the twin asks it: its state and question the twin's (a drawn twin the
    one the room `key` draws, draw_key); None when the step's question has no twin (or no
    draw qualifies). Its answer is grading.answer(q, s.state) as for any step, and the
    question rules (cnnviz.lessons.rules) apply to it unchanged. InputError when the
    question's own answer, which a draw must differ from, cannot be computed."""
    q = step.question
    twin = draw(step, key, lab) if q is not None else None
    if twin is None or q is None:
        return None
    return replace(step, state=twin.state, question=_as_question(q, twin))


def twin_answer(step: Step, lab: Lab | None = None, key: str = "") -> Answer | None:
    """The twin's computed answer (None when the step's question has none); InputError
    when cnnviz cannot answer it, as for any question."""
    twin = twin_step(step, key, lab)
    if twin is None or twin.question is None:
        return None
    return answer(twin.question, twin.state, lab)


def twin_problems(lesson: Lesson, answers: Mapping[int, Answer], lab: Lab | None = None
                  ) -> tuple[dict[int, Answer], list[Problem]]:
    """Each twin's answer by step number (a drawn twin's: the draw of a room without a
    code), and what is wrong with the twins: one cnnviz
    cannot answer, one whose answer is the question's (it would test nothing new), and
    the question rules (giveaways, tolerances) on the twin's words and answer.
    `answers` are the questions' own answers by step number."""
    found: dict[int, Answer] = {}
    problems: list[Problem] = []
    for step in lesson.steps:
        q = step.question
        if q is not None and q.twin is not None and q.twin.ranges:
            drawn = _draw_problems(lesson, step, answers.get(step.number), lab)
            problems += drawn
            example = twin_answer(step, lab) if not drawn else None  # a room's draw
            if example is not None:
                found[step.number] = example
            continue
        twin = twin_step(step)
        if twin is None:
            continue
        where = f"step {step.number}, question, twin"
        try:
            result = answer(twin.question, twin.state, lab) if twin.question else None
        except ValueError as e:  # InputError: the sentence says why
            problems.append(Problem(lesson.file, where, f"cnnviz cannot answer it: {e}"))
            continue
        if result is None:
            continue
        found[step.number] = result
        original = answers.get(step.number)
        if original is not None and original.value == result.value:
            problems.append(Problem(lesson.file, where, f"its answer is the question's "
                                    f"({result.text()}): a twin asks for other numbers."))
        for p in giveaways(lesson, twin, result) + tolerance_problems(lesson, twin, result):
            problems.append(Problem(p.file, f"{p.where} (the twin)", p.what))
    return found, problems


def _draw_problems(lesson: Lesson, step: Step, original: Answer | None, lab: Lab | None
                   ) -> list[Problem]:
    """Every draw of a twin's ranges computed: one cnnviz cannot build or answer is a
    problem (a room could draw it), as is ranges whose every draw has the question's
    answer; the question rules apply to each draw's words and answer."""
    q = step.question
    assert q is not None and q.twin is not None
    where, out, other = f"step {step.number}, question, twin, ranges", [], False
    seen: set[str] = set()
    failed: list[str] = []
    for combination in combinations(q.twin):
        shown = ", ".join(f"{k} = {v}" for k, v in combination.items())
        try:
            twin = drawn_twin(q.twin, combination)
            asked = replace(step, state=twin.state, question=_as_question(q, twin))
            assert asked.question is not None
            result = answer(asked.question, asked.state, lab)
        except InputError as e:
            failed.append(f"the draw {shown} cannot be computed: {' '.join(str(e).split())}")
            continue
        other = other or original is None or result.value != original.value
        for p in giveaways(lesson, asked, result) + tolerance_problems(lesson, asked, result):
            if p.what not in seen:
                seen.add(p.what)
                out.append(Problem(p.file, f"{p.where} (the twin, drawn {shown})", p.what))
    if failed:
        more = f" ({len(failed) - 1} other draws cannot either)" if len(failed) > 1 else ""
        out.insert(0, Problem(lesson.file, where, f"{failed[0]}{more} Every draw must be "
                              f"computable (a room may draw it): narrow the ranges."))
    if not other and not failed:
        out.append(Problem(lesson.file, where, f"every draw has the question's answer "
                           f"({original.text() if original else ''}): a twin asks for other "
                           f"numbers."))
    return out
