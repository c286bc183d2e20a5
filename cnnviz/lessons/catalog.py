"""The lessons of a folder: every file read, the good ones kept, every problem listed."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cnnviz.lessons import schema
from cnnviz.lessons.model import Lesson, LessonError, Problem


@dataclass(frozen=True)
class Catalog:
    """Every lesson that loads, in teaching order, and the problems of those that do not."""

    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...]

    def get(self, name: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.name == name), None)


def matching(lessons: tuple[Lesson, ...], text: str = "", concepts: Collection[str] = (),
             pages: Collection[str] = (), levels: Collection[str] = ()) -> tuple[Lesson, ...]:
    """The lessons a learner's search and filters keep, in their order: every word of
    `text` in the lesson's title, audience, level, concepts or step titles (any case); a
    filter left empty keeps all, one with values keeps a lesson that has any of them."""
    words = text.casefold().split()
    out = []
    for lesson in lessons:
        hay = " ".join((lesson.title, lesson.audience, lesson.level, *lesson.concepts,
                        *(s.title for s in lesson.steps))).casefold()
        if not all(w in hay for w in words):
            continue
        if concepts and not set(concepts) & set(lesson.concepts):
            continue
        if pages and not set(pages) & {s.page for s in lesson.steps}:
            continue
        if levels and lesson.level not in levels:
            continue
        out.append(lesson)
    return tuple(out)


def lesson_files(directory: Path | None = None) -> list[Path]:
    """The lesson files of `directory` (by default LESSON_DIR, read when called)."""
    return sorted((directory or schema.LESSON_DIR).glob("*.toml"))


def load_lessons(directory: Path | None = None) -> Catalog:
    """Read every *.toml of `directory`; a bad file is a problem, never a crash."""
    lessons, problems = [], []
    for path in lesson_files(directory):
        lesson, found = schema.read_lesson(path)
        if lesson is not None:
            lessons.append(lesson)
        problems += found
    lessons.sort(key=lambda lesson: (lesson.order, lesson.name))
    return Catalog(tuple(lessons), tuple(problems))


def load_lesson(name: str, directory: Path | None = None) -> Lesson:
    """The lesson `name` (a URL value: only a listed file's stem is ever opened).

    Raises LookupError when there is no such lesson and LessonError when its file is bad.
    """
    path = next((p for p in lesson_files(directory) if p.stem == name), None)
    if path is None:
        raise LookupError(name)
    lesson, problems = schema.read_lesson(path)
    if lesson is None:
        raise LessonError(problems)
    return lesson
