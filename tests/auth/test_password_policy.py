"""The password policy: 8..128 characters, not among the 3,000 most common."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI
from pydantic import AfterValidator, BaseModel

from fastapi_kit.auth import PasswordPolicy, validate_password
from fastapi_kit.auth.policy import common_passwords
from fastapi_kit.errors import install_error_handlers
from helpers import client_for


def test_the_list_has_the_3000_most_common_passwords() -> None:
    listed = common_passwords()
    assert len(listed) == 3000
    assert {"123456", "password", "qwerty", "iloveyou"} <= listed


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "8 chars!", "ünïcødé password", "x" * 128]
)
def test_acceptable_passwords(password: str) -> None:
    assert validate_password(password) == password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("x" * 129, "at most 128 characters"),
        ("password", "too common"),
        ("PassWord1", "too common"),  # compared case-insensitively
        ("iloveyou", "too common"),
    ],
)
def test_refused_passwords_say_why_without_the_password(password: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        validate_password(password)
    assert password not in str(caught.value)


def test_no_composition_rules() -> None:
    assert PasswordPolicy().problems("all lower case words here") == []


def test_policies_are_configurable() -> None:
    policy = PasswordPolicy(min_length=12, blocklist=frozenset({"company name 2026"}))
    assert policy.problems("eleven char") == ["must be at least 12 characters"]
    assert policy.problems("Company Name 2026") == ["is too common: choose a less predictable one"]


class Signup(BaseModel):
    email: str
    password: Annotated[str, AfterValidator(validate_password)]


async def test_in_a_schema_a_refused_password_is_a_422_that_does_not_echo_it() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/signup")
    async def signup(body: Signup) -> dict[str, str]:
        return {"email": body.email}

    async with client_for(app) as client:
        response = await client.post("/signup", json={"email": "a@b.c", "password": "qwerty123"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "password"]
    assert "too common" in error["msg"]
    assert "qwerty123" not in response.text
