"""The lessons of a folder: every file read, the good ones kept, every problem listed."""
from __future__ import annotations

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
