"""A lesson file (TOML): its schema, read and checked with every problem collected.

A lesson is a title, an audience, a duration, its concepts, then steps. A step opens a page
with a state: the picker's stack (block, params, depth, input, batch, seed) and the page's
controls. A step repeats nothing it shares with the step before: the stack carries over
(the params too, unless the block changes), and so do the controls while the page stays
the same. Its question names what cnnviz computes; the answer is never in the file.
"""
from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.budget import check, stack_work
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.answers import QUANTITIES, Quantity
from cnnviz.lessons.model import (
    LAST,
    LEVELS,
    Lesson,
    Option,
    Problem,
    Question,
    Step,
    StepState,
)
from cnnviz.lessons.prepost import read_test
from cnnviz.lessons.reader import Reader, join, not_one_of
from cnnviz.lessons.sections import missing
from cnnviz.lessons.sources import read_sources
from cnnviz.lessons.twins import read_twin
from cnnviz.pages import PAGES, PLAIN_VS_RESIDUAL, check_divisors, lesson_pages, one_of

ROOT = Path(__file__).resolve().parents[2]
LESSON_DIR = ROOT / "assets" / "lessons"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # a file's stem: the URL's lesson=<name>
KINDS = ("number", "choice")
PICKS = ("largest", "smallest")
STACK_FIELDS = ("block", "params", "depth", "input", "batch", "seed")
STEP_FIELDS = ("page", "title", "text", "figure", "sources", "controls", "question",
               *STACK_FIELDS)
QUESTION_FIELDS = ("kind", "ask", "compute", "args", "tolerance", "explain", "options", "pick",
                   "twin")
OPTION_FIELDS = ("label", "controls", "args", *STACK_FIELDS)
LESSON_FIELDS = ("title", "audience", "duration", "level", "concepts", "order", "steps",
                 "test")


def read_lesson(path: Path) -> tuple[Lesson | None, list[Problem]]:
    """The lesson in `path`, or None with every problem found in it."""
    file = _shown(path)
    r = Reader(file)
    if not NAME.match(path.stem):
        r.problem("file name", f"{path.stem!r} cannot name a lesson in a URL: use lower-case "
                  f"letters, digits, '-' and '_' (at most 64).")
    data = r.tables(path)
    if data is None:
        return None, r.problems
    r.unknown(data, LESSON_FIELDS, "")
    title = r.text(data, "title", "")
    audience = r.text(data, "audience", "")
    duration = r.whole(data, "duration", "", 1, 240)
    order = r.whole(data, "order", "", 1, LAST, required=False) or LAST
    level = data.get("level", LEVELS[1])
    if level not in LEVELS:
        r.problem("level", not_one_of(level, "a level", (repr(v) for v in LEVELS)))
    concepts = data.get("concepts")
    if not (isinstance(concepts, list) and concepts
            and all(isinstance(c, str) and c.strip() for c in concepts)):
        r.problem("concepts", "must be a list of non-empty texts, e.g. "
                  "concepts = [\"stride\", \"padding\"].")
        concepts = []
    raw_steps = data.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        r.problem("steps", "missing; a lesson needs at least one [[steps]] table.")
    else:
        previous: tuple[dict, str] | None = None
        for number, raw in enumerate(raw_steps, 1):
            try:
                step, previous = _read_step(r, raw, number, previous)
            except InputError as e:  # anything the core refuses: a problem of this step
                r.problem(f"step {number}", " ".join(str(e).split()))
                continue
            if step is not None:
                steps.append(step)
    test = read_test(r, data["test"], steps) if "test" in data and not r.problems else None
    if r.problems or duration is None:
        return None, r.problems
    return Lesson(path.stem, title, audience, duration, tuple(c.strip() for c in concepts),
                  tuple(steps), file, order, str(level), test), []


def _shown(path: Path) -> str:
    """The file as a message names it: relative to the repository when inside it."""
    try:  # realpath, not resolve: a link that loops is a file to report, not a RuntimeError
        return str(Path(os.path.realpath(path)).relative_to(ROOT))
    except ValueError:
        return str(path)


def _read_step(r: Reader, raw: Any, number: int, previous: tuple[dict, str] | None
               ) -> tuple[Step | None, tuple[dict, str] | None]:
    """One step, and what the next step inherits (its stack fields and page)."""
    where = f"step {number}"
    if not isinstance(raw, dict):
        r.problem(where, "must be a [[steps]] table.")
        return None, previous
    before = len(r.problems)
    r.unknown(raw, STEP_FIELDS, where)
    page, can_open = raw.get("page", previous[1] if previous else None), lesson_pages()
    if not isinstance(page, str) or page not in can_open:
        r.problem(join(where, "page"), not_one_of(page, "a page a lesson can open", can_open)
                  if page is not None else
                  f"missing; the first step names its page ({', '.join(can_open)}).")
        return None, previous
    inherited = previous[0] if previous else {}
    controls_before = inherited.get("controls", {}) if previous and previous[1] == page else {}
    state, fields = _read_state(r, raw, {**inherited, "controls": controls_before}, page, where)
    title = r.text(raw, "title", where, required=False) or f"Step {number}"
    text = r.text(raw, "text", where)
    for number in missing(text, PAGES[page]):
        r.problem(join(where, "text"), f"names section {number}, which the {page} page "
                  f"does not have (no heading of it is numbered {number}).")
    figure = r.text(raw, "figure", where, required=False)
    if figure and figure not in PAGES[page].figures:
        r.problem(join(where, "figure"), f"{figure!r} is not a figure of the {page} page; "
                  f"use {', '.join(PAGES[page].figures) or 'none (it has no keyed figure)'}.")
    sources = read_sources(r, raw, join(where, "sources"))
    question = None
    if "question" in raw:
        question = _read_question(r, raw["question"], fields, page,
                                  state, join(where, "question"))
    if state is None or len(r.problems) > before:
        return None, (fields, page)
    return Step(number, title, text, state, question, figure, sources), (fields, page)


def _read_state(r: Reader, raw: Mapping, inherited: Mapping, page: str, where: str
                ) -> tuple[StepState | None, dict]:
    """The stack and controls of a step or an option: `raw` over what it inherits."""
    fields = {k: v for k, v in inherited.items()}
    if "block" in raw and raw["block"] != inherited.get("block"):
        fields["params"] = {}  # a new block starts from its own defaults
    for name in STACK_FIELDS:
        if name in raw:
            fields[name] = ({**fields.get("params", {}), **r.table(raw, name, where)}
                            if name == "params" else raw[name])
    fields["controls"] = {**inherited.get("controls", {}), **r.table(raw, "controls", where)}
    uses_picker = PAGES[page].takes_stack
    spec = _read_spec(r, fields, where) if uses_picker or "block" in fields else None
    controls = _read_controls(r, fields["controls"], page, where)
    if (spec is None and uses_picker) or controls is None:
        return None, fields
    if spec is not None and page == PLAIN_VS_RESIDUAL.name and not spec.entry.has_skip:
        r.problem(join(where, "block"), f"the Plain vs Residual page switches a shortcut "
                  f"off and on; {spec.block} has none (use e.g. resnet_basic).")
        return None, fields
    if spec is not None and "block" in controls and controls["block"] > spec.depth:
        r.problem(join(where, "controls.block"), f"block {controls['block']} is beyond the "
                  f"stack's depth {spec.depth}.")
        return None, fields
    return StepState(page, spec, tuple(controls.items())), fields


def _read_spec(r: Reader, fields: Mapping, where: str) -> StackSpec | None:
    """The picker's stack, each field checked on its own so the message names it."""
    block = fields.get("block")
    if block is None:
        r.problem(join(where, "block"), "missing; the first step names a block "
                  "(see `cnnviz blocks`).")
        return None
    if not isinstance(block, str):  # a list or a table: no name, nor a dict key
        r.problem(join(where, "block"), f"must be text naming a block (`cnnviz blocks` lists "
                  f"them), not {block!r}.")
        return None
    if block not in REGISTRY:
        r.problem(join(where, "block"), f"unknown block {block!r}; `cnnviz blocks` lists "
                  f"them.")
        return None
    entry, ok = REGISTRY[block], True
    params = dict(fields.get("params", {}))
    for name, value in params.items():
        try:
            entry.param(name).parse(value)
        except KeyError:
            r.problem(join(where, f"params.{name}"), f"{block} has no parameter {name!r}; "
                      f"it takes {', '.join(p.name for p in entry.params)}.")
            ok = False
        except InputError as e:
            r.problem(join(where, f"params.{name}"), _as_written(str(e), value))
            ok = False
    sizes: dict[str, Any] = {}
    shape = fields.get("input")
    if shape is not None:
        if (isinstance(shape, list) and len(shape) == 3
                and all(isinstance(x, int) and not isinstance(x, bool) for x in shape)):
            params["in_channels"], sizes["height"], sizes["width"] = shape
        else:
            r.problem(join(where, "input"), f"must be [C, H, W], three whole numbers, not "
                      f"{shape!r}.")
            ok = False
    for name in ("depth", "batch", "seed"):
        if name in fields:
            sizes[name] = fields[name]
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int):
            r.problem(join(where, "input" if name in ("height", "width") else name),
                      f"{name} must be a whole number, not {value!r}.")
            ok = False
            continue
        try:
            StackSpec.create(block, None, **{name: value})
        except InputError as e:
            r.problem(join(where, "input" if name in ("height", "width") else name), str(e))
            ok = False
    if not ok:
        return None
    try:
        spec = StackSpec.create(block, params, **sizes)
    except InputError as e:
        r.problem(join(where, "params"), str(e))
        return None
    refusal = _refusal(spec)
    if refusal:
        r.problem(where, f"the page would refuse it: {refusal}")
        return None
    return spec


@functools.lru_cache(maxsize=256)  # lesson files are read on every step's run
def _refusal(spec: StackSpec) -> str | None:
    """Why the step's page would refuse the stack (it cannot run at all: the shape walk's
    sentence; or its forward pass alone is over the budget, which every page runs), or
    None."""
    try:
        check(stack_work(spec, "this step's stack"))
    except InputError as e:  # BudgetError, or the walk's ConfigError (a SpecError)
        return str(e)
    return None


def _as_written(message: str, value: Any) -> str:
    """The block's message with a whole float as the file wrote it: the block prints the
    integer it converts it to, and 1e308 would read as 309 digits."""
    if isinstance(value, float) and value.is_integer():
        return message.replace(f"= {int(value)} ", f"= {value!r} ", 1)
    return message


def _read_controls(r: Reader, given: Mapping, page: str, where: str) -> dict | None:
    """The page's controls, checked against what the page accepts."""
    info, ok, out = PAGES[page], True, {}
    known = info.all_controls(given)
    for name, value in given.items():
        if name not in known:
            r.problem(join(where, f"controls.{name}"), f"the {page} page has no control "
                      f"{name!r}; it takes {', '.join(known) or 'none'}.")
            ok = False
            continue
        try:
            out[name] = known[name].parse(value)
        except InputError as e:
            r.problem(join(where, f"controls.{name}"), str(e))
            ok = False
    for name, what in check_divisors(known, {**{n: c.default for n, c in known.items()},
                                             **out}):
        r.problem(join(where, f"controls.{name}"), what)
        ok = False
    ordered = {name: out[name] for name in known if name in out}
    return ordered if ok else None


def _read_question(r: Reader, raw: Any, fields: Mapping, page: str,
                   state: StepState | None, where: str) -> Question | None:
    if not isinstance(raw, dict):
        r.problem(where, "must be a table ([steps.question]).")
        return None
    before = len(r.problems)
    if "answer" in raw:
        r.problem(join(where, "answer"), "an answer is never typed into a lesson: name what "
                  "cnnviz computes with compute = \"...\" (see `cnnviz lessons --help`).")
    r.unknown({k: v for k, v in raw.items() if k != "answer"}, QUESTION_FIELDS, where)
    kind = raw.get("kind")
    if kind not in KINDS:
        r.problem(join(where, "kind"), f"{kind!r} is not a question kind; use number or "
                  f"choice." if kind is not None else "missing; use number or choice.")
    ask = r.text(raw, "ask", where)
    explain = r.text(raw, "explain", where)
    compute = raw.get("compute")
    quantity = QUANTITIES.get(compute) if isinstance(compute, str) else None
    if quantity is None:
        if compute is not None:
            r.problem(join(where, "compute"), f"{compute!r} is not something cnnviz "
                      f"computes; use {', '.join(QUANTITIES)}.")
        elif "answer" not in raw:  # that problem already says to name a quantity
            r.problem(join(where, "compute"), f"missing; name what cnnviz computes "
                      f"({', '.join(QUANTITIES)}).")
    elif quantity.pages and page not in quantity.pages:
        r.problem(join(where, "compute"), f"{compute} reads the controls of the "
                  f"{' or '.join(quantity.pages)} page; this step opens {page}.")
    elif not quantity.pages and state is not None and state.spec is None:
        r.problem(join(where, "compute"), f"{compute} is a number of the picker's stack; "
                  f"this step on the {page} page sets no block.")
    elif (quantity.needs_skip and state is not None and state.spec is not None
          and not state.spec.entry.has_skip):
        r.problem(join(where, "compute"), f"{compute} switches the shortcut off; "
                  f"{state.spec.block} has none.")
    args = _read_args(r, r.table(raw, "args", where), quantity, where)
    tolerance, relative = _read_tolerance(r, raw.get("tolerance", 0), where)
    options: list[Option] = []
    pick = raw.get("pick", "largest")
    if kind == "choice":
        if pick not in PICKS:
            r.problem(join(where, "pick"), f"{pick!r}: use largest or smallest (the option "
                      f"with the largest or smallest {compute}).")
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            r.problem(join(where, "options"), "a choice needs at least two options, each a "
                      "table with a label and what it changes.")
        else:
            for i, o in enumerate(raw_options, 1):
                option = _read_option(r, o, fields, page, quantity, f"{where}, option {i}")
                if option is not None:
                    options.append(option)
            labels = [o.label for o in options]
            if len(set(labels)) < len(labels):
                r.problem(join(where, "options"), "two options have the same label.")
    elif kind == "number" and ("options" in raw or "pick" in raw):
        r.problem(join(where, "options"), "a number question has no options; use "
                  "kind = \"choice\" to offer some.")
    twin = None
    if "twin" in raw and quantity is not None:  # read like an option: what it changes
        twin = read_twin(r, raw["twin"], kind, state, quantity.arguments(args),
                         lambda t, w: _read_state(r, t, fields, page, w)[0],
                         lambda a, w: _read_args(r, a, quantity, w), join(where, "twin"))
    if len(r.problems) > before or quantity is None or kind not in KINDS:
        return None
    return Question(str(kind), ask, quantity.name, explain, tolerance, relative,
                    tuple(quantity.arguments(args).items()), tuple(options), pick,
                    quantity.label, twin)


def _read_args(r: Reader, given: Mapping, quantity: Quantity | None, where: str) -> dict:
    if quantity is None:
        return {}
    out = {}
    for name, value in given.items():
        allowed = quantity.args.get(name)
        if allowed is None:
            r.problem(join(where, f"args.{name}"), f"{quantity.name} takes "
                      f"{', '.join(quantity.args) or 'no arguments'}.")
        elif not one_of(value, allowed):
            r.problem(join(where, f"args.{name}"), f"{value!r} is not one of "
                      f"{', '.join(map(repr, allowed))}.")
        else:
            out[name] = value
    return out


def _read_tolerance(r: Reader, raw: Any, where: str) -> tuple[float, bool]:
    """A number (absolute, in the answer's unit) or "N%" (relative to the answer)."""
    relative = isinstance(raw, str) and raw.strip().endswith("%")
    try:
        if isinstance(raw, bool) or isinstance(raw, str) and not relative:  # "5": 5 or 5%?
            raise ValueError
        value = float(raw.strip()[:-1] if relative else raw)
        if not (math.isfinite(value) and value >= 0):  # inf would call every guess right
            raise ValueError
    except (TypeError, ValueError):
        r.problem(join(where, "tolerance"), f"must be a finite number >= 0 or a percentage "
                  f"like \"5%\", not {raw!r}.")
        return 0.0, False
    return value, relative


def _read_option(r: Reader, raw: Any, fields: Mapping, page: str,
                 quantity: Quantity | None, where: str) -> Option | None:
    if not isinstance(raw, dict):
        r.problem(where, "must be a table: { label = \"...\", ... }.")
        return None
    r.unknown(raw, OPTION_FIELDS, where)
    label = r.text(raw, "label", where)
    state, _ = _read_state(r, raw, fields, page, where)
    args = _read_args(r, r.table(raw, "args", where), quantity, where)
    if state is None or not label:
        return None
    return Option(label, state, tuple(args.items()))
