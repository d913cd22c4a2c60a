"""Reading the Kustomize tree: which files each kustomization names, and the rendered
overlays (`kubectl kustomize`, which embeds kustomize; no cluster needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from studypath.viz.deploy import project_root

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


def render(folder: Path) -> list[dict[str, Any]]:
    """The overlay as kubectl would apply it."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is needed to render the overlays"
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]
