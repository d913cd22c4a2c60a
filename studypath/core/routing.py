"""Where the API lives. Domain routers carry the full prefix themselves (each is made by
`telemetry.tracing.traced_router`), so the route template a request matched
(`/api/v1/tasks/{task_id}`) is known exactly — logs, metrics and traces label requests by it."""

API_PREFIX = "/api/v1"
