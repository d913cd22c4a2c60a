"""Reading the Kustomize tree: which files each kustomization names, and the rendered
overlays (`kubectl kustomize`, which embeds kustomize; no cluster needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from studypath.viz.deploy import project_root
from tests.support.prerequisites import unavailable

K8S = project_root() / "deploy" / "k8s"
OVERLAYS = [K8S / "overlays" / "dev", K8S / "overlays" / "prod"]


def kustomization(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((folder / "kustomization.yaml").read_text())
    return document


def resource_paths(folder: Path) -> list[Path]:
    return [(folder / entry).resolve() for entry in kustomization(folder).get("resources", [])]


def patch_files(folder: Path) -> list[Path]:
    return [
        (folder / patch["path"]).resolve()
        for patch in kustomization(folder).get("patches", [])
        if "path" in patch
    ]


def kubectl() -> str:
    """The kubectl to render overlays with: without one, the test is skipped on a
    contributor's machine and fails in CI (`tests.support.prerequisites`)."""
    found = shutil.which("kubectl")
    if found is None:
        unavailable(
            "kubectl (with its built-in kustomize) is not installed: "
            "see https://kubernetes.io/docs/tasks/tools/"
        )
    return found


def render(folder: Path) -> list[dict[str, Any]]:
    """The overlay as kubectl would apply it."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]
