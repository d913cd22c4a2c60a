"""The course around the system: notebook self-checks and quizzes.

- `check_answers` compares a learner's answers with what a notebook measured, with hints;
- `blank_answers` makes the learner's copy of a notebook (answers replaced by `...`);
- `Readable` gives any widget a static HTML fallback for readers without a kernel;
- `quiz_for` shows a week's multiple-choice quiz, whose answers are stored only as digests.
"""

from studypath.course.fallback import Readable
from studypath.course.quiz import Quiz, QuizQuestion, answer_digest, quiz, quiz_for
from studypath.course.selfcheck import (
    SELF_CHECK_TAG,
    Outcome,
    SelfCheckResult,
    Verdict,
    answers_match,
    blank_answer_values,
    blank_answers,
    check_answers,
    is_answers_cell,
)

__all__ = [
    "SELF_CHECK_TAG",
    "Outcome",
    "Quiz",
    "QuizQuestion",
    "Readable",
    "SelfCheckResult",
    "Verdict",
    "answer_digest",
    "answers_match",
    "blank_answer_values",
    "blank_answers",
    "check_answers",
    "is_answers_cell",
    "quiz",
    "quiz_for",
]
