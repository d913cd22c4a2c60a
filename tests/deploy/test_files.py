"""Every deployment file parses, and validates against the schema of what reads it: the
Compose specification, GitHub's workflow schema, the Kubernetes API (1.32)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from studypath.viz.deploy import kubernetes_documents, load_yaml_documents, project_root
from tests.deploy.kustomize import OVERLAYS, patch_files

ROOT = project_root()
KUBERNETES_VERSION = "1.32"
YAML_FILES = sorted(
    [ROOT / "docker-compose.yaml", *ROOT.glob(".github/workflows/*.yml")]
    + [p for p in (ROOT / "deploy").rglob("*") if p.suffix in {".yaml", ".yml"}]
)


def vendored_schema(name: str) -> dict[str, Any]:
    """A schema check-jsonschema ships (the Compose spec, GitHub workflows), offline."""
    folder = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(folder.joinpath(f"{name}.json").read_text())
    return schema


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_file_parses(path: Path) -> None:
    assert load_yaml_documents(path), f"{path} holds no YAML document"


def test_compose_file_follows_the_compose_specification() -> None:
    document = load_yaml_documents(ROOT / "docker-compose.yaml")[0]

    jsonschema.validate(document, vendored_schema("compose-spec"))


def test_a_compose_file_with_a_typo_fails_the_schema() -> None:
    """The check can fail: a misspelt key is refused."""
    document = load_yaml_documents(ROOT / "docker-compose.yaml")[0]
    document["services"]["postgres"]["helthcheck"] = document["services"]["postgres"].pop(
        "healthcheck"
    )

    with pytest.raises(jsonschema.ValidationError, match="helthcheck"):
        jsonschema.validate(document, vendored_schema("compose-spec"))


def test_workflow_follows_githubs_workflow_schema() -> None:
    for path in ROOT.glob(".github/workflows/*.yml"):
        document = load_yaml_documents(path)[0]
        # YAML 1.1 (PyYAML) reads the key `on` as the boolean true; GitHub reads YAML 1.2.
        document = {("on" if key is True else key): value for key, value in document.items()}
        assert {"push", "pull_request"} <= set(document["on"])
        jsonschema.validate(document, vendored_schema("github-workflows"))


def test_grafana_dashboard_is_json_with_prometheus_panels() -> None:
    dashboard = json.loads((ROOT / "deploy/compose/grafana/dashboards/studypath.json").read_text())

    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 8
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {"prometheus"}
    datasource = yaml.safe_load(
        (ROOT / "deploy/compose/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert datasource["datasources"][0]["uid"] == "prometheus"


def whole_objects() -> list[Any]:
    """Objects from files a kustomization lists as `resources` (patches are fragments,
    checked once rendered: tests/deploy/test_kustomize.py)."""
    patches = {path for overlay in OVERLAYS for path in patch_files(overlay)}
    return [
        pytest.param(document, id=f"{path.relative_to(ROOT)}:{document['kind']}")
        for path, document in kubernetes_documents(ROOT)
        if path not in patches
    ]


KUBERNETES = whole_objects()


@pytest.mark.parametrize("document", KUBERNETES)
def test_kubernetes_object_validates_against_the_api_schema(document: dict[str, Any]) -> None:
    validate_kubernetes(document)


def validate_kubernetes(document: dict[str, Any]) -> None:
    if document["apiVersion"].startswith("postgresql.cnpg.io/"):
        # A custom resource: its schema ships with the operator, not with Kubernetes.
        assert document["kind"] == "Cluster" and document["spec"]["instances"] >= 3
        return
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_an_invalid_kubernetes_object_fails_validation() -> None:
    """The check can fail: a probe without a port is refused."""
    deployment = next(d for _, d in kubernetes_documents(ROOT) if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    probe = next(container[k] for k in ("readinessProbe", "livenessProbe") if k in container)
    del probe["httpGet"]["port"]

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
