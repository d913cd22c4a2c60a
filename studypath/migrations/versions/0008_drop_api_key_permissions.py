"""drop api_keys.permissions: a column nothing read or wrote

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

The reference's keys carry a `permissions` list; studypath's keys act with their owner's role
(see `studypath.auth.keys`), so the column stayed NULL in every row. Downgrading adds it back
empty (NULL), as 0001 created it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("api_keys", "permissions")


def downgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column("permissions", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
