"""Background tasks: a PostgreSQL queue, its workers, retries, dead letters and breakers."""
