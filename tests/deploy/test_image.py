"""Where a Docker engine answers, build the image and run `studypath health-check` in it
against a server in it (`.ci/image`, what the pipeline's image job runs). This machine's CI
has only the Docker client, so the test says so and is skipped there; the Dockerfile itself
is checked without an engine in test_dockerfile.py."""

from __future__ import annotations

import subprocess

import pytest

from studypath.viz.deploy import project_root

ROOT = project_root()


def docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@pytest.mark.timeout(1800)
@pytest.mark.skipif(not docker_engine_answers(), reason="no Docker engine answers here")
@pytest.mark.skipif(
    not (ROOT / "web" / "package.json").exists(), reason="the web app (web/) is not merged yet"
)
def test_the_image_builds_and_its_health_check_passes() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "image"), "studypath:test"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
