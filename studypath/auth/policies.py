"""Settings turned into the policies the auth services take as plain arguments."""

from __future__ import annotations

from datetime import timedelta

from studypath.auth.sessions import SessionPolicy
from studypath.auth.throttle import ThrottlePolicy
from studypath.config import Settings


def session_policy(settings: Settings) -> SessionPolicy:
    idle = settings.session_idle_timeout_seconds
    return SessionPolicy(
        lifetime=timedelta(seconds=settings.session_lifetime_seconds),
        idle_timeout=timedelta(seconds=idle) if idle else None,
        activity_resolution=timedelta(seconds=settings.session_activity_resolution_seconds),
    )


def _throttle(settings: Settings, max_failures: int) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=max_failures,
        window=timedelta(seconds=settings.login_failure_window_seconds),
        lockout=timedelta(seconds=settings.login_lockout_seconds),
        max_lockout=timedelta(seconds=settings.login_lockout_max_seconds),
    )


def account_throttle(settings: Settings) -> ThrottlePolicy:
    return _throttle(settings, settings.login_max_failures_per_account)


def client_throttle(settings: Settings) -> ThrottlePolicy:
    return _throttle(settings, settings.login_max_failures_per_client)
