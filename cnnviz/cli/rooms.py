"""`cnnviz rooms list|export CODE|purge`: the class rooms in the room database."""
from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

from cnnviz.cli.formatting import csv_row
from cnnviz.store import RoomStore, UnknownRoom, normal_code


def add_cli(subparsers) -> None:
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
    q = sub.add_parser("purge", help="delete the expired rooms and their answers")
    q.set_defaults(run=cmd_purge)


def _when(t: float) -> str:
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


def cmd_export(args: argparse.Namespace) -> int:
    from cnnviz.lessons import LessonError, answer, load_lesson, number_text

    rooms = RoomStore(args.database)
    code = normal_code(args.code)
    room = next((r for r, _ in rooms.rooms() if r.code == code), None)  # expired ones too
    if room is None:
        raise UnknownRoom(f"No room has the code {code} (purged rooms are gone).")
    truths: dict[int, str] = {}
    try:
        lesson = load_lesson(room.lesson)
    except (LookupError, LessonError):
        lesson = None
    rows: list[dict[str, Any]] = []
    for a in rooms.answers(room.code):
        if a.step not in truths:
            question = lesson.steps[a.step - 1].question if lesson else None
            try:
                truths[a.step] = answer(question, lesson.steps[a.step - 1].state).text() \
                    if question is not None and lesson is not None else ""
            except ValueError:
                truths[a.step] = ""
        shown = number_text(a.number) if a.number is not None else a.choice
        rows.append({"step": a.step, "round": a.round, "student": a.student,
                     "answer": shown, "time": _when(a.at), "computed": truths[a.step]})
    fields = ["step", "round", "student", "answer", "time", "computed"]
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_row(r) for r in rows)  # every text column neutralised
        return 0
    print(f"room {room.code}: {room.lesson}, {len(rows)} answers")
    print(f"{'step':>4} {'round':>5}  {'student':32}  {'answer':>12}  {'computed':>10}  time")
    for r in rows:
        print(f"{r['step']:>4} {r['round']:>5}  {r['student']}  {str(r['answer'])[:12]:>12}  "
              f"{r['computed'][:10]:>10}  {r['time']}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    gone = RoomStore(args.database).purge()
    print(f"Purged {gone} expired room{'' if gone == 1 else 's'} and their answers.")
    return 0
