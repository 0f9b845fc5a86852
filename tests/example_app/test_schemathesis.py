"""Property-based requests over the example app's whole OpenAPI, against a served app.

Authenticated as a user, a bounded number of generated requests per operation, valid
and invalid ones: none may get a 5xx, and every response must match what the document
promises for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from todo_app_helpers import PASSWORD, SECRET

from helpers import served_in_thread
from todo_app.main import create_app
from todo_app.migrations import upgrade
from todo_app.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Generated logouts would end the session the other requests use; tests cover them.
SKIPPED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/cookie/logout")}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a real server, and a user's ``Authorization`` header."""
    database = Path(tmp_path_factory.mktemp("schemathesis")) / "todo.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade(url)
    app = create_app(
        Settings(
            database_url=SecretStr(url),
            secret_key=SecretStr(SECRET),
            rate_limit_auth="100000/minute",
            rate_limit_default="100000/minute",
            gc_freeze=False,
        )
    )
    with served_in_thread(app) as port:
        base = f"http://127.0.0.1:{port}"
        credentials = {"email": "fuzz@example.com", "password": PASSWORD}
        httpx.post(f"{base}/api/v1/auth/register", json=credentials).raise_for_status()
        tokens = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": credentials["email"], "password": PASSWORD},
        ).json()
        yield base, {"Authorization": f"Bearer {tokens['access_token']}"}


def test_no_5xx_and_every_response_matches_the_document(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 25

    for operation, mode in itertools.product(operations, GenerationMode):
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        inputs = (operation.path_parameters, operation.query, operation.body)
        if mode is GenerationMode.NEGATIVE and not any(len(kind) for kind in inputs):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: schemathesis.Case) -> None:
            headers = {**(case.headers or {}), **auth}
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        check()
