"""Settings turned into the policies the auth services take as plain arguments."""

from __future__ import annotations

from datetime import timedelta

from studypath.auth.sessions import SessionPolicy
from studypath.auth.throttle import (
    DelayPolicy,
    LoginThrottles,
    RegistrationThrottles,
    ThrottlePolicy,
)
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


def account_client_throttle(settings: Settings) -> ThrottlePolicy:
    """One account from one client address: a hard limit."""
    return _throttle(settings, settings.login_max_failures_per_account)


def account_delay(settings: Settings) -> DelayPolicy:
    """One account from every address: a progressive delay, never a lock."""
    return DelayPolicy(
        free_failures=settings.login_account_delay_after_failures,
        window=timedelta(seconds=settings.login_failure_window_seconds),
        first_delay=timedelta(seconds=settings.login_account_delay_seconds),
        max_delay=timedelta(seconds=settings.login_account_delay_max_seconds),
    )


def _registration(settings: Settings, max_attempts: int) -> ThrottlePolicy:
    lockout = timedelta(seconds=settings.registration_lockout_seconds)
    return ThrottlePolicy(
        max_failures=max_attempts,
        window=timedelta(seconds=settings.registration_window_seconds),
        lockout=lockout,
        max_lockout=lockout,  # no doubling: a busy hour must not close sign-up for a day
    )


def registration_client_throttle(settings: Settings) -> ThrottlePolicy:
    return _registration(settings, settings.registration_max_per_client)


def registration_total_throttle(settings: Settings) -> ThrottlePolicy:
    return _registration(settings, settings.registration_max_total)


def client_throttle(settings: Settings) -> ThrottlePolicy:
    return _throttle(settings, settings.login_max_failures_per_client)


def login_throttles(settings: Settings) -> LoginThrottles:
    return LoginThrottles(
        client=client_throttle(settings),
        account_at_client=account_client_throttle(settings),
        account=account_delay(settings),
    )


def registration_throttles(settings: Settings) -> RegistrationThrottles:
    return RegistrationThrottles(
        client=registration_client_throttle(settings),
        total=registration_total_throttle(settings),
    )
