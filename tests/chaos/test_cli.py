"""`studypath chaos list` and the run command's refusals (the runs themselves are in
test_scenarios.py: a CLI run starts a cluster of its own, which the suite shares instead)."""

from __future__ import annotations

from typer.testing import CliRunner

from studypath import chaos
from studypath.cli import app


def test_chaos_list_names_every_level_and_scenario() -> None:
    result = CliRunner().invoke(app, ["chaos", "list"])
    assert result.exit_code == 0, result.output
    for number in chaos.LEVELS:
        assert f"level {number}" in result.output
    for name in chaos.SCENARIOS:
        assert name in result.output


def test_chaos_run_wants_a_level_or_a_scenario() -> None:
    result = CliRunner().invoke(app, ["chaos", "run"])
    assert result.exit_code == 1
    assert "give --level N or --scenario NAME" in result.output


def test_chaos_run_names_the_scenarios_when_one_is_unknown() -> None:
    result = CliRunner().invoke(app, ["chaos", "run", "--scenario", "meteor"])
    assert result.exit_code == 1
    assert "no scenario 'meteor'" in result.output
    assert "db-failure" in result.output


def test_chaos_run_refuses_a_url_without_its_database() -> None:
    result = CliRunner().invoke(app, ["chaos", "run", "--level", "1", "--url", "http://x"])
    assert result.exit_code == 1
    assert "--url and --database-url go together" in result.output
