"""Schemathesis in the suite: a bounded, seeded run of every check against the real server
as anonymous, a user and an admin — no server error, no schema violation, no undocumented
status. (bench/fuzz.py runs the long version.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.identity.roles import Role
from studypath.system import System
from studypath.testing.factories import make_user, start_session
from studypath.testing.server import base_url
from tests.support.fuzzing import Identity, run_schemathesis, summary

# A few examples per operation and three identities: well under three minutes here.
MAX_EXAMPLES = 5


@pytest.mark.timeout(240)
async def test_fuzz_schemathesis_finds_no_failures(
    system: System, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    user = await make_user(session, username="fuzz_user")
    admin = await make_user(session, username="fuzz_admin", role=Role.ADMIN)
    victim = await make_user(session, username="fuzz_victim")
    identities = [
        Identity("anonymous"),
        Identity("user", await start_session(session, user, settings)),
        Identity("admin", await start_session(session, admin, settings), str(victim.id)),
    ]

    results = [
        await run_schemathesis(base_url(system), identity, tmp_path, max_examples=MAX_EXAMPLES)
        for identity in identities
    ]

    report = summary(results)
    assert all(result.cases > 0 for result in results), report + results[0].output[-3000:]
    failed = [result for result in results if not result.ok]
    assert not failed, report + "\n\n" + "\n\n".join(result.output[-6000:] for result in failed)
