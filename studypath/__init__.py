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
    from studypath.runtime import Workbench, start


def __getattr__(name: str) -> Any:
    """`studypath.start` and `studypath.Workbench` are `studypath.runtime`'s, imported on
    first use: `import studypath` alone loads no web framework or database driver."""
    if name in ("Workbench", "start"):
        from studypath import runtime

        return getattr(runtime, name)
    raise AttributeError(name)


__all__ = ["Workbench", "__version__", "start"]
