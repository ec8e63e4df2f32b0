"""Journeys: lifecycle journey templates, enrolment, touchpoints and lifecycle events."""
