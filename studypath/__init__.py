"""studypath: a real production-style web system that runs inside your notebook.

import studypath
wb = studypath.start()          # embedded PostgreSQL + API server + worker, in a thread
wb.client().get("/api/v1/health").json()
wb.stop()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studypath.version import __version__

if TYPE_CHECKING:
    from studypath.runtime import Workbench


def start(
    *,
    ephemeral: bool = False,
    data_dir: str | Path | None = None,
    port: int | None = None,
    host: str | None = None,
    workers: int = 1,
    database_url: str | None = None,
    restart: bool = False,
    **settings: Any,
) -> Workbench:
    """Start the whole system in a background thread (or return the one already running)
    and return its Workbench.

    - `ephemeral=True`: a temporary data directory and a fast, non-durable database, deleted
      by `wb.stop()` — what the notebooks use; the port defaults to any free one.
    - `data_dir`: where the embedded database and task files live (default: the
      `STUDYPATH_DATA_DIR` environment variable, else your user data directory).
    - `port`, `host`: where the API listens (default 3000 on 127.0.0.1).
    - `workers`: how many task workers run in the process (0: the API only).
    - `database_url`: an external PostgreSQL instead of the embedded one.
    - `restart=True`: if a Workbench with other settings runs, stop it and start anew
      (without it, asking for other settings raises `SettingsMismatch`, naming them).
    - `**settings`: any other setting by name (`log_level="DEBUG"`,
      `password_hash_time_cost=1`, …); see `studypath.config.Settings`. Each overrides its
      `STUDYPATH_*` environment variable.

    The system's modules are imported on the first call, not by `import studypath`."""
    from studypath.runtime import start as start_workbench

    return start_workbench(
        ephemeral=ephemeral,
        data_dir=data_dir,
        port=port,
        host=host,
        workers=workers,
        database_url=database_url,
        restart=restart,
        **settings,
    )


def __getattr__(name: str) -> Any:
    if name == "Workbench":
        from studypath.runtime import Workbench

        return Workbench
    raise AttributeError(name)


__all__ = ["Workbench", "__version__", "start"]
