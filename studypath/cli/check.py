"""`studypath check-api`: the black-box contract suite against a running server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from studypath.cli.common import app, echo

if TYPE_CHECKING:
    from studypath.testing.api_suite import Outcome

ADMIN_PASSWORD_VARIABLE = "STUDYPATH_CHECK_ADMIN_PASSWORD"


@app.command("check-api")
def check_api(
    url: Annotated[str, typer.Option(help="The server's base URL: http://host:port.")],
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar=ADMIN_PASSWORD_VARIABLE,
            help="The admin's password, to check the admin-only rules too.",
        ),
    ] = None,
    admin_username: Annotated[str, typer.Option(help="The admin's username.")] = "admin",
) -> None:
    """Check that the API at --url keeps its contract — every endpoint group's happy path,
    validation, and 401/403/404 rules — using throwaway accounts it deletes afterwards.
    Prints a report; exit 1 if any check fails (a post-deploy smoke test)."""
    from studypath.testing.api_suite import run_suite

    def progress(outcome: Outcome) -> None:
        mark = "skip" if outcome.skipped else "ok" if outcome.passed else "FAILED"
        echo(f"{outcome.group}: {outcome.name} … {mark}", err=True)

    report = run_suite(
        url, admin_password=admin_password or None, admin_username=admin_username, progress=progress
    )
    echo(report.text())
    raise typer.Exit(0 if report.ok else 1)
