"""What a page is: its spec (file, URL path, title, icon, picker rule, views, figures) and
the contract of a value control (widget key, choices or range, default, label, words).

No streamlit here. The pages themselves are cnnviz.pages; a control names the page's widget
key (the lesson player sets it in the session) and the values the page accepts, so a lesson
is checked before any widget sees it.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from cnnviz.core.arithmetic import divisors
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec

# What a page does with the sidebar picker: "sidebar", the shell draws it and the page reads
# its stack; "own", the page has controls of its own in the sidebar and draws the picker
# itself where a part of it uses the picker's stack (a step's stack still applies);
# "none", the page never reads the picker (a step sets no stack).
Picker = Literal["sidebar", "own", "none"]


def one_of(value: Any, choices: tuple) -> bool:
    """Whether `value` is one of `choices`, type included: true is not 1 and 4.0 is not 4
    (a page or a quantity would size or index with the float)."""
    return any(type(value) is type(choice) and value == choice for choice in choices)


@dataclass(frozen=True)
class Control:
    """One control of a page that a step may set.

    Args:
        key: the page's widget key (in the session), which the player sets.
        choices: the values allowed; empty for a number from `low` to `high` (a whole
            number, or any finite number where `low` is a float).
        default: the page's own starting value; None when the page derives it from the
            picker (a step that leaves it out gets what the page derives).
        divides: the name of another control this whole number must divide.
        in_url: the page reads it from a query parameter of that name, not from a widget.
        derive: how the page derives its starting value from the picker's stack, when
            `default` is None.
        label: the words the page shows for it, and a step's list of its settings.
        words: (value, words) for choices the page and a step's list show in words
            (the others as they are, or by the registry's option labels).
    """

    name: str
    key: str
    choices: tuple = ()
    low: int | float = 0
    high: int | float = 0
    default: Any = None
    divides: str = ""
    in_url: bool = False
    derive: Callable[[StackSpec], Any] | None = None
    label: str = ""
    words: tuple[tuple[Any, str], ...] = ()

    def text(self, value: Any) -> str | None:
        """`value` in this control's words; None where it has none for it."""
        return next((w for v, w in self.words if type(v) is type(value) and v == value), None)

    def parse(self, value: Any) -> Any:
        """The value, checked; InputError with a sentence saying what is allowed."""
        if self.choices:
            if not one_of(value, self.choices):
                raise InputError(f"{value!r} is not one of "
                                 f"{', '.join(repr(c) for c in self.choices)}.")
            return value
        if isinstance(self.low, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise InputError(f"{value!r} is not a number from {self.low} to {self.high}.")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{value!r} is not a whole number from {self.low} to {self.high}.")
        if not self.low <= value <= self.high:
            raise InputError(f"{value} is out of range: use {self.low} to {self.high}.")
        return value


@dataclass(frozen=True)
class PageSpec:
    """A page of the app: its file, its place in the navigation, its controls.

    Args:
        name: the page's URL path (Streamlit's, from its file name) and a lesson's `page`.
        title, icon: in the navigation.
        prefix: every widget key of the page starts with it; a new step clears them all,
            so what a step leaves out starts from the page's default.
        picker_rule: what the page does with the sidebar picker (see Picker); not a
            flag: ask draws_picker or takes_stack.
        lesson: a lesson step may open the page.
        views: the page's views (tabs or buttons) by name; their values are the labels.
        view_key: the widget key (and query parameter) of the open view.
        figures: keys (or key prefixes) of the page's charts, for a step's `figure`.
        question_figures: the figures (exact keys, among `figures`) that show only what a
            question reads, never what cnnviz computes for its answer (the input's numbers
            and the kernel, not the sums): a step that names one keeps it unveiled before
            the reveal, and a room's students see it on their phones. The others may show
            the answer (a size, a count, a bar), so they stay veiled.
        more_controls: controls that depend on another control's value (the cost lab's
            numbers depend on the comparison chosen).
        own_controls: value controls the page draws that a step does not set (set through
            the picker's stack, or by the learner only).
        tools: what else a learner uses on the page (buttons, the output pixel's sliders),
            by key and label: a step's text that names one by its label keeps it shown
            in presenter mode.
        sections: (name, names of the controls and tools in it): a part of the page with
            its heading, in a container keyed `section(name)`, hidden in presenter mode
            when all its widgets are.
        headings: (anchor, text as drawn) of the page's headings a step's text may point
            at, in the page's order: "Section 4 of this page" (a heading drawn "4 · ...")
            or "the section *Checkerboard artifacts*" becomes a link that scrolls to it.
        default: the app's default page, served at / rather than at its name.
        url_names: the query parameters the page keeps its own state in; a new step clears
            them.
    """

    name: str
    title: str
    icon: str
    prefix: str
    controls: tuple[Control, ...] = ()
    figures: tuple[str, ...] = ()
    question_figures: tuple[str, ...] = ()
    more_controls: Callable[[Mapping[str, Any]], tuple[Control, ...]] | None = None
    own_controls: tuple[Control, ...] = ()
    tools: tuple[Control, ...] = ()
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    headings: tuple[tuple[str, str], ...] = ()
    default: bool = False
    picker_rule: Picker = "sidebar"
    lesson: bool = True
    views: type[Enum] | None = None
    view_key: str = "view"
    url_names: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        """The page's file, relative to the repository's root."""
        return f"pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        return "" if self.default else self.name

    @property
    def draws_picker(self) -> bool:
        """The shell draws the sidebar picker above the page."""
        return self.picker_rule == "sidebar"

    @property
    def takes_stack(self) -> bool:
        """A lesson step's stack applies to the page (it reads the picker somewhere)."""
        return self.picker_rule != "none"

    def control(self, name: str) -> Control:
        """One of the page's controls, a step's or its own, or a tool, by name."""
        return {c.name: c for c in self.tools + self.own_controls + self.controls}[name]

    def named_in(self, text: str) -> list[Control]:
        """The page's controls and tools `text` names, as lessons name a widget: its label
        in italics, *Train the three stacks* (any case)."""
        italics = re.findall(r"(?<!\*)\*([^*]+)\*(?!\*)", re.sub(r"\*\*[^*]*\*\*", "",
                                                                 " ".join(text.split())))
        named = {m.casefold() for m in italics}
        return [c for c in (*self.controls, *self.own_controls, *self.tools)
                if c.label and c.label.casefold() in named]

    def heading(self, anchor: str) -> str:
        """The text of the heading with that anchor (KeyError for none)."""
        return dict(self.headings)[anchor]

    def section(self, name: str) -> str:
        """The container key of one of the page's sections."""
        return f"{self.prefix}section_{name}"

    def kept_sections(self, keys: list[str]) -> list[str]:
        """The keys of the sections that hold a widget of `keys`: presenter mode shows them."""
        return [self.section(name) for name, members in self.sections
                if any(self.control(n).key in keys for n in members)]

    def all_controls(self, values: Mapping[str, Any]) -> dict[str, Control]:
        """Every control of the page a step may set, given the values chosen so far."""
        found = {c.name: c for c in self.controls}
        if self.more_controls is not None:
            found.update({c.name: c for c in self.more_controls(values)})
        return found

    def starting_values(self, spec: StackSpec | None,
                        values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What the page's controls start from before a student touches them: each one's
        default, or what it derives from the picker's stack."""
        out = {}
        for name, c in self.all_controls(values or {}).items():
            if c.default is not None:
                out[name] = c.default
            elif c.derive is not None and spec is not None:
                out[name] = c.derive(spec)
        return out


def check_divisors(controls: Mapping[str, Control], values: Mapping[str, Any]
                   ) -> list[tuple[str, str]]:
    """(control, problem) for every whole number that must divide another and does not."""
    out = []
    for name, control in controls.items():
        if control.divides and name in values and control.divides in values:
            whole = values[control.divides]
            if values[name] not in divisors(whole):
                out.append((name, f"{values[name]} does not divide {control.divides} = "
                                  f"{whole}; use one of {', '.join(map(str, divisors(whole)))}."))
    return out


__all__ = ["Control", "PageSpec", "Picker", "check_divisors", "one_of"]
