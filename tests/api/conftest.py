"""API test helpers: issuing a token for a person and calling the API with it."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from touchpoints.api.services import issue_token, user_for_email
from touchpoints.extensions import db


@pytest.fixture
def token_for():
    """Issue a token acting as an employee (who must have a login); returns the raw secret."""

    def issue(employee, name: str = "Test integration") -> str:
        issued = issue_token(user_for_email(employee.email), name, created_by=None)
        db.session.commit()
        return issued.raw

    return issue


class ApiClient:
    """The test client with a bearer token on every call."""

    def __init__(self, client: FlaskClient, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, headers=self.headers, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.client.patch(path, headers=self.headers, json=json, **kwargs)


@pytest.fixture
def api_as(client, token_for):
    """api_as(employee) -> a client whose calls carry a fresh token acting as that employee."""

    def make(employee) -> ApiClient:
        return ApiClient(client, token_for(employee))

    return make
