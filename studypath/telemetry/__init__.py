"""Telemetry: the system's own Prometheus metrics and OpenTelemetry traces (not to be
confused with `studypath.monitoring`, the week-7 feature that stores users' events and
metrics, nor with `studypath.viz`, which draws both)."""
