"""The lesson as data: its steps, their states and questions, and what is wrong with a file.

Read from TOML and checked by cnnviz.lessons.schema; the answers come from
cnnviz.lessons.answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.pages import PAGES

LAST = 999  # the place of a lesson that gives no `order`
# a lesson's level, from a first visit's to one that assumes the core lessons
LEVELS = ("first steps", "core", "deeper")
COMPUTED = "computed"  # a step's only source when it states just what cnnviz computes


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a lesson file: which file, where in it, and what."""

    file: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.what}"


class LessonError(InputError):
    """A lesson that cannot be played; `problems` says everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


# --- the lesson --------------------------------------------------------------------------

@dataclass(frozen=True)
class StepState:
    """What a step sets: the page, the picker's stack and the page's controls."""

    page: str
    spec: StackSpec | None  # None only on a page without the picker (the Networks page)
    controls: tuple[tuple[str, Any], ...] = ()  # the ones the step (or its page) sets

    @property
    def stack(self) -> StackSpec:
        """The picker's stack; InputError on a step that sets none."""
        if self.spec is None:
            raise InputError(f"This step sets no block: the {self.page} page does not use "
                             f"the picker.")
        return self.spec

    def resolved(self) -> dict[str, Any]:
        """Every control with a value: the step's, else the page's own default."""
        given = dict(self.controls)
        found = PAGES[self.page].all_controls(given)
        defaults = {n: c.default for n, c in found.items() if c.default is not None}
        return {**defaults, **given}

    def to_json(self) -> dict[str, Any]:
        s, out = self.spec, {"controls": dict(self.controls)}
        if s is None:
            return out
        changed = {k: v for k, v in s.params
                   if v != s.entry.param(k).default and k != "in_channels"}
        return {"block": s.block, "depth": s.depth, "input": [s.in_channels, s.height, s.width],
                "params": changed, **out}


@dataclass(frozen=True)
class Option:
    """One answer of a choice: its label and the state it is computed on."""

    label: str
    state: StepState
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Twin:
    """A question's isomorphic twin (Smith et al. 2009, Science 323, 122–124): the same
    quantity computed on another state (another kernel, stride, width...), its answer
    computed and graded exactly like the original's. See cnnviz.lessons.twins."""

    state: StepState
    args: tuple[tuple[str, Any], ...] = ()  # all the quantity's arguments for the twin
    ask: str = ""  # what the twin asks; "" asks the question's own words on its state
    # the values a drawn twin is drawn from, per stack field ("size", "depth" or a block
    # parameter), in the file's order; () for a twin declared with its own numbers
    ranges: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = {"ask": self.ask, "args": dict(self.args), "state": self.state.to_json()}
        if self.ranges:
            out["ranges"] = {name: list(values) for name, values in self.ranges}
        return out


@dataclass(frozen=True)
class Question:
    """Predict, then reveal. `compute` names the quantity (cnnviz.lessons.answers), `means`
    says what it is, and `args` are all its arguments (the reader fills the defaults)."""

    kind: str
    ask: str
    compute: str
    explain: str
    tolerance: float = 0.0
    relative: bool = False  # the tolerance is a percentage of the answer
    args: tuple[tuple[str, Any], ...] = ()
    options: tuple[Option, ...] = ()
    pick: str = "largest"
    means: str = ""
    twin: Twin | None = None

    def tolerance_text(self) -> str:
        return f"{self.tolerance:g}%" if self.relative else f"{self.tolerance:g}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "ask": self.ask, "compute": self.compute,
                               "means": self.means,
                               "args": dict(self.args), "tolerance": self.tolerance_text(),
                               "explain": self.explain}
        if self.kind == "choice":
            out |= {"pick": self.pick, "options": [o.label for o in self.options]}
        if self.twin is not None:
            out["twin"] = self.twin.to_json()
        return out


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as in the URL
    title: str
    text: str
    state: StepState
    question: Question | None = None
    figure: str = ""  # the chart presenter mode keeps (a key of the page's figures)
    # Where each claim comes from ("He et al. 2016, §4.1, Fig. 5"), or COMPUTED alone when
    # the step states only what cnnviz computes from its own modules.
    sources: tuple[str, ...] = ()

    @property
    def page(self) -> str:
        return self.state.page


@dataclass(frozen=True)
class PrePost:
    """A lesson run as a pre/post test (cnnviz.lessons.prepost): the questions asked at
    the start, each alone with nothing revealed, and again as their twins at the end, at
    the step `post`; the class's Hake gain comes from those pairs (Hake 1998)."""

    questions: tuple[int, ...]  # the step numbers of the test's questions
    post: int                   # the step (without a question) that asks their twins

    def to_json(self) -> dict[str, Any]:
        return {"questions": list(self.questions), "post": self.post}


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem
    title: str
    audience: str
    duration: int  # minutes
    concepts: tuple[str, ...]
    steps: tuple[Step, ...]
    file: str
    order: int = LAST  # its place in the Lessons page's teaching order
    level: str = LEVELS[1]
    test: PrePost | None = None  # the questions of its pre/post test, if it has one

    @property
    def questions(self) -> int:
        return sum(s.question is not None for s in self.steps)

    def url(self, number: int) -> str:
        """The relative URL that opens step `number` (the app's root page has no path)."""
        page = PAGES[self.steps[number - 1].page]
        return f"{page.url_path}?{urlencode({'lesson': self.name, 'step': number})}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "audience": self.audience,
                "order": self.order, "duration": self.duration, "level": self.level,
                "concepts": list(self.concepts), "file": self.file,
                "test": self.test.to_json() if self.test else None,
                "steps": [{"number": s.number, "title": s.title, "page": s.page,
                           "url": self.url(s.number), "state": s.state.to_json(),
                           "sources": list(s.sources),
                           "question": s.question.to_json() if s.question else None}
                          for s in self.steps]}


def estimated_minutes(steps: int, questions: int) -> int:
    """A lesson's duration as README.md estimates it: a minute a step to read it and look
    at its page, two more a question to predict, reveal and read the explanation, rounded
    up to the next five minutes."""
    return -(-(steps + 2 * questions) // 5) * 5
