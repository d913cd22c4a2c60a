"""When a fault's recovery starts counting: once no fault holds the system down."""

from __future__ import annotations

from studypath.chaos.runner import quiet_from
from studypath.chaos.timeline import FaultRecord


def test_a_lone_fault_recovers_from_its_own_end() -> None:
    kill = FaultRecord("kill", "worker-1", started=1.0, ended=1.2)

    assert quiet_from(1.2, [kill]) == 1.2


def test_a_fault_inside_another_recovers_from_the_outer_faults_end() -> None:
    outage = FaultRecord("db-outage", "postgres", started=2.0, ended=6.0)
    restart = FaultRecord("restart", "api-1", started=3.0, ended=3.5)

    assert quiet_from(3.5, [outage, restart]) == 6.0
    assert quiet_from(6.0, [outage, restart]) == 6.0


def test_overlaps_chain_until_the_system_is_left_alone() -> None:
    faults = [
        FaultRecord("kill", "worker-1", started=1.0, ended=2.0),
        FaultRecord("pause", "worker-2", started=1.5, ended=4.0),
        FaultRecord("db-outage", "postgres", started=3.5, ended=7.0),
        FaultRecord("kill", "worker-3", started=9.0, ended=9.1),  # later, apart
    ]

    assert quiet_from(2.0, faults) == 7.0
    assert quiet_from(9.1, faults) == 9.1
