"""The room's results for the teacher: per question the share right per round and twin, the
switches, the gain and the confident-and-wrong answers, and the same rows as a CSV file.

Behind the teacher's secret: only the session that opened the room draws it. The rows and
the CSV are `cnnviz rooms report CODE --csv`'s own (cnnviz.cli.rooms), every cell through
the CSV formatter that neutralises a formula (cnnviz.cli.formatting.csv_row).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from cnnviz.cli.formatting import csv_row
from cnnviz.cli.rooms import REPORT_FIELDS, report_row
from cnnviz.lessons import Lesson
from cnnviz.lessons.results import QuestionResult, pre_post_gain, question_results
from cnnviz.store import Room, RoomStore
from cnnviz.topics.gains import confident_wrong
from cnnviz.ui.analysis.lab import CachedLab

__all__ = ["report_csv", "results_view"]


def report_csv(results: Sequence[QuestionResult]) -> str:
    """The report's rows as CSV text, exactly as `cnnviz rooms report CODE --csv` writes
    them."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REPORT_FIELDS))
    writer.writeheader()
    writer.writerows(csv_row(report_row(r.to_json())) for r in results)
    return out.getvalue()


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0f}%"


def _rows(results: Sequence[QuestionResult]) -> list[dict[str, str]]:
    rows = []
    for r in results:
        s = r.switches
        row = {"step": str(r.step), "question": r.ask,
               "answer": r.answer + (f" (twin {r.twin_answer})"
                                     if r.twin_answer and r.votes["twin"] else "")}
        for name in ("round 1", "round 2", "twin"):
            votes = r.votes[name]
            row[name] = f"{_pct(r.share(name))} of {len(votes)}" if votes else "–"
        row["wrong → right"] = str(s.wrong_to_right) if s.both else "–"
        row["right → wrong"] = str(s.right_to_wrong) if s.both else "–"
        row["gain g"] = f"{r.gain.value:.2f}" if r.gain.value is not None else "–"
        row["sure and wrong"] = str(sum(confident_wrong(v) for v in r.votes.values()))
        rows.append(row)
    return rows


def results_view(rooms: RoomStore, room: Room, lesson: Lesson, device: str) -> None:
    """An expander under the room's panel: the room's numbers per question, and the CSV."""
    with st.expander("Results of this room", expanded=False):
        # the question on the projector joins once revealed (its answer, or the twin's,
        # must not reach the projector before)
        answers = [a for a in rooms.answers(room.code)
                   if room.phase.revealed or a.step != room.step]
        answered = {a.step for a in answers}  # only their answers are computed
        asked = replace(lesson, steps=tuple(s for s in lesson.steps if s.number in answered))
        results = question_results(asked, answers, CachedLab(device))
        if not results:
            st.caption("No graded answers yet. The question on the projector joins the "
                       "results once its answer is revealed.")
            return
        st.table(_rows(results))
        test = pre_post_gain(results)
        if test is not None:
            st.markdown(f"**Pre/post (round 1 → twin): the class's ⟨g⟩ = "
                        f"{test.average.text()}** from {_pct(test.pre)} to "
                        f"{_pct(test.post)} right.")
        st.caption("Shares right per round, of the answers graded; the switches from round 1 "
                   "(alone) to round 2 (after discussion), as Crouch & Mazur 2001 count "
                   "them; g is Hake's normalized gain from round 1 to the twin, (post − "
                   "pre) / (100 − pre) (Hake 1998); ⟨g⟩ is Hake's average normalized gain, "
                   "from the class's average scores on round 1 and on the twins asked (not "
                   "the mean of the g's); sure and wrong counts the wrong answers given as "
                   "sure or "
                   "fairly sure. The question on the projector joins once its answer is "
                   "revealed.")
        st.download_button("Download CSV", report_csv(results),
                           file_name=f"room-{room.code}-report.csv", mime="text/csv",
                           key="room_csv", on_click="ignore")
