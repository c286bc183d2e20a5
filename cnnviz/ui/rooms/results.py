"""The room's results for the teacher: per question the share right per round and twin, the
switches, the gain and the confident-and-wrong answers, and the room's files to download.

Behind the teacher's secret: only the session that opened the room draws it, and the files
are made only after the store has checked the secret again (room_files). They are `cnnviz
rooms export CODE --csv` and `cnnviz rooms report CODE --csv`, byte for byte
(cnnviz.lessons.exports, every cell through the rule that neutralises a formula).
"""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cnnviz.lessons import LessonError, load_lesson
from cnnviz.lessons.answers import Lab
from cnnviz.lessons.exports import (
    export_csv,
    export_rows,
    lesson_results,
    prepost_gains,
    report_csv,
)
from cnnviz.lessons.results import PrePostGain, QuestionResult
from cnnviz.render import gain_charts
from cnnviz.store import NotTeacher, Phase, Room, RoomStore
from cnnviz.topics.gains import confident_wrong
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame.text import safe_text

__all__ = ["room_files", "results_view"]
FILES_NOTE = ("The same files as the command line's `cnnviz rooms export CODE --csv` and "
              "`cnnviz rooms report CODE --csv`: every question so far, the one on the "
              "projector too, with its computed answer. A cell a spreadsheet would read as "
              "a formula starts with an apostrophe.")


def room_files(rooms: RoomStore, code: str, secret: str, lab: Lab | None = None
               ) -> dict[str, str]:
    """The room's answers and report as CSV text, as the command line writes them; for its
    teacher only: NotTeacher (a sentence) when `secret` is not the room's."""
    room = rooms.teacher_room(code, secret)
    answers = rooms.answers(room.code)
    return {"answers": export_csv(export_rows(room, answers, lab)),
            "report": report_csv(lesson_results(room, answers, lab))}


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0f}%"


def _title(name: str) -> str:
    try:
        return load_lesson(name).title
    except (LookupError, LessonError):
        return name


def _rows(results: Sequence[tuple[str, QuestionResult]]) -> list[dict[str, str]]:
    rows = []
    several = len({name for name, _ in results}) > 1
    for lesson, r in results:
        s = r.switches
        row = {"lesson": _title(lesson)} if several else {}
        row |= {"step": str(r.step), "question": r.ask,
                "answer": r.answer + (f" (twin {r.twin_answer})"
                                      if r.twin_answer and r.votes["twin"] else "")}
        for name in ("round 1", "round 2", "twin", "post-test"):
            votes = r.votes[name]
            row[name] = f"{_pct(r.share(name))} of {len(votes)}" if votes else "–"
        row["wrong → right"] = str(s.wrong_to_right) if s.both else "–"
        row["right → wrong"] = str(s.right_to_wrong) if s.both else "–"
        row["gain g"] = f"{r.gain.value:.2f}" if r.gain.value is not None else "–"
        row["sure and wrong"] = str(sum(confident_wrong(v) for v in r.votes.values()))
        rows.append(row)
    return rows


def results_view(rooms: RoomStore, room: Room, secret: str, device: str) -> None:
    """An expander under the room's panel: the room's numbers per question, and its files."""
    with st.expander("Results of this room", expanded=False):
        # the question on the projector joins once revealed (its answer, or the twin's,
        # must not reach the projector before); a closed post-test reveals nothing
        shown = room.phase.revealed or room.phase == Phase.POST_CLOSED
        answers = [a for a in rooms.answers(room.code) if shown
                   or (a.lesson or room.lesson, a.step) != (room.lesson, room.step)]
        results = lesson_results(room, answers, CachedLab(device))
        if results:
            st.table(_rows(results))
            _charts(results)
            for test in prepost_gains(results):
                if _post_test_running(room, test):
                    st.caption("The pre/post test's gain comes once the post-test's last "
                               "question is closed.")
                else:
                    _test_line(test)
            st.caption("Shares right per round, of the answers graded; the switches from "
                       "round 1 (alone) to round 2 (after discussion), as Crouch & Mazur "
                       "2001 count them; g is Hake's normalized gain from round 1 to the "
                       "twin, (post − pre) / (100 − pre) (Hake 1998); sure and wrong counts "
                       "the wrong answers given as sure or fairly sure. The question on the "
                       "projector joins once its answer is revealed.")
        else:
            st.caption("No graded answers yet. The question on the projector joins the "
                       "results once its answer is revealed.")
        _downloads(rooms, room.code, secret, device)


def _charts(results: Sequence[tuple[str, QuestionResult]]) -> None:
    """The table's shares and gains, and the switches between the rounds, as charts."""
    labels = gain_charts.question_labels(results, {n: _title(n) for n, _ in results})
    st.plotly_chart(gain_charts.fig_rounds(results, labels), width="stretch",
                    key="gains_rounds_chart", config={"displayModeBar": False})
    if any(r.switches.both for _, r in results):
        st.plotly_chart(gain_charts.fig_switches(results, labels), width="stretch",
                        key="gains_switches_chart", config={"displayModeBar": False})


def _post_test_running(room: Room, test: PrePostGain) -> bool:
    """Whether `test`'s post-test is under way: its gain counts a question not yet answered
    as wrong, so until the last one closes it would show a gain too small."""
    return room.lesson == test.lesson and room.phase.is_post and not (
        room.phase == Phase.POST_CLOSED and room.step == test.questions[-1])


def _test_line(test: PrePostGain) -> None:
    """A pre/post test's class gain and its spread over the students."""
    g = test.gain
    spread = (f"; the students' own g: mean {g.mean:.2f}" if g.mean is not None else "") + (
        f", standard deviation {g.sd:.2f}" if g.sd is not None else "")
    st.markdown(f"**Pre/post test (steps {', '.join(map(str, test.questions))}): the "
                f"class's ⟨g⟩ = {g.average.text()}**, from {_pct(g.pre)} right before to "
                f"{_pct(g.post)} after{spread} ({g.students} student"
                f"{'' if g.students == 1 else 's'} with both"
                + (f", {g.left_out} already at 100% left out" if g.left_out else "") + ").")
    st.caption("⟨g⟩ is Hake's average normalized gain, (post − pre) / (100 − pre) from the "
               "class's average scores in percent on the pre-test (round 1) and the "
               "post-test (the twins), not the mean of the students' own g (Hake 1998, Am. "
               "J. Phys. 66(1), 64–74). A question a student did not answer counts wrong.")


def _downloads(rooms: RoomStore, code: str, secret: str, device: str) -> None:
    try:
        files = room_files(rooms, code, secret, CachedLab(device))
    except NotTeacher as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return
    with st.container(horizontal=True, key="room_files"):
        st.download_button("Download the answers (CSV)", files["answers"],
                           file_name=f"room-{code}-answers.csv", mime="text/csv",
                           key="room_answers_csv", on_click="ignore")
        st.download_button("Download the report (CSV)", files["report"],
                           file_name=f"room-{code}-report.csv", mime="text/csv",
                           key="room_csv", on_click="ignore")
    st.caption(FILES_NOTE)
