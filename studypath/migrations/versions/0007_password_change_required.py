"""password change required: a staff reset with `require_change` forces a new password

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

`users.password_change_required` is set by `POST /users/{id}/reset-password` with
`require_change: true` and cleared when the user changes their own password. While it is set
the user's sessions may only read `GET /auth/me`, log out and change the password.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "password_change_required",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "password_change_required")
