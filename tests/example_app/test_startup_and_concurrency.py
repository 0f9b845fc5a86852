"""Start-up (settings, migrations, the admin) and concurrent writes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, inspect, select
from todo_app_helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    admin,
    bearer,
    gather,
    log_in,
    new_user,
    register,
)

from fastapi_kit.accounts import email_key
from fastapi_kit.auth import hash_password
from fastapi_kit.db import Database
from helpers import flush_logs
from todo_app.accounts import ensure_admin
from todo_app.main import create_app
from todo_app.migrations import NotMigrated
from todo_app.models import User
from todo_app.settings import Settings

if TYPE_CHECKING:
    import httpx

    from conftest import Backends, StartApp

ROOT = Path(__file__).resolve().parents[2]


async def test_concurrent_registrations_of_one_email_create_one_account(
    client: httpx.AsyncClient,
) -> None:
    body = {"email": "race@example.com", "password": PASSWORD}
    responses = await gather(*(client.post("/auth/register", json=body) for _ in range(20)))
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 19
    assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)


async def test_concurrent_creates_lose_nothing(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "many@example.com")
    responses = await gather(
        *(client.post("/todos", json={"title": f"t{n}"}, headers=auth) for n in range(25))
    )
    assert {response.status_code for response in responses} == {201}
    listed = (await client.get("/todos", params={"limit": 100}, headers=auth)).json()
    assert listed["total"] == 25
    assert sorted(item["title"] for item in listed["items"]) == sorted(f"t{n}" for n in range(25))


async def test_ensuring_the_admin_is_idempotent_and_safe_concurrently(backends: Backends) -> None:
    database = Database(backends.database_url)
    boss_hash = await hash_password("the-boss-own-password")
    try:
        async with database.transaction() as session:
            session.add(
                User(
                    email="boss@example.com",
                    email_key=email_key("boss@example.com"),
                    password_hash=boss_hash,
                    roles=["user"],
                    is_active=False,
                )
            )
        await asyncio.gather(
            *(
                ensure_admin(database, "Boss@Example.com", "the-boss-own-password")
                for _ in range(5)
            ),
            *(ensure_admin(database, "new-admin@example.com", "a-password-1") for _ in range(5)),
        )
        async with database.transaction() as session:
            users = {user.email: user for user in await session.scalars(select(User))}
    finally:
        await database.dispose()
    assert set(users) == {"boss@example.com", "new-admin@example.com"}
    # The existing account proved it is the operator's: ADMIN_PASSWORD is its password.
    assert users["boss@example.com"].roles == ["admin", "user"]
    assert users["boss@example.com"].password_hash == boss_hash  # the password is kept
    assert users["boss@example.com"].is_active is False  # a deactivation is not undone
    assert users["new-admin@example.com"].roles == ["admin", "user"]
    assert users["new-admin@example.com"].is_active is True


async def test_an_account_registered_first_is_not_made_admin(
    start_app: StartApp, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone registers ADMIN_EMAIL before the operator configures it.
    async with start_app(admin_email=None, admin_password=None) as client:
        await register(client, ADMIN_EMAIL, "the-squatters-password")
    async with start_app() as client:  # now with ADMIN_EMAIL and ADMIN_PASSWORD
        squatter = bearer(await log_in(client, ADMIN_EMAIL, "the-squatters-password"))
        me = (await client.get("/users/me", headers=squatter)).json()
        forbidden = await client.get("/admin/todos", headers=squatter)
        operator = await client.post(
            "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
    assert me["roles"] == ["user"]
    assert forbidden.status_code == 403
    assert operator.status_code == 401
    flush_logs()
    output = capsys.readouterr().out
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (refusal,) = [event for event in events if event["event"] == "admin_bootstrap_refused"]
    assert refusal["level"] == "error"
    assert "ADMIN_EMAIL" in refusal["detail"]
    assert ADMIN_PASSWORD not in output
    assert "the-squatters-password" not in output


async def test_instances_starting_together_ensure_one_admin(
    start_app: StartApp, backends: Backends
) -> None:
    async with AsyncExitStack() as stack:
        clients = await asyncio.gather(*(stack.enter_async_context(start_app()) for _ in range(3)))
        for client in clients:
            assert (await admin(client)).get("Authorization", "").startswith("Bearer ")
    database = Database(backends.database_url)
    try:
        async with database.transaction() as session:
            admins = await session.scalar(
                select(func.count()).select_from(User).where(User.email == ADMIN_EMAIL)
            )
    finally:
        await database.dispose()
    assert admins == 1


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(ValidationError, match="ADMIN_PASSWORD"):
        Settings(admin_email="a@example.com")
    with pytest.raises(ValidationError, match="admin_email"):
        Settings(admin_email="not an email", admin_password="x" * 12)
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(secret_key="too short")
    with pytest.raises(ValidationError, match="no_such_setting"):
        Settings(no_such_setting=1)  # type: ignore[call-arg]
    assert Settings().database_url is not None


def migrate_command(**env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m todo_app migrate`` as the README says, with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-m", "todo_app", "migrate"],
        env=os.environ | {"PYTHONPATH": str(ROOT / "examples")} | env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_migrate_command_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    for _ in range(2):  # a second run has nothing to do
        result = migrate_command(DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "database at revision 0002, the newest\n"
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"users", "todos", "alembic_version"} <= tables


async def test_the_app_refuses_to_start_on_a_database_that_was_not_migrated(
    tmp_path: Path,
) -> None:
    url = SecretStr(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(Settings(database_url=url, secret_key=SecretStr("k" * 40)))
    with pytest.raises(NotMigrated, match=r"has no tables.*python -m todo_app migrate"):
        async with app.router.lifespan_context(app):
            pass


def test_a_bad_setting_stops_the_command_with_its_name(tmp_path: Path) -> None:
    result = migrate_command(
        ACCESS_TOKEN_TTL="soon", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    )
    assert result.returncode == 2
    assert "access_token_ttl" in result.stderr
    assert "Traceback" not in result.stderr
