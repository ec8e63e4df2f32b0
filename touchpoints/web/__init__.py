"""Cross-cutting web pieces: home, health check, security headers, error pages."""
