"""Settings: `STUDYPATH_*` variables, sensible defaults, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studypath.config import Settings, SettingsError, default_data_dir, load_settings


def test_defaults_serve_on_localhost_3000_with_an_embedded_database() -> None:
    settings = load_settings()

    assert (settings.host, settings.port) == ("127.0.0.1", 3000)
    assert settings.database_url is None
    assert settings.db == "embedded"
    assert settings.data_dir == default_data_dir()
    assert settings.pgdata_dir == default_data_dir() / "postgres"
    assert settings.cors_origins == ["http://localhost:3000", "http://localhost:5173"]
    assert settings.session_lifetime_seconds == 24 * 3600
    assert settings.session_idle_timeout_seconds == 8 * 3600
    assert settings.worker_concurrency == 4
    assert settings.initial_admin_password is None
    assert settings.log_level == "INFO"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        (
            "STUDYPATH_DATABASE_URL",
            "postgresql://app:pw@db.internal:5433/studypath",
            "database_url",
            "postgresql://app:pw@db.internal:5433/studypath",
        ),
        ("STUDYPATH_DATA_DIR", "/srv/studypath", "data_dir", Path("/srv/studypath")),
        ("STUDYPATH_HOST", "0.0.0.0", "host", "0.0.0.0"),
        ("STUDYPATH_PORT", "8080", "port", 8080),
        ("STUDYPATH_SESSION_LIFETIME_SECONDS", "3600", "session_lifetime_seconds", 3600),
        ("STUDYPATH_SESSION_IDLE_TIMEOUT_SECONDS", "0", "session_idle_timeout_seconds", 0),
        ("STUDYPATH_WORKER_CONCURRENCY", "16", "worker_concurrency", 16),
        ("STUDYPATH_LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("STUDYPATH_DB_CONNECT_TIMEOUT", "2.5", "db_connect_timeout", 2.5),
    ],
)
def test_each_setting_is_read_from_its_prefixed_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: Any
) -> None:
    monkeypatch.setenv(variable, value)

    settings = load_settings()

    assert getattr(settings, field) == expected


def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone-else/db")

    settings = load_settings()

    assert settings.port == 3000
    assert settings.database_url is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example","https://b.example"]', ["https://a.example", "https://b.example"]),
        ("https://only.example", ["https://only.example"]),
    ],
    ids=["comma-separated", "json-list", "single"],
)
def test_cors_origins_accept_a_list_or_comma_separated_text(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("STUDYPATH_CORS_ORIGINS", value)

    assert load_settings().cors_origins == expected


def test_initial_admin_password_is_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYPATH_INITIAL_ADMIN_PASSWORD", "Tr0ub4dor&3-secret")

    settings = load_settings()

    assert settings.initial_admin_password is not None
    assert settings.initial_admin_password.get_secret_value() == "Tr0ub4dor&3-secret"
    assert "Tr0ub4dor" not in repr(settings)
    assert "Tr0ub4dor" not in str(settings.model_dump())


def test_explicit_overrides_beat_the_environment_and_none_means_not_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STUDYPATH_PORT", "4000")
    monkeypatch.setenv("STUDYPATH_HOST", "0.0.0.0")

    settings = load_settings(port=5000, host=None, data_dir=tmp_path)

    assert settings.port == 5000  # the override (a CLI --port) wins
    assert settings.host == "0.0.0.0"  # None: the option was not given, the variable counts
    assert settings.data_dir == tmp_path


def test_settings_are_immutable() -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STUDYPATH_PORT", "99999"),
        ("STUDYPATH_PORT", "http"),
        ("STUDYPATH_HOST", ""),
        ("STUDYPATH_WORKER_CONCURRENCY", "0"),
        ("STUDYPATH_SESSION_LIFETIME_SECONDS", "5"),
        ("STUDYPATH_SESSION_IDLE_TIMEOUT_SECONDS", "-1"),
        ("STUDYPATH_LOG_LEVEL", "LOUD"),
        ("STUDYPATH_DATABASE_URL", "sqlite:///studypath.db"),
        ("STUDYPATH_CORS_ORIGINS", "[not json"),
        ("STUDYPATH_DB", "sqlite"),
    ],
)
def test_an_invalid_value_fails_with_a_message_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    message = str(caught.value)
    assert variable in message
    assert message.startswith("Invalid settings")


def test_every_invalid_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYPATH_PORT", "-3")
    monkeypatch.setenv("STUDYPATH_WORKER_CONCURRENCY", "many")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert "STUDYPATH_PORT" in str(caught.value)
    assert "STUDYPATH_WORKER_CONCURRENCY" in str(caught.value)


def test_an_invalid_override_is_reported_under_its_variable_name() -> None:
    with pytest.raises(SettingsError, match="STUDYPATH_PORT"):
        load_settings(port=70000)


@pytest.mark.parametrize(
    "url",
    ["mysql://alice:hunter2-pw@db.example:3306/app", "postgresql//alice:hunter2-pw@db.example/app"],
)
def test_an_invalid_database_url_is_reported_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("STUDYPATH_DATABASE_URL", url)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert "STUDYPATH_DATABASE_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgresql_url_schemes_are_accepted(scheme: str) -> None:
    url = f"{scheme}://app:pw@db.internal/studypath"

    assert Settings(database_url=url).database_url == url


def test_a_blank_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYPATH_DATABASE_URL", "  ")

    assert load_settings().database_url is None
