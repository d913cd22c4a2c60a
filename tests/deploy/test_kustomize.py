"""The Kustomize tree holds together: every resource and patch a kustomization names exists,
every patch targets an object the base defines, and both overlays render into objects that
validate against the Kubernetes API schema, with a real PostgreSQL in production."""

from __future__ import annotations

from typing import Any

import pytest

from studypath.viz.deploy import load_yaml_documents
from tests.deploy.kustomize import K8S, OVERLAYS, patch_files, render, resource_paths
from tests.deploy.test_files import validate_kubernetes


def objects_of(paths: list[Any]) -> set[tuple[str, str]]:
    found = set()
    for path in paths:
        if path.is_dir():
            found |= objects_of(resource_paths(path))
        else:
            found |= {(d["kind"], d["metadata"]["name"]) for d in load_yaml_documents(path)}
    return found


@pytest.mark.parametrize("folder", [K8S / "base", *OVERLAYS], ids=lambda p: p.name)
def test_every_listed_resource_and_patch_exists(folder: Any) -> None:
    for path in resource_paths(folder) + patch_files(folder):
        assert path.exists(), f"{folder.name}/kustomization.yaml names {path}, which is missing"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_every_patch_targets_an_object_the_overlay_has(overlay: Any) -> None:
    defined = objects_of(resource_paths(overlay))
    for patch in patch_files(overlay):
        for document in load_yaml_documents(patch):
            target = (document["kind"], document["metadata"]["name"])
            assert target in defined, f"{patch.name} patches {target}, which nothing defines"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_renders_into_valid_objects(overlay: Any) -> None:
    rendered = render(overlay)

    kinds = {d["kind"] for d in rendered}
    assert {
        "Deployment",
        "Service",
        "Ingress",
        "Job",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    } <= kinds
    for document in rendered:
        validate_kubernetes(document)


def test_prod_runs_the_database_as_a_replicated_cluster_and_reads_its_secret() -> None:
    rendered = render(K8S / "overlays" / "prod")

    clusters = [d for d in rendered if d["kind"] == "Cluster"]
    assert len(clusters) == 1 and clusters[0]["spec"]["instances"] >= 3
    assert not [d for d in rendered if d["kind"] == "StatefulSet"]
    secret = f"{clusters[0]['metadata']['name']}-app"  # the operator's Secret for the owner
    for document in rendered:
        if document["kind"] in {"Deployment", "Job"}:
            for container in document["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e for e in container.get("env", [])}
                url = env["STUDYPATH_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
                assert url == {"name": secret, "key": "uri"}, document["metadata"]["name"]


def test_prod_rolls_the_api_without_losing_capacity() -> None:
    rendered = render(K8S / "overlays" / "prod")
    api = next(d for d in rendered if d["kind"] == "Deployment" and "api" in d["metadata"]["name"])

    assert api["spec"]["replicas"] >= 3
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["lifecycle"]["preStop"]
    assert {"requests", "limits"} <= set(container["resources"])
    pdbs = [d for d in rendered if d["kind"] == "PodDisruptionBudget"]
    assert any(p["spec"]["selector"] == api["spec"]["selector"] for p in pdbs)
