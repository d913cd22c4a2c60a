"""The Dockerfile holds to what the issue asks and to the checkout: three stages (web, wheels,
runtime), a runtime with only wheels (no compilers), a non-root user, the health check, the
commands; every path it copies exists and is in the build context; secrets are not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studypath.viz.deploy import (
    context_copies,
    dockerfile_stages,
    in_build_context,
    irreversible_migrations,
    project_root,
)

ROOT = project_root()
STAGES = {stage.name: stage for stage in dockerfile_stages(ROOT / "Dockerfile")}
# The web app is merged from its own branch; until then its stage has nothing to build.
WEB_APP_PRESENT = (ROOT / "web" / "package.json").exists()


def test_three_stages_node_then_python_then_a_slim_runtime() -> None:
    assert list(STAGES) == ["web", "wheels", "runtime"]
    assert STAGES["web"].base.startswith("node:")
    assert STAGES["wheels"].base.startswith("python:")
    assert STAGES["runtime"].base.startswith("python:") and STAGES["runtime"].base.endswith("-slim")


def test_the_web_stage_builds_into_the_package_and_the_wheel_takes_it() -> None:
    assert any("npm ci" in run for run in STAGES["web"].of("RUN"))
    assert any("npm run build" in run for run in STAGES["web"].of("RUN"))
    from_web = [c for c in STAGES["wheels"].copies() if c[0] == "web"]
    assert from_web == [("web", ["/src/studypath/static/"], "studypath/static/")]


def test_the_runtime_installs_only_the_wheels_and_no_compiler() -> None:
    runtime = STAGES["runtime"]
    runs = " ".join(runtime.of("RUN"))

    assert "--no-index" in runs and "from=wheels" in runs  # nothing fetched, nothing built
    assert not [c for c in runtime.copies() if c[0] is None]  # no source from the context
    assert not re.search(r"\b(gcc|g\+\+|build-essential|clang|make)\b", runs)
    assert not re.search(r"apt-get install", runs)


def test_the_runtime_runs_as_a_non_root_user_with_the_health_check() -> None:
    runtime = STAGES["runtime"]

    (user,) = runtime.of("USER")
    assert user.split(":")[0] not in {"0", "root"}
    assert runtime.exec_form("ENTRYPOINT") == ["studypath"]
    assert runtime.exec_form("CMD") == ["server"]
    assert runtime.exec_form("HEALTHCHECK")[:2] == ["studypath", "health-check"]


@pytest.mark.parametrize(("stage", "source"), context_copies(ROOT))
def test_every_copied_path_exists_and_is_in_the_build_context(stage: str, source: str) -> None:
    if stage == "web" and not WEB_APP_PRESENT:
        assert source.startswith("web/")  # the only stage allowed to wait for its sources
        return
    assert (ROOT / source).exists(), f"stage {stage} copies {source}, which is missing"
    probe = (
        source
        if not source.endswith("/")
        else next(
            str(p.relative_to(ROOT)) for p in sorted((ROOT / source).rglob("*")) if p.is_file()
        )
    )
    assert in_build_context(ROOT, probe), f"{probe} is excluded by .dockerignore"


@pytest.mark.parametrize(
    "secret",
    [
        ".env",
        "deploy/compose/.env",
        "studypath/.env",
        "web/.env.production",
        "key.pem",
        "notebooks/id_rsa",
        ".git/config",
        ".venv/bin/python",
        "web/node_modules/x/index.js",
    ],
)
def test_secrets_and_local_state_stay_out_of_the_build_context(secret: str) -> None:
    assert not in_build_context(ROOT, secret)


def test_every_migration_can_be_reverted() -> None:
    """`migrate down` is the rollback of a release's schema change: no migration may be a
    one-way door (tests/test_migrations.py runs them down and up for real)."""
    assert irreversible_migrations(ROOT / "studypath" / "migrations" / "versions") == []


def test_the_reversibility_check_finds_an_empty_downgrade(tmp_path: Path) -> None:
    one_way = [
        "def upgrade():",
        '    op.drop_column("t", "c")',
        "def downgrade():",
        '    """No way back."""',
        "    pass",
    ]
    (tmp_path / "0099_one_way.py").write_text("\n".join(one_way) + "\n")

    assert irreversible_migrations(tmp_path) == ["0099_one_way.py"]
