"""Shapes of the health answers (see API.md, Health)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

CheckStatus = Literal["healthy", "degraded", "unhealthy"]


class Check(BaseModel):
    status: CheckStatus
    message: str
    details: dict[str, Any] = {}


class Documentation(BaseModel):
    openapi_json: str
    api_docs: str


class HealthSummary(BaseModel):
    status: Literal["healthy", "degraded"]
    version: str
    uptime: float
    documentation: Documentation


class DetailedHealth(BaseModel):
    status: CheckStatus
    timestamp: datetime
    version: str
    uptime: float
    checks: dict[str, Check]


class Liveness(BaseModel):
    status: Literal["alive"]
    timestamp: datetime
    probe: Literal["liveness"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    timestamp: datetime
    probe: Literal["readiness"]
    checks: dict[str, Check]


class Startup(BaseModel):
    status: Literal["started", "starting"]
    timestamp: datetime
    probe: Literal["startup"]
    checks: dict[str, Check]
