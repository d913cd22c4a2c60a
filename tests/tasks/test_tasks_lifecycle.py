"""The lifecycle is enforced: every status change the SQL makes is a row of the table.

These tests read the statements themselves — each `UPDATE tasks` in the tasks package, as
the database receives it — take the statuses each one requires (`WHERE status = …`,
`status IN (…)`) and the statuses it may set (`SET status = …`, every branch of a `CASE`),
and check each move against `lifecycle.TRANSITIONS`. They also check the other way round
(every row of the table is a move some statement makes) and that no code outside the tasks
package writes SQL on the task tables.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import TextClause

import studypath
from studypath.tasks import (
    breakers,
    operations,
    queue,
    registration,
    service,
    stats,
    workers,
)
from studypath.tasks.lifecycle import TRANSITIONS, check_transition
from studypath.tasks.states import AttemptOutcome, TaskStatus

MODULES: tuple[ModuleType, ...] = (
    queue,
    breakers,
    registration,
    service,
    stats,
    operations,
    workers,
)
STATUS = r"'(\w+)'"
SET_STATUS = re.compile(r"\bSET\s+status\s*=\s*(CASE\b.*?\bEND|'\w+')", re.DOTALL | re.IGNORECASE)
WHERE_STATUS = re.compile(r"(?:\b\w+\.)?\bstatus\s*(?:=\s*'(\w+)'|IN\s*\(([^)]*)\))", re.IGNORECASE)


def sql_of(statement: TextClause | Update) -> str:
    if isinstance(statement, TextClause):
        return statement.text
    compiled = statement.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled)


def task_moves() -> dict[str, str]:
    """Every module-level statement of the tasks package that updates `tasks`, as SQL."""
    found: dict[str, str] = {}
    seen: set[int] = set()  # a statement imported into another module is counted once
    for module in MODULES:
        for name, value in vars(module).items():
            if isinstance(value, TextClause | Update) and id(value) not in seen:
                seen.add(id(value))
                sql = sql_of(value)
                if re.search(r"\bUPDATE\s+tasks\b", sql, re.IGNORECASE):
                    found[f"{module.__name__.rsplit('.', 1)[1]}.{name}"] = sql
    return found


def moves_of(sql: str) -> tuple[set[TaskStatus], set[TaskStatus]]:
    """(the statuses the statement requires, the statuses it may set)."""
    setting = SET_STATUS.search(sql)
    if setting is None:
        return set(), set()
    targets = {TaskStatus(value) for value in re.findall(STATUS, setting.group(1))}
    rest = sql[: setting.start()] + sql[setting.end() :]
    sources: set[TaskStatus] = set()
    for equals, listed in WHERE_STATUS.findall(rest):
        values = [equals] if equals else re.findall(STATUS, listed)
        sources |= {TaskStatus(value) for value in values}
    return sources, targets


MOVES = task_moves()
STATUS_MOVES = {name: moves_of(sql) for name, sql in MOVES.items() if moves_of(sql)[1]}


def test_the_statements_that_move_tasks_are_found() -> None:
    # If this list shrinks, the parser above stopped seeing a statement: fix the parser.
    assert set(STATUS_MOVES) == {
        "queue.CLAIM",
        "queue.CLAIM_PROBE",
        "queue.COMPLETE_MANY",
        "queue.FAIL",
        "queue.CANCELLED",
        "queue.RELEASE",
        "queue.REAP_EXPIRED",
        "queue.CANCEL_WAITING",
        "queue.REQUEUE_DEAD_LETTERS",
    }


@pytest.mark.parametrize("name", sorted(STATUS_MOVES))
def test_every_status_change_in_the_sql_is_a_row_of_the_transition_table(name: str) -> None:
    sources, targets = STATUS_MOVES[name]
    assert sources, f"{name} sets a status without saying which statuses it moves from"
    for source in sources:
        for target in targets:
            check_transition(source, target)  # raises InvalidTransition for a move not listed


def test_every_row_of_the_transition_table_is_made_by_some_statement() -> None:
    made = {
        (source, target)
        for sources, targets in STATUS_MOVES.values()
        for source in sources
        for target in targets
    }
    listed = {(t.source, t.target) for t in TRANSITIONS}
    assert listed == made


def test_a_move_outside_the_table_is_caught_by_the_parser() -> None:
    # The check above would fail for a statement that revives a completed task.
    sources, targets = moves_of(
        "UPDATE tasks SET status = 'pending' WHERE id = :id AND status = 'completed'"
    )
    assert (sources, targets) == ({TaskStatus.COMPLETED}, {TaskStatus.PENDING})
    with pytest.raises(ValueError, match="a completed task cannot become pending"):
        check_transition(TaskStatus.COMPLETED, TaskStatus.PENDING)


def test_the_heartbeat_touches_leases_only() -> None:
    assert "queue.HEARTBEAT" in MOVES and "queue.HEARTBEAT" not in STATUS_MOVES


def test_a_dead_letter_and_a_failed_attempt_have_different_names() -> None:
    # Stored (and shown by the API) as "failed", the dead letter is DEAD_LETTER in code;
    # a failed attempt that will run again leaves the task RETRYING.
    assert TaskStatus.DEAD_LETTER.value == "failed"
    assert "FAILED" not in TaskStatus.__members__
    assert AttemptOutcome.DEAD_LETTERED.value == "dead"
    assert AttemptOutcome.RETRYING.value == "retrying"


TASK_TABLE_SQL = re.compile(
    r"\b(?:UPDATE|FROM|INTO|JOIN)\s+(?:tasks|task_types|circuit_breakers|workers)\b"
)
# Outside the tasks package, only these may name the task tables in SQL text.
ALLOWED_OUTSIDE = {
    "migrations": "the schema's history",
    "viz/tasks.py": "an example query in a docstring, for notebooks",
}


def test_no_sql_on_the_task_tables_outside_the_tasks_package() -> None:
    root = Path(studypath.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("tasks/") or any(relative.startswith(a) for a in ALLOWED_OUTSIDE):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if TASK_TABLE_SQL.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
