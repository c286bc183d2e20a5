"""Lessons: guided paths through the app, written as TOML files in assets/lessons/.

No streamlit here: the lesson as data (model), the file format and its checks (schema),
a file's text and typed fields, read safely with every problem collected (reader), the
lessons of a folder (catalog), the quantities cnnviz computes (answers) and the answers
and grades of questions (grading). The pages and the controls a step may set are
cnnviz.pages. The player is cnnviz.ui.lessons.player; the commands are `cnnviz lessons` and
`cnnviz lesson check`.
"""
from cnnviz.lessons.answers import QUANTITIES, Lab
from cnnviz.lessons.catalog import Catalog, load_lesson, load_lessons
from cnnviz.lessons.grading import Answer, Grade, answer, band, grade, number_text
from cnnviz.lessons.model import (
    COMPUTED,
    Lesson,
    LessonError,
    Option,
    Problem,
    Question,
    Step,
    StepState,
)
from cnnviz.lessons.schema import LESSON_DIR, read_lesson

__all__ = ["COMPUTED", "LESSON_DIR", "QUANTITIES", "Answer", "Catalog",
           "Grade", "Lab", "Lesson", "LessonError", "Option", "Problem", "Question", "Step",
           "StepState", "answer", "band", "grade", "load_lesson", "load_lessons", "number_text",
           "read_lesson"]
