"""Self-checks that teach: hints instead of tracebacks, learner copies without answers, and
quizzes whose answers are not written in the notebooks."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from studypath.course import (
    SELF_CHECK_TAG,
    Outcome,
    QuizQuestion,
    SelfCheckResult,
    answer_digest,
    blank_answer_values,
    blank_answers,
    check_answers,
    is_answers_cell,
    quiz,
    quiz_for,
)
from studypath.course.quizzes import QUIZZES

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("week-*.ipynb"))
FACTS = {"Which column holds the token's hash?": "token_hash", "Status of a hidden note?": 404}
HINTS = {
    "Which column holds the token's hash?": "look at §5's row of the sessions table",
    "Status of a hidden note?": "look at §6's matrix",
}


def printed(my_answers: dict[str, object]) -> tuple[str, SelfCheckResult]:
    lines: list[str] = []
    result = check_answers(my_answers, FACTS, HINTS, show=lines.append)
    return "\n".join(lines), result


# ------------------------------------------------------------------------- check_answers
def test_a_wrong_answer_gets_its_hint_and_not_the_answer_and_raises_nothing() -> None:
    text, result = printed(
        {"Which column holds the token's hash?": "token", "Status of a hidden note?": 403}
    )
    assert "❌ not quite — look at §5's row of the sessions table" in text
    assert "❌ not quite — look at §6's matrix" in text
    assert "token_hash" not in text and "404" not in text
    assert result.wrong == 2 and result.right == 0 and not result.all_right


def test_an_unanswered_question_says_not_answered_yet() -> None:
    text, result = printed({"Which column holds the token's hash?": ...})
    assert text.count("⏳ not answered yet") == 2  # `...`, and a question left out
    assert result.unanswered == 2 and result.score == "0/2"


def test_a_right_answer_gets_a_tick_whatever_its_case_spaces_or_number_spelling() -> None:
    text, result = printed(
        {"Which column holds the token's hash?": "  Token_Hash ", "Status of a hidden note?": "404"}
    )
    assert text.splitlines()[:2] == [
        "✅ Which column holds the token's hash?",
        "✅ Status of a hidden note?",
    ]
    assert result.all_right and result.score == "2/2"


@pytest.mark.parametrize(
    ("answer", "fact", "same"),
    [
        (0.8, 0.8000000000000002, True),
        ("0.8", 0.8, True),
        (1, 1.0, True),
        (403, 404, False),
        ("no", False, True),
        ("Yes", True, True),
        ("yes", False, False),
        (1, True, False),  # a number is not a yes/no
        ("`X-Request-ID`", "x-request-id", True),
        ("running", "retrying", False),
        ([1, 2], [1, 2], True),
    ],
)
def test_answers_are_compared_forgivingly(answer: object, fact: object, same: bool) -> None:
    result = check_answers({"q": answer}, {"q": fact}, show=None)
    assert result.verdicts[0].outcome is (Outcome.RIGHT if same else Outcome.WRONG)


def test_an_answer_that_cannot_be_compared_is_wrong_not_an_exception() -> None:
    class Awkward:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no comparing me")

        __hash__ = object.__hash__

    result = check_answers({"q": Awkward()}, {"q": "x"}, {"q": "look at §1"}, show=None)
    assert result.verdicts[0].outcome is Outcome.WRONG and result.verdicts[0].hint == "look at §1"


def test_an_answer_to_a_question_not_asked_is_flagged_and_not_counted() -> None:
    text, result = printed({**dict.fromkeys(FACTS, ...), "Whch column?": "token_hash"})
    assert "❓ not a question of this self-check" in text
    assert result.total == 2


# ------------------------------------------------------------------------- blank_answers
def test_blank_answer_values_replaces_values_and_keeps_keys_comments_and_other_code() -> None:
    source = (
        "# Your answers:\n"
        "my_answers = {\n"
        '    "Status…?": 404,  # the status\n'
        '    "Wait after the 3rd failure (s)?": sum(\n'
        "        [0.2, 0.4]\n"
        "    ),\n"
        '    "Which → one?": "ünïcode",\n'
        "}\n"
        "facts = {'Status…?': 404}\n"
    )
    blanked = blank_answer_values(source)
    assert blanked == (
        "# Your answers:\n"
        "my_answers = {\n"
        '    "Status…?": ...,  # the status\n'
        '    "Wait after the 3rd failure (s)?": ...,\n'
        '    "Which → one?": ...,\n'
        "}\n"
        "facts = {'Status…?': 404}\n"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_exactly_one_tagged_answers_cell(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    tagged = [cell for cell in notebook.cells if is_answers_cell(cell)]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged {SELF_CHECK_TAG}"
    assert "my_answers = {" in tagged[0].source and "check_answers(" in tagged[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_blank_answers_on_a_real_notebook_leaves_no_answer_and_still_parses(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    original = nbformat.writes(notebook)
    learner = blank_answers(notebook)
    assert nbformat.writes(notebook) == original  # the reference copy is untouched
    (before,) = [c for c in notebook.cells if is_answers_cell(c)]
    (after,) = [c for c in learner.cells if is_answers_cell(c)]
    answers = _answers_dict(ast.parse(after.source))
    assert answers.values and all(
        isinstance(v, ast.Constant) and v.value is Ellipsis for v in answers.values
    )
    keys = [k.value for k in answers.keys if isinstance(k, ast.Constant)]
    assert keys == [
        k.value for k in _answers_dict(ast.parse(before.source)).keys if isinstance(k, ast.Constant)
    ]
    assert after.outputs == [] and after.execution_count is None
    nbformat.validate(learner)


def _answers_dict(tree: ast.Module) -> ast.Dict:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "my_answers" for t in node.targets
        ):
            assert isinstance(node.value, ast.Dict)
            return node.value
    raise AssertionError("no my_answers = {...}")


def test_blank_answers_refuses_a_tagged_cell_that_is_not_python() -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("my_answers = {'a': ")
    cell.metadata["tags"] = [SELF_CHECK_TAG]
    notebook.cells.append(cell)
    with pytest.raises(ValueError, match="not valid Python"):
        blank_answers(notebook)


# ------------------------------------------------------------------------- quizzes
def test_every_quiz_question_has_exactly_one_option_matching_its_digest() -> None:
    for week, questions in QUIZZES.items():
        for question in questions:
            right = [option for option in question.options if question.is_correct(option)]
            assert len(right) == 1, (week, question.question)


def test_a_choice_gets_right_or_not_quite_with_the_explanation() -> None:
    question = QuizQuestion("2 + 2?", ("3", "4"), answer_digest("2 + 2?", "4"), "count them (§1).")
    chosen = quiz([question])
    assert chosen.choose(1, "4") == "✅ Right. count them (§1)."
    assert chosen.choose(1, "3") == "❌ Not quite. count them (§1)."
    with pytest.raises(ValueError, match="not an option"):
        chosen.choose(1, "5")


@pytest.mark.parametrize("week", sorted(QUIZZES))
def test_the_quiz_html_fallback_shows_questions_and_options_but_no_answer(week: str) -> None:
    shown = quiz_for(week)
    bundle = shown._repr_mimebundle_()
    page = bundle["text/html"]
    for question in shown.questions:
        assert question.question.replace("'", "&#x27;") in page
        assert question.answer_digest not in page and question.explanation not in page
    assert not re.search(r"correct|✅|checked", page, re.IGNORECASE)
    assert "VBox(" not in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, too


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_shows_its_quiz_from_package_data_with_no_correct_answer_in_it(
    path: Path,
) -> None:
    raw = path.read_text(encoding="utf-8")
    assert "correct=" not in raw
    (quiz_cell,) = [
        "".join(c["source"])
        for c in json.loads(raw)["cells"]
        if "quiz_for(" in "".join(c["source"])
    ]
    (week,) = re.findall(r'quiz_for\("(week-\d\d[a-z]?)"\)', quiz_cell)
    assert path.stem.startswith(week)
    for question in QUIZZES[week]:  # the cell names no option, so none can be the right one
        assert not any(option in quiz_cell for option in question.options)


def test_a_readable_widget_carries_a_static_fallback() -> None:
    import ipywidgets as widgets

    from studypath.course import Readable

    shown = Readable(widgets.VBox([widgets.HTML("x")]), html="<p>static</p>", text="static")
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == "<p>static</p>" and bundle["text/plain"] == "static"
