"""What a browser keeps comes back to a new session as a reload sends it (protocol level).

A reload is a new session: the lesson memory's reader component sends what local storage
holds, and the session turns it back into revealed answers. The fuzzer sends every
component malformed JSON; this sends the *well-formed* values a real browser holds after a
class (an answer to every question of every shipped lesson, right and wrong, and the same
records with their types swapped), which is where a restore that was never run breaks: on
merged main a reload's kept answer raised AttributeError in front of the learner.
"""
from __future__ import annotations

import asyncio
import json
import math

import pytest
from conftest import own_server
from support_fuzz import state
from support_protocol import Tab

from cnnviz.core.errors import InputError
from cnnviz.lessons import answer, load_lessons
from cnnviz.lessons.kept import MAX_CHARS, Kept, KeptAnswer, fingerprint

READER = "lesson_memory_read"  # cnnviz.ui.lessons.memory's reader component


def every_answer(swap_types: bool = False) -> str:
    """One kept record with an answer to every computable question of every lesson: the
    right value for a number question guessed off by one, a choice answered with its
    option's label (or, with `swap_types`, each value in the other question kind's type)."""
    kept = Kept(last=None)
    for lesson in load_lessons().lessons:
        for number, step in enumerate(lesson.steps, 1):
            if step.question is None:
                continue
            try:
                truth = answer(step.question, step.state)
            except InputError:
                continue  # a question with no number (a global field): never kept
            numbers = [v for _, v in truth.values] + [truth.value] * isinstance(truth.value,
                                                                                 float)
            if not all(math.isfinite(v) for v in numbers):
                continue  # an option with a global field: the browser never keeps it
            value, guess = truth.value, truth.value
            if isinstance(value, float):
                guess = value + 1
            if swap_types:
                value = "a label" if isinstance(value, float) else 3.0
                guess = value
            kept.answers.setdefault(lesson.name, {})[number] = KeptAnswer(
                fingerprint(step), guess, value, truth.values)
        kept.finished.add(lesson.name)
    text = kept.dumps()
    assert len(text) < MAX_CHARS, "the kept record outgrew what the reader accepts"
    return text


@pytest.fixture(scope="module")
def server():
    for _, url, _ in own_server():
        yield url


async def _reload_with(url: str, raw: str) -> list[str]:
    """Open a lesson step in a fresh tab, send the reader's value, and return what went
    wrong in the run that restores it (errors, exceptions)."""
    lesson = load_lessons().lessons[0]
    path, query = lesson.url(1).split("?")
    tab = Tab(url)
    try:
        first = await tab.open(path, query)
        reader = tab.widget(READER)
        assert reader is not None, f"no {READER} component on {lesson.url(1)}"
        run = await tab.rerun(raw=[state(reader.id, "json_value", json.dumps({"kept": raw}))])
        again = await tab.rerun()  # the next action of the restored session
        return first.errors + run.errors + again.errors
    finally:
        await tab.close()


@pytest.mark.parametrize("swap_types", [False, True], ids=["as-kept", "types-swapped"])
def test_a_reload_restores_every_lessons_kept_answers_without_an_error(server, swap_types):
    assert asyncio.run(_reload_with(server, every_answer(swap_types))) == []
