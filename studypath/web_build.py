"""Is the committed web build the build of the committed web sources?

The web app's production build is committed inside the package (`studypath/static/`), so
`pip install studypath` needs no Node. The price: a change to `web/src` without a rebuild
would ship the old app. So `npm run build` ends by writing `studypath/static/build-info.json`
(by `web/scripts/build-info.mjs`):

    {"source_files": 42, "sources_sha256": "<64 hex digits>"}

and `tests/http/test_web_build.py` recomputes the digest here and compares. The two
implementations (Node writes it, Python checks it) must agree byte for byte; a test runs
both over the same directory.

The digest, exactly (both implementations follow these steps):

1. The sources, relative to `web/`: every regular file under `src/` (recursively, symlinks
   not followed) but the generated `src/api/schema.d.ts`, and those of `index.html`,
   `package.json`, `package-lock.json`, `vite.config.ts`, `openapi.json` and
   `tsconfig*.json` (in `web/` itself) that exist. `schema.d.ts` is not committed: `npm ci`
   and every build write it from `openapi.json` (which counts) with the locked
   `openapi-typescript` (`package-lock.json` counts too), so a fresh clone, with or without
   `node_modules`, has the same sources.
2. Their relative paths with `/` separators, sorted by their UTF-8 bytes.
3. SHA-256 over, for each file in that order: the path's UTF-8 bytes, a NUL byte, the
   file's own SHA-256 as 64 lowercase hex digits, a newline. (A path cannot contain NUL and
   the file's hash has a fixed length, so no two different trees give the same input.)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

BUILD_INFO = "build-info.json"
SOURCE_TREES = ("src",)
SOURCE_FILES = ("index.html", "package.json", "package-lock.json", "vite.config.ts", "openapi.json")
SOURCE_PATTERN = "tsconfig*.json"
GENERATED_FILES = ("src/api/schema.d.ts",)
REBUILD = "cd web && npm run build"


def _is_regular_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def source_files(web_dir: Path) -> list[str]:
    """The web app's sources (step 1), as sorted relative paths (step 2)."""
    if not web_dir.is_dir():
        raise FileNotFoundError(f"no web app sources at {web_dir}")
    found: set[str] = set()
    for tree in SOURCE_TREES:
        for folder, _subfolders, names in os.walk(web_dir / tree):  # symlinked folders: skipped
            for name in names:
                path = Path(folder, name)
                if _is_regular_file(path):
                    found.add(path.relative_to(web_dir).as_posix())
    named = [web_dir / name for name in SOURCE_FILES] + sorted(web_dir.glob(SOURCE_PATTERN))
    found.update(path.name for path in named if _is_regular_file(path))
    found.difference_update(GENERATED_FILES)
    return sorted(found, key=lambda relative: relative.encode())


def sources_digest(web_dir: Path) -> str:
    """The hex SHA-256 of the web app's sources (step 3)."""
    digest = hashlib.sha256()
    for relative in source_files(web_dir):
        content = (web_dir / relative).read_bytes()
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(content).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


def read_build_info(static_dir: Path) -> dict[str, Any] | None:
    """What the build wrote next to itself, or None when there is no build info."""
    path = static_dir / BUILD_INFO
    if not path.is_file():
        return None
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return info


def staleness(web_dir: Path, static_dir: Path) -> str | None:
    """Why the build in `static_dir` is not the build of the sources in `web_dir`, or None
    when it is."""
    info = read_build_info(static_dir)
    if info is None:
        return f"no {BUILD_INFO} in {static_dir}: build the web app: run `{REBUILD}`"
    built_from = info.get("sources_sha256")
    current = sources_digest(web_dir)
    if built_from != current:
        return (
            f"the committed build is stale: run `{REBUILD}` (it was built from sources "
            f"{built_from}, the sources are now {current})"
        )
    return None
