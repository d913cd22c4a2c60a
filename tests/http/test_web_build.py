"""The committed web build is the build of the committed web sources; the digest that says so
is computed the same way by the build's Node script and by `studypath.web_build`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from studypath.app import STATIC_DIR
from studypath.web_build import BUILD_INFO, source_files, sources_digest, staleness

REPO = Path(__file__).parents[2]
WEB = REPO / "web"
SCRIPT = WEB / "scripts" / "build-info.mjs"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: cannot run the script")

SOURCES = {
    "src/main.tsx": b"import './app.css';\n",
    "src/app.css": b"body { margin: 0 }\n",
    "src/api/types.d.ts": b"export interface paths {}\n",
    "src/pages/Über.tsx": "export const title = 'Über';\n".encode(),  # a non-ASCII path
    "src/assets/logo.bin": bytes(range(256)),  # NUL and every other byte
    "src/a-b.ts": b"",  # sorts before src/a/ by its bytes ('-' < '/')
    "src/a/index.ts": b"export {};\n",
    "index.html": b"<!DOCTYPE html>\n",
    "package.json": b"{}\n",
    "package-lock.json": b"{}\n",
    "vite.config.ts": b"export default {};\n",
    "tsconfig.json": b"{}\n",
    "tsconfig.node.json": b"{}\n",
    "openapi.json": b"{}\n",
}
NOT_SOURCES = {
    "README.md": b"# web\n",
    "node_modules/react/index.js": b"module.exports = {};\n",
    "public/favicon.svg": b"<svg/>",
    "scripts/build-info.mjs": b"// the script itself\n",
    "dist/index.html": b"old\n",
    "src.bak": b"not the src folder\n",
    "src/api/schema.d.ts": b"// generated from openapi.json, which counts\n",
}


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    write_tree(root, {**SOURCES, **NOT_SOURCES})
    return root


def node(*args: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_sources_are_exactly_the_listed_files(web_dir: Path) -> None:
    assert source_files(web_dir) == sorted(SOURCES, key=str.encode)


def test_every_source_counts_and_nothing_else_does(web_dir: Path) -> None:
    before = sources_digest(web_dir)
    for relative in NOT_SOURCES:
        (web_dir / relative).write_bytes(b"changed")
    assert sources_digest(web_dir) == before
    seen = {before}
    for relative in SOURCES:
        path = web_dir / relative
        original = path.read_bytes()
        path.write_bytes(original + b" ")
        seen.add(sources_digest(web_dir))
        path.write_bytes(original)
    assert len(seen) == 1 + len(SOURCES)  # each change gave a digest of its own
    assert sources_digest(web_dir) == before


def test_renaming_or_moving_bytes_between_files_changes_the_digest(web_dir: Path) -> None:
    before = sources_digest(web_dir)
    (web_dir / "src/main.tsx").rename(web_dir / "src/entry.tsx")
    renamed = sources_digest(web_dir)
    (web_dir / "src/entry.tsx").rename(web_dir / "src/main.tsx")
    # The same bytes in total, split differently between two files.
    (web_dir / "package.json").write_bytes(b"{}")
    (web_dir / "package-lock.json").write_bytes(b"\n{}\n")
    assert len({before, renamed, sources_digest(web_dir)}) == 3


def test_a_missing_web_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no web app sources"):
        sources_digest(tmp_path / "nowhere")


@needs_node
def test_node_and_python_compute_the_same_digest(web_dir: Path, tmp_path: Path) -> None:
    printed = node("--print", "--web-dir", str(web_dir))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == sources_digest(web_dir)

    output = tmp_path / "static" / BUILD_INFO
    written = node("--web-dir", str(web_dir), "--output", str(output))
    assert written.returncode == 0, written.stderr
    info = json.loads(output.read_text())
    assert info == {"source_files": len(SOURCES), "sources_sha256": sources_digest(web_dir)}
    assert staleness(web_dir, output.parent) is None
    (web_dir / "src/main.tsx").write_bytes(b"// edited after the build\n")
    assert "the committed build is stale: run `cd web && npm run build`" in str(
        staleness(web_dir, output.parent)
    )


@needs_node
def test_the_script_refuses_an_unknown_option() -> None:
    result = node("--bogus")
    assert result.returncode == 2
    assert "--bogus" in result.stderr


def test_the_committed_build_is_the_build_of_the_committed_sources() -> None:
    if not (WEB / "src").is_dir():
        pytest.skip("web/src is not in this checkout: the web app's sources are not here")
    problem = staleness(WEB, STATIC_DIR)
    assert problem is None, problem
