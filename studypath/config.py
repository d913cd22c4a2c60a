"""Settings: every knob of the system, read from `STUDYPATH_*` environment variables.

A bad value fails at start with a message that names the variable, so a typo in a deploy
never turns into a mystery at the first request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "STUDYPATH_"


class SettingsError(ValueError):
    """Raised when a setting is invalid; the message names the environment variable."""


def default_data_dir() -> Path:
    return platformdirs.user_data_path("studypath")


class Settings(BaseSettings):
    """Configuration of one studypath deployment (server, worker or Workbench)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- database -------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded PostgreSQL under the data directory.",
    )
    db: Literal["embedded", "docker"] = Field(
        default="embedded",
        description="Where the database comes from when no URL is set: 'embedded' or 'docker'.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="Give up connecting after this long: an unreachable database fails the "
        "start within 10 s, process startup included.",
    )
    db_statement_timeout_seconds: float = Field(
        default=20.0,
        ge=0,
        le=3600,
        description="PostgreSQL cancels an API request's SQL statement that runs longer "
        "than this (the request answers 503); 0: no limit. Workers, periodic jobs and tools "
        "use connections without it: a long task is bounded by its own timeout.",
    )
    db_idle_in_transaction_timeout_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="PostgreSQL closes an API request's connection that keeps a transaction "
        "open and idle this long (its locks are released); 0: no limit.",
    )
    embedded_durable: bool = Field(
        default=True,
        description="fsync the embedded database. Tests and throwaway workbenches turn it off.",
    )

    # --- files ----------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)

    # --- HTTP -----------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=3000, ge=0, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"]
    )
    static_dir: Path | None = Field(
        default=None,
        description="Serve the web app from this directory (a Vite build: index.html and "
        "assets/) instead of the build inside the package (studypath/static).",
    )
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Refuse request bodies larger than this (413 PAYLOAD_TOO_LARGE): by "
        "Content-Length before reading, or as soon as a chunked body passes it.",
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="An API request that has not answered within this long is stopped and "
        "answers 503: a database that stopped answering (a network partition, a hung "
        "server) cannot hold a request forever; 0: no limit.",
    )

    # --- sessions -------------------------------------------------------------------------
    session_lifetime_seconds: int = Field(default=24 * 3600, ge=60, le=365 * 24 * 3600)
    session_idle_timeout_seconds: int = Field(
        default=8 * 3600,
        ge=0,
        le=365 * 24 * 3600,
        description="End a session unused for this long; 0 disables the idle timeout.",
    )
    session_purge_interval_seconds: float = Field(default=300.0, gt=0, le=86400)
    session_activity_resolution_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Write last_activity_at at most this often per session (0: every request).",
    )
    initial_admin_password: SecretStr | None = None

    # --- passwords and login throttling ----------------------------------------------------
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=16)
    login_max_failures_per_account: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed logins on one account from one client address before that address "
        "is locked out of that account (other addresses are not).",
    )
    login_max_failures_per_client: int = Field(
        default=20,
        ge=1,
        le=100000,
        description="Failed logins from one client address, any accounts, before it is locked.",
    )
    login_failure_window_seconds: int = Field(default=900, ge=1, le=86400)
    login_lockout_seconds: int = Field(
        default=30, ge=1, le=86400, description="First lockout; each further one doubles."
    )
    login_lockout_max_seconds: int = Field(default=3600, ge=1, le=7 * 86400)
    login_account_delay_after_failures: int = Field(
        default=10,
        ge=1,
        le=100000,
        description="Failed logins on one account, from all addresses together, after which "
        "every attempt on it waits first (a delay, never a lock: the owner still gets in).",
    )
    login_account_delay_seconds: float = Field(
        default=1.0, gt=0, le=60, description="The first such delay; each further one doubles."
    )
    login_account_delay_max_seconds: float = Field(default=10.0, gt=0, le=300)

    # --- registration throttling -----------------------------------------------------------
    registration_max_per_client: int = Field(
        default=30,
        ge=1,
        le=1_000_000,
        description="Registrations one client address may attempt per window (then 429).",
    )
    registration_max_total: int = Field(
        default=1000,
        ge=1,
        le=10_000_000,
        description="Registrations the whole server accepts attempts for per window (then 429).",
    )
    registration_window_seconds: int = Field(default=3600, ge=1, le=7 * 86400)
    registration_lockout_seconds: int = Field(
        default=600, ge=1, le=7 * 86400, description="How long a limit, once reached, holds."
    )

    # --- worker ---------------------------------------------------------------------------
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    worker_heartbeat_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often a worker proves it is alive and extends its tasks' leases.",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Look for due tasks at least this often."
    )
    task_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="A running task whose worker stops heartbeating for this long is retried.",
    )
    worker_shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="On shutdown, wait this long for running tasks before handing them back.",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="A worker process without the API (`studypath worker`) serves its own "
        "Prometheus metrics (task counters and durations, process) at /metrics on this port.",
    )
    worker_token: SecretStr | None = Field(
        default=None,
        description="Shared secret a worker may send as X-Worker-Token to register task types.",
    )

    # --- email (the `email` task) ---------------------------------------------------------
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for the `email` task. Unset: messages are written as .eml "
        "files to the outbox folder in the data directory instead of being sent.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = Field(default=None, description="Log in to SMTP with this user.")
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    smtp_from_address: str = Field(
        default="studypath@localhost", description="Sender when a task names none."
    )
    smtp_outbox_dir: str = Field(
        default="outbox",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="Folder (inside the data directory) for .eml files when no SMTP host is set.",
    )

    # --- webhooks (the `webhook` task) ---------------------------------------------------
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Let webhook tasks call loopback and private addresses (127.0.0.0/8, ::1, "
        "10/8, 172.16/12, 192.168/16, fc00::/7). Off by default: a task's URL must not reach "
        "internal services. The workbench turns it on (its exercises call servers on this "
        "machine) unless set explicitly. Link-local addresses (cloud metadata, "
        "169.254.169.254, fe80::/10) are refused either way.",
    )

    # --- monitoring -----------------------------------------------------------------------
    alert_evaluation_seconds: float = Field(
        default=15.0, gt=0, le=3600, description="How often the server evaluates alert rules."
    )
    monitoring_retention_days: float = Field(
        default=30.0,
        gt=0,
        le=3650,
        description="Events and stored metrics older than this are deleted.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, le=86400, description="How often the retention job runs."
    )
    metrics_scrape_token: SecretStr | None = Field(
        default=None,
        description="A scraper sending this as `Authorization: Bearer <token>` reads the "
        "Prometheus page with the metrics users stored (otherwise only admins do).",
    )

    # --- tracing --------------------------------------------------------------------------
    tracing_enabled: bool = Field(
        default=True, description="Record OpenTelemetry spans of requests and tasks."
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="Also export spans over OTLP/HTTP, e.g. http://localhost:4318/v1/traces.",
    )
    trace_sample_ratio: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share of requests traced while no notebook collects a trace (0 to 1). "
        "Default: all when an OTLP endpoint is set, none otherwise; `wb.trace()` records "
        "every request of its block either way.",
    )

    # --- logging --------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme = value.split("://", 1)[0]
        if scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host:port/dbname)")
        return value.strip()

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "postgres"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, apply explicit overrides, and explain any error."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            where = f"{ENV_PREFIX}{field.upper()}"
            given = error.get("input")
            secret = field.endswith("password") or field == "database_url"  # a URL holds one
            shown = "" if isinstance(given, dict) or secret else f" (got {given!r})"
            problems.append(f"{where}: {error['msg']}{shown}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems)) from None


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as STUDYPATH_* variables, to start another process with the same ones."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        field_value = getattr(settings, name)
        if isinstance(field_value, SecretStr):
            value = field_value.get_secret_value()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[f"{ENV_PREFIX}{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


__all__ = [
    "ENV_PREFIX",
    "Settings",
    "SettingsError",
    "default_data_dir",
    "load_settings",
    "settings_env",
]
