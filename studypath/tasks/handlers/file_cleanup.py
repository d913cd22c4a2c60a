"""The `file_cleanup` task: delete files older than a maximum age in a data-directory folder.

Deleting is the most dangerous thing a task can do, so the rules are strict:

- the folder is given relative to the data directory and must stay inside it (no absolute
  path, no `..`, no symbolic link that leads out) — otherwise a PermanentError;
- the embedded database's folder (`<data_dir>/postgres`) is never entered;
- the walk never follows a symbolic link, and only regular files are deleted — a link is
  left alone, even if it points at an old file;
- deleting goes through the directory's file descriptor (`os.fwalk`, `unlink(dir_fd=…)`),
  so swapping a folder for a link halfway through cannot redirect a delete elsewhere.

`pattern` is matched against file names only (`*.eml`), so it cannot name another folder.
`dry_run` counts what would go without deleting anything. A folder that does not exist
yet has nothing to clean: the task succeeds with zero counts.

Only admins may create these tasks (`min_role`): the data directory holds every user's
files (reports, outbox), so a plain user's cleanup could delete someone else's.

Two payload shapes: studypath's `{path, max_age_seconds | max_age_days, pattern, …}` and the
reference system's `{file_path, max_age_hours}` (default 24 h). Where a path leads is
checked when the task runs (a link can change meanwhile): a path outside the data
directory — the reference's own example is `/tmp/test` — fails the task, saying why.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypedDict

from pydantic import ConfigDict, Field, RootModel

from studypath.config import Settings
from studypath.core.validation import InputModel, require_exactly_one
from studypath.identity.roles import Role
from studypath.tasks.handlers.common import EitherShape, TwoShapes, inside_data_dir, shape_by_key
from studypath.tasks.registry import (
    PermanentError,
    TaskContext,
    builtin_task,
)

CENTURY_DAYS = 36_525


class FileCleanupPayload(InputModel):
    """studypath's shape, and the form the handler works with."""

    model_config = ConfigDict(title="FileCleanupPayload")

    path: str = Field(
        min_length=1, max_length=1024, description="Folder, relative to the data directory."
    )
    max_age_seconds: float | None = Field(default=None, ge=0, le=CENTURY_DAYS * 86400, strict=True)
    max_age_days: float | None = Field(default=None, ge=0, le=CENTURY_DAYS, strict=True)
    pattern: str = Field(
        default="*",
        min_length=1,
        max_length=255,
        pattern=r"^[^/\\]+$",
        description="Glob matched against file names (not paths), e.g. *.eml.",
    )
    recursive: bool = Field(default=False, strict=True)
    dry_run: bool = Field(default=False, strict=True)

    _one_age = require_exactly_one("max_age_seconds", "max_age_days")

    @property
    def max_age(self) -> float:
        """The maximum age in seconds."""
        if self.max_age_seconds is not None:
            return self.max_age_seconds
        assert self.max_age_days is not None
        return self.max_age_days * 86400


class ReferenceCleanupPayload(InputModel):
    """The reference system's shape: a folder and an age in hours."""

    model_config = ConfigDict(title="ReferenceCleanupPayload")

    file_path: str = Field(
        min_length=1,
        max_length=1024,
        description="Folder, relative to the data directory (checked when the task runs).",
    )
    max_age_hours: float = Field(default=24, ge=0, le=CENTURY_DAYS * 24, strict=True)


CleanupShapes = Annotated[
    EitherShape[FileCleanupPayload, ReferenceCleanupPayload], shape_by_key("file_path")
]


class FileCleanupRequest(TwoShapes, RootModel[CleanupShapes]):
    """Admins only. {path, max_age_seconds | max_age_days, pattern, recursive, dry_run}
    (studypath) or {file_path, max_age_hours} (reference). A path that leads outside the data
    directory fails the task when it runs."""

    def normalised(self) -> FileCleanupPayload:
        if isinstance(self.root, FileCleanupPayload):
            return self.root
        return FileCleanupPayload(
            path=self.root.file_path, max_age_seconds=self.root.max_age_hours * 3600
        )


class CleanupResult(TypedDict):
    deleted_files: int
    deleted_bytes: int
    kept_files: int
    scanned: int
    dry_run: bool


@dataclass(frozen=True)
class Sweep:
    """One cleanup, decided before any file is touched."""

    folder: Path
    protected: frozenset[Path]
    pattern: str
    older_than: float  # a file modified before this Unix time goes
    recursive: bool
    dry_run: bool


@builtin_task(
    "file_cleanup",
    "Delete files older than a maximum age in a folder of the data directory",
    payload=FileCleanupRequest,
    timeout=600,
    min_role=Role.ADMIN,
)
async def clean_files(request: FileCleanupRequest, ctx: TaskContext) -> CleanupResult:
    """Resolve and check the folder, then walk it in a thread (file I/O blocks)."""
    payload = request.normalised()
    settings: Settings = ctx.settings
    folder = inside_data_dir(ctx.data_dir, payload.path)
    protected = frozenset({settings.pgdata_dir.resolve()})
    if any(folder.is_relative_to(path) for path in protected):
        raise PermanentError(f"path {payload.path!r} is the embedded database's folder")
    if folder.exists() and not folder.is_dir():
        raise PermanentError(f"path {payload.path!r} is not a folder")
    sweep = Sweep(
        folder=folder,
        protected=protected,
        pattern=payload.pattern,
        older_than=time.time() - payload.max_age,
        recursive=payload.recursive,
        dry_run=payload.dry_run,
    )
    return await asyncio.to_thread(run_sweep, sweep, ctx.check_cancelled)


def run_sweep(sweep: Sweep, check_cancelled: Callable[[], None]) -> CleanupResult:
    """Walk the folder without following links; delete (or count) old regular files."""
    result: CleanupResult = {
        "deleted_files": 0,
        "deleted_bytes": 0,
        "kept_files": 0,
        "scanned": 0,
        "dry_run": sweep.dry_run,
    }
    if not sweep.folder.is_dir():
        return result
    for dirpath, dirnames, filenames, dirfd in os.fwalk(sweep.folder, follow_symlinks=False):
        check_cancelled()
        here = Path(dirpath)
        # Prune in place: fwalk descends only into what is left in `dirnames`.
        dirnames[:] = (
            [name for name in dirnames if here / name not in sweep.protected]
            if sweep.recursive
            else []
        )
        for name in filenames:
            if not fnmatch.fnmatchcase(name, sweep.pattern):
                continue
            try:
                info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            except FileNotFoundError:  # deleted by someone else meanwhile
                continue
            if not stat.S_ISREG(info.st_mode):  # links, sockets, pipes: never touched
                continue
            result["scanned"] += 1
            if info.st_mtime >= sweep.older_than:
                result["kept_files"] += 1
                continue
            if not sweep.dry_run:
                try:
                    os.unlink(name, dir_fd=dirfd)
                except FileNotFoundError:
                    continue
            result["deleted_files"] += 1
            result["deleted_bytes"] += info.st_size
    return result
