"""Pulse surveys: authoring, scheduled rounds, anonymous answers, results behind anonymity thresholds."""
