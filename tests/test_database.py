"""The database engine keeps the values of a failed statement out of its error (and so out of logs)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from touchpoints.extensions import db


def test_a_failed_statement_does_not_carry_the_values_it_was_saving(app):
    with pytest.raises(DBAPIError) as error:
        db.session.execute(text("INSERT INTO no_such_table (answer) VALUES (:answer)"),
                           {"answer": "my manager never listens"})
    db.session.rollback()
    assert "no_such_table" in str(error.value)
    assert "never listens" not in str(error.value)
