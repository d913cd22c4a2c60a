"""Observability: Prometheus metrics (and, later, traces)."""
