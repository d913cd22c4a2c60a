"""The notebook's live panel (`wb.chaos(dashboard=True)`): it follows the run."""

from __future__ import annotations

from studypath import chaos
from studypath.chaos import Cluster
from studypath.chaos.dashboard import Dashboard
from studypath.chaos.runner import Live


async def test_the_dashboard_shows_what_the_run_sees(cluster: Cluster) -> None:
    dashboard = Dashboard("chaos: db-failure")
    before = dashboard.widget.value
    shown: list[str] = []

    def update(live: Live) -> None:  # what the run calls, four times a second
        dashboard.update(live)
        shown.append(dashboard.widget.value)

    report = await chaos.run_async(
        scenario="db-failure", duration=6.0, cluster=cluster, on_update=update
    )

    assert "chaos: db-failure" in before and "0 / 0" in before
    assert len(set(shown)) > 1, shown  # rewritten as the run went on
    assert any("db-outage postgresql" in value for value in shown)  # the fault, while in force
    assert any("database unreachable" in value for value in shown)  # the queue, while down
    done = f"{report.accepted} / {report.accepted}"  # tasks accepted / effects applied
    assert report.accepted > 0 and any(done in value for value in shown), shown[-1]
    assert "none" in shown[-1]  # no fault in force at the end
