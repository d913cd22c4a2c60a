"""studypath: a real production-style web system that runs inside your notebook.

import studypath
wb = studypath.start()          # embedded PostgreSQL + API server + worker, in a thread
wb.client().get("/api/v1/health").json()
wb.stop()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studypath.version import __version__

if TYPE_CHECKING:
    from studypath.runtime import Workbench


def start(**kwargs: Any) -> Workbench:
    """Start (or return the already running) Workbench. See `studypath.runtime.start`."""
    from studypath.runtime import start as _start

    return _start(**kwargs)


def __getattr__(name: str) -> Any:
    if name == "Workbench":
        from studypath.runtime import Workbench

        return Workbench
    raise AttributeError(name)


__all__ = ["Workbench", "__version__", "start"]
