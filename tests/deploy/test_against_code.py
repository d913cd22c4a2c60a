"""The deployment files name only what the code has: every probe path is a route of
`create_app()` that answers as a probe expects on a running system; every STUDYPATH_*
variable is a setting, and every setting is documented in .env.example; every metric a
dashboard or an alert queries is one the code exports; every `studypath` command line
parses with the real CLI; ports agree with the defaults."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import typer
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from studypath.app import create_app
from studypath.cli import app as cli_app
from studypath.config import ENV_PREFIX, Settings
from studypath.core.routing import API_PREFIX
from studypath.system import System
from studypath.testing.server import base_url
from studypath.viz.deploy import (
    ENV_NAME,
    caddy_upstreams,
    compose_services,
    container_commands,
    env_names,
    kubernetes_probes,
    load_yaml_documents,
    project_root,
    prometheus_targets,
    queried_metrics,
)
from studypath.viz.diagrams import api_routes

ROOT = project_root()
CADDYFILE = ROOT / "deploy/compose/Caddyfile"
PROMETHEUS = ROOT / "deploy/compose/prometheus/prometheus.yml"
SETTINGS_ENV = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
# The path `studypath health-check` asks (studypath/cli/run.py), which the image's
# HEALTHCHECK and compose's health checks run.
HEALTH_CHECK_PATH = f"{API_PREFIX}/health/ready"
# click's UsageError (typer ships its own copy of click): a bad command line raises it.
UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


def get_routes() -> set[str]:
    """The GET routes `create_app()` answers (no database needed to build the app)."""
    app = create_app(Settings(database_url="postgresql://u@h/db"))
    return {route.path for route in api_routes(app) if route.method == "GET"}


def caddy_health_uri() -> str:
    match = re.search(r"^\s*health_uri\s+(\S+)", CADDYFILE.read_text(), re.MULTILINE)
    assert match, "the Caddyfile has no active health check"
    return match.group(1)


def api_scrape_paths() -> list[str]:
    config = load_yaml_documents(PROMETHEUS)[0]
    return [job["metrics_path"] for job in config["scrape_configs"] if "api" in job["job_name"]]


def api_probe_paths() -> list[tuple[str, str]]:
    """(who asks, path) for every probe of the API in every file."""
    probes = [(p.where, p.path) for p in kubernetes_probes(ROOT) if "worker" not in p.where]
    probes.append(("Caddyfile health_uri", caddy_health_uri()))
    probes.append(("studypath health-check (Dockerfile, compose)", HEALTH_CHECK_PATH))
    probes += [("prometheus.yml api job", path) for path in api_scrape_paths()]
    return probes


# ------------------------------------------------------------------ probes
def test_every_api_probe_path_is_a_get_route_of_the_app() -> None:
    routes = get_routes()
    probes = api_probe_paths()

    assert len(probes) >= 6
    missing = [(who, path) for who, path in probes if path not in routes]
    assert not missing, f"probe paths no route serves: {missing}"


def test_kubernetes_probes_ask_the_question_each_kind_is_for() -> None:
    """Liveness must not depend on the database (an outage would restart healthy pods);
    readiness asks whether to send traffic; startup waits for the migrated schema."""
    expected = {
        "liveness": f"{API_PREFIX}/health/live",
        "readiness": f"{API_PREFIX}/health/ready",
        "startup": f"{API_PREFIX}/health/startup",
    }
    api = [p for p in kubernetes_probes(ROOT) if "api" in p.where]

    assert {p.kind: p.path for p in api} == expected
    assert caddy_health_uri() == expected["readiness"]  # a load balancer asks readiness


async def test_every_api_probe_answers_200_on_a_running_system(
    client: httpx.AsyncClient,
) -> None:
    for who, path in api_probe_paths():
        response = await client.get(path)
        assert response.status_code == 200, f"{who}: GET {path} → {response.status_code}"


async def test_the_health_check_command_passes_against_a_running_server(
    system: System,
) -> None:
    command = ["health-check", "--url", base_url(system), "--timeout", "4"]

    # In a thread: the server runs on this test's event loop, which must keep serving.
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, command)

    assert result.exit_code == 0, result.output


def test_the_health_check_command_fails_when_nothing_answers() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        result = CliRunner().invoke(
            cli_app, ["health-check", "--url", f"http://127.0.0.1:{port}", "--timeout", "2"]
        )

    assert result.exit_code == 1


@pytest.fixture
async def worker_metrics(settings: Settings) -> AsyncIterator[str]:
    """A worker process's own metrics page, as `studypath worker --metrics-port` serves it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker_settings = settings.model_copy(update={"worker_metrics_port": port})
    system = System(worker_settings, serve_api=False, workers=1)
    running = asyncio.create_task(system.run())
    try:
        while system.metrics_url is None:
            if running.done():
                running.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        system.request_stop()
        await running


async def test_worker_probe_and_scrape_path_answer_on_a_worker(worker_metrics: str) -> None:
    worker_paths = [p.path for p in kubernetes_probes(ROOT) if "worker" in p.where]
    config = load_yaml_documents(PROMETHEUS)[0]
    worker_paths += [
        j["metrics_path"] for j in config["scrape_configs"] if "worker" in j["job_name"]
    ]

    async with httpx.AsyncClient(base_url=worker_metrics) as http:
        for path in worker_paths:
            response = await http.get(path)
            assert response.status_code == 200 and "studypath_task" in response.text, path


# ------------------------------------------------------------------ ports
def test_ports_agree_with_the_defaults_and_the_commands() -> None:
    port = Settings.model_fields["port"].default
    services = compose_services(ROOT / "docker-compose.yaml")
    worker_port = services["worker"]["command"][-1]

    assert "EXPOSE 3000" in (ROOT / "Dockerfile").read_text() and port == 3000
    assert all(u.endswith(f":{port}") for u in caddy_upstreams(CADDYFILE))
    targets = prometheus_targets(PROMETHEUS)
    assert all(t.endswith(f":{port}") for t in targets["studypath-api"])
    scrape = load_yaml_documents(PROMETHEUS)[0]["scrape_configs"]
    assert [c["port"] for j in scrape for c in j.get("dns_sd_configs", [])] == [int(worker_port)]


# ------------------------------------------------------------------ settings
def test_every_studypath_variable_in_the_files_is_a_setting() -> None:
    unknown = {name: sorted(found - SETTINGS_ENV) for name, found in env_names(ROOT).items()}
    assert not {name: found for name, found in unknown.items() if found}


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(rf"^#? ?({ENV_NAME.pattern})=", text, re.MULTILINE))


def test_env_example_documents_every_setting() -> None:
    """A setting added to studypath/config.py without a line in .env.example fails here."""
    documented = env_example_names()

    assert sorted(SETTINGS_ENV - documented) == []
    assert sorted(documented - SETTINGS_ENV) == []


def test_the_env_example_check_would_notice_a_new_setting() -> None:
    class Extended(Settings):
        shiny_new_knob: int = 1

    extended = {ENV_PREFIX + name.upper() for name in Extended.model_fields}
    assert extended - env_example_names() == {"STUDYPATH_SHINY_NEW_KNOB"}


# ------------------------------------------------------------------ metrics
def exported_series() -> set[str]:
    """Every series name the code's metric families can produce (counters as `_total`,
    histograms as `_bucket`/`_sum`/`_count`), from the registry the app serves."""
    import studypath.telemetry.metrics  # noqa: F401  (registers the families)

    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        else:
            names.add(family.name)
    return names


def test_every_queried_metric_is_exported() -> None:
    exported = exported_series()
    queried = queried_metrics(ROOT)

    assert "deploy/compose/grafana/dashboards/studypath.json" in queried
    assert "deploy/compose/prometheus/alerts.yml" in queried
    unknown = {f: sorted(names - exported) for f, names in queried.items() if names - exported}
    assert not unknown, f"queries name metrics the code does not export: {unknown}"


async def test_the_dashboards_families_are_on_a_live_scrape(
    client: httpx.AsyncClient,
) -> None:
    """Not only registered: on the page Prometheus reads (after one request and one task
    gauge refresh, the HTTP and queue families have samples)."""
    await client.get(f"{API_PREFIX}/health/live")
    page = (await client.get(api_scrape_paths()[0])).text
    on_page = set(re.findall(r"^(studypath_[a-z_]+)", page, re.MULTILINE))

    for name in (
        "studypath_http_requests_total",
        "studypath_http_request_duration_seconds_bucket",
        "studypath_queue_depth",
        "studypath_db_pool_connections",
    ):
        assert name in on_page


# ------------------------------------------------------------------ commands
def parse_command_line(argv: list[str]) -> None:
    """Parse `studypath <argv>` with the real CLI, without running it: an unknown command,
    option or value raises UsageError. Shell variables (`$port`) stand for values."""
    words = ["1" if word.startswith("$") else word for word in argv]
    command = typer.main.get_command(cli_app)
    name = "studypath"
    while hasattr(command, "commands"):  # a group: the next word names the subcommand
        if not words or words[0] not in command.commands:
            raise UsageError(f"no command {words[:1]} under {name!r}")
        name, words = words[0], words[1:]
        command = command.commands[name]
    command.make_context(name, words)


def test_every_studypath_command_line_in_the_files_exists() -> None:
    lines = container_commands(ROOT)

    assert len(lines) >= 10
    for where, argv in lines:
        try:
            parse_command_line(argv)
        except UsageError as exc:
            pytest.fail(f"{where}: studypath {' '.join(argv)}: {exc}")


def test_a_misspelt_command_or_option_is_refused() -> None:
    for argv in (["wroker"], ["worker", "--metric-port", "9100"], ["migrate", "sideways"]):
        with pytest.raises(UsageError):
            parse_command_line(argv)
