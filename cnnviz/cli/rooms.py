"""`cnnviz rooms list|export CODE|report CODE|purge`: the class rooms in the room database."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cnnviz.store import Room, RoomStore, UnknownRoom, normal_code

if TYPE_CHECKING:
    from cnnviz.lessons.results import QuestionResult


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rooms", help="the rooms a class answered in (the room database)",
                              description="The database is CNNVIZ_DATABASE_URL, else SQLite in "
                                          "the data directory (see the README).")
    p.add_argument("--database", metavar="URL", help="sqlite:///PATH or postgresql://...")
    sub = p.add_subparsers(dest="rooms_command", required=True)
    q = sub.add_parser("list", help="every room with its lesson, step, round and answers")
    q.add_argument("--json", action="store_true")
    q.set_defaults(run=cmd_list)
    q = sub.add_parser("export", help="a room's answers with the computed answer")
    q.add_argument("code")
    q.add_argument("--csv", action="store_true", help="CSV instead of a table")
    q.set_defaults(run=cmd_export)
    q = sub.add_parser("report", help="per question: each round's share right, the switches, "
                                      "the gain to the twin, the confident wrong answers; "
                                      "a pre/post test's class gain")
    q.add_argument("code")
    form = q.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true")
    form.add_argument("--csv", action="store_true", help="CSV, one row per question")
    q.set_defaults(run=cmd_report)
    q = sub.add_parser("purge", help="delete the expired rooms and their answers")
    q.set_defaults(run=cmd_purge)


def _when(t: float) -> str:  # as cnnviz.lessons.exports.when, without importing the lessons
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_list(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = [
        {"code": r.code, "lesson": r.lesson, "step": r.step, "round": r.round, "open": r.open,
         "answers": n, "created": _when(r.created), "expires": _when(r.expires)}
        for r, n in RoomStore(args.database).rooms()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No rooms.")
        return 0
    print(f"{'code':6}  {'lesson':28} {'step':>4} {'round':>5} {'open':>5} {'answers':>7}  "
          f"expires")
    for r in rows:
        print(f"{r['code']:6}  {r['lesson'][:28]:28} {r['step']:>4} {r['round']:>5} "
              f"{str(r['open']).lower():>5} {r['answers']:>7}  {r['expires']}")
    return 0


def _room(rooms: RoomStore, text: str) -> Room:
    """The room with the code `text`, expired ones too; UnknownRoom when there is none."""
    code = normal_code(text)
    room = next((r for r, _ in rooms.rooms() if r.code == code), None)
    if room is None:
        raise UnknownRoom(f"No room has the code {code} (purged rooms are gone).")
    return room


def cmd_export(args: argparse.Namespace) -> int:
    from cnnviz.lessons.exports import export_csv, export_rows

    rooms = RoomStore(args.database)
    room = _room(rooms, args.code)
    rows = export_rows(room, rooms.answers(room.code))
    if args.csv:
        sys.stdout.write(export_csv(rows))  # every text column neutralised
        return 0
    print(f"room {room.code}: {room.lesson}, {len(rows)} answers")
    print(f"{'lesson':16} {'step':>4} {'round':>5} {'twin':>5}  {'student':32}  "
          f"{'answer':>12}  {'sure?':>11}  {'computed':>10}  time")
    for r in rows:
        print(f"{r['lesson'][:16]:16} {r['step']:>4} {r['round']:>5} {r['twin']:>5}  "
              f"{r['student']}  {str(r['answer'])[:12]:>12}  {r['confidence'][:11]:>11}  "
              f"{r['computed'][:10]:>10}  {r['time']}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cnnviz.lessons import LessonError, load_lesson
    from cnnviz.lessons.exports import lesson_results, report_csv, report_json

    rooms = RoomStore(args.database)
    room = _room(rooms, args.code)
    try:
        load_lesson(room.lesson)
    except (LookupError, LessonError):
        raise UnknownRoom(f"Room {room.code}'s lesson {room.lesson[:40]!r} is not one this "
                          f"cnnviz can load, so its answers cannot be graded.") from None
    results = lesson_results(room, rooms.answers(room.code))
    if args.json:
        print(json.dumps(report_json(room, results), indent=2, ensure_ascii=False))
        return 0
    if args.csv:
        sys.stdout.write(report_csv(results))
        return 0
    sys.stdout.write(report_text(room, results))
    return 0


def report_text(room: Room, results: Sequence[tuple[str, QuestionResult]]) -> str:
    """The report as `cnnviz rooms report CODE` prints it."""
    from cnnviz.lessons.exports import prepost_gains, report_row
    from cnnviz.lessons.results import ROUNDS

    lines = [f"room {room.code}: {room.lesson}, on step {room.step} ({room.phase.text()}), "
             f"{len(results)} question{'' if len(results) == 1 else 's'} answered"]
    for lesson, r in results:
        row = report_row(r.to_json())
        where = f"{lesson} " if lesson != room.lesson else ""
        lines.append(f"{where}step {r.step}: {r.ask}")
        lines.append(f"  answer {r.answer}" + (f", twin {r.twin_answer}" if r.twin_answer
                                               else ""))
        for name in ROUNDS:
            n = row[f"{name} answers"]
            if n:
                lines.append(f"  {name:9} {n:>4} answers, {_pct(row[f'{name} right %'])} "
                             f"right, {row[f'{name} confident wrong']} confident and wrong")
        lines.append(f"  switches: wrong→right {row['wrong to right']}, right→wrong "
                     f"{row['right to wrong']}, right→right {row['right to right']}, "
                     f"wrong→wrong {row['wrong to wrong']}")
        lines.append(f"  gain round 1 → twin: {r.gain.text()}")
        lines.append(f"  next move: {r.suggestion.text}")
    for t in prepost_gains(results):
        g = t.gain
        lines.append(f"pre/post test of {t.lesson} (steps "
                     f"{', '.join(map(str, t.questions))}): class ⟨g⟩ {g.average.text()} "
                     f"from {_num(g.pre)}% → {_num(g.post)}%; students' own g: mean "
                     f"{_num(g.mean)}, sd {_num(g.sd)} over {g.students} students "
                     f"({g.left_out} already right before left out)")
    return "\n".join(lines) + "\n"


def _pct(share: float | str) -> str:
    return "–" if share == "" else f"{share:g}%"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def cmd_purge(args: argparse.Namespace) -> int:
    gone = RoomStore(args.database).purge()
    print(f"Purged {gone} expired room{'' if gone == 1 else 's'} and their answers.")
    return 0
