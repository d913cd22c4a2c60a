"""`studypath db …`: the embedded database."""

from __future__ import annotations

from typing import Annotated

import typer

from studypath.cli.common import (
    DataDirOpt,
    command_group,
    echo,
    explained_errors,
    fail,
    settings_from,
)

db_app = command_group(
    "db",
    help="The database studypath uses (embedded by default).",
)


@db_app.command("url")
def db_url(
    data_dir: DataDirOpt = None,
    show_password: Annotated[bool, typer.Option(help="Print the password too.")] = False,
) -> None:
    """Print the database URL (for psql, GUI tools, `STUDYPATH_DATABASE_URL`)."""
    from studypath.core.db import libpq_url, masked
    from studypath.core.embedded import EmbeddedPostgres

    settings = settings_from(data_dir=data_dir)
    if settings.database_url:
        echo(libpq_url(settings.database_url) if show_password else masked(settings.database_url))
        return
    url = EmbeddedPostgres.running_url(settings.pgdata_dir)
    if url is None:
        raise fail(
            f"the embedded database in {settings.pgdata_dir} is not running; "
            "start it with `studypath up` (or `studypath db start`)"
        )
    echo(url)


@db_app.command("start")
def db_start(data_dir: DataDirOpt = None) -> None:
    """Start the embedded database and leave it running (stop it with `studypath db stop`)."""
    from studypath import migrations
    from studypath.core.embedded import EmbeddedPostgres

    settings = settings_from(data_dir=data_dir)
    with explained_errors():
        embedded = EmbeddedPostgres(settings.pgdata_dir, durable=settings.embedded_durable)
        url = embedded.start()
        migrations.upgrade(url)
        embedded.detach()
    echo(url)


@db_app.command("stop")
def db_stop(
    data_dir: DataDirOpt = None,
    all_ephemeral: Annotated[
        bool,
        typer.Option(
            "--all-ephemeral",
            help="Instead: stop and delete every ephemeral Workbench database whose "
            "notebook kernel has gone (in the temp directory).",
        ),
    ] = False,
) -> None:
    """Stop the embedded database, also one left running by a killed process."""
    from studypath.core.embedded import EmbeddedPostgres

    if all_ephemeral:
        stop_leftover_ephemeral()
        return
    settings = settings_from(data_dir=data_dir)
    if EmbeddedPostgres.force_stop(settings.pgdata_dir):
        echo(f"stopped the embedded database in {settings.pgdata_dir}")
    else:
        echo(f"no embedded database running in {settings.pgdata_dir}")


def stop_leftover_ephemeral() -> None:
    """Ephemeral data directories are marked (see `make_ephemeral_dir`); their owner's pid
    says whether a kernel still uses one. The others are stopped and deleted."""
    from studypath.core.embedded import leftover_ephemeral_dirs, remove_ephemeral_dir

    leftovers = leftover_ephemeral_dirs()
    for data_dir in leftovers:
        remove_ephemeral_dir(data_dir)
        echo(f"stopped and removed {data_dir}")
    if not leftovers:
        echo("no leftover ephemeral databases")


@db_app.command("status")
def db_status(data_dir: DataDirOpt = None) -> None:
    """Say whether the embedded database runs, and where."""
    from studypath.core.embedded import EmbeddedPostgres, postgres_processes

    settings = settings_from(data_dir=data_dir)
    procs = postgres_processes(settings.pgdata_dir.resolve())
    url = EmbeddedPostgres.running_url(settings.pgdata_dir)
    if url is None:
        echo(f"not running ({settings.pgdata_dir})")
        raise typer.Exit(1)
    echo(f"running: {url}  ({len(procs)} postgres process(es))")
