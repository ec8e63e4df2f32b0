"""Fixtures of the rituals tests: an API client acting as a person."""
from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.extensions import db


@pytest.fixture
def api_as(client):
    """api_as(employee) -> a client whose calls carry a fresh token acting as that employee."""

    def make(employee) -> ApiClient:
        issued = issue_token(user_for_email(employee.email), "Rituals tests", created_by=None)
        db.session.commit()
        return ApiClient(client, issued.raw)

    return make
