"""Nudges: the outbox of messages to people (Slack, Teams, email, in the app), reminders and escalations."""
