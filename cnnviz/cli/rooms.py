"""`cnnviz rooms list|export CODE|report CODE|purge`: the class rooms in the room database."""
from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

from cnnviz.cli.formatting import csv_row
from cnnviz.store import Room, RoomStore, UnknownRoom, normal_code


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
    q = sub.add_parser("report", help="per question: each round's share right, the switches, "
                                      "the gain to the twin, the confident wrong answers")
    q.add_argument("code")
    form = q.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true")
    form.add_argument("--csv", action="store_true", help="CSV, one row per question")
    q.set_defaults(run=cmd_report)
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


def _room(rooms: RoomStore, text: str) -> Room:
    """The room with the code `text`, expired ones too; UnknownRoom when there is none."""
    code = normal_code(text)
    room = next((r for r, _ in rooms.rooms() if r.code == code), None)
    if room is None:
        raise UnknownRoom(f"No room has the code {code} (purged rooms are gone).")
    return room


def cmd_export(args: argparse.Namespace) -> int:
    from cnnviz.lessons import LessonError, load_lesson, number_text
    from cnnviz.lessons.results import graded, truths

    rooms = RoomStore(args.database)
    room = _room(rooms, args.code)
    try:
        known = truths(load_lesson(room.lesson))
    except (LookupError, LessonError):
        known = {}
    rows: list[dict[str, Any]] = []
    for a in rooms.answers(room.code):
        truth = known.get(a.step)
        pair = truth.of(a.twin) if truth is not None else None
        right = graded(truth, a)
        shown = number_text(a.number) if a.number is not None else a.choice
        rows.append({"step": a.step, "round": a.round, "twin": str(a.twin).lower(),
                     "student": a.student, "answer": shown, "confidence": a.confidence or "",
                     "time": _when(a.at), "computed": pair[1].text() if pair else "",
                     "right": "" if right is None else str(right).lower()})
    fields = ["step", "round", "twin", "student", "answer", "confidence", "time", "computed",
              "right"]
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_row(r) for r in rows)  # every text column neutralised
        return 0
    print(f"room {room.code}: {room.lesson}, {len(rows)} answers")
    print(f"{'step':>4} {'round':>5} {'twin':>5}  {'student':32}  {'answer':>12}  "
          f"{'sure?':>11}  {'computed':>10}  time")
    for r in rows:
        print(f"{r['step']:>4} {r['round']:>5} {r['twin']:>5}  {r['student']}  "
              f"{str(r['answer'])[:12]:>12}  {r['confidence'][:11]:>11}  "
              f"{r['computed'][:10]:>10}  {r['time']}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cnnviz.lessons import LessonError, load_lesson
    from cnnviz.lessons.results import ROUNDS, pre_post_gain, question_results

    rooms = RoomStore(args.database)
    room = _room(rooms, args.code)
    try:
        lesson = load_lesson(room.lesson)
    except (LookupError, LessonError):
        raise UnknownRoom(f"Room {room.code}'s lesson {room.lesson[:40]!r} is not one this "
                          f"cnnviz can load, so its answers cannot be graded.") from None
    results = question_results(lesson, rooms.answers(room.code))
    test = pre_post_gain(results)
    if args.json:
        print(json.dumps({"code": room.code, "lesson": room.lesson,
                          "phase": room.phase.text(), "step": room.step,
                          "questions": [r.to_json() for r in results],
                          "pre_post": test.to_json() if test else None}, indent=2,
                         ensure_ascii=False))
        return 0
    rows = [report_row(r.to_json()) for r in results]
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(REPORT_FIELDS))
        writer.writeheader()
        writer.writerows(csv_row(r) for r in rows)
        return 0
    print(f"room {room.code}: {room.lesson}, on step {room.step} ({room.phase.text()}), "
          f"{len(results)} question{'' if len(results) == 1 else 's'} answered")
    for r, row in zip(results, rows):
        print(f"step {r.step}: {r.ask}")
        print(f"  answer {r.answer}" + (f", twin {r.twin_answer}" if r.twin_answer else ""))
        for name in ROUNDS:
            n = row[f"{name} answers"]
            if n:
                print(f"  {name:8} {n:>4} answers, {_pct(row[f'{name} right %'])} right, "
                      f"{row[f'{name} confident wrong']} confident and wrong")
        print(f"  switches: wrong→right {row['wrong to right']}, right→wrong "
              f"{row['right to wrong']}, right→right {row['right to right']}, wrong→wrong "
              f"{row['wrong to wrong']}")
        print(f"  gain round 1 → twin: {r.gain.text()}")
        print(f"  next move: {r.suggestion.text}")
    if test is not None:
        print(f"pre/post (round 1 → twin): class ⟨g⟩ {test.average.text()} from "
              f"{_num(test.pre)}% → {_num(test.post)}%; students' own g: mean "
              f"{_num(test.mean)}, sd {_num(test.sd)} over {test.students} students "
              f"({test.left_out} already right before left out)")
    return 0


REPORT_FIELDS = ("step", "ask", "answer", "twin answer",
                 *(f"{n} {what}" for n in ("round 1", "round 2", "twin")
                   for what in ("answers", "right %", "confident wrong")),
                 "wrong to right", "right to wrong", "right to right", "wrong to wrong",
                 "gain", "next move")


def report_row(q: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"step": q["step"], "ask": q["ask"], "answer": q["answer"],
                           "twin answer": q["twin_answer"] or ""}
    for name, r in q["rounds"].items():
        row |= {f"{name} answers": r["answers"], f"{name} right %": _round(r["share_right"]),
                f"{name} confident wrong": r["confident_wrong"]}
    row |= {k.replace("_", " "): v for k, v in q["switches"].items()}
    row |= {"gain": "" if q["gain"] is None else round(q["gain"], 3),
            "next move": q["next_move"]}
    return row


def _round(share: float | None) -> float | str:
    return "" if share is None else round(share, 1)


def _pct(share: float | str) -> str:
    return "–" if share == "" else f"{share:g}%"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def cmd_purge(args: argparse.Namespace) -> int:
    gone = RoomStore(args.database).purge()
    print(f"Purged {gone} expired room{'' if gone == 1 else 's'} and their answers.")
    return 0
