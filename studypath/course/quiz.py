"""Multiple-choice quizzes whose answers are not written in the notebook.

A notebook calls `quiz_for("week-03")`. The questions live in `studypath.course.quizzes`,
each with its correct option stored only as a salted SHA-256 (`answer_digest`), so neither
the notebook's code nor its saved output names the answer. (The digest hides the answer from
a glance, not from someone who hashes each option: it is a study aid, not a secret.)

In Jupyter the quiz is a widget: pick an option, read "✅ Right." or "❌ Not quite." and the
explanation. Where no widget can run — the notebook on GitHub, or before its cells ran —
the saved output also holds a plain HTML rendition with the questions and options (and no
answers), instead of a bare `VBox(children=…)`.
"""

from __future__ import annotations

import hashlib
import html
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ANSWER_SALT = "studypath-course-quiz/v1"


def answer_digest(question: str, option: str) -> str:
    """The salted SHA-256 that marks `option` as the correct answer to `question`."""
    material = "\x1f".join((ANSWER_SALT, question, option))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class QuizQuestion:
    """One question: its options, the digest of the right one, and why it is right."""

    question: str
    options: tuple[str, ...]
    answer_digest: str
    explanation: str

    def is_correct(self, option: str) -> bool:
        return answer_digest(self.question, option) == self.answer_digest

    def feedback(self, option: str) -> str:
        """What the learner reads after choosing `option`."""
        verdict = "✅ Right." if self.is_correct(option) else "❌ Not quite."
        return f"{verdict} {self.explanation}"


class Quiz:
    """A few questions, shown as a widget in Jupyter and as plain HTML elsewhere."""

    def __init__(self, questions: Sequence[QuizQuestion], *, title: str | None = None) -> None:
        if not questions:
            raise ValueError("a quiz needs at least one question")
        self.questions = tuple(questions)
        self.title = title
        self._widget: Any = None

    def choose(self, number: int, option: str) -> str:
        """The feedback for choosing `option` in question `number` (1-based) — what the widget
        shows; usable without one."""
        question = self.questions[number - 1]
        if option not in question.options:
            raise ValueError(f"{option!r} is not an option of question {number}")
        return question.feedback(option)

    def html(self) -> str:
        """The questions and their options as HTML, with no hint of which option is right."""
        parts = [f"<p><b>{html.escape(self.title)}</b></p>"] if self.title else []
        for number, question in enumerate(self.questions, start=1):
            options = "".join(f"<li>{html.escape(option)}</li>" for option in question.options)
            parts.append(
                f"<p><b>{number}. {html.escape(question.question)}</b></p><ul>{options}</ul>"
            )
        parts.append("<p><i>Run this cell in Jupyter to answer: each choice gets feedback.</i></p>")
        return "\n".join(parts)

    def text(self) -> str:
        """The same as `html`, in plain text."""
        lines = [self.title] if self.title else []
        for number, question in enumerate(self.questions, start=1):
            lines.append(f"{number}. {question.question}")
            lines.extend(f"   ○ {option}" for option in question.options)
        return "\n".join(lines)

    def widget(self) -> Any:
        """The ipywidgets VBox (built once); None if ipywidgets is not installed."""
        if self._widget is None:
            try:
                widgets = importlib.import_module("ipywidgets")
            except ImportError:
                return None
            self._widget = widgets.VBox([_question_box(widgets, q) for q in self.questions])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget's own bundle plus `text/html` and a readable `text/plain`: a front end
        that runs widgets shows the widget, any other shows the questions."""
        widget = self.widget()
        bundle: dict[str, Any] = {}
        if widget is not None:
            bundle.update(widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.html()
        bundle["text/plain"] = self.text()
        return bundle

    def __repr__(self) -> str:
        return f"<Quiz: {len(self.questions)} questions>"


def _question_box(widgets: Any, question: QuizQuestion) -> Any:
    choice = widgets.RadioButtons(
        options=list(question.options), index=None, layout={"width": "max-content"}
    )
    feedback = widgets.HTML()

    def check(change: dict[str, Any]) -> None:
        if change["new"] is not None:
            feedback.value = html.escape(question.feedback(change["new"]))

    choice.observe(check, names="value")
    title = widgets.HTML(f"<b>{html.escape(question.question)}</b>")
    return widgets.VBox([title, choice, feedback])


def quiz(questions: Sequence[QuizQuestion], *, title: str | None = None) -> Quiz:
    """A quiz of `questions` (see `quiz_for` for a week's)."""
    return Quiz(questions, title=title)


def quiz_for(week: str) -> Quiz:
    """The quiz of a notebook, by its week: `quiz_for("week-03")`."""
    from studypath.course.quizzes import QUIZZES

    try:
        questions = QUIZZES[week]
    except KeyError:
        raise KeyError(f"no quiz for {week!r}; there are: {', '.join(sorted(QUIZZES))}") from None
    return Quiz(questions)
