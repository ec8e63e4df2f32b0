"""Fakes of outside services on 127.0.0.1 that answer like the real ones: Slack, Teams workflows, SMTP."""
