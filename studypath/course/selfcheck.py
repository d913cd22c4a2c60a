"""Self-checks that teach: compare a learner's answers with facts the notebook measured.

Each notebook ends with a self-check. The learner writes answers into a `my_answers` dict;
the cell computes `facts` from the live system and calls `check_answers`, which says, for
each question, ✅ (right), "❌ not quite — <hint>" (wrong: the hint points to the section
that shows it, never the answer itself) or "⏳ not answered yet" (the value is still `...`).
It never raises: a wrong answer is something to learn from, not a traceback.

The notebooks in the repository are the *reference rendition*: their answers are filled in,
so the committed output shows every ✅. `blank_answers` makes the learner's copy: it
replaces the values of every `my_answers = {...}` in cells tagged `self-check-answers` by
`...`, keeping the questions (keys) and any comments.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, MutableMapping
from copy import deepcopy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

SELF_CHECK_TAG = "self-check-answers"
"""The cell tag that marks a notebook's self-check answers cell."""

ANSWERS_NAME = "my_answers"
"""The variable the answers cell assigns its dict of answers to."""

DEFAULT_HINT = "look again at the section of this notebook that measured it"

_TRUE_WORDS = frozenset({"yes", "true", "y"})
_FALSE_WORDS = frozenset({"no", "false", "n"})
_QUOTES = "`'\""


class Outcome(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    UNANSWERED = "unanswered"
    UNKNOWN = "unknown question"  # an answer to a question the self-check does not ask


@dataclass(frozen=True)
class Verdict:
    """What the self-check says about one question (it never holds the right answer)."""

    question: str
    outcome: Outcome
    hint: str | None = None

    def line(self) -> str:
        """The line printed for this question."""
        if self.outcome is Outcome.RIGHT:
            return f"✅ {self.question}"
        if self.outcome is Outcome.WRONG:
            return f"❌ not quite — {self.hint or DEFAULT_HINT} · {self.question}"
        if self.outcome is Outcome.UNANSWERED:
            return f"⏳ not answered yet · {self.question}"
        return f"❓ not a question of this self-check (check its spelling) · {self.question}"


@dataclass(frozen=True)
class SelfCheckResult:
    """All verdicts, in the order of the facts, and the score. A cell may assert on it."""

    verdicts: tuple[Verdict, ...]

    def _count(self, outcome: Outcome) -> int:
        return sum(1 for verdict in self.verdicts if verdict.outcome is outcome)

    @property
    def right(self) -> int:
        return self._count(Outcome.RIGHT)

    @property
    def wrong(self) -> int:
        return self._count(Outcome.WRONG)

    @property
    def unanswered(self) -> int:
        return self._count(Outcome.UNANSWERED)

    @property
    def total(self) -> int:
        """How many questions the self-check asks (answers to unknown questions not counted)."""
        return sum(1 for verdict in self.verdicts if verdict.outcome is not Outcome.UNKNOWN)

    @property
    def all_right(self) -> bool:
        return self.total > 0 and self.right == self.total

    @property
    def score(self) -> str:
        return f"{self.right}/{self.total}"

    def summary(self) -> str:
        """The last line printed: the score, and what is left to do."""
        parts = [f"score {self.score}"]
        if self.wrong:
            parts.append(f"{self.wrong} to look at again")
        if self.unanswered:
            parts.append(f"{self.unanswered} not answered yet")
        if self.all_right:
            parts.append("all right 🎉")
        return " · ".join(parts)

    def __str__(self) -> str:
        return "\n".join([*(verdict.line() for verdict in self.verdicts), self.summary()])


def check_answers(
    my_answers: Mapping[str, object],
    facts: Mapping[str, object],
    hints: Mapping[str, str] | None = None,
    *,
    show: Callable[[str], object] | None = print,
) -> SelfCheckResult:
    """Compare `my_answers` with `facts` (question -> value), print a verdict per question
    and the score (through `show`; None prints nothing), and return the result.

    A question of `facts` without an answer, or answered `...`, is "not answered yet"; a
    wrong answer gets `hints[question]` (which must point to where the notebook shows it,
    not give it away). Comparison is forgiving, see `answers_match`. Never raises on any
    answer value.
    """
    hints = hints or {}
    verdicts: list[Verdict] = []
    for question, fact in facts.items():
        answer = my_answers.get(question, ...)
        if answer is ...:
            verdicts.append(Verdict(question, Outcome.UNANSWERED))
        elif answers_match(answer, fact):
            verdicts.append(Verdict(question, Outcome.RIGHT))
        else:
            verdicts.append(Verdict(question, Outcome.WRONG, hints.get(question, DEFAULT_HINT)))
    verdicts.extend(Verdict(q, Outcome.UNKNOWN) for q in my_answers if q not in facts)
    result = SelfCheckResult(tuple(verdicts))
    if show is not None:
        show(str(result))
    return result


def answers_match(answer: object, fact: object) -> bool:
    """Whether `answer` says the same as `fact`, forgiving what does not matter:

    - text: case, surrounding spaces and quotes/backticks, runs of inner spaces
      (`" Token_Hash "` matches `"token_hash"`);
    - numbers: `0.8` matches `0.80000001` and `"403"` matches `403` (relative 1e-6);
    - yes/no: `"yes"`/`"no"`/`"true"`/`"false"` match `True`/`False`;
    - anything else: equality (an error while comparing counts as a mismatch).
    """
    try:
        if isinstance(fact, bool) or isinstance(answer, bool):
            return _as_bool(answer) is not None and _as_bool(answer) == _as_bool(fact)
        fact_number, answer_number = _as_number(fact), _as_number(answer)
        if fact_number is not None and answer_number is not None:
            return math.isclose(answer_number, fact_number, rel_tol=1e-6, abs_tol=1e-9)
        if isinstance(fact, str) and isinstance(answer, str):
            return _normal_text(answer) == _normal_text(fact)
        return bool(answer == fact)
    except Exception:  # a learner's odd object must not break the self-check
        return False


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = _normal_text(value)
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(_normal_text(value))
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _normal_text(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip(_QUOTES).strip()).casefold()


# --------------------------------------------------------------------------- learner's copy
NotebookT = TypeVar("NotebookT", bound=MutableMapping[str, Any])


def blank_answers(notebook: NotebookT) -> NotebookT:
    """A copy of `notebook` (an nbformat notebook, or its JSON as a dict) in which every cell
    tagged `self-check-answers` has the values of its `my_answers = {...}` replaced by `...`
    (keys and comments kept) and its outputs cleared. The original is not changed.

    Raises ValueError if a tagged cell is not Python `ast` can read.
    """
    copy = deepcopy(notebook)
    for cell in copy.get("cells", []):
        if not is_answers_cell(cell):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        cell["source"] = blank_answer_values(text)
        cell["outputs"] = []
        cell["execution_count"] = None
    return copy


def is_answers_cell(cell: Mapping[str, Any]) -> bool:
    """Whether `cell` is a code cell tagged `self-check-answers`."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.get("cell_type") == "code" and SELF_CHECK_TAG in tags


def blank_answer_values(source: str) -> str:
    """`source` with the value of every entry of each `my_answers = {...}` dict replaced by
    `...`; everything else (keys, comments, other statements) is left as written."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"a self-check answers cell is not valid Python: {exc}") from exc
    spans = [
        (value.lineno, value.col_offset, value.end_lineno, value.end_col_offset)
        for answers in _answer_dicts(tree)
        for key, value in zip(answers.keys, answers.values, strict=True)
        if key is not None  # `**other` entries are left alone
    ]
    lines = source.splitlines(keepends=True)
    for start_line, start_col, end_line, end_col in sorted(spans, reverse=True):
        assert end_line is not None and end_col is not None  # always set by ast.parse
        before = _cut(lines[start_line - 1], start_col)[0]
        after = _cut(lines[end_line - 1], end_col)[1]
        lines[start_line - 1 : end_line] = [before + "..." + after]
    return "".join(lines)


def _answer_dicts(tree: ast.AST) -> list[ast.Dict]:
    found: list[ast.Dict] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == ANSWERS_NAME for t in targets)
        if named and isinstance(value, ast.Dict):
            found.append(value)
    return found


def _cut(line: str, utf8_offset: int) -> tuple[str, str]:
    """Split `line` at a column given in UTF-8 bytes (as `ast` counts them)."""
    encoded = line.encode("utf-8")
    return encoded[:utf8_offset].decode("utf-8"), encoded[utf8_offset:].decode("utf-8")
