"""`studypath chaos …`: list the levels and scenarios; run one and print its report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from studypath.cli.common import command_group, echo, fail

chaos_app = command_group(
    "chaos",
    help="Chaos experiments: real faults (kills, database outages, partitions) on a system "
    "of their own, and a report that counts what was lost.",
)


@chaos_app.command("list")
def chaos_list() -> None:
    """The six levels and the scenarios, with what each one does."""
    from studypath import chaos

    for name, description in chaos.describe():
        echo(f"{name:<20} {description}")


@chaos_app.command("run")
def chaos_run(
    level: Annotated[int | None, typer.Option(min=1, max=6, help="Difficulty level 1–6.")] = None,
    scenario: Annotated[str | None, typer.Option(help="A scenario (see `chaos list`).")] = None,
    duration: Annotated[
        float | None, typer.Option(min=1, help="The fault window, seconds (default: its own).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the report here: .json as JSON, else Markdown.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Attach to a running system's API (with --database-url).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="That system's database (with --url).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the fault schedule's randomness.")] = 0,
) -> None:
    """Run one level or scenario on a system started for it in a temporary directory (or
    attached with --url and --database-url; the admin password comes from
    STUDYPATH_INITIAL_ADMIN_PASSWORD). Prints the report; exits 1 if the run did not pass.
    Ctrl-C stops the run and restores everything before exiting."""
    from studypath import chaos

    if (level is None) == (scenario is None):
        raise fail("give --level N or --scenario NAME (one of them)")
    if scenario is not None and scenario not in chaos.SCENARIOS:
        raise fail(f"no scenario {scenario!r}; there are: {', '.join(chaos.SCENARIOS)}")
    if (url is None) != (database_url is None):
        raise fail("--url and --database-url go together")
    echo("starting the chaos cluster (database, API server, workers) …", err=True)
    try:
        result = chaos.run(
            level=level,
            scenario=scenario,
            duration=duration,
            url=url,
            database_url=database_url,
            admin_password=os.environ.get("STUDYPATH_INITIAL_ADMIN_PASSWORD"),
            seed=seed,
        )
    except KeyboardInterrupt:
        raise fail("interrupted; the cluster was restored and stopped", code=130) from None
    except (ValueError, RuntimeError) as exc:
        raise fail(str(exc)) from None
    echo(result.to_markdown())
    if report is not None:
        text = result.to_json() if report.suffix == ".json" else result.to_markdown()
        report.write_text(text, encoding="utf-8")
        echo(f"wrote {report}", err=True)
    if not result.passed:
        raise typer.Exit(1)
