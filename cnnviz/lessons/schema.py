"""A lesson file (TOML): its schema, read and checked with every problem collected.

A lesson is a title, an audience, a duration, its concepts, then steps. A step opens a page
with a state: the picker's stack (block, params, depth, input, batch, seed) and the page's
controls. A step repeats nothing it shares with the step before: the stack carries over
(the params too, unless the block changes), and so do the controls while the page stays
the same. Its question names what cnnviz computes; the answer is never in the file.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.answers import QUANTITIES, Quantity
from cnnviz.lessons.model import (
    LAST,
    Lesson,
    Option,
    Problem,
    Question,
    Step,
    StepState,
)
from cnnviz.lessons.pages import PAGES, check_divisors

ROOT = Path(__file__).resolve().parents[2]
LESSON_DIR = ROOT / "assets" / "lessons"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # a file's stem: the URL's lesson=<name>
KINDS = ("number", "choice")
PICKS = ("largest", "smallest")
STACK_FIELDS = ("block", "params", "depth", "input", "batch", "seed")
STEP_FIELDS = ("page", "title", "text", "figure", "controls", "question", *STACK_FIELDS)
QUESTION_FIELDS = ("kind", "ask", "compute", "args", "tolerance", "explain", "options", "pick")
OPTION_FIELDS = ("label", "controls", "args", *STACK_FIELDS)
LESSON_FIELDS = ("title", "audience", "duration", "concepts", "order", "steps")


# --- reading --------------------------------------------------------------------------------

class _Reader:
    """Reads one file's tables, collecting a Problem for everything wrong instead of
    stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append(Problem(self.file, where, what))

    def unknown(self, table: Mapping, allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(_join(where, str(key)), f"unknown field; use "
                             f"{', '.join(allowed)}.")

    def text(self, table: Mapping, name: str, where: str, required: bool = True) -> str:
        value = table.get(name)
        if value is None:
            if required:
                self.problem(_join(where, name), "missing; write it as text.")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(_join(where, name), f"must be non-empty text, not {value!r}.")
            return ""
        return value.strip()

    def whole(self, table: Mapping, name: str, where: str, low: int, high: int,
              required: bool = True) -> int | None:
        value = table.get(name)
        if value is None:
            if required:
                self.problem(_join(where, name), f"missing; write a whole number from {low} "
                             f"to {high}.")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(_join(where, name), f"must be a whole number from {low} to {high}, "
                         f"not {value!r}.")
            return None
        return value

    def table(self, parent: Mapping, name: str, where: str) -> dict:
        value = parent.get(name, {})
        if not isinstance(value, dict):
            self.problem(_join(where, name), f"must be a table ({name} = {{ ... }}), "
                         f"not {value!r}.")
            return {}
        return value


def _join(where: str, name: str) -> str:
    return f"{where}, {name}" if where else name


def read_lesson(path: Path) -> tuple[Lesson | None, list[Problem]]:
    """The lesson in `path`, or None with every problem found in it."""
    file = _shown(path)
    r = _Reader(file)
    if not NAME.match(path.stem):
        r.problem("file name", f"{path.stem!r} cannot name a lesson in a URL: use lower-case "
                  f"letters, digits, '-' and '_' (at most 64).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        r.problem("TOML syntax", str(e))
        return None, r.problems
    except (OSError, UnicodeDecodeError) as e:
        r.problem("file", f"cannot be read ({e}).")
        return None, r.problems
    r.unknown(data, LESSON_FIELDS, "")
    title = r.text(data, "title", "")
    audience = r.text(data, "audience", "")
    duration = r.whole(data, "duration", "", 1, 240)
    order = r.whole(data, "order", "", 1, LAST, required=False) or LAST
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
            step, previous = _read_step(r, raw, number, previous)
            if step is not None:
                steps.append(step)
    if r.problems or duration is None:
        return None, r.problems
    return Lesson(path.stem, title, audience, duration, tuple(c.strip() for c in concepts),
                  tuple(steps), file, order), []


def _shown(path: Path) -> str:
    """The file as a message names it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _read_step(r: _Reader, raw: Any, number: int, previous: tuple[dict, str] | None
               ) -> tuple[Step | None, tuple[dict, str] | None]:
    """One step, and what the next step inherits (its stack fields and page)."""
    where = f"step {number}"
    if not isinstance(raw, dict):
        r.problem(where, "must be a [[steps]] table.")
        return None, previous
    before = len(r.problems)
    r.unknown(raw, STEP_FIELDS, where)
    page = raw.get("page", previous[1] if previous else None)
    if page not in PAGES:
        r.problem(_join(where, "page"), f"{page!r} is not a page a lesson can open; use "
                  f"{', '.join(PAGES)}." if page is not None else
                  f"missing; the first step names its page ({', '.join(PAGES)}).")
        return None, previous
    inherited = previous[0] if previous else {}
    controls_before = inherited.get("controls", {}) if previous and previous[1] == page else {}
    state, fields = _read_state(r, raw, {**inherited, "controls": controls_before}, page, where)
    title = r.text(raw, "title", where, required=False) or f"Step {number}"
    text = r.text(raw, "text", where)
    figure = raw.get("figure", "")
    if figure and figure not in PAGES[page].figures:
        r.problem(_join(where, "figure"), f"{figure!r} is not a figure of the {page} page; "
                  f"use {', '.join(PAGES[page].figures) or 'none (it has no keyed figure)'}.")
    question = None
    if "question" in raw:
        question = _read_question(r, raw["question"], fields, page,
                                  state, _join(where, "question"))
    if state is None or len(r.problems) > before:
        return None, (fields, page)
    return Step(number, title, text, state, question, figure), (fields, page)


def _read_state(r: _Reader, raw: Mapping, inherited: Mapping, page: str, where: str
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
    uses_picker = PAGES[page].picker
    spec = _read_spec(r, fields, where) if uses_picker or "block" in fields else None
    controls = _read_controls(r, fields["controls"], page, where)
    if (spec is None and uses_picker) or controls is None:
        return None, fields
    if spec is not None and page == "plain_vs_residual" and not spec.entry.has_skip:
        r.problem(_join(where, "block"), f"the Plain vs Residual page switches a shortcut "
                  f"off and on; {spec.block} has none (use e.g. resnet_basic).")
        return None, fields
    if spec is not None and "block" in controls and controls["block"] > spec.depth:
        r.problem(_join(where, "controls.block"), f"block {controls['block']} is beyond the "
                  f"stack's depth {spec.depth}.")
        return None, fields
    return StepState(page, spec, tuple(controls.items())), fields


def _read_spec(r: _Reader, fields: Mapping, where: str) -> StackSpec | None:
    """The picker's stack, each field checked on its own so the message names it."""
    block = fields.get("block")
    if block is None:
        r.problem(_join(where, "block"), "missing; the first step names a block "
                  "(see `cnnviz blocks`).")
        return None
    if block not in REGISTRY:
        r.problem(_join(where, "block"), f"unknown block {block!r}; `cnnviz blocks` lists "
                  f"them.")
        return None
    entry, ok = REGISTRY[block], True
    params = dict(fields.get("params", {}))
    for name, value in params.items():
        try:
            entry.param(name).parse(value)
        except KeyError:
            r.problem(_join(where, f"params.{name}"), f"{block} has no parameter {name!r}; "
                      f"it takes {', '.join(p.name for p in entry.params)}.")
            ok = False
        except ValueError as e:
            r.problem(_join(where, f"params.{name}"), str(e))
            ok = False
    sizes: dict[str, Any] = {}
    shape = fields.get("input")
    if shape is not None:
        if (isinstance(shape, list) and len(shape) == 3
                and all(isinstance(x, int) and not isinstance(x, bool) for x in shape)):
            params["in_channels"], sizes["height"], sizes["width"] = shape
        else:
            r.problem(_join(where, "input"), f"must be [C, H, W], three whole numbers, not "
                      f"{shape!r}.")
            ok = False
    for name in ("depth", "batch", "seed"):
        if name in fields:
            sizes[name] = fields[name]
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int):
            r.problem(_join(where, "input" if name in ("height", "width") else name),
                      f"{name} must be a whole number, not {value!r}.")
            ok = False
            continue
        try:
            StackSpec.create(block, None, **{name: value})
        except ValueError as e:
            r.problem(_join(where, "input" if name in ("height", "width") else name), str(e))
            ok = False
    if not ok:
        return None
    try:
        return StackSpec.create(block, params, **sizes)
    except ValueError as e:
        r.problem(_join(where, "params"), str(e))
        return None


def _read_controls(r: _Reader, given: Mapping, page: str, where: str) -> dict | None:
    """The page's controls, checked against what the page accepts."""
    info, ok, out = PAGES[page], True, {}
    known = info.all_controls(given)
    for name, value in given.items():
        if name not in known:
            r.problem(_join(where, f"controls.{name}"), f"the {page} page has no control "
                      f"{name!r}; it takes {', '.join(known) or 'none'}.")
            ok = False
            continue
        try:
            out[name] = known[name].parse(value)
        except ValueError as e:
            r.problem(_join(where, f"controls.{name}"), str(e))
            ok = False
    for name, what in check_divisors(known, {**{n: c.default for n, c in known.items()},
                                             **out}):
        r.problem(_join(where, f"controls.{name}"), what)
        ok = False
    ordered = {name: out[name] for name in known if name in out}
    return ordered if ok else None


def _read_question(r: _Reader, raw: Any, fields: Mapping, page: str,
                   state: StepState | None, where: str) -> Question | None:
    if not isinstance(raw, dict):
        r.problem(where, "must be a table ([steps.question]).")
        return None
    before = len(r.problems)
    if "answer" in raw:
        r.problem(_join(where, "answer"), "an answer is never typed into a lesson: name what "
                  "cnnviz computes with compute = \"...\" (see `cnnviz lessons --help`).")
    r.unknown({k: v for k, v in raw.items() if k != "answer"}, QUESTION_FIELDS, where)
    kind = raw.get("kind")
    if kind not in KINDS:
        r.problem(_join(where, "kind"), f"{kind!r} is not a question kind; use number or "
                  f"choice." if kind is not None else "missing; use number or choice.")
    ask = r.text(raw, "ask", where)
    explain = r.text(raw, "explain", where)
    compute = raw.get("compute")
    quantity = QUANTITIES.get(compute) if isinstance(compute, str) else None
    if quantity is None:
        if compute is not None:
            r.problem(_join(where, "compute"), f"{compute!r} is not something cnnviz "
                      f"computes; use {', '.join(QUANTITIES)}.")
        elif "answer" not in raw:  # that problem already says to name a quantity
            r.problem(_join(where, "compute"), f"missing; name what cnnviz computes "
                      f"({', '.join(QUANTITIES)}).")
    elif quantity.pages and page not in quantity.pages:
        r.problem(_join(where, "compute"), f"{compute} reads the controls of the "
                  f"{' or '.join(quantity.pages)} page; this step opens {page}.")
    elif not quantity.pages and state is not None and state.spec is None:
        r.problem(_join(where, "compute"), f"{compute} is a number of the picker's stack; "
                  f"this step on the {page} page sets no block.")
    elif (quantity.needs_skip and state is not None and state.spec is not None
          and not state.spec.entry.has_skip):
        r.problem(_join(where, "compute"), f"{compute} switches the shortcut off; "
                  f"{state.spec.block} has none.")
    args = _read_args(r, r.table(raw, "args", where), quantity, where)
    tolerance, relative = _read_tolerance(r, raw.get("tolerance", 0), where)
    options: list[Option] = []
    pick = raw.get("pick", "largest")
    if kind == "choice":
        if pick not in PICKS:
            r.problem(_join(where, "pick"), f"{pick!r}: use largest or smallest (the option "
                      f"with the largest or smallest {compute}).")
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            r.problem(_join(where, "options"), "a choice needs at least two options, each a "
                      "table with a label and what it changes.")
        else:
            for i, o in enumerate(raw_options, 1):
                option = _read_option(r, o, fields, page, quantity, f"{where}, option {i}")
                if option is not None:
                    options.append(option)
            labels = [o.label for o in options]
            if len(set(labels)) < len(labels):
                r.problem(_join(where, "options"), "two options have the same label.")
    elif kind == "number" and ("options" in raw or "pick" in raw):
        r.problem(_join(where, "options"), "a number question has no options; use "
                  "kind = \"choice\" to offer some.")
    if len(r.problems) > before or quantity is None or kind not in KINDS:
        return None
    return Question(str(kind), ask, quantity.name, explain, tolerance, relative,
                    tuple(args.items()), tuple(options), pick)


def _read_args(r: _Reader, given: Mapping, quantity: Quantity | None, where: str) -> dict:
    if quantity is None:
        return {}
    out = {}
    for name, value in given.items():
        allowed = quantity.args.get(name)
        if allowed is None:
            r.problem(_join(where, f"args.{name}"), f"{quantity.name} takes "
                      f"{', '.join(quantity.args) or 'no arguments'}.")
        elif value not in allowed:
            r.problem(_join(where, f"args.{name}"), f"{value!r} is not one of "
                      f"{', '.join(map(repr, allowed))}.")
        else:
            out[name] = value
    return out


def _read_tolerance(r: _Reader, raw: Any, where: str) -> tuple[float, bool]:
    """A number (absolute, in the answer's unit) or "N%" (relative to the answer)."""
    text = raw.strip() if isinstance(raw, str) else None
    try:
        value = float(text[:-1]) if text and text.endswith("%") else float(raw)
        if isinstance(raw, bool) or not value >= 0:
            raise ValueError
    except (TypeError, ValueError):
        r.problem(_join(where, "tolerance"), f"must be a number >= 0 or a percentage like "
                  f"\"5%\", not {raw!r}.")
        return 0.0, False
    return value, text is not None


def _read_option(r: _Reader, raw: Any, fields: Mapping, page: str,
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
