"""APScheduler set-up: the periodic jobs that call idempotent services."""
