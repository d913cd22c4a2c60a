"""One chaos cluster for the chaos tests: an embedded PostgreSQL of its own (the session's
test server must not be stopped), an API server process and worker processes. Starting it
costs about ten seconds, so the tests share it; every run restores it, and each test leaves
it healthy (the `healthy_cluster` fixture checks)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from studypath.chaos import Cluster, ClusterConfig
from studypath.chaos.proxy import HEALTHY
from studypath.core.clock import poll_until


@pytest.fixture(scope="session")
def chaos_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("chaos"), ClusterConfig(workers=2))
    cluster.start()
    yield cluster
    cluster.stop()


def assert_healthy(cluster: Cluster) -> None:
    """Database up, proxies healed, every process alive and running, the API ready."""
    assert cluster.database is not None and cluster.database.server_running()
    assert cluster.db_proxy is not None and cluster.db_proxy.fault == HEALTHY
    assert cluster.hook_proxy is not None and cluster.hook_proxy.fault == HEALTHY
    assert cluster.server is not None and cluster.server.alive and not cluster.server.paused
    assert cluster.workers and all(w.alive and not w.paused for w in cluster.workers)
    # Readiness answers from a cached check: one that failed during the test's fault is
    # trusted for about a second after the fault is undone.
    answers: list[httpx.Response] = []

    def ready() -> bool:
        answers.append(httpx.get(f"{cluster.api_url}/api/v1/health/ready", timeout=10))
        return answers[-1].status_code == 200

    poll_until(ready, within=15, what="the API to be ready", detail=lambda: answers[-1].text)


@pytest.fixture
def cluster(chaos_cluster: Cluster) -> Iterator[Cluster]:
    """The shared cluster, checked healthy after the test (and restored if it was not)."""
    yield chaos_cluster
    try:
        assert_healthy(chaos_cluster)
    finally:
        chaos_cluster.heal_processes()
