"""The `studypath` command: run the system from a terminal, migrate, check, export.

studypath up                 # embedded PostgreSQL + API server + 1 worker, foreground
studypath server             # API only          studypath worker   # worker only
studypath migrate up|down|current
studypath admin list-tasks | task-stats | clear-completed | requeue-dead-letter
studypath health-check       # exit 0 healthy / 1 not (a container HEALTHCHECK)
studypath notebooks          # your copy of the course notebooks, opened in JupyterLab
studypath labs list | release | check | grade
studypath chaos list | run --level N | --scenario NAME   # real faults, counted
studypath check-api --url URL   # the black-box contract suite against a running server
"""

# Each module registers its commands; `studypath --help` lists the groups in this order.
# isort: off
from studypath.cli import operations, database, labs, run, chaos, check  # noqa: F401

# isort: on
from studypath.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
