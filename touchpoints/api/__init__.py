"""The JSON API under /api/v1, authenticated by HR-issued tokens."""
