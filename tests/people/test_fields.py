"""The shared field parsers: the fast email path agrees with the full validator, flags and roles."""
from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from touchpoints.auth.models import Role
from touchpoints.people.fields import FieldError, parse_email, parse_flag, parse_roles

ADDRESSES = [
    "Ann@Example.COM", "a.b+tag@sub.example.co.uk", "x@bücher.de", "x@xn--bcher-kva.de",
    "o'neil@example.com", "a..b@example.com", ".a@example.com", "a.@example.com", "a@localhost",
    "a@example", "a@-bad.com", "a@exa_mple.com", "ü@example.com", '"quoted"@example.com',
    "a@b@example.com", "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com", "a@example.com.",
    "a@[127.0.0.1]", "a@test.invalid", "a b@example.com",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_parse_email_accepts_and_normalises_exactly_what_the_validator_does(address):
    try:
        expected = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        with pytest.raises(FieldError, match="not a valid email address"):
            parse_email(address)
    else:
        assert parse_email(address) == expected


@pytest.mark.parametrize(("raw", "value"), [("yes", True), ("TRUE", True), ("1", True), ("x", True),
                                             ("", False), ("no", False), ("0", False), ("False", False)])
def test_flags(raw, value):
    assert parse_flag(raw) is value


def test_flags_refuse_anything_else():
    with pytest.raises(FieldError, match="not yes or no"):
        parse_flag("maybe")


def test_roles_are_read_from_one_cell():
    assert parse_roles("HR partner; Manager") == {Role.HR_PARTNER, Role.MANAGER}
    assert parse_roles("hr_partner|employee") == {Role.HR_PARTNER, Role.EMPLOYEE}
    assert parse_roles("") == frozenset()
    with pytest.raises(FieldError, match="'boss' is not a role"):
        parse_roles("manager, boss")
