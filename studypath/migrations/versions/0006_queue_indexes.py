"""queue indexes: the claim walks one index in its own order; fewer indexes to update

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Two lessons from `bench/queue.py`:

* The claim orders by (priority, schedule, age) but `ix_tasks_ready` held only the first two,
  so PostgreSQL read and sorted *every* ready task to pick a few: 12 ms per claim with a
  10,000-task backlog, growing with the backlog. With `created_at` in the index the claim
  reads a handful of index entries and stops: under 1 ms whatever the backlog.
* A claim and an outcome both change `status`, so neither update can be HOT: every index on
  `tasks` gets a new entry, twice per task. `ix_tasks_status` and `ix_tasks_task_type` served
  only admin lists and counts; they go. The dead-letter list gets a partial index, which a
  task only enters when it fails.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_tasks_ready", table_name="tasks")
    op.create_index(
        "ix_tasks_ready",
        "tasks",
        [sa.text("priority_rank DESC"), "scheduled_at", "created_at"],
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
    op.drop_index("ix_tasks_status", table_name="tasks")
    op.drop_index("ix_tasks_task_type", table_name="tasks")
    op.create_index(
        "ix_tasks_dead_letter",
        "tasks",
        [sa.text("priority_rank DESC"), "created_at", "id"],
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_dead_letter", table_name="tasks")
    op.create_index("ix_tasks_task_type", "tasks", ["task_type"])
    op.create_index("ix_tasks_status", "tasks", ["status"])
    op.drop_index("ix_tasks_ready", table_name="tasks")
    op.create_index(
        "ix_tasks_ready",
        "tasks",
        [sa.text("priority_rank DESC"), "scheduled_at"],
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
