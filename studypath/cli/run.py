"""Run the system: up, server, worker; migrate, health-check, export-openapi, notebooks."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from studypath.version import __version__

if TYPE_CHECKING:
    from studypath.system import System

from studypath.cli.common import (
    DataDirOpt,
    HostOpt,
    PortOpt,
    app,
    echo,
    explained_errors,
    fail,
    run_system,
    settings_from,
)


@app.command()
def up(
    workers: Annotated[int, typer.Option(min=0, max=64, help="In-process workers (0: none).")] = 1,
    port: PortOpt = None,
    host: HostOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run everything: embedded database, API server and workers. Ctrl-C stops it all."""
    from pydantic import SecretStr

    from studypath.core.security import random_password

    settings = settings_from(port=port, host=host, data_dir=data_dir)
    generated = None
    if settings.initial_admin_password is None:
        # A fresh data directory gets an admin right away; the password is shown once.
        generated = random_password()
        settings = settings.model_copy(update={"initial_admin_password": SecretStr(generated)})

    def ready(url: str, system: System) -> None:
        echo("")
        echo(f"studypath is up at {url}  ({workers} worker(s))")
        echo(f"  web app      {url}/")
        echo(f"  API docs     {url}/api-docs")
        echo(f"  health       {url}/api/v1/health/detailed")
        if system.initial_admin_created:
            shown = generated or "(the STUDYPATH_INITIAL_ADMIN_PASSWORD you set)"
            echo("")
            echo("Created the first admin. Log in with:")
            echo("  username  admin      (email admin@example.com)")
            echo(f"  password  {shown}")
            echo(f"  curl -s {url}/api/v1/auth/login -H 'Content-Type: application/json' \\")
            echo('       -d \'{"username": "admin", "password": "<password>"}\'')
            echo("Shown once; change it with `studypath admin reset-password admin`.")
        else:
            echo(
                "Log in with your account (forgot the admin password? "
                "`studypath admin reset-password admin`)."
            )
        echo("Press Ctrl-C to stop.")

    run_system(settings, serve_api=True, workers=workers, on_ready=ready)


@app.command()
def server(port: PortOpt = None, host: HostOpt = None, data_dir: DataDirOpt = None) -> None:
    """Run the API server only (run workers separately with `studypath worker`)."""
    settings = settings_from(port=port, host=host, data_dir=data_dir)
    run_system(
        settings,
        serve_api=True,
        workers=0,
        on_ready=lambda url, _system: echo(f"API server listening on {url}"),
    )


@app.command()
def worker(
    data_dir: DataDirOpt = None,
    concurrency: Annotated[int | None, typer.Option(help="Tasks run at once.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this process's Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run one worker process. Start as many as you like against the same database."""
    settings = settings_from(
        data_dir=data_dir, worker_concurrency=concurrency, worker_metrics_port=metrics_port
    )

    def ready(_url: str, system: System) -> None:
        echo("worker running; Ctrl-C to stop")
        if system.metrics_url:
            echo(f"metrics at {system.metrics_url}")

    run_system(settings, serve_api=False, workers=1, on_ready=ready)


class MigrateAction(StrEnum):
    up = "up"
    down = "down"
    current = "current"


@app.command()
def migrate(
    action: Annotated[MigrateAction, typer.Argument(help="up, down or current")] = (
        MigrateAction.up
    ),
    revision: Annotated[str | None, typer.Option(help="Target (up: head, down: -1).")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Apply (`up`), revert (`down`) or show (`current`) database migrations."""
    from studypath import migrations
    from studypath.core.db import ensure_reachable
    from studypath.core.embedded import provide_database
    from studypath.core.logging import configure_console_logging

    settings = settings_from(data_dir=data_dir)
    configure_console_logging("WARNING")
    with explained_errors():
        provider = provide_database(settings)
        try:
            ensure_reachable(provider.url, settings.db_connect_timeout)
            if action is MigrateAction.up:
                migrations.upgrade(provider.url, revision or "head")
            elif action is MigrateAction.down:
                migrations.downgrade(provider.url, revision or "-1")
            current = migrations.current_revision(provider.url)
            echo(f"current revision: {current or '(none)'}  (head: {migrations.head_revision()})")
        finally:
            provider.stop()


@app.command("health-check")
def health_check(
    url: Annotated[str | None, typer.Option(help="Base URL (default from settings).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 5.0,
) -> None:
    """Exit 0 if the server is ready (database reachable), 1 otherwise."""
    import httpx

    if url is None:
        settings = settings_from()
        host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
        url = f"http://{host}:{settings.port}"
    target = url.rstrip("/") + "/api/v1/health/ready"
    try:
        response = httpx.get(target, timeout=timeout)
    except httpx.HTTPError as exc:
        echo(f"unhealthy: {target} did not answer ({exc.__class__.__name__}: {exc})", err=True)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        echo(
            f"unhealthy: {target} answered {response.status_code}: {response.text[:300]}", err=True
        )
        raise typer.Exit(1)
    echo(f"healthy: {target}")


@app.command("export-openapi")
def export_openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
) -> None:
    """Write the OpenAPI document of the API (no database needed), byte for byte the same
    for the same API: `--output web/openapi.json` refreshes the web app's snapshot."""
    from studypath.app import create_app
    from studypath.openapi import openapi_text

    document = openapi_text(create_app(settings_from()))
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
        echo(f"wrote {output}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def notebooks(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Your workspace (default: in your user data directory)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Copy or update the notebooks, print the JupyterLab command."
        ),
    ] = False,
) -> None:
    """Copy the course notebooks into your workspace (without outputs) and open JupyterLab
    there. Running it again after a course update refreshes the notebooks you have not
    changed; yours are kept, with the new version beside them. Other arguments go to
    JupyterLab: `studypath notebooks --port 9999 --no-browser`."""
    from studypath.cli import workspace as ws

    course = ws.course_dir()
    if course is None:
        raise fail("the course notebooks were not found (neither notebooks/ nor studypath/course)")
    target = (workspace or ws.default_workspace()).expanduser().resolve()
    try:
        report = ws.sync(course, target)
    except OSError as exc:
        raise fail(f"could not write the workspace {target}: {exc}") from None
    for line in report.lines():
        echo(line)
    as_root = getattr(os, "geteuid", lambda: -1)() == 0
    command = ws.jupyterlab_command(sys.executable, target, list(ctx.args), as_root=as_root)
    if dry_run:
        echo("would run: " + shlex.join(command))
        return
    if importlib.util.find_spec("jupyterlab") is None:
        raise fail("JupyterLab is not installed: pip install 'studypath[notebooks]'")
    echo("opening JupyterLab … (Ctrl-C to stop it)")
    raise typer.Exit(subprocess.call(command))


@app.command()
def version() -> None:
    """Print the studypath version."""
    echo(__version__)
