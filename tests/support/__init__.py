"""What the tests share: the PostgreSQL harness, row factories, a running system, the
task registry of test handlers, and the schemathesis runner."""
