"""`studypath admin …`: operating the system from the terminal — accounts and the task
queue. (`admin` is the command users type; the module is named for what it holds.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from studypath.tasks.states import TaskStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from studypath.core.db import Database

from studypath.cli.common import (
    DataDirOpt,
    command_group,
    echo,
    fail,
    rendered,
    settings_from,
    with_database,
)

operations_app = command_group(
    "admin",
    help="Accounts (create admins, reset passwords, change roles) and the task queue.",
)


PasswordOpt = Annotated[
    str | None,
    typer.Option("--password", help="Omit to be prompted (input hidden)."),
]


def ask_password(given: str | None) -> str:
    if given is not None:
        return given
    entered: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return entered


def run_operation(work: Callable[[AsyncSession], Awaitable[str]], data_dir: Path | None) -> None:
    """Run one operation in one transaction (committed at its end); an AppError (policy,
    duplicate, last admin) exits 1."""
    from studypath.core.errors import AppError

    async def in_session(database: Database) -> str:
        async with database.sessionmaker.begin() as session:  # the command's transaction
            return await work(session)

    try:
        echo(with_database(settings_from(data_dir=data_dir), in_session))
    except AppError as exc:
        raise fail(exc.message) from None


@operations_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Username.")] = "admin",
    email: Annotated[str, typer.Option(help="Email.")] = "admin@example.com",
    password: PasswordOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an admin account."""
    from studypath.identity import service
    from studypath.identity.roles import Role

    secret = ask_password(password)

    async def work(session: AsyncSession) -> str:
        user = await service.create_user(
            session,
            username=username,
            email=email,
            password=secret,
            role=Role.ADMIN,
            email_verified=True,
        )
        return f"created admin {user.username} ({user.email})"

    run_operation(work, data_dir)


@operations_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Whose password.")],
    password: PasswordOpt = None,
    require_change: Annotated[
        bool,
        typer.Option(
            "--require-change",
            help="Make them choose a new password at their next login (as the API's "
            "require_change does).",
        ),
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a new password for a user: their sessions end and their API keys are revoked."""
    from studypath.auth import keys, sessions
    from studypath.core.security import hash_password_async
    from studypath.identity import service

    secret = ask_password(password)

    async def work(session: AsyncSession) -> str:
        user = await service.find_by_login(session, username, by_email="@" in username)
        if user is None:
            raise fail(f"no user {username!r}")
        service.check_password_policy(secret)
        user.password_hash = await hash_password_async(secret)
        user.is_active = True
        user.password_change_required = require_change
        ended = await sessions.end_user_sessions(session, user.id)
        revoked = await keys.revoke_all(session, user.id)
        return (
            f"password of {user.username} reset; ended {ended} session(s), "
            f"revoked {revoked} API key(s)"
            + ("; a new password is required at the next login" if require_change else "")
        )

    run_operation(work, data_dir)


@operations_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="Whose role.")],
    role: Annotated[str, typer.Argument(help="user, moderator or admin.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Change a user's role (the last active admin cannot be demoted)."""
    from studypath.identity import service as identity_service
    from studypath.identity.roles import Role
    from studypath.users import service as users_service

    try:
        new_role = Role(role.lower())
    except ValueError:
        raise fail(f"unknown role {role!r}: use user, moderator or admin") from None

    async def work(session: AsyncSession) -> str:
        user = await identity_service.find_by_login(session, username, by_email="@" in username)
        if user is None:
            raise fail(f"no user {username!r}")
        updated = await users_service.set_role(session, user.id, new_role)
        return f"{updated.username} is now {updated.role.value}"

    run_operation(work, data_dir)


@operations_app.command("list-users")
def list_users(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    data_dir: DataDirOpt = None,
) -> None:
    """List accounts (deleted ones excluded)."""
    from rich.table import Table
    from sqlalchemy import select

    from studypath.identity.models import User
    from studypath.identity.roles import Role

    async def work(session: AsyncSession) -> str:
        query = select(User).where(User.deleted_at.is_(None)).order_by(User.created_at)
        if role is not None:
            query = query.where(User.role == Role(role.lower()))
        users = list(await session.scalars(query.limit(limit)))
        table = Table("username", "email", "role", "active", "last login")
        for user in users:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "-"
            table.add_row(
                user.username, user.email, user.role.value, "yes" if user.is_active else "no", last
            )
        return rendered(table) + f"\n{len(users)} user(s)"

    run_operation(work, data_dir)


# --- tasks ----------------------------------------------------------------------------------
@operations_app.command("list-tasks")
def list_tasks(
    status: Annotated[TaskStatus | None, typer.Option(help="Only this status.")] = None,
    task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 50,
    data_dir: DataDirOpt = None,
) -> None:
    """List tasks, newest first."""
    from rich.table import Table

    from studypath.tasks import operations as task_operations

    async def work(session: AsyncSession) -> str:
        tasks = await task_operations.recent_tasks(
            session, status=status, task_type=task_type, limit=limit
        )
        table = Table("id", "type", "status", "priority", "attempts", "created", "last error")
        for task in tasks:
            table.add_row(
                str(task.id),
                task.task_type,
                task.status.value,
                task.priority.value,
                f"{task.current_attempt}/{task.max_attempts}",
                task.created_at.strftime("%Y-%m-%d %H:%M"),
                (task.last_error or "")[:60],
            )
        return rendered(table) + f"\n{len(tasks)} task(s)"

    run_operation(work, data_dir)


@operations_app.command("task-stats")
def task_stats(
    tag: Annotated[
        str | None,
        typer.Option(help="Only tasks whose metadata has this key:value, e.g. team:search."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Count tasks by status and by type."""
    from rich.table import Table

    from studypath.tasks import operations as task_operations
    from studypath.tasks import stats

    try:
        chosen = task_operations.parse_tag(tag) if tag is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--tag'") from None

    async def work(session: AsyncSession) -> str:
        counts = await stats.count_by_status(session, tag=chosen)
        by_status = Table("status", "tasks", title="by status")
        for status, count in counts.by_status.items():
            by_status.add_row(status.value, str(count))
        by_status.add_row("total", str(counts.total), style="bold")
        by_type = Table("type", "total", *(s.value for s in TaskStatus), title="by type")
        for task_type, per_status in counts.by_type.items():
            by_type.add_row(
                task_type, str(sum(per_status.values())), *(str(n) for n in per_status.values())
            )
        scope = f" with metadata {chosen[0]} = {chosen[1]!r}" if chosen else ""
        return rendered(by_status, by_type) + f"\n{counts.total} task(s){scope}"

    run_operation(work, data_dir)


@operations_app.command("clear-completed")
def clear_completed(
    older_than_days: Annotated[
        float, typer.Option(min=0, help="Delete completed tasks that finished longer ago.")
    ] = 7,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete completed tasks older than N days (default 7)."""
    from datetime import timedelta

    from studypath.tasks import operations as task_operations

    async def work(session: AsyncSession) -> str:
        deleted = await task_operations.clear_completed(
            session, older_than=timedelta(days=older_than_days)
        )
        return f"deleted {deleted} completed task(s) older than {older_than_days:g} day(s)"

    run_operation(work, data_dir)


@operations_app.command("requeue-dead-letter")
def requeue_dead_letter(
    task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Send every failed (dead-lettered) task back to the queue, attempts reset."""
    from studypath.tasks import service

    async def work(session: AsyncSession) -> str:
        requeued = await service.requeue_dead_letters(session, task_type)
        of_type = f" of type {task_type}" if task_type else ""
        return f"requeued {requeued} dead-lettered task(s){of_type}"

    run_operation(work, data_dir)
