"""The deployment files, read as data: the Dockerfile's stages, the compose services, the
Kubernetes probes, the CI pipeline — drawn as mermaid, and listed for the checks that hold
them to the code (`tests/deploy/`, the week-8 notebook's checklist).

Nothing here is pasted: every diagram and list comes from the files in the checkout, so a
changed file changes the drawing, and a file that drifts from the code fails a check.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studypath.viz.mermaid import Mermaid, escape, mermaid

# A Prometheus metric name of this system inside a query or a rule.
METRIC_NAME = re.compile(r"\bstudypath_[a-z0-9_]+\b")
# A `STUDYPATH_*` setting's environment variable, wherever a file names one.
ENV_NAME = re.compile(r"\bSTUDYPATH_[A-Z0-9_]+\b")


def project_root() -> Path:
    """The checkout holding the deployment files (an editable install's source tree)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "Dockerfile").is_file():
        raise FileNotFoundError(
            f"no Dockerfile in {root}: the deployment files are in the project's checkout "
            "(pip install -e . from a clone), not in an installed wheel"
        )
    return root


def load_yaml_documents(path: Path) -> list[Any]:
    """Every document of a YAML file (Kubernetes files hold several, split by `---`)."""
    with path.open(encoding="utf-8") as handle:
        return [document for document in yaml.safe_load_all(handle) if document is not None]


# ------------------------------------------------------------------ Dockerfile
@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, …
    arguments: str


@dataclass
class Stage:
    """One `FROM … AS name` stage and its instructions."""

    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def copies(self) -> list[tuple[str | None, list[str], str]]:
        """Each COPY as (the stage it copies from or None for the build context, sources,
        destination)."""
        found = []
        for arguments in self.of("COPY"):
            words = shlex.split(arguments)
            source_stage = next(
                (w.split("=", 1)[1] for w in words if w.startswith("--from=")), None
            )
            paths = [w for w in words if not w.startswith("--")]
            found.append((source_stage, paths[:-1], paths[-1]))
        return found

    def mounted_stages(self) -> list[str]:
        """Stages a `RUN --mount=…,from=<stage>` reads (files used, not copied)."""
        return re.findall(r"--mount=\S*\bfrom=([\w-]+)", " ".join(self.of("RUN")))

    def exec_form(self, keyword: str) -> list[str]:
        """The last CMD/ENTRYPOINT/HEALTHCHECK's command as a list (exec form `[...]`)."""
        values = self.of(keyword)
        if not values:
            return []
        text = values[-1]
        if keyword == "HEALTHCHECK":
            text = text.split("CMD", 1)[1]
        return list(yaml.safe_load(text.strip()))


def instructions(text: str) -> Iterator[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, arguments = logical.partition(" ")
        yield Instruction(keyword.upper(), " ".join(arguments.split()))
        logical = ""


def dockerfile_stages(path: Path) -> list[Stage]:
    """The stages in order; `${ARG}`s declared before the first FROM are filled in."""
    stages: list[Stage] = []
    build_args: dict[str, str] = {}
    for instruction in instructions(path.read_text(encoding="utf-8")):
        if instruction.keyword == "ARG" and not stages:
            name, _, default = instruction.arguments.partition("=")
            build_args[name] = default
        elif instruction.keyword == "FROM":
            arguments = re.sub(
                r"\$\{(\w+)\}", lambda m: build_args.get(m[1], m[0]), instruction.arguments
            )
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def dockerfile_diagram(path: Path) -> Mermaid:
    """The stages as boxes (base image, what each makes), an arrow for every file that
    crosses from one stage into another; the last stage is the image."""
    stages = dockerfile_stages(path)
    names = {stage.name for stage in stages}
    lines = ["flowchart LR", '    context[("build context")]']
    for stage in stages:
        runs = [escape(_command(run), 44) for run in stage.of("RUN")]
        detail = "<br/>".join([f"FROM {escape(stage.base)}", *runs])
        lines.append(f'    {_node(stage.name)}["<b>{escape(stage.name)}</b><br/>{detail}"]')
    for stage in stages:
        if stage.base in names:
            lines.append(f"    {_node(stage.base)} --> {_node(stage.name)}")
        for source_stage, sources, _ in stage.copies():
            origin = _node(source_stage) if source_stage in names else "context"
            label = escape(", ".join(sources), 40)
            lines.append(f'    {origin} -->|"{label}"| {_node(stage.name)}')
        for mounted in stage.mounted_stages():
            lines.append(f'    {_node(mounted)} -.->|"mounted"| {_node(stage.name)}')
    final = stages[-1]
    command = " ".join(final.exec_form("ENTRYPOINT") + final.exec_form("CMD"))
    lines.append(f'    {_node(final.name)} ==> image(["image: {escape(command)}"])')
    return mermaid("\n".join(lines))


def _command(run: str) -> str:
    """A RUN's commands, without its `--mount=…` flags (`&&` shown as `·`)."""
    words = [word for word in run.split() if not word.startswith("--mount=")]
    return " ".join(words).replace("&&", "·")


def _node(name: str) -> str:
    return "s_" + re.sub(r"\W", "_", name)


# ------------------------------------------------------------------ compose
def compose_services(path: Path) -> dict[str, dict[str, Any]]:
    document = load_yaml_documents(path)[0]
    services: dict[str, dict[str, Any]] = document["services"]
    return services


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """{dependency: condition}; the short list form means `service_started`."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


def caddy_upstreams(path: Path) -> list[str]:
    """The `reverse_proxy` upstreams (host:port) of a Caddyfile."""
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and words[0] == "reverse_proxy":
            return [w for w in words[1:] if w != "{"]
    return []


def prometheus_targets(path: Path) -> dict[str, list[str]]:
    """{job: its targets}: static hosts, or `dns:<name>` for DNS discovery (every replica)."""
    config = load_yaml_documents(path)[0]
    jobs: dict[str, list[str]] = {}
    for job in config["scrape_configs"]:
        targets = [t for c in job.get("static_configs", []) for t in c["targets"]]
        targets += [f"dns:{n}" for c in job.get("dns_sd_configs", []) for n in c["names"]]
        jobs[job["job_name"]] = targets
    return jobs


def compose_diagram(root: Path) -> Mermaid:
    """Services (replicas and image), startup order (`depends_on`, with its condition),
    the proxy's upstreams and Prometheus's scrape targets — all read from the files."""
    services = compose_services(root / "docker-compose.yaml")
    lines = ["flowchart LR"]
    for name, service in services.items():
        replicas = (service.get("deploy") or {}).get("replicas", 1)
        image = service.get("image", "build: .")
        shown = f"{name} ×{replicas}" if replicas > 1 else name
        command = " ".join(service.get("command", [])) if "build" in service else image
        lines.append(f'    {_node(name)}["<b>{escape(shown)}</b><br/>{escape(command, 36)}"]')
    for name, service in services.items():
        for dependency, condition in _depends_on(service).items():
            short = condition.removeprefix("service_")
            lines.append(f'    {_node(dependency)} -.->|"{short}"| {_node(name)}')
    upstreams = caddy_upstreams(root / "deploy/compose/Caddyfile")
    for upstream in upstreams:
        lines.append(f'    {_node("proxy")} ==>|"traffic"| {_node(upstream.split(":")[0])}')
    scrape = prometheus_targets(root / "deploy/compose/prometheus/prometheus.yml")
    for targets in scrape.values():
        for target in targets:
            host = target.removeprefix("dns:").split(":")[0]
            lines.append(f'    {_node("prometheus")} -->|"scrape"| {_node(host)}')
    return mermaid("\n".join(lines))


# ------------------------------------------------------------------ CI workflow
def workflow_jobs(path: Path) -> dict[str, dict[str, Any]]:
    document = load_yaml_documents(path)[0]
    jobs: dict[str, dict[str, Any]] = document["jobs"]
    return jobs


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def workflow_scripts(path: Path) -> dict[str, list[str]]:
    """{job: the `.ci/` scripts its steps run}."""
    found: dict[str, list[str]] = {}
    for name, job in workflow_jobs(path).items():
        runs = " ".join(step.get("run", "") for step in job.get("steps", []))
        found[name] = re.findall(r"\.ci/[\w-]+", runs)
    return found


def pipeline_diagram(path: Path) -> Mermaid:
    """The jobs in the order `needs` imposes, each with the scripts it runs; a job that runs
    only on tags says so."""
    jobs = workflow_jobs(path)
    scripts = workflow_scripts(path)
    lines = ["flowchart LR", '    push(["push / pull request"])']
    for name, job in jobs.items():
        condition = job.get("if", "")
        when = "<br/><i>tags v* only</i>" if "refs/tags" in condition else ""
        label = "<br/>".join(escape(s) for s in scripts[name]) or "—"
        lines.append(f'    {_node(name)}["<b>{escape(name)}</b><br/>{label}{when}"]')
        needs = _needs(job)
        if not needs:
            lines.append(f"    push --> {_node(name)}")
        for need in needs:
            lines.append(f"    {_node(need)} --> {_node(name)}")
    return mermaid("\n".join(lines))


# ------------------------------------------------------------------ what the files ask of the code
@dataclass(frozen=True)
class Probe:
    """An HTTP path some deployment file expects the API to serve, and who asks."""

    where: str  # the file (relative to the project root) and the object in it
    kind: str  # liveness, readiness, startup, health check, scrape, …
    path: str


def kubernetes_documents(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted((root / "deploy/k8s").rglob("*.yaml")):
        for document in load_yaml_documents(path):
            if "kind" in document and not str(document["kind"]).startswith("Kustomization"):
                yield path, document


def _containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document.get("spec", {})
    template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {})
    containers: list[dict[str, Any]] = template.get("spec", {}).get("containers", [])
    return containers


def kubernetes_probes(root: Path) -> list[Probe]:
    probes = []
    for path, document in kubernetes_documents(root):
        for container in _containers(document):
            for key in ("startupProbe", "readinessProbe", "livenessProbe"):
                get = container.get(key, {}).get("httpGet")
                if get:
                    where = f"{path.relative_to(root)} {document['metadata']['name']}"
                    probes.append(Probe(where, key.removesuffix("Probe"), get["path"]))
    return probes


def container_commands(root: Path) -> list[tuple[str, list[str]]]:
    """Every `studypath …` command line the deployment files run: (where, argv without
    the program name)."""
    found: list[tuple[str, list[str]]] = []
    stages = dockerfile_stages(root / "Dockerfile")
    final = stages[-1]
    entrypoint = final.exec_form("ENTRYPOINT")
    found.append(("Dockerfile CMD", final.exec_form("CMD")))
    found.append(("Dockerfile HEALTHCHECK", final.exec_form("HEALTHCHECK")[1:]))
    for name, service in compose_services(root / "docker-compose.yaml").items():
        if "build" in service:
            found.append((f"docker-compose.yaml {name}", list(service.get("command", []))))
            test = (service.get("healthcheck") or {}).get("test", [])
            if test[1:2] == ["studypath"]:
                found.append((f"docker-compose.yaml {name} healthcheck", test[2:]))
    for path, document in kubernetes_documents(root):
        for container in _containers(document):
            if container.get("image", "").endswith("studypath") and "args" in container:
                where = f"{path.relative_to(root)} {document['metadata']['name']}"
                found.append((where, list(container["args"])))
    for script in sorted((root / ".ci").iterdir()):
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"(?:^|\s)studypath\s+([a-z][\w-]*(?:\s+[^|&;>]*)?)", line)
            if match and not line.lstrip().startswith("#"):
                argv = shlex.split(match.group(1).replace('"', ""))
                found.append((f".ci/{script.name}:{number}", argv))
    assert entrypoint == ["studypath"], entrypoint
    return found


def env_names(root: Path) -> dict[str, set[str]]:
    """{file: the STUDYPATH_* variables it sets or documents}."""
    files = [
        "Dockerfile",
        "docker-compose.yaml",
        ".env.example",
        *(str(p.relative_to(root)) for p in sorted((root / "deploy").rglob("*.yaml"))),
        *(f".ci/{p.name}" for p in sorted((root / ".ci").iterdir())),
    ]
    return {
        name: set(ENV_NAME.findall((root / name).read_text(encoding="utf-8"))) for name in files
    }


def queried_metrics(root: Path) -> dict[str, set[str]]:
    """{file: the studypath_* series its queries name} (Grafana panels, alert rules)."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / "deploy").rglob("*")):
        if path.suffix in {".json", ".yml", ".yaml"}:
            names = set(METRIC_NAME.findall(path.read_text(encoding="utf-8")))
            if names:
                found[str(path.relative_to(root))] = names
    return found


# ------------------------------------------------------------------ the image's build context
def context_copies(root: Path) -> list[tuple[str, str]]:
    """(stage, source) for every file or folder a stage copies from the build context."""
    return [
        (stage.name, source)
        for stage in dockerfile_stages(root / "Dockerfile")
        for origin, sources, _ in stage.copies()
        if origin is None
        for source in sources
    ]


def in_build_context(root: Path, relative: str) -> bool:
    """Whether `docker build` would send `relative` to the builder, by .dockerignore's rules
    as the Docker SDK applies them (the last matching pattern wins; `!` re-includes)."""
    from docker.utils.build import PatternMatcher

    lines = (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return not PatternMatcher(patterns).matches(relative.rstrip("/"))


# ------------------------------------------------------------------ migrations
def irreversible_migrations(versions: Path) -> list[str]:
    """Migration files whose `downgrade()` does nothing (only `pass`, a docstring or `...`)."""
    import ast

    found = []
    for path in sorted(versions.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        downgrade = functions.get("downgrade")
        body = downgrade.body if downgrade is not None else []
        real = [
            statement
            for statement in body
            if not isinstance(statement, ast.Pass)
            and not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        ]
        if not real:
            found.append(path.name)
    return found


__all__ = [
    "ENV_NAME",
    "METRIC_NAME",
    "Instruction",
    "Probe",
    "Stage",
    "caddy_upstreams",
    "compose_diagram",
    "compose_services",
    "container_commands",
    "context_copies",
    "dockerfile_diagram",
    "dockerfile_stages",
    "env_names",
    "in_build_context",
    "instructions",
    "irreversible_migrations",
    "kubernetes_documents",
    "kubernetes_probes",
    "load_yaml_documents",
    "pipeline_diagram",
    "project_root",
    "prometheus_targets",
    "queried_metrics",
    "workflow_jobs",
    "workflow_scripts",
]
