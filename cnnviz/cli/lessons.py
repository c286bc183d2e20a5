"""`cnnviz lessons` (every lesson, its steps and computed answers) and `cnnviz lesson check`."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

from cnnviz.lessons import (
    LESSON_DIR,
    QUANTITIES,
    Answer,
    Lab,
    Lesson,
    Problem,
    answer,
    load_lessons,
    number_text,
    read_lesson,
)
from cnnviz.lessons.rules import presenter_problems, question_problems
from cnnviz.lessons.twins import twin_answer, twin_problems, twin_step


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add `lessons [--json] [--dir DIR]` and `lesson check FILE...` to the CLI."""
    p = subparsers.add_parser(
        "lessons", help="list the lessons, their steps and each question's computed answer",
        description="Every lesson of assets/lessons/: its steps with the relative URL that "
                    "opens each one in the app, and each question's answer as cnnviz "
                    "computes it. What a question may compute: " + ", ".join(QUANTITIES) + ".")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--dir", default=str(LESSON_DIR), help="the folder of lesson files")
    p.set_defaults(run=run_list)
    p = subparsers.add_parser("lesson", help="work with one lesson file")
    sub = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    check = sub.add_parser("check", help="validate lesson files and compute their answers",
                           description="Exit 0 when every file is a lesson that plays and "
                                       "keeps the question rules (no title, text or ask "
                                       "gives the answer away; a tolerance grades what "
                                       "the text lets a learner derive, not a guess); "
                                       "otherwise exit 2 with one line per problem.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a lesson file (.toml)")
    check.set_defaults(run=run_check)


def run_list(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if not args.dir:  # Path("") is ".": the current folder's pyproject.toml is no lesson
        raise ValueError("--dir is empty; name the folder of lesson files.")
    directory = Path(args.dir)
    if not directory.is_dir():
        raise ValueError(f"--dir {args.dir!r} is not a folder.")
    catalog = load_lessons(directory)
    problems = list(catalog.problems)
    listed = []
    for lesson in catalog.lessons:
        shown, found = _with_answers(lesson)
        listed.append(shown)
        problems += found
    if args.json:
        out.write(json.dumps(listed, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(_text(lesson) for lesson in listed) + "\n")
    return _report(problems)


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    problems: list[Problem] = []
    if "" in args.files:  # Path("") is the current folder
        raise ValueError("FILE is empty; name a lesson file (.toml).")
    for name in args.files:
        lesson, found = read_lesson(Path(name))  # a missing or irregular file is a problem
        if lesson is not None:
            answers: dict[int, Answer] = {}
            shown, found = _with_answers(lesson, answers=answers)
            found += question_problems(lesson, answers)  # giveaways, tolerances
            found += presenter_problems(lesson)
            twins, wrong = twin_problems(lesson, answers)
            found += wrong
            if not found:
                questions = sum(s["question"] is not None for s in shown["steps"])
                also = f", {len(twins)} with a twin" if twins else ""
                out.write(f"{name}: ok, {len(lesson.steps)} steps, {questions} questions "
                          f"answered by cnnviz{also}.\n")
        problems += found
    return _report(problems)


def _report(problems: list[Problem]) -> int:
    """One line per problem on stderr; exit status 2 if there is any."""
    for p in problems:
        sys.stderr.write(" ".join(str(p).split()) + "\n")
    return 2 if problems else 0


def _with_answers(lesson: Lesson, lab: Lab | None = None,
                  answers: dict[int, Answer] | None = None) -> tuple[dict, list[Problem]]:
    """The lesson's JSON with each question's computed answer, and the questions that
    have none (a global field asked as a number, options that tie, over the budget).
    `answers`, when given, receives each answer by step number."""
    lab, problems = lab or Lab(), []
    shown = lesson.to_json()
    for step, item in zip(lesson.steps, shown["steps"]):
        if step.question is None:
            continue
        try:
            result = answer(step.question, step.state, lab)
            if answers is not None:
                answers[step.number] = result
            item["question"]["answer"] = _finite(result.to_json())
            if step.question.twin is not None:
                twin = twin_answer(step, lab)
                if twin is not None:
                    item["question"]["twin"]["answer"] = _finite(twin.to_json())
                drawn = twin_step(step, "", lab) if step.question.twin.ranges else None
                if drawn is not None and drawn.question is not None:  # each room its own
                    item["question"]["twin"]["example_ask"] = drawn.question.ask
        except ValueError as e:
            problems.append(Problem(lesson.file, f"step {step.number}, question",
                                    f"cnnviz cannot answer it: {e}"))
    return shown, problems


def _finite(value: Any) -> Any:
    """JSON has no infinity: a global receptive field or a vanished gradient as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _text(lesson: dict) -> str:
    lines = [f"{lesson['name']}: {lesson['title']} ({lesson['duration']} min, "
             f"{len(lesson['steps'])} steps)", f"  for {lesson['audience']}",
             f"  concepts: {', '.join(lesson['concepts'])}"]
    for step in lesson["steps"]:
        lines.append(f"  {step['number']}. {step['title']}  [{step['url']}]")
        q = step["question"]
        if q is not None:
            lines.append(f"     Q: {q['ask']}")
            lines.append(f"     A: {_answer_text(q.get('answer', '(no answer)'))}  "
                         f"({q['compute']}, tolerance {q['tolerance']})")
            if "twin" in q:
                twin = q["twin"]
                if "ranges" in twin:
                    lines.append("     twin drawn by each room from " + "; ".join(
                        f"{k} {', '.join(map(str, v))}" for k, v in twin["ranges"].items())
                        + f"; for example: {twin.get('example_ask') or q['ask']}")
                else:
                    lines.append(f"     twin: {twin['ask'] or q['ask']}")
                lines.append(f"     A: {_answer_text(twin.get('answer', '(no answer)'))}")
    return "\n".join(lines)


def _answer_text(value: Any) -> str:
    """A number as the app shows it; a choice as the option and every option's number."""
    if isinstance(value, dict):
        values = ", ".join(f"{k}: {_answer_text(v)}" for k, v in value["values"].items())
        return f"{value['option']} ({values})"
    return number_text(value) if isinstance(value, (int, float)) else str(value)
