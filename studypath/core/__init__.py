"""Shared building blocks: database, errors, security, embedded PostgreSQL, logging."""
