"""Schemathesis against a running studypath: shared by tests/http/test_fuzz.py (bounded, in the
suite) and bench/fuzz.py (long, by hand).

Each run is the `schemathesis run` CLI in a subprocess (so the server keeps serving on the
caller's event loop) with a fixed seed, all checks, and one identity: anonymous, a user or
an admin. Operations that would end the identity's own session are left out of its run;
admin operations on `/users/{user_id}` act on a victim user of their own, so the run cannot
lock itself out.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Operations that end the caller's session (or all of them): a run must not cut the branch
# it sits on. (They are covered by the authorization table and the auth tests.)
SESSION_ENDING = [
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/logout-all",
    "DELETE /api/v1/users/me",
    "PUT /api/v1/users/me/password",
]
SEED = 20240501

# Operations with a rule JSON Schema cannot state: a request the schema allows may still get
# a 400 naming the rule (each rule is in the operation's description in the OpenAPI
# document). For these only, `positive_data_acceptance` also accepts 400; every other check,
# and the refusal of a schema-valid request with 422 ("cannot be read as the schema"), stay.
_PASSWORD_POLICY = (
    "the password policy: 3 of 4 character classes and not a common password (a pattern "
    "cannot say 3 of 4 Unicode classes; no schema can hold the leaked-password list)"
)
_RECORDED_AT = "recorded_at within the last 30 days: a window relative to now"
RULES_THE_SCHEMA_CANNOT_SAY: dict[str, str] = {
    "POST /api/v1/auth/register": _PASSWORD_POLICY,
    "POST /api/v1/users": _PASSWORD_POLICY,
    "POST /api/v1/users/{user_id}/reset-password": _PASSWORD_POLICY,
    "PUT /api/v1/users/me/password": _PASSWORD_POLICY,
    "POST /api/v1/monitoring/events": _RECORDED_AT,
    "POST /api/v1/monitoring/metrics": _RECORDED_AT,
    "GET /api/v1/monitoring/events": "tags filter: each key at most once (no regex says it)",
    "GET /api/v1/monitoring/metrics": "labels filter: each key at most once (no regex says it)",
    "POST /api/v1/tasks": "task_type must be registered (the set changes at run time), the "
    "payload must match that type's payload_schema, scheduled_at within a window from now",
    "POST /api/v1/monitoring/alerts": "the query's number within ±10^15 (a pattern cannot "
    "bound a number's value) and threshold_value equal to it",
    "PUT /api/v1/monitoring/alerts/{alert_id}": "the query's number within ±10^15 (a "
    "pattern cannot bound a number's value)",
    "PUT /api/v1/monitoring/incidents/{incident_id}": "assigned_to must be an existing, "
    "active user (a fact of the database, not of the request)",
    "POST /api/v1/notes/{note_id}/share": "the recipient is not the note's owner (a fact of "
    "the database, not of the request)",
}
POSITIVE_WITH_UNSTATED_RULE = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


@dataclass
class Identity:
    """Who a run acts as: a name, the header it sends (none: anonymous), and the id of the
    user that `/users/{user_id}` operations may change (a victim, never the identity)."""

    name: str
    token: str | None = None
    victim_id: str | None = None


@dataclass
class RunResult:
    identity: str
    returncode: int
    cases: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    failing: set[str] = field(default_factory=set)
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures


def schemathesis_command() -> list[str]:
    return [str(Path(sys.executable).with_name("schemathesis"))]


def write_config(directory: Path, identity: Identity) -> Path:
    """A schemathesis.toml pinning `/users/{user_id}` to the identity's victim, and letting
    the operations of `RULES_THE_SCHEMA_CANNOT_SAY` answer a schema-valid request with 400."""
    lines = []
    for operation, rule in RULES_THE_SCHEMA_CANNOT_SAY.items():
        statuses = ", ".join(f'"{status}"' for status in POSITIVE_WITH_UNSTATED_RULE)
        lines += [
            f"# {rule}",
            "[[operations]]",
            f'include-name = "{operation}"',
            f"checks.positive_data_acceptance.expected-statuses = [{statuses}]",
            "",
        ]
    if identity.victim_id is not None:
        lines += [
            "[[operations]]",
            'include-path-regex = "^/api/v1/users/\\\\{user_id\\\\}"',
            f'parameters = {{ "path.user_id" = "{identity.victim_id}" }}',
            "",
        ]
    path = directory / f"schemathesis-{identity.name}.toml"
    path.write_text("\n".join(lines))
    return path


def count_report(report: Path) -> tuple[int, Counter[str], set[str]]:
    """(test cases run, failing checks by name, "operation: check" pairs that failed) from
    schemathesis' NDJSON event stream."""
    cases = 0
    failures: Counter[str] = Counter()
    where: set[str] = set()
    if not report.exists():
        return cases, failures, where
    for line in report.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        cases += len(recorder.get("cases", {}))
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if str(check.get("status")).lower() == "failure":
                    failures[check.get("name", "?")] += 1
                    where.add(f"{recorder.get('label', '?')}: {check.get('name', '?')}")
    return cases, failures, where


async def run_schemathesis(
    base_url: str,
    identity: Identity,
    workdir: Path,
    *,
    max_examples: int,
    phases: str = "examples,coverage,fuzzing",
    workers: int = 1,
    extra: tuple[str, ...] = (),
) -> RunResult:
    """One bounded schemathesis run as `identity`; never raises on findings."""
    report = workdir / f"events-{identity.name}.ndjson"
    command = [
        *schemathesis_command(),
        "--no-color",
        "--config-file",
        str(write_config(workdir, identity)),
        "run",
        f"{base_url}/api-docs/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(max_examples),
        "--phases",
        phases,
        "--workers",
        str(workers),
        "--generation-database",
        "none",
        "--continue-on-failure",
        "--request-timeout",
        "10",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--output-truncate",
        "true",
        *extra,
    ]
    if identity.token is not None:
        command += ["--header", f"Authorization: Bearer {identity.token}"]
        for operation in SESSION_ENDING:
            command += ["--exclude-name", operation]
    env = {**os.environ, "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,
        env=env,
    )
    stdout, _ = await process.communicate()
    cases, failures, failing = count_report(report)
    return RunResult(
        identity=identity.name,
        returncode=process.returncode or 0,
        cases=cases,
        failures=failures,
        failing=failing,
        output=stdout.decode(errors="replace"),
    )


def summary(results: list[RunResult]) -> str:
    lines = []
    for result in results:
        checks = ", ".join(f"{name}: {count}" for name, count in result.failures.most_common())
        lines.append(
            f"{result.identity:<10} exit {result.returncode}  cases {result.cases:>6}  "
            f"failures {sum(result.failures.values()):>4}  {checks}"
        )
        lines += [f"    {pair}" for pair in sorted(result.failing)]
    return "\n".join(lines)
