"""Monitoring: events, stored metrics, alerts and incidents."""
