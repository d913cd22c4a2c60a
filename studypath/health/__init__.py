"""Health checks: liveness, readiness, startup and a detailed report."""
